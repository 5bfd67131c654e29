"""An HTTP/2 client for the upgrade tests, on python3-h2 (an implementation no one here wrote).

usage: h2_extended_connect.py PORT MODE [PATH] [METHOD]
  MODE tunnel   extended CONNECT with :protocol foo (and x-yarp-tunnels-upgrade-method METHOD unless GET): sends
                "early" right behind the HEADERS, then "ping quit" with END_STREAM once the 200 arrived, reads to
                END_STREAM; prints {"status", "data", "ended"}.
  MODE reset    extended CONNECT with :protocol foo: once the 200 arrived sends "ping" with END_STREAM, reads its echo,
                then resets the stream (CANCEL) and, once a PING was acknowledged after it, prints {"status", "data"}
                and keeps the connection open until killed (at most the socket timeout).
  MODE no-path  an extended CONNECT without :path (malformed, RFC 8441 section 4), then a GET on a second stream;
                prints {"reset": error code or null, "next_status"}.
"""
import json
import socket
import sys

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings

port, mode = int(sys.argv[1]), sys.argv[2]
path = sys.argv[3] if len(sys.argv) > 3 else "/"
method = sys.argv[4] if len(sys.argv) > 4 else "GET"

sock = socket.create_connection(("127.0.0.1", port))
sock.settimeout(30)
conn = h2.connection.H2Connection(h2.config.H2Configuration(
    client_side=True, header_encoding="utf-8", validate_outbound_headers=(mode != "no-path")))
conn.initiate_connection()
sock.sendall(conn.data_to_send())


pending = []


def pump(until):
    """Hands each event to until(event), reading frames as needed; stops when it returns True (later events wait)."""
    while True:
        while pending:
            if until(pending.pop(0)):
                return
        data = sock.recv(65536)
        if not data:
            raise SystemExit(json.dumps({"error": "connection closed"}))
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            pending.append(event)
        sock.sendall(conn.data_to_send())


def await_status(result):
    """Reads until stream 1's response headers (their :status goes into result["status"]) or its reset."""
    def on_response(event):
        if isinstance(event, h2.events.ResponseReceived):
            result["status"] = int(dict(event.headers)[":status"])
            return True
        return isinstance(event, h2.events.StreamReset)
    pump(on_response)


# Extended CONNECT needs the server's SETTINGS_ENABLE_CONNECT_PROTOCOL first.
pump(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))

if mode == "tunnel":
    headers = [(":method", "CONNECT"), (":protocol", "foo"), (":scheme", "http"), (":path", path), (":authority", "gateway")]
    if method != "GET":
        headers.append(("x-yarp-tunnels-upgrade-method", method))
    conn.send_headers(1, headers)
    conn.send_data(1, b"early")
    sock.sendall(conn.data_to_send())
    result = {"status": None, "data": "", "ended": False}

    await_status(result)
    if result["status"] == 200:
        conn.send_data(1, b"ping quit", end_stream=True)
        sock.sendall(conn.data_to_send())

    def on_data(event):
        if isinstance(event, h2.events.DataReceived):
            result["data"] += event.data.decode("ascii")
        if isinstance(event, h2.events.StreamEnded):
            result["ended"] = True
            return True
        return isinstance(event, h2.events.StreamReset)
    pump(on_data)
    print(json.dumps(result))
elif mode == "reset":
    conn.send_headers(1, [(":method", "CONNECT"), (":protocol", "foo"), (":scheme", "http"), (":path", path), (":authority", "gateway")])
    sock.sendall(conn.data_to_send())
    result = {"status": None, "data": ""}

    await_status(result)
    conn.send_data(1, b"ping", end_stream=True)
    sock.sendall(conn.data_to_send())

    def on_echo(event):
        if isinstance(event, h2.events.DataReceived):
            result["data"] += event.data.decode("ascii")
        return result["data"].endswith("ping") or isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset))
    pump(on_echo)
    conn.reset_stream(1, error_code=h2.errors.ErrorCodes.CANCEL)
    conn.ping(b"resetack")
    sock.sendall(conn.data_to_send())
    pump(lambda e: isinstance(e, h2.events.PingAckReceived))
    print(json.dumps(result), flush=True)
    pump(lambda e: isinstance(e, h2.events.ConnectionTerminated))
elif mode == "no-path":
    conn.send_headers(1, [(":method", "CONNECT"), (":protocol", "foo"), (":scheme", "http"), (":authority", "gateway")])
    sock.sendall(conn.data_to_send())
    result = {"reset": None, "next_status": None}

    def on_reset(event):
        if isinstance(event, h2.events.StreamReset):
            result["reset"] = int(event.error_code)
            return True
        if isinstance(event, h2.events.ResponseReceived):
            result["reset"] = "answered " + dict(event.headers)[":status"]
            return True
        return isinstance(event, h2.events.ConnectionTerminated)
    pump(on_reset)
    conn.send_headers(3, [(":method", "GET"), (":scheme", "http"), (":path", path), (":authority", "gateway")], end_stream=True)
    sock.sendall(conn.data_to_send())

    def on_next(event):
        if isinstance(event, h2.events.ResponseReceived):
            result["next_status"] = int(dict(event.headers)[":status"])
            return True
        return isinstance(event, h2.events.ConnectionTerminated)
    pump(on_next)
    print(json.dumps(result))
sock.close()
