// Shared helpers of the peer scripts: argument parsing, the note payload, the one JSON result
// line, and the port file kring_bench waits for (as kringd's --port-file).
'use strict'
const fs = require('fs')
const crypto = require('crypto')

// "--name value" pairs into an object; every value stays a string.
function parseArgs (argv) {
  const args = {}
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error('unexpected argument ' + argv[i])
    args[argv[i].slice(2)] = argv[i + 1]
    i++
  }
  return args
}

function need (args, name) {
  if (args[name] === undefined) throw new Error('--' + name + ' is required')
  return args[name]
}

// A note as kring's bench op carries it (kring_ops.cpp NoteOp: create a "note" entity with a
// random 16-byte id, set its "text"), sized so that its JSON is `bytes` long (1,000 by default,
// the size of kring's serialized ContentOp before padding and encryption).
function note (bytes) {
  const id = crypto.randomBytes(16).toString('hex')
  const empty = JSON.stringify({ _id: id, type: 'note', text: '' }).length
  // Random text: kring's ops are ciphertext on the wire and on disk, so the peers' payload must
  // not compress either (express-pouchdb gzips responses, LevelDB compresses blocks).
  const len = Math.max(1, bytes - empty)
  return { id, type: 'note', text: crypto.randomBytes(len).toString('base64').slice(0, len) }
}

function now () {
  return Number(process.hrtime.bigint()) / 1e9
}

// The single result line kring_bench reads (the last line of stdout that starts with "{").
function result (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

// Every script is bounded in time: a hung peer ends the script with an error line, never a hang.
function hardLimit (seconds) {
  const t = setTimeout(() => {
    result({ ok: false, error: 'time limit of ' + seconds + ' s reached' })
    process.exit(1)
  }, seconds * 1000)
  t.unref()
}

// Written once the server listens, so that kring_bench can connect (port 0 = any free port).
function writePortFile (path, port) {
  fs.writeFileSync(path + '.tmp', String(port))
  fs.renameSync(path + '.tmp', path)
}

// Writes `data` and fsyncs it: the cold-sync clients store what they received at a durability
// comparable to kring's local store (synchronous=FULL).
function writeDurably (path, data) {
  const fd = fs.openSync(path, 'w')
  try {
    fs.writeSync(fd, data)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

module.exports = { parseArgs, need, note, now, result, hardLimit, writePortFile, writeDurably }
