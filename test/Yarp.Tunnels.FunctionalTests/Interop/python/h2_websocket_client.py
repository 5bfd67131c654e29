#!/usr/bin/python3
"""WebSocket over HTTP/2 (RFC 8441) by hand, with the python3-h2 library, for the functional tests.

Usage: /usr/bin/python3 h2_websocket_client.py HOST PORT PATH [--tls | --h2c] [--hello] [--messages N]

Opens an HTTP/2 connection (h2c prior knowledge, the default, or TLS with ALPN h2), waits for the server's
SETTINGS_ENABLE_CONNECT_PROTOCOL=1, sends an extended CONNECT (:method CONNECT, :protocol websocket), expects
:status 200, then speaks RFC 6455 frames on the stream: optionally reads the server's first message as a JSON hello,
sends N masked text messages and checks each echo, closes with 1000 and waits for the server's close and END_STREAM.
Prints one JSON line: {"status":…,"enableConnectProtocol":…,"hello":…,"echoed":N,"closeCode":…}. Exit 1 on error.
"""
import json
import os
import socket
import ssl
import struct
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings

TIMEOUT_SECONDS = 20


def fail(message):
    sys.stderr.write(f"h2_websocket_client: {message}\n")
    sys.exit(1)


def frame(opcode, payload):
    """A client frame: FIN set, masked (RFC 6455 5.3)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def parse_frame(buffer):
    """(fin, opcode, payload, rest) for one complete unmasked server frame at the start of buffer, or None."""
    if len(buffer) < 2:
        return None
    fin, opcode = buffer[0] & 0x80, buffer[0] & 0x0F
    if buffer[1] & 0x80:
        fail("the server masked a frame")
    length, offset = buffer[1] & 0x7F, 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length, offset = struct.unpack("!H", buffer[2:4])[0], 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length, offset = struct.unpack("!Q", buffer[2:10])[0], 10
    if len(buffer) < offset + length:
        return None
    return fin, opcode, bytes(buffer[offset:offset + length]), buffer[offset + length:]


class Client:
    def __init__(self, host, port, tls):
        raw = socket.create_connection((host, port), timeout=TIMEOUT_SECONDS)
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            raw = context.wrap_socket(raw, server_hostname=host)
            if raw.selected_alpn_protocol() != "h2":
                fail(f"ALPN chose {raw.selected_alpn_protocol()!r}, not h2")
        self.sock = raw
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()
        self.stream_id = None
        self.enable_connect_protocol = None
        self.status = None
        self.data = bytearray()
        self.stream_ended = False
        self.reset_after_response = False

    def flush(self):
        self.sock.sendall(self.conn.data_to_send())

    def pump(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            fail("the server closed the connection")
        for event in self.conn.receive_data(chunk):
            if isinstance(event, h2.events.RemoteSettingsChanged):
                changed = event.changed_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
                if changed is not None:
                    self.enable_connect_protocol = changed.new_value
                elif self.enable_connect_protocol is None:
                    self.enable_connect_protocol = 0
            elif isinstance(event, h2.events.ResponseReceived) and event.stream_id == self.stream_id:
                self.status = dict(event.headers).get(":status")
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == self.stream_id:
                self.data += event.data
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == self.stream_id:
                self.stream_ended = True
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == self.stream_id:
                # RST_STREAM(NO_ERROR) after a complete response only asks us to stop sending (RFC 9113 8.1).
                if event.error_code != 0 or not self.stream_ended:
                    fail(f"the server reset the stream (error code {event.error_code})")
                self.reset_after_response = True
            elif isinstance(event, h2.events.ConnectionTerminated):
                fail(f"the server sent GOAWAY (error code {event.error_code})")
        self.flush()

    def read_message(self):
        """One whole message (fragments joined): (opcode, payload)."""
        opcode, payload = None, b""
        while True:
            parsed = parse_frame(self.data)
            while parsed is None:
                if self.stream_ended:
                    fail("the stream ended inside a WebSocket frame")
                self.pump()
                parsed = parse_frame(self.data)
            fin, frame_opcode, frame_payload, rest = parsed
            self.data = bytearray(rest)
            opcode = frame_opcode if opcode is None else opcode
            payload += frame_payload
            if fin:
                return opcode, payload

    def send(self, data):
        self.conn.send_data(self.stream_id, data)
        self.flush()


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        fail(__doc__.strip().splitlines()[2])
    host, port, path = args[0], int(args[1]), args[2]
    tls, expect_hello = "--tls" in args, "--hello" in args
    count = int(args[args.index("--messages") + 1]) if "--messages" in args else 10

    client = Client(host, port, tls)
    while client.enable_connect_protocol is None:
        client.pump()
    if client.enable_connect_protocol != 1:
        fail("the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL=1")

    client.stream_id = client.conn.get_next_available_stream_id()
    client.conn.send_headers(client.stream_id, [
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "https" if tls else "http"),
        (":path", path),
        (":authority", f"{host}:{port}"),
        ("sec-websocket-version", "13"),
    ])
    client.flush()
    while client.status is None:
        client.pump()
    if client.status != "200":
        fail(f"extended CONNECT answered :status {client.status}")

    hello = None
    if expect_hello:
        opcode, payload = client.read_message()
        if opcode != 0x1:
            fail(f"the hello has opcode {opcode}, not text")
        hello = json.loads(payload.decode("utf-8"))

    for i in range(count):
        text = f"h2 message {i} " + "y" * (i * 1500)
        client.send(frame(0x1, text.encode("utf-8")))
        opcode, payload = client.read_message()
        if opcode != 0x1 or payload.decode("utf-8") != text:
            fail(f"echo {i} differs: opcode {opcode}, {len(payload)} bytes")

    client.send(frame(0x8, struct.pack("!H", 1000) + b"done"))
    opcode, payload = client.read_message()
    if opcode != 0x8:
        fail(f"expected the server's close, got opcode {opcode}")
    close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
    while not client.stream_ended:
        client.pump()
    if not client.reset_after_response:
        client.conn.end_stream(client.stream_id)
        client.flush()
    client.sock.close()
    print(json.dumps({"status": int(client.status), "enableConnectProtocol": client.enable_connect_protocol,
                      "hello": hello, "echoed": count, "closeCode": close_code}))


if __name__ == "__main__":
    main()
