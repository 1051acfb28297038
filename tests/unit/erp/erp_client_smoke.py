#!/usr/bin/python3
"""Smoke test of examples/erp_client.py against a fake daemon on loopback.

The fake daemon answers with the documented examples (tests/data/erp/) and publishes the
documented events, so the client is tested against the README's shapes. Every request the
client sent is then checked by the C++ codec (erp_request_check), so client and codec cannot
drift apart. Exit 77 (skipped) when Debian's python3-zmq is missing.
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

try:
    import zmq
except ImportError:
    print("python3-zmq not installed: skipped")
    sys.exit(77)


def load(data_dir, name):
    with open(os.path.join(data_dir, name + ".json")) as f:
        return json.load(f)


class FakeDaemon(threading.Thread):
    def __init__(self, data_dir):
        super().__init__(daemon=True)
        self.data = data_dir
        self.ctx = zmq.Context()
        self.router = self.ctx.socket(zmq.ROUTER)
        self.pub = self.ctx.socket(zmq.PUB)
        self.req_port = self.router.bind_to_random_port("tcp://127.0.0.1")
        self.pub_port = self.pub.bind_to_random_port("tcp://127.0.0.1")
        self.requests = []
        self.seq = 0
        self.stop_flag = threading.Event()

    def publish(self, event):
        self.seq += 1
        event = dict(event, seq=self.seq)
        key = event.get("order_id") if event["type"].startswith(("payment.", "interim.")) else event["terminal"]
        self.pub.send_multipart([f"{event['type']}.{key}".encode(), json.dumps(event).encode()])

    def reply(self, envelope, msg, result=None, error=None):
        r = {"v": 1, "id": msg["id"], "type": msg["type"]}
        if error:
            r.update(ok=False, error=error)
        else:
            r.update(ok=True, result=result)
        self.router.send_multipart(envelope + [json.dumps(r).encode()])

    def payment(self, msg, state):
        p = load(self.data, "reply.payment.get")["result"]
        p.update(order_id=msg.get("order_id", p["order_id"]), state=state)
        if "request_key" in msg:
            p["request_key"] = msg["request_key"]
        if "total" in msg:
            p["amount"], p["currency"] = msg["total"], msg["currency"]
        return p

    def handle(self, envelope, msg):
        t = msg["type"]
        if t == "ping":
            return self.reply(envelope, msg, {})
        if t == "payment.start":
            sent = self.payment(msg, "sent")
            for k in ("card_brand", "masked_pan", "trace", "receipt_no", "approval_code", "result_code", "result_text"):
                sent.pop(k, None)
            self.reply(envelope, msg, sent)
            self.last_payment = self.payment(msg, "approved")
            if msg["order_id"] == "O-LOST":
                return  # events lost: the client must fall back to payment.get
            for name in ("event.payment.progress", "event.payment.receipt"):
                e = load(self.data, name)
                e.update(order_id=msg["order_id"], payment_id=sent["payment_id"])
                self.publish(e)
            self.publish(dict(self.last_payment, v=1, type="payment.result", time="2024-05-03T10:15:41Z"))
            return
        if t == "payment.get":
            return self.reply(envelope, msg, self.last_payment)
        if t == "order.get":
            return self.reply(envelope, msg, load(self.data, "reply.order.get")["result"])
        if t == "interim.list":
            return self.reply(envelope, msg, load(self.data, "reply.interim.list")["result"])
        if t == "cash.record":
            if msg["operator"] == "nocash":
                return self.reply(envelope, msg, error={"code": 2004, "name": "permission_denied",
                                                        "message": "operator may not take cash", "field": "/operator"})
            return self.reply(envelope, msg, load(self.data, "reply.cash.record")["result"])
        if t == "day_close.run":
            self.reply(envelope, msg, {"terminals": ["T1"]})
            return self.publish(load(self.data, "event.day_close.done"))
        self.reply(envelope, msg, error={"code": 1003, "name": "unknown_type", "message": "fake", "field": "/type"})

    def run(self):
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        while not self.stop_flag.is_set():
            if not poller.poll(50):
                continue
            frames = self.router.recv_multipart()
            # [identity, "", json] from REQ or a DEALER that sends the delimiter, else [identity, json]
            envelope, body = frames[:-1], frames[-1]
            self.requests.append(body.decode())
            self.handle(envelope, json.loads(body))
        self.router.close(0)
        self.pub.close(0)
        self.ctx.term()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--checker", required=True)
    args = ap.parse_args()

    daemon = FakeDaemon(args.data)
    daemon.start()
    base = [sys.executable, args.client, "--endpoint", f"tcp://127.0.0.1:{daemon.req_port}",
            "--events", f"tcp://127.0.0.1:{daemon.pub_port}", "--timeout", "5"]
    failures = []

    def run(expect_rc, expect_text, *argv):
        t0 = time.monotonic()
        p = subprocess.run(base + list(argv), capture_output=True, text=True, timeout=30)
        out = p.stdout + p.stderr
        ok = p.returncode == expect_rc and all(t in out for t in expect_text)
        print(f"{'ok  ' if ok else 'FAIL'} {' '.join(argv)} rc={p.returncode} ({time.monotonic() - t0:.2f} s)")
        if not ok:
            failures.append(argv)
            print(out)

    run(0, ["pong"], "ping")
    run(0, ["Insert card", "KUNDKVITTO", "final p-000123 sale APPROVED 12.50 SEK", "visa 476173******0119"],
        "pay", "--terminal", "T1", "--amount", "12.50", "--currency", "SEK", "--order", "O-1", "--register", "K1",
        "--operator", "anna")
    run(0, ["final p-000123 sale APPROVED 1250.00 SEK"],
        "pay", "--terminal", "T1", "--currency", "SEK", "--order", "O-2", "--operator", "anna",
        "--line", "Labour", "1.5", "780.00", "--line", "Oil filter", "1", "80")
    run(0, ["final p-000123 sale APPROVED"], "pay", "--terminal", "T1", "--amount", "3", "--currency", "SEK",
        "--order", "O-LOST", "--poll", "0.5")
    run(4, ["more decimals"], "pay", "--terminal", "T1", "--amount", "1.005", "--currency", "SEK", "--order", "O-3")
    run(0, ["order O-4711: 2 payment(s), paid 1250.00 SEK", "DECLINED"], "get", "--order", "O-4711")
    run(0, ["1 interim entry (open)", "i-31"], "interim")
    run(0, ["terminal and ledger agree", "mastercard"], "day-close", "--register", "K1", "--operator", "lena",
        "--wait", "5")
    run(0, ["p-000124 cash APPROVED 450.00 SEK"], "cash", "--order", "O-4712", "--amount", "450", "--currency", "SEK",
        "--register", "K1", "--operator", "anna")
    run(2, ["permission_denied (2004) at /operator"], "cash", "--order", "O-9", "--amount", "1", "--currency", "SEK",
        "--register", "K1", "--operator", "nocash")

    daemon.stop_flag.set()
    daemon.join(5)

    # Every request the client sent must be accepted by the C++ codec.
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for r in daemon.requests:
            f.write(r.replace("\n", " ") + "\n")
        path = f.name
    p = subprocess.run([args.checker, path], capture_output=True, text=True)
    os.unlink(path)
    print(p.stdout + p.stderr, end="")
    if p.returncode != 0:
        failures.append(("codec check",))
    print(f"{len(daemon.requests)} requests sent; {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
