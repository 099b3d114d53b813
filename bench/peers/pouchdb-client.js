// PouchDB clients against a CouchDB-protocol server (pouchdb-server.js), for kring_bench. One
// mode per run, one JSON line out.
//
//   node pouchdb-client.js push --url http://H:P --db D --clients N --batch B --per-client K
//                               --time-cap S [--payload 1000]
//   node pouchdb-client.js fixture --url http://H:P --db D --ops 10000 --authors 5
//   node pouchdb-client.js cold --url http://H:P --db D --expect 10000 --store DIR
//
// Pushes are the HTTP requests PouchDB's http adapter sends for put (PUT /db/id) and bulkDocs
// (POST /db/_bulk_docs), built before the clock starts so that the figure measures the server.
// A document is acknowledged when the server answers 201 with ok for it: it is then written to
// LevelDB, which does not fsync (leveldown's default), so it survives a crash of the server
// process but not of the machine.
'use strict'
const http = require('http')
const { parseArgs, need, note, now, result, hardLimit } = require('./common')

function doc (bytes) {
  const n = note(bytes)
  return { _id: n.id, type: n.type, text: n.text }
}

// One request on `agent`; resolves with the status and the parsed JSON body.
function request (agent, url, method, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      agent,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }
    }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        let json = null
        try { json = JSON.parse(text) } catch (_) {}
        resolve({ status: res.statusCode, json })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (body !== undefined) req.write(body)
    req.end()
  })
}

// Documents that the server confirmed (201 and ok for each).
function okCount (r, batch) {
  if (r.status !== 201) return 0
  if (batch === 1) return r.json && r.json.ok ? 1 : 0
  return Array.isArray(r.json) ? r.json.filter(x => x.ok).length : 0
}

async function createDb (base, db) {
  const r = await request(new http.Agent(), base + '/' + db, 'PUT')
  if (r.status !== 201 && r.status !== 412) throw new Error('creating the database: HTTP ' + r.status)
}

// N clients, each its own keep-alive connection (one socket, like one device), pushing into one
// database (as kring's N clients push into one case), one request after the other.
async function push (args) {
  const base = need(args, 'url')
  const db = need(args, 'db')
  const clients = Number(need(args, 'clients'))
  const batch = Number(need(args, 'batch'))
  const perClient = Number(need(args, 'per-client'))
  const cap = Number(need(args, 'time-cap'))
  const bytes = Number(args.payload || 1000)
  await createDb(base, db)
  const plans = []
  for (let i = 0; i < clients; i++) {
    const reqs = []
    for (let done = 0; done < perClient; done += batch) {
      if (batch === 1) {
        const d = doc(bytes)
        reqs.push({ method: 'PUT', url: base + '/' + db + '/' + d._id, body: JSON.stringify(d) })
      } else {
        const docs = []
        for (let k = 0; k < batch; k++) docs.push(doc(bytes))
        reqs.push({ method: 'POST', url: base + '/' + db + '/_bulk_docs', body: JSON.stringify({ docs }) })
      }
    }
    plans.push(reqs)
  }
  const agents = plans.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }))
  // Open every connection before the clock starts, as the other contenders do.
  await Promise.all(agents.map(a => request(a, base + '/', 'GET')))
  const start = now()
  const deadline = start + cap
  let acked = 0
  let failed = 0 // not acknowledged: reported, never counted
  let lastStatus = 0
  await Promise.all(plans.map(async (reqs, i) => {
    for (const r of reqs) {
      if (now() > deadline) break
      const res = await request(agents[i], r.url, r.method, r.body)
      const ok = okCount(res, batch)
      acked += ok
      if (ok < batch) { failed += batch - ok; lastStatus = res.status }
    }
  }))
  const seconds = now() - start
  for (const a of agents) a.destroy()
  result({ ok: true, peer: 'pouchdb', mode: 'push', clients, batch, acked, failed, last_failed_status: lastStatus, seconds, ops_per_s: acked / seconds })
}

// The cold-sync case: `authors` clients take turns posting 50 documents with _bulk_docs.
async function fixture (args) {
  const base = need(args, 'url')
  const db = need(args, 'db')
  const ops = Number(need(args, 'ops'))
  const authors = Number(need(args, 'authors'))
  const bytes = Number(args.payload || 1000)
  await createDb(base, db)
  const agents = []
  for (let a = 0; a < authors; a++) agents.push(new http.Agent({ keepAlive: true, maxSockets: 1 }))
  const start = now()
  for (let done = 0, b = 0; done < ops; b++) {
    const docs = []
    for (let k = 0; k < 50 && done + docs.length < ops; k++) docs.push(doc(bytes))
    const r = await request(agents[b % authors], base + '/' + db + '/_bulk_docs', 'POST', JSON.stringify({ docs }))
    if (okCount(r, docs.length) !== docs.length) throw new Error('fixture: HTTP ' + r.status)
    done += docs.length
  }
  const seconds = now() - start
  for (const a of agents) a.destroy()
  result({ ok: true, peer: 'pouchdb', mode: 'fixture', ops, authors, seconds })
}

// A fresh client (new process, empty local PouchDB on disk, LevelDB adapter) replicating the
// database with PouchDB's own replicator and its default settings, until it holds every document.
async function cold (args) {
  const PouchDB = require('pouchdb-node') // loaded before the clock starts
  const expect = Number(need(args, 'expect'))
  const start = now()
  const local = new PouchDB(need(args, 'store') + '/pouchdb-local')
  const remote = new PouchDB(need(args, 'url') + '/' + need(args, 'db'))
  await local.replicate.from(remote)
  const info = await local.info()
  const seconds = now() - start
  await local.close()
  await remote.close()
  if (info.doc_count !== expect) throw new Error('cold sync got ' + info.doc_count + ' documents, expected ' + expect)
  result({ ok: true, peer: 'pouchdb', mode: 'cold', docs: info.doc_count, seconds })
}

const modes = { push, fixture, cold }
const args = parseArgs(process.argv.slice(3))
hardLimit(Number(args['hard-limit'] || 300))
const mode = modes[process.argv[2]]
if (!mode) {
  result({ ok: false, error: 'mode must be push, fixture or cold' })
  process.exit(2)
}
mode(args).then(() => process.exit(0), err => {
  result({ ok: false, error: String(err && err.message) })
  process.exit(1)
})
