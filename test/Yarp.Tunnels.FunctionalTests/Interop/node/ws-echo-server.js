// An independent WebSocket echo backend (npm ws, HTTP/1.1 only) for the functional tests.
// Usage: node ws-echo-server.js
// Listens on 127.0.0.1 (a free port), prints {"port":N}, then one JSON line per accepted WebSocket saying how the
// request arrived ({"url":…,"httpVersion":"1.1","upgrade":"websocket"}), and echoes every message unchanged.
'use strict';
const { WebSocketServer } = require('ws');

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('listening', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
server.on('connection', (socket, request) => {
  process.stdout.write(JSON.stringify({ url: request.url, httpVersion: request.httpVersion, upgrade: request.headers.upgrade }) + '\n');
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('error', () => socket.terminate());
});
process.on('SIGTERM', () => process.exit(0));
