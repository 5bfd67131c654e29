// An HTTP/1.1 server for the POST-tunnel tests (node's own http module): every POST is answered at once with 200 and
// a streamed, chunked body that echoes the request body as it arrives, then the trailer x-tunnel-end: done.
// Prints {"port": N} once listening, then one JSON line per request (method, url, host, transfer-encoding, foo).
'use strict';
const http = require('http');

const server = http.createServer((req, res) => {
  console.log(JSON.stringify({
    method: req.method, url: req.url, host: req.headers.host, te: req.headers['transfer-encoding'] || null, foo: req.headers.foo || null,
  }));
  if (req.method !== 'POST') {
    res.writeHead(405, { 'Content-Length': '0' });
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Trailer': 'x-tunnel-end', 'x-tunnel': 'node' });
  res.flushHeaders();
  req.on('data', (data) => {
    if (!res.write(data)) {
      req.pause();
      res.once('drain', () => req.resume());
    }
  });
  req.on('end', () => {
    res.addTrailers({ 'x-tunnel-end': 'done' });
    res.end();
  });
});
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
