// Classic HTTP/2 CONNECT tunnels (RFC 9113 §8.5) with node's own http2 module, for the functional tests.
// Usage: node h2-connect-client.js PORT AUTHORITY [--streams N] [--bytes SIZE] [--reset-one]
// Opens one h2c connection and N concurrent CONNECT streams to AUTHORITY (an echo target); each sends SIZE bytes
// (distinct per stream), ends its side and reads until the server's end; the echo must be byte-exact. With --reset-one
// the first stream is reset (NGHTTP2_CANCEL) after its 200; the others must complete.
// Prints one JSON line: {"statuses": {...}, "echoed": N, "mismatched": N, "resetByServer": N}.
'use strict';
const http2 = require('node:http2');

const [port, authority, ...rest] = process.argv.slice(2);
const option = (name, fallback) => { const i = rest.indexOf(name); return i >= 0 ? Number(rest[i + 1]) : fallback; };
const streams = option('--streams', 1);
const size = option('--bytes', 1024);
const resetOne = rest.includes('--reset-one');

const timer = setTimeout(() => { console.error('h2-connect-client: timed out'); process.exit(1); }, 40000);
const client = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 4 * 1024 * 1024 } });
client.on('error', (e) => { console.error(`h2-connect-client: ${e.message}`); process.exit(1); });

function payload(index) {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buffer[i] = (i + index * 7) & 0xff;
  return buffer;
}

const statuses = {};
let echoed = 0, mismatched = 0, resetByServer = 0;
const runs = [];
for (let index = 0; index < streams; index++) {
  runs.push(new Promise((resolve) => {
    const data = payload(index);
    const chunks = [];
    const request = client.request({ ':method': 'CONNECT', ':authority': authority });
    let status;
    request.on('response', (headers) => {
      status = headers[':status'];
      statuses[status] = (statuses[status] || 0) + 1;
      if (status !== 200) { request.close(); return; }
      if (resetOne && index === 0) { request.write(data.subarray(0, 1024)); request.close(http2.constants.NGHTTP2_CANCEL); return; }
      request.end(data);
    });
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      if (status === 200 && !(resetOne && index === 0)) {
        if (Buffer.concat(chunks).equals(data)) echoed++; else mismatched++;
      }
    });
    request.on('error', () => { if (!(resetOne && index === 0)) resetByServer++; });
    request.on('close', resolve);
  }));
}
Promise.all(runs).then(() => {
  clearTimeout(timer);
  console.log(JSON.stringify({ statuses, echoed, mismatched, resetByServer }));
  client.close();
});
