// An independent HTTP/2 CONNECT proxy (node's built-in http2 module, cleartext prior knowledge) for the functional tests.
// Usage: node h2-connect-server.js [--max-streams N] [--port N] [--window BYTES]
// --window raises the stream (SETTINGS_INITIAL_WINDOW_SIZE) and connection receive windows from HTTP/2's 65,535 octets
// (node's default) to BYTES (eng/bench-peers.sh --tunnel measures node both ways).
// Listens on 127.0.0.1 (a free port unless --port) and prints {"port":N}. A classic CONNECT (or a POST, whose :authority names the
// target) to host:port connects there and relays both ways, half-closes included (END_STREAM <-> FIN). Control targets
// (port 1) test the client:
//   sessions.control:1  answers 200 and writes {"sessions":total,"open":open} then ends the stream
//   goaway.control:1    answers 200, ends the stream, then sends GOAWAY (last stream = this one) on its session
//   reset.control:1     answers 200 and resets the stream (RST_STREAM CANCEL) when the first data arrives
//   trailers.control:1  answers 200, echoes until END_STREAM, then sends trailers {x-result: ok}
//   ping.control:1      answers 200, PINGs the client and writes {"ping":"ok"} once the ACK came, then ends
//   status.control:503  answers 503
//   echo.control:1      answers 200 and echoes the stream itself (no target connection; the benchmark's idle tunnels)
'use strict';
const http2 = require('http2');
const net = require('net');

const maxIndex = process.argv.indexOf('--max-streams');
const settings = maxIndex > 0 ? { maxConcurrentStreams: Number(process.argv[maxIndex + 1]) } : {};
const windowIndex = process.argv.indexOf('--window');
const windowSize = windowIndex > 0 ? Number(process.argv[windowIndex + 1]) : 0;
if (windowSize > 0) {
  settings.initialWindowSize = windowSize;
}
let sessions = 0;
let open = 0;

const server = http2.createServer({ settings, maxSessionMemory: 64 });
server.on('session', session => {
  sessions++;
  open++;
  session.on('close', () => open--);
  session.on('error', () => {});
  if (windowSize > 0) {
    session.on('connect', () => session.setLocalWindowSize(windowSize));
  }
});

server.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  const method = headers[':method'];
  const authority = headers[':authority'] || '';
  if ((method !== 'CONNECT' && method !== 'POST') || (method === 'CONNECT' && (headers[':scheme'] || headers[':path']))) {
    stream.respond({ ':status': 400 }, { endStream: true });
    return;
  }
  const colon = authority.lastIndexOf(':');
  const host = authority.slice(0, colon);
  const port = Number(authority.slice(colon + 1));
  switch (host) {
    case 'sessions.control':
      stream.respond({ ':status': 200 });
      stream.end(JSON.stringify({ sessions, open }));
      return;
    case 'goaway.control': {
      stream.respond({ ':status': 200 });
      stream.end();
      const session = stream.session;
      stream.on('close', () => session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id));
      stream.resume();
      return;
    }
    case 'reset.control':
      stream.respond({ ':status': 200 });
      stream.once('data', () => stream.close(http2.constants.NGHTTP2_CANCEL));
      return;
    case 'trailers.control':
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-result': 'ok' }));
      stream.on('data', chunk => stream.write(chunk));
      stream.on('end', () => stream.end());
      return;
    case 'ping.control':
      stream.respond({ ':status': 200 });
      stream.session.ping(Buffer.from('12345678'), (error, duration, payload) => {
        stream.end(JSON.stringify({ ping: error ? String(error) : payload.toString() === '12345678' ? 'ok' : 'mismatch' }));
      });
      stream.resume();
      return;
    case 'echo.control':
      stream.respond({ ':status': 200 });
      stream.pipe(stream);
      return;
    case 'status.control':
      stream.respond({ ':status': port }, { endStream: true });
      return;
  }
  const socket = net.connect(port, host, () => {
    stream.respond({ ':status': 200 });
    socket.pipe(stream);
    stream.pipe(socket);
  });
  socket.on('error', () => {
    if (!stream.headersSent) {
      stream.respond({ ':status': 502 }, { endStream: true });
    } else {
      stream.close(http2.constants.NGHTTP2_CONNECT_ERROR);
    }
  });
  stream.on('close', () => socket.destroy());
});

const portIndex = process.argv.indexOf('--port');
server.listen(portIndex > 0 ? Number(process.argv[portIndex + 1]) : 0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
process.on('SIGTERM', () => process.exit(0));
