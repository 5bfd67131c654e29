#!/usr/bin/python3
"""Classic HTTP/2 CONNECT tunnels (RFC 9113 §8.5) by hand, with the python3-h2 library, for the functional tests.

Usage: /usr/bin/python3 h2_connect_client.py HOST PORT AUTHORITY [--streams N] [--bytes SIZE] [--reset-one] [--tls]

Opens one HTTP/2 connection (h2c prior knowledge, or TLS with ALPN h2) and N concurrent streams, each
`:method CONNECT` + `:authority AUTHORITY` (no :scheme, :path or :protocol). A stream answered 200 sends SIZE bytes
(a pattern distinct per stream), then END_STREAM, and reads until the server's END_STREAM; the target echoes, so the
bytes read must equal those sent. With --reset-one the first stream is reset (RST_STREAM CANCEL) once half its bytes
went out; the others must still complete. Prints one JSON line:
{"statuses": {status: count}, "echoed": N, "mismatched": N, "resetByServer": N, "headers": {...first stream's}}.
Exit 1 on a protocol error or timeout.
"""
import argparse
import json
import select
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events

TIMEOUT_SECONDS = 40


def fail(message):
    sys.stderr.write(f"h2_connect_client: {message}\n")
    sys.exit(1)


def payload(index, size):
    block = bytes(range(256)) * 256
    shift = index % 256
    block = block[shift:] + block[:shift]
    return (block * (size // len(block) + 1))[:size]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("authority")
    parser.add_argument("--streams", type=int, default=1)
    parser.add_argument("--bytes", type=int, default=1024)
    parser.add_argument("--reset-one", action="store_true")
    parser.add_argument("--tls", action="store_true")
    args = parser.parse_args()

    sock = socket.create_connection((args.host, args.port), timeout=TIMEOUT_SECONDS)
    if args.tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["h2"])
        sock = context.wrap_socket(sock, server_hostname="localhost")
        if sock.selected_alpn_protocol() != "h2":
            fail(f"ALPN chose {sock.selected_alpn_protocol()}")
    sock.setblocking(False)

    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, validate_outbound_headers=False))
    conn.initiate_connection()
    conn.increment_flow_control_window(16 * 1024 * 1024)

    streams = {}
    for index in range(args.streams):
        stream_id = conn.get_next_available_stream_id()
        conn.send_headers(stream_id, [(":method", "CONNECT"), (":authority", args.authority)])
        conn.increment_flow_control_window(4 * 1024 * 1024, stream_id=stream_id)
        streams[stream_id] = {"index": index, "data": payload(index, args.bytes), "sent": 0, "received": bytearray(),
                              "status": None, "headers": None, "done": False, "ended": False, "reset": False, "resetByUs": False}
    first = min(streams)

    def pump_out():
        for stream_id, s in streams.items():
            if s["status"] != 200 or s["ended"] or s["done"]:
                continue
            while s["sent"] < len(s["data"]):
                window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
                if window <= 0:
                    break
                if args.reset_one and stream_id == first and s["sent"] >= len(s["data"]) // 2:
                    conn.reset_stream(stream_id, error_code=h2.errors.ErrorCodes.CANCEL)
                    s["done"] = s["resetByUs"] = True
                    break
                chunk = s["data"][s["sent"]:s["sent"] + window]
                conn.send_data(stream_id, chunk)
                s["sent"] += len(chunk)
            if not s["done"] and s["sent"] >= len(s["data"]) and not s["ended"]:
                conn.end_stream(stream_id)
                s["ended"] = True

    deadline = time.monotonic() + TIMEOUT_SECONDS
    pending = b""
    while not all(s["done"] for s in streams.values()):
        if time.monotonic() > deadline:
            fail("timed out: " + json.dumps({sid: {k: v for k, v in s.items() if k in ("status", "sent", "done", "ended")} | {"received": len(s["received"])}
                                              for sid, s in streams.items() if not s["done"]}))
        pump_out()
        pending += conn.data_to_send()
        readable, writable, _ = select.select([sock], [sock] if pending else [], [], 1)
        if writable and pending:
            try:
                sent = sock.send(pending)
                pending = pending[sent:]
            except (BlockingIOError, ssl.SSLWantWriteError):
                pass
        if not readable:
            continue
        try:
            data = sock.recv(1024 * 1024)
        except (BlockingIOError, ssl.SSLWantReadError):
            continue
        if not data:
            fail("the server closed the connection")
        for event in conn.receive_data(data):
            s = streams.get(getattr(event, "stream_id", None))
            if isinstance(event, h2.events.ResponseReceived):
                headers = {name.decode(): value.decode() for name, value in event.headers}
                s["status"] = int(headers[":status"])
                s["headers"] = headers
                if s["status"] != 200:
                    s["done"] = True
            elif isinstance(event, h2.events.DataReceived):
                if event.flow_controlled_length:
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                if s is not None and not s["resetByUs"]:
                    s["received"] += event.data
            elif isinstance(event, h2.events.StreamEnded):
                if s is not None:
                    s["done"] = True
            elif isinstance(event, h2.events.StreamReset):
                if s is not None and not s["resetByUs"]:
                    s["reset"] = True
                    s["done"] = True
            elif isinstance(event, h2.events.ConnectionTerminated):
                fail(f"GOAWAY {event.error_code}")

    pending += conn.data_to_send()
    sock.setblocking(True)
    if pending:
        sock.sendall(pending)
    statuses = {}
    echoed = mismatched = reset = 0
    for stream_id, s in streams.items():
        statuses[str(s["status"])] = statuses.get(str(s["status"]), 0) + 1
        if s["status"] != 200 or s["resetByUs"]:
            continue
        if s["reset"]:
            reset += 1
        elif bytes(s["received"]) == s["data"]:
            echoed += 1
        else:
            mismatched += 1
    print(json.dumps({"statuses": statuses, "echoed": echoed, "mismatched": mismatched, "resetByServer": reset,
                      "headers": streams[first]["headers"]}))
    conn.close_connection()
    try:
        sock.sendall(conn.data_to_send())
    except OSError:
        pass
    sock.close()


if __name__ == "__main__":
    main()
