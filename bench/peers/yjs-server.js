// The y-websocket server as shipped (y-websocket/bin/server.cjs: ws + setupWSConnection), on
// 127.0.0.1 with port 0 and a port file for kring_bench. `--persist DIR` turns on the shipped
// LevelDB persistence (YPERSISTENCE, y-leveldb); without it documents live in memory only.
//
//   node yjs-server.js [--persist DIR] --port-file FILE
'use strict'
const { parseArgs, need, writePortFile } = require('./common')

const args = parseArgs(process.argv.slice(2))
// y-websocket reads YPERSISTENCE when its utils module loads, so set it before the require.
if (args.persist) process.env.YPERSISTENCE = args.persist
const http = require('http')
const WebSocket = require('ws')
const { setupWSConnection } = require('y-websocket/bin/utils')

const wss = new WebSocket.Server({ noServer: true })
wss.on('connection', setupWSConnection)
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' })
  res.end('okay')
})
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, ws => wss.emit('connection', ws, req))
})
server.listen(0, '127.0.0.1', () => writePortFile(need(args, 'port-file'), server.address().port))
process.on('SIGTERM', () => process.exit(0))
