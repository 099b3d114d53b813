// Yjs clients against a y-websocket server, for kring_bench. One mode per run, one JSON line out.
//
//   node yjs-client.js push --url ws://H:P --room R --clients N --batch B --per-client K
//                           --time-cap S [--payload 1000]
//   node yjs-client.js fixture --url ws://H:P --room R --ops 10000 --authors 5 [--payload 1000]
//   node yjs-client.js cold --url ws://H:P --room R --expect 10000 --store DIR
//
// An update is acknowledged when the server has applied it: y-websocket has no acknowledgement
// message, but its server sends every update it applies to every connection of the document,
// the sender's included, so the echo of an update is the proof that the server holds it (in
// memory; with --persist the LevelDB write is queued, not awaited, and not fsynced).
'use strict'
const Y = require('yjs')
const WebSocket = require('ws')
const encoding = require('lib0/encoding')
const decoding = require('lib0/decoding')
const syncProtocol = require('y-protocols/sync')
const { parseArgs, need, note, now, result, hardLimit, writeDurably } = require('./common')

const messageSync = 0
const messageYjsUpdate = 2 // y-protocols/sync: an update (step 0 and 1 are the handshake)

// A sync message carrying one Yjs update, as y-websocket's provider sends it.
function updateMessage (update) {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, messageSync)
  syncProtocol.writeUpdate(e, update)
  return encoding.toUint8Array(e)
}

function isUpdate (data) {
  const d = decoding.createDecoder(new Uint8Array(data))
  return decoding.readVarUint(d) === messageSync && decoding.readVarUint(d) === messageYjsUpdate
}

// Updates made on a local Y.Doc, one transaction per chunk of `batch` notes (a batch is what a
// Yjs app sends when it changes 50 things in one transaction: one update).
function plannedUpdates (chunks, batch, bytes) {
  const doc = new Y.Doc()
  const notes = doc.getMap('notes')
  const updates = []
  doc.on('update', u => updates.push(updateMessage(u)))
  for (let c = 0; c < chunks; c++) {
    doc.transact(() => {
      for (let k = 0; k < batch; k++) {
        const n = note(bytes)
        notes.set(n.id, { type: n.type, text: n.text })
      }
    })
  }
  return updates
}

function connect (url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.binaryType = 'arraybuffer'
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

// N clients, each its own connection and document (a room of its own: no fan-out to other
// clients, the peer's best case), pushing pre-made updates one at a time, each after the echo of
// the previous one, until all are acknowledged or the time cap passes.
async function push (args) {
  const clients = Number(need(args, 'clients'))
  const batch = Number(need(args, 'batch'))
  const perClient = Number(need(args, 'per-client'))
  const cap = Number(need(args, 'time-cap'))
  const bytes = Number(args.payload || 1000)
  const plans = []
  for (let i = 0; i < clients; i++) plans.push(plannedUpdates(Math.ceil(perClient / batch), batch, bytes))
  const conns = await Promise.all(plans.map((_, i) => connect(need(args, 'url') + '/' + need(args, 'room') + '-' + i)))
  const start = now()
  const deadline = start + cap
  let acked = 0
  await Promise.all(conns.map((ws, i) => new Promise(resolve => {
    let next = 0
    ws.on('message', data => {
      if (!isUpdate(data)) return
      acked += batch
      if (next < plans[i].length && now() < deadline) ws.send(plans[i][next++])
      else resolve()
    })
    ws.send(plans[i][next++])
  })))
  const seconds = now() - start
  for (const ws of conns) ws.terminate()
  result({ ok: true, peer: 'yjs', mode: 'push', clients, batch, acked, seconds, ops_per_s: acked / seconds })
}

// The cold-sync case: `authors` clients take turns pushing 50 updates (one note each) to one
// document. The server sends every update it applies to every connection of the document, in
// the order it applied them, so a turn is acknowledged once its author has received as many
// updates as all authors have sent so far.
async function fixture (args) {
  const ops = Number(need(args, 'ops'))
  const authors = Number(need(args, 'authors'))
  const bytes = Number(args.payload || 1000)
  const turn = 50
  const url = need(args, 'url') + '/' + need(args, 'room')
  const plans = []
  for (let a = 0; a < authors; a++) plans.push(plannedUpdates(Math.ceil(ops / authors), 1, bytes))
  const conns = await Promise.all(plans.map(() => connect(url)))
  const received = conns.map(() => 0)
  const waiting = conns.map(() => null)
  conns.forEach((ws, a) => ws.on('message', data => {
    if (!isUpdate(data)) return
    received[a]++
    if (waiting[a] && received[a] >= waiting[a].until) {
      waiting[a].resolve()
      waiting[a] = null
    }
  }))
  const start = now()
  const sent = plans.map(() => 0)
  for (let done = 0, b = 0; done < ops; b++) {
    const a = b % authors
    const n = Math.min(turn, ops - done, plans[a].length - sent[a])
    done += n
    await new Promise(resolve => {
      waiting[a] = { until: done, resolve }
      for (let k = 0; k < n; k++) conns[a].send(plans[a][sent[a]++])
    })
  }
  const seconds = now() - start
  for (const ws of conns) ws.terminate()
  result({ ok: true, peer: 'yjs', mode: 'fixture', ops, authors, seconds })
}

// A fresh client (new process, empty Y.Doc) with y-websocket's own provider: from connecting
// until it is synced and holds every note, then the state written to disk and fsynced.
async function cold (args) {
  const { WebsocketProvider } = require('y-websocket') // loaded before the clock starts
  const expect = Number(need(args, 'expect'))
  const start = now()
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(need(args, 'url'), need(args, 'room'), doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true
  })
  await new Promise(resolve => provider.on('sync', synced => { if (synced) resolve() }))
  const notes = doc.getMap('notes').size
  writeDurably(need(args, 'store') + '/yjs-state.bin', Y.encodeStateAsUpdate(doc))
  const seconds = now() - start
  provider.destroy()
  if (notes !== expect) throw new Error('cold sync got ' + notes + ' notes, expected ' + expect)
  result({ ok: true, peer: 'yjs', mode: 'cold', notes, seconds })
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
