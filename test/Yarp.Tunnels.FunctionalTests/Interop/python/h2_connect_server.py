#!/usr/bin/env python3
"""An independent HTTP/2 CONNECT proxy built on python3-h2 (cleartext, prior knowledge) for the functional tests.

Usage: /usr/bin/python3 h2_connect_server.py [--max-streams N]
Listens on 127.0.0.1 (a free port) and prints {"port": N}. A classic CONNECT (or a POST, whose :authority names the
target) to host:port connects there and relays both ways within HTTP/2 flow control, half-closes included. The same
control targets as Interop/node/h2-connect-server.js: sessions, goaway, reset, trailers, ping and status.control.
"""
import asyncio
import json
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings
from hyperframe.frame import GoAwayFrame

STATE = {"sessions": 0, "open": 0}
MAX_STREAMS = int(sys.argv[sys.argv.index("--max-streams") + 1]) if "--max-streams" in sys.argv else None


class Session(asyncio.Protocol):
    def __init__(self):
        # h2 4.1 insists on :scheme and :path in every request, which a classic CONNECT (RFC 9113 §8.5) must not carry:
        # its inbound header validation is off, and on_request checks the pseudo-headers itself.
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8", validate_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config)
        self.transport = None
        self.targets = {}       # stream id -> asyncio.StreamWriter
        self.kinds = {}         # stream id -> control kind or "relay"
        self.window = asyncio.Event()
        self.pings = {}

    def connection_made(self, transport):
        self.transport = transport
        STATE["sessions"] += 1
        STATE["open"] += 1
        if MAX_STREAMS is not None:
            # In the first SETTINGS, as node does: a later update would race the client's first streams.
            self.conn.local_settings = h2.settings.Settings(
                client=False, initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS})
        self.conn.initiate_connection()
        self.flush()

    def connection_lost(self, exc):
        STATE["open"] -= 1
        for writer in self.targets.values():
            writer.close()
        self.window.set()

    def flush(self):
        data = self.conn.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data):
        try:
            events = self.conn.receive_data(data)
        except Exception as error:
            print(json.dumps({"error": repr(error)}), flush=True)
            self.flush()
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.on_request(event.stream_id, dict(event.headers))
            elif isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                self.on_data(event.stream_id, event.data)
            elif isinstance(event, h2.events.StreamEnded):
                self.on_end(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                writer = self.targets.pop(event.stream_id, None)
                if writer:
                    writer.close()
            elif isinstance(event, h2.events.PingAckReceived):
                stream_id = self.pings.pop(event.ping_data, None)
                if stream_id is not None:
                    self.respond_end(stream_id, json.dumps({"ping": "ok"}).encode())
            elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                self.window.set()
        self.flush()

    def on_request(self, stream_id, headers):
        method, authority = headers.get(":method"), headers.get(":authority", "")
        if method not in ("CONNECT", "POST") or (method == "CONNECT" and (":scheme" in headers or ":path" in headers)):
            self.conn.send_headers(stream_id, [(":status", "400")], end_stream=True)
            return
        host, _, port = authority.rpartition(":")
        kind = host if host.endswith(".control") else "relay"
        self.kinds[stream_id] = kind
        if kind == "sessions.control":
            self.conn.send_headers(stream_id, [(":status", "200")])
            self.respond_end(stream_id, json.dumps(STATE).encode())
        elif kind == "goaway.control":
            self.conn.send_headers(stream_id, [(":status", "200")], end_stream=True)
            self.flush()
            # h2 sends nothing after its own GOAWAY, but running streams must go on: write the frame ourselves.
            frame = GoAwayFrame(0)
            frame.last_stream_id = stream_id
            frame.error_code = 0
            self.transport.write(frame.serialize())
        elif kind in ("reset.control", "trailers.control"):
            self.conn.send_headers(stream_id, [(":status", "200")])
        elif kind == "ping.control":
            self.conn.send_headers(stream_id, [(":status", "200")])
            self.pings[b"12345678"] = stream_id
            self.conn.ping(b"12345678")
        elif kind == "status.control":
            self.conn.send_headers(stream_id, [(":status", port)], end_stream=True)
        else:
            asyncio.ensure_future(self.relay(stream_id, host, int(port)))

    def on_data(self, stream_id, data):
        kind = self.kinds.get(stream_id)
        if kind == "reset.control":
            self.conn.reset_stream(stream_id, error_code=8)
        elif kind == "trailers.control":
            asyncio.ensure_future(self.send(stream_id, data))
        elif stream_id in self.targets:
            self.targets[stream_id].write(data)

    def on_end(self, stream_id):
        kind = self.kinds.get(stream_id)
        if kind == "trailers.control":
            asyncio.ensure_future(self.send(stream_id, b"", trailers=[("x-result", "ok")]))
        elif stream_id in self.targets:
            self.targets[stream_id].write_eof()

    def respond_end(self, stream_id, body):
        asyncio.ensure_future(self.send(stream_id, body, end=True))

    async def send(self, stream_id, data, end=False, trailers=None):
        try:
            while data:
                window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
                if window <= 0:
                    self.window.clear()
                    await self.window.wait()
                    continue
                self.conn.send_data(stream_id, data[:window])
                data = data[window:]
                self.flush()
            if trailers:
                self.conn.send_headers(stream_id, trailers, end_stream=True)
            elif end:
                self.conn.end_stream(stream_id)
            self.flush()
        except Exception:
            pass  # the stream or connection ended meanwhile

    async def relay(self, stream_id, host, port):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            self.conn.send_headers(stream_id, [(":status", "502")], end_stream=True)
            self.flush()
            return
        self.targets[stream_id] = writer
        self.conn.send_headers(stream_id, [(":status", "200")])
        self.flush()
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            await self.send(stream_id, chunk)
        await self.send(stream_id, b"", end=True)


async def main():
    server = await asyncio.get_running_loop().create_server(Session, "127.0.0.1", 0)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
