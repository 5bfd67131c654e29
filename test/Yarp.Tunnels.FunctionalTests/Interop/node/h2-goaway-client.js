// One HTTP/2 (h2c prior knowledge) GET with node's http2 module that reports what the server sends, for the drain tests.
// Usage: node h2-goaway-client.js http://HOST:PORT PATH
// Prints one line per event as it arrives: "status N", "data TEXT", "goaway ERROR_CODE LAST_STREAM_ID", "end" (the
// response's END_STREAM), "closed" (the session closed); exits 0 once the session is closed, 1 on an error or timeout.
'use strict';
const http2 = require('http2');

const [, , url, path] = process.argv;
const timer = setTimeout(() => { console.log('timeout'); process.exit(1); }, 40000);
const session = http2.connect(url);
session.on('goaway', (errorCode, lastStreamId) => console.log(`goaway ${errorCode} ${lastStreamId}`));
session.on('error', (error) => { console.log(`error ${error.message}`); process.exit(1); });
session.on('close', () => { console.log('closed'); clearTimeout(timer); process.exit(0); });

const request = session.request({ ':path': path });
request.setEncoding('utf8');
request.on('response', (headers) => console.log(`status ${headers[':status']}`));
request.on('data', (chunk) => console.log(`data ${chunk}`));
request.on('end', () => console.log('end'));
request.on('error', (error) => console.log(`reset ${error.message}`));
request.end();
