#!/usr/bin/env python3
"""A minimal HTTP/1.1 CONNECT proxy for the tunnelling tests, written for them and independent of Yarp.Tunnels.

Prints one JSON line per event on stdout: {"port": N} once listening, then per tunnel
{"method", "target", "headers"} and, with --delay-ms, {"early": bytes the client sent before the answer}.
Relays both ways with TCP half-close: a FIN from either side is passed on as shutdown(SHUT_WR).

  h1_connect_proxy.py [--port 0] [--status 200] [--delay-ms 0] [--target HOST:PORT]
"""
import argparse
import json
import socket
import sys
import threading
import time


def log(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def pump(source, destination):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            destination.sendall(data)
        destination.shutdown(socket.SHUT_WR)
    except OSError:
        for s in (source, destination):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(client, args):
    with client:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
            if len(head) > 65536:
                return
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        log({"method": method, "target": target, "headers": headers})
        if args.delay_ms:
            time.sleep(args.delay_ms / 1000)
            try:
                early = len(rest) + len(client.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT))
            except BlockingIOError:
                early = len(rest)
            log({"early": early})
        if method != "CONNECT" or args.status != 200:
            body = b"refused by h1_connect_proxy.py"
            client.sendall(b"HTTP/1.1 %d Refused\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (args.status, len(body), body))
            return
        host, port = (args.target or target).rsplit(":", 1)
        try:
            upstream = socket.create_connection((host, int(port)))
        except OSError as e:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            log({"error": str(e)})
            return
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\nX-Proxy: h1_connect_proxy.py\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            threads = [threading.Thread(target=pump, args=(client, upstream)), threading.Thread(target=pump, args=(upstream, client))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--target")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    log({"port": listener.getsockname()[1]})
    while True:
        client, _ = listener.accept()
        threading.Thread(target=handle, args=(client, args), daemon=True).start()


if __name__ == "__main__":
    main()
