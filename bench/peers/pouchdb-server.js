// A CouchDB-protocol server: express-pouchdb over PouchDB's LevelDB adapter (leveldown, on disk
// under --dir), on 127.0.0.1 with port 0 and a port file for kring_bench.
//
//   node pouchdb-server.js --dir DIR --port-file FILE
'use strict'
const path = require('path')
const { parseArgs, need, writePortFile } = require('./common')

const args = parseArgs(process.argv.slice(2))
const dir = need(args, 'dir')
require('fs').mkdirSync(dir, { recursive: true })
const express = require('express')
// Every database is a LevelDB directory under dir.
const PouchDB = require('pouchdb-node').defaults({ prefix: dir + path.sep })
const app = express()
app.use('/', require('express-pouchdb')(PouchDB, {
  mode: 'minimumForPouchDB', // the replication API only, no Fauxton or users database
  configPath: path.join(dir, 'config.json'),
  logPath: path.join(dir, 'log.txt')
}))
const server = app.listen(0, '127.0.0.1', () => {
  writePortFile(need(args, 'port-file'), server.address().port)
})
process.on('SIGTERM', () => process.exit(0))
