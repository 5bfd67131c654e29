// An independent WebSocket client (npm ws) for the functional tests.
// Usage: node ws-client.js URL [--messages N] [--hello] [--insecure]
//   --hello     the server's first message is a JSON hello (the WebSocket sample's echo): read and report it
//   --insecure  accept a self-signed TLS certificate
// Sends N messages (text and binary alternately, 1 B .. ~70 KB, so some span several frames), checks each echo
// byte for byte, closes with 1000 and prints one JSON line: {"hello":…,"echoed":N,"closeCode":…}. Exit 1 on any error.
'use strict';
const crypto = require('crypto');
const WebSocket = require('ws');

const args = process.argv.slice(2);
const url = args[0];
const count = args.includes('--messages') ? Number(args[args.indexOf('--messages') + 1]) : 20;
const expectHello = args.includes('--hello');
const fail = (message) => { process.stderr.write(`ws-client: ${message}\n`); process.exit(1); };
if (!url) fail('usage: node ws-client.js URL [--messages N] [--hello] [--insecure]');
setTimeout(() => fail('timed out after 20 s'), 20000).unref();

const message = (i) => i % 2 === 0
  ? { data: `message ${i} ${'x'.repeat((i * 37) % 5000)}`, binary: false }
  : { data: crypto.randomBytes(((i * 997) % 70000) + 1), binary: true };

const socket = new WebSocket(url, { rejectUnauthorized: !args.includes('--insecure'), handshakeTimeout: 10000 });
let hello = null;
let sent = null;
let echoed = 0;

function sendNext() {
  if (echoed === count) {
    socket.close(1000, 'done');
    return;
  }
  sent = message(echoed);
  socket.send(sent.data, { binary: sent.binary });
}

socket.on('open', () => { if (!expectHello) sendNext(); });
socket.on('message', (data, isBinary) => {
  if (expectHello && hello === null) {
    hello = JSON.parse(data.toString('utf8'));
    sendNext();
    return;
  }
  const expected = Buffer.isBuffer(sent.data) ? sent.data : Buffer.from(sent.data, 'utf8');
  if (isBinary !== sent.binary || !expected.equals(data)) {
    fail(`echo ${echoed} differs (binary ${isBinary}, ${data.length} bytes; sent binary ${sent.binary}, ${expected.length} bytes)`);
  }
  echoed++;
  sendNext();
});
socket.on('unexpected-response', (request, response) => fail(`handshake answered ${response.statusCode}`));
socket.on('error', (error) => fail(error.message));
socket.on('close', (code) => {
  if (echoed !== count) fail(`closed (${code}) after ${echoed} of ${count} echoes`);
  process.stdout.write(JSON.stringify({ hello, echoed, closeCode: code }) + '\n');
  process.exit(0);
});
