#!/usr/bin/python3
"""Peers that never answer, for the hung-dependency test.

  tarpit.py --udp PORT ... --tcp PORT ... [--pidfile FILE]

Each --udp port reads datagrams and never replies (an SNMP agent that is
black-holed). Each --tcp port accepts connections, reads what the client
sends and never writes a byte (an SMTP server that says nothing, a webhook
that hangs). Connections are held until the client gives up. Every
datagram and connection is counted on stdout, one line each, flushed.
"""
import argparse
import os
import selectors
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--udp", type=int, action="append", default=[])
    ap.add_argument("--tcp", type=int, action="append", default=[])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--pidfile")
    args = ap.parse_args()
    if not args.udp and not args.tcp:
        ap.error("give at least one --udp or --tcp port")

    sel = selectors.DefaultSelector()
    for port in args.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((args.host, port))
        sel.register(s, selectors.EVENT_READ, ("udp", port))
    for port in args.tcp:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.host, port))
        s.listen(64)
        sel.register(s, selectors.EVENT_READ, ("listen", port))
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    print("ready", flush=True)

    while True:
        for key, _ in sel.select():
            kind, port = key.data
            sock = key.fileobj
            if kind == "udp":
                sock.recvfrom(65536)
                print("udp %d datagram" % port, flush=True)
            elif kind == "listen":
                conn, _ = sock.accept()
                sel.register(conn, selectors.EVENT_READ, ("conn", port))
                print("tcp %d accepted" % port, flush=True)
            else:
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(sock)
                    sock.close()
                    print("tcp %d closed by the client" % port, flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
