#!/usr/bin/python3
"""A tiny HTTP receiver for the notification tests: each POST body is stored as NNN-STATUS.body (with its
Content-Type in NNN-STATUS.type); the first --fail N requests are answered 500, the rest 200."""
import argparse
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--fail", type=int, default=0)
    a = ap.parse_args()
    state = {"n": 0, "fail": a.fail}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state["n"] += 1
            status = 200
            if state["fail"] > 0:
                state["fail"] -= 1
                status = 500
            base = os.path.join(a.dir, "%03d-%d" % (state["n"], status))
            with open(base + ".type", "w") as f:
                f.write(self.headers.get("Content-Type", ""))
            with open(base + ".tmp", "wb") as f:
                f.write(body)
            os.rename(base + ".tmp", base + ".body")
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, fmt, *args):
            pass

    HTTPServer(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
