#!/usr/bin/python3
"""Reference ERP client for paybridged (protocol/erp/README.md, protocol version 1).

Run it with Debian's interpreter, which sees the python3-zmq package:

    /usr/bin/python3 examples/erp_client.py pay --terminal T1 --amount 12.50 --currency SEK \
        --order O-4711 --register K1 --operator anna
    /usr/bin/python3 examples/erp_client.py get --order O-4711
    /usr/bin/python3 examples/erp_client.py interim
    /usr/bin/python3 examples/erp_client.py day-close --register K1 --operator lena
    /usr/bin/python3 examples/erp_client.py cash --order O-4712 --amount 450 --currency SEK \
        --register K1 --operator anna

Integrators: the parts worth copying are Client.request (DEALER, correlation ids, deadlines),
follow_payment (subscribe first, then start; fall back to payment.get when events are missed)
and to_minor (decimal text to integer minor units, never via float).

Exit status: 0 ok/approved, 1 payment declined/aborted/rejected, 2 error reply,
3 no final outcome before the deadline (or state unknown), 4 usage or connection problem.
"""

import argparse
import itertools
import json
import os
import sys
import time
from decimal import Decimal, InvalidOperation

import zmq

PROTOCOL_VERSION = 1
DEFAULT_ENDPOINT = os.environ.get("PAYBRIDGE_ENDPOINT", "tcp://127.0.0.1:7600")
DEFAULT_EVENTS = os.environ.get("PAYBRIDGE_EVENTS", "tcp://127.0.0.1:7601")

# Minor-unit exponents of the currencies paybridged knows (protocol/core/money.hpp).
EXPONENTS = {"ISK": 0, "JPY": 0, "KWD": 3, "BHD": 3}
FINAL_STATES = {"approved", "declined", "aborted", "rejected", "reversed", "refunded"}


class ErpError(Exception):
    """An error reply: code, name, message, field (protocol/erp/README.md §6)."""

    def __init__(self, error):
        self.code = error.get("code")
        self.name = error.get("name")
        self.field = error.get("field")
        super().__init__(f"{self.name} ({self.code})"
                         + (f" at {self.field}" if self.field else "")
                         + f": {error.get('message')}")


class Timeout(Exception):
    pass


def exponent(currency):
    return EXPONENTS.get(currency.upper(), 2)


def to_minor(text, currency):
    """'12.50' SEK -> 1250. Exact: more decimals than the currency has is an error."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise argparse.ArgumentTypeError(
            f"{text} has more decimals than {currency} allows ({exponent(currency)})")
    return int(scaled)


def fmt_money(minor, currency):
    e = exponent(currency)
    return f"{Decimal(minor).scaleb(-e):.{e}f} {currency}"


def load_curve(sock, args, server=False):
    """CURVE client setup: the server's public key and our own key pair (Z85)."""
    if not args.server_key:
        return
    if not args.client_key_file:
        sys.exit("--server-key needs --client-key-file (create one with the keygen command)")
    keys = {}
    with open(args.client_key_file) as f:
        for line in f:
            if "=" in line:
                k, v = line.split("=", 1)
                keys[k.strip()] = v.strip()
    sock.curve_serverkey = args.server_key.encode()
    sock.curve_publickey = keys["public"].encode()
    sock.curve_secretkey = keys["secret"].encode()


class Client:
    """One DEALER socket for requests, one SUB socket for events."""

    def __init__(self, args):
        self.ctx = zmq.Context.instance()
        self.args = args
        self.req = self.ctx.socket(zmq.DEALER)
        self.req.setsockopt(zmq.LINGER, 0)
        load_curve(self.req, args)
        self.req.connect(args.endpoint)
        self.sub = None
        self.ids = itertools.count(1)
        self.prefix = f"{os.getpid()}-{int(time.time())}"

    def subscribe(self, *topics):
        """Subscribe before starting the work whose events you want (README §1)."""
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        load_curve(self.sub, self.args)
        self.sub.connect(self.args.events)
        for t in topics:
            self.sub.setsockopt(zmq.SUBSCRIBE, t.encode())
        # PUB/SUB "slow joiner": the subscription reaches the daemon asynchronously. Give it a
        # moment; anything missed anyway is caught by follow_payment's payment.get fallback.
        time.sleep(0.3)

    def request(self, type_, timeout=None, **fields):
        """Sends one request and returns its result; raises ErpError on an error reply."""
        msg = {"v": PROTOCOL_VERSION, "id": f"{self.prefix}-{next(self.ids)}", "type": type_}
        msg.update({k: v for k, v in fields.items() if v is not None})
        raw = json.dumps(msg, ensure_ascii=False)
        if self.args.verbose:
            print(f">> {raw}", file=sys.stderr)
        self.req.send_multipart([b"", raw.encode()])
        deadline = time.monotonic() + (timeout or self.args.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.req.poll(int(left * 1000)):
                raise Timeout(f"no reply to {type_} within {timeout or self.args.timeout} s "
                              f"from {self.args.endpoint}")
            frames = self.req.recv_multipart()
            body = [f for f in frames if f][-1:]  # drop the empty delimiter
            if not body:
                continue
            reply = json.loads(body[0])
            if self.args.verbose:
                print(f"<< {body[0].decode()}", file=sys.stderr)
            if reply.get("id") not in (msg["id"], None):
                continue  # a late reply to an earlier request that timed out
            if reply.get("ok"):
                return reply.get("result", {})
            raise ErpError(reply.get("error", {}))

    def next_event(self, timeout):
        """(topic, event) or None after `timeout` seconds."""
        if not self.sub.poll(int(timeout * 1000)):
            return None
        frames = self.sub.recv_multipart()
        if len(frames) != 2:
            return None
        return frames[0].decode(), json.loads(frames[1])


def print_json(obj):
    print(json.dumps(obj, ensure_ascii=False))


def describe_payment(p):
    s = (f"{p['payment_id']} {p.get('kind', 'sale')} {p['state'].upper()} "
         f"{fmt_money(p['amount'], p['currency'])} order {p['order_id']}")
    if p.get("terminal"):
        s += f" terminal {p['terminal']}"
    if p.get("card_brand") or p.get("masked_pan"):
        s += f" card {p.get('card_brand', '?')} {p.get('masked_pan', '')}".rstrip()
    if "trace" in p:
        s += f" trace {p['trace']}"
    if "receipt_no" in p:
        s += f" receipt {p['receipt_no']}"
    if "result_code" in p and p["result_code"] != 0:
        s += f" (result {p['result_code']}: {p.get('result_text', '')})"
    return s


def follow_payment(client, args, payment, started):
    """Prints progress, receipts and the final result of `payment`; returns the final view.

    Events are the fast path; payment.get is the truth. When no event arrives for a while,
    or a sequence gap shows that events were dropped, ask the daemon directly.
    """
    pid = payment["payment_id"]
    deadline = started + args.wait
    last_seq = None
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        ev = client.next_event(min(1.0, max(0.0, deadline - time.monotonic())))
        missed = False
        if ev is not None:
            _, e = ev
            missed = last_seq is not None and e.get("seq") != last_seq + 1
            last_seq = e.get("seq")
            if e.get("payment_id") == pid:
                quiet_since = time.monotonic()
                if args.json:
                    print_json(e)
                elif e["type"] == "payment.progress":
                    print(f"  [{e['terminal']}] {e.get('text', '')} (status 0x{e['code']:02X})")
                elif e["type"] == "payment.receipt":
                    print(f"  --- {e['receipt_type']} receipt ---")
                    for line in e.get("lines", []):
                        print(f"  | {line}")
                elif e["type"] == "payment.result" and e["state"] not in FINAL_STATES:
                    print(f"  state {e['state']}: the daemon is recovering it, waiting")
                if e["type"] == "payment.result" and e["state"] in FINAL_STATES:
                    return e
        if not missed and time.monotonic() - quiet_since < args.poll:
            continue
        quiet_since = time.monotonic()
        now = client.request("payment.get", payment_id=pid)
        if now["state"] in FINAL_STATES:
            if args.json:
                print_json(now)
            return now
    return client.request("payment.get", payment_id=pid)


def cmd_pay(client, args):
    currency = args.currency.upper()
    lines = []
    for text, qty, price in args.line or []:
        lines.append({"text": text, "qty": json.loads(qty), "unit_price": to_minor(price, currency)})
    if args.lines_json:
        with open(args.lines_json) as f:
            lines.extend(json.load(f))
    if args.amount is not None:
        total = to_minor(args.amount, currency)
    elif lines:
        total = sum(l.get("amount", round(Decimal(str(l["qty"])) * l["unit_price"])) for l in lines)
    else:
        sys.exit("pay needs --amount or --line")
    key = args.request_key or f"{args.order}#{args.attempt}"

    client.subscribe("payment.")
    started = time.monotonic()
    p = client.request("payment.start", order_id=args.order, request_key=key, lines=lines or None,
                       total=total, currency=currency, register=args.register,
                       terminal=args.terminal, operator=args.operator,
                       receptionist=args.receptionist, tender="card")
    if args.json:
        print_json(p)
    else:
        print(f"started {describe_payment(p)} (request key {key})")
    if p["state"] in FINAL_STATES:  # the same request key again: the payment is already done
        final = p
    else:
        final = follow_payment(client, args, p, started)
    if not args.json:
        print(("final " if final["state"] in FINAL_STATES else "no final outcome yet: ")
              + describe_payment(final))
    if final["state"] == "approved":
        return 0
    return 1 if final["state"] in FINAL_STATES else 3


def cmd_cancel(client, args):
    p = client.request("payment.cancel", payment_id=args.payment_id, request_key=args.request_key,
                       operator=args.operator)
    print_json(p) if args.json else print(f"cancel requested: {describe_payment(p)}")
    return 0


def cmd_get(client, args):
    if args.order:
        o = client.request("order.get", order_id=args.order)
        if args.json:
            print_json(o)
        else:
            paid = f", paid {fmt_money(o['paid'], o['currency'])}" if "paid" in o else ""
            print(f"order {o['order_id']}: {len(o['payments'])} payment(s){paid}")
            for p in o["payments"]:
                print("  " + describe_payment(p))
    else:
        p = client.request("payment.get", payment_id=args.payment_id, request_key=args.request_key)
        print_json(p) if args.json else print(describe_payment(p))
    return 0


def cmd_cash(client, args):
    currency = args.currency.upper()
    key = args.request_key or f"{args.order}#cash{args.attempt}"
    p = client.request("cash.record", order_id=args.order, request_key=key,
                       amount=to_minor(args.amount, currency), currency=currency,
                       register=args.register, operator=args.operator, receptionist=args.receptionist)
    print_json(p) if args.json else print(describe_payment(p))
    return 0


def cmd_refund(client, args):
    fields = {}
    if args.amount is not None:
        if not args.currency:
            sys.exit("--amount needs --currency")
        fields = {"amount": to_minor(args.amount, args.currency.upper()), "currency": args.currency.upper()}
    client.subscribe("payment.")
    started = time.monotonic()
    p = client.request("payment.refund", payment_id=args.payment_id, request_key=args.request_key,
                       operator=args.operator, terminal=args.terminal, reason=args.reason, **fields)
    print_json(p) if args.json else print(f"refund {describe_payment(p)}")
    if p["state"] not in FINAL_STATES:
        p = follow_payment(client, args, p, started)
        print_json(p) if args.json else print(f"final {describe_payment(p)}")
    return 0 if p["state"] == "approved" else 1


def cmd_reverse(client, args):
    client.subscribe("payment.")
    started = time.monotonic()
    p = client.request("payment.reverse", payment_id=args.payment_id, operator=args.operator,
                       reason=args.reason)
    print_json(p) if args.json else print(f"reversal {describe_payment(p)}")
    if p["state"] not in FINAL_STATES:
        p = follow_payment(client, args, p, started)
        print_json(p) if args.json else print(f"final {describe_payment(p)}")
    return 0 if p["state"] == "approved" else 1


def cmd_interim(client, args):
    if args.action == "resolve":
        if not (args.entry and args.resolution and args.operator and args.reason):
            sys.exit("interim resolve needs --entry, --resolution, --operator and --reason")
        e = client.request("interim.resolve", entry_id=args.entry, resolution=args.resolution,
                           operator=args.operator, reason=args.reason, reference=args.reference)
        print_json(e) if args.json else print(f"resolved {e['entry_id']}: {e.get('resolution')}")
        return 0
    r = client.request("interim.list", register=args.register, terminal=args.terminal, state=args.state)
    if args.json:
        print_json(r)
        return 0
    entries = r.get("entries", [])
    print(f"{len(entries)} interim entr{'y' if len(entries) == 1 else 'ies'} ({args.state})")
    for e in entries:
        print(f"  {e['entry_id']:<8} {e['state']:<8} {e['reason']:<8} order {e['order_id']:<10} "
              f"{fmt_money(e['amount'], e['currency']):>14}  {e.get('terminal', '-')}/{e.get('register', '-')}"
              f"  {e.get('created_at', '')}")
    return 0


def cmd_terminals(client, args):
    r = client.request("terminal.status", terminal=args.terminal)
    if args.json:
        print_json(r)
        return 0
    for t in r.get("terminals", []):
        state = ("busy " + t.get("payment_id", "")) if t.get("busy") else "idle"
        print(f"  {t['terminal']:<6} {t.get('register', '-'):<6} {'online' if t['online'] else 'OFFLINE':<8}"
              f" {state:<16} {t.get('protocol', '')}/{t.get('link', '')} last seen {t.get('last_seen', '-')}")
    return 0


def cmd_day_close(client, args):
    client.subscribe("day_close.done.")
    r = client.request("day_close.run", terminal=args.terminal, register=args.register,
                       operator=args.operator)
    pending = set(r.get("terminals", []))
    print_json(r) if args.json else print(f"day-close started on {', '.join(sorted(pending)) or 'no terminals'}")
    deadline = time.monotonic() + args.wait
    status = 0
    while pending and time.monotonic() < deadline:
        ev = client.next_event(min(1.0, deadline - time.monotonic()))
        if ev is None:
            continue
        _, e = ev
        if e.get("type") != "day_close.done" or e.get("terminal") not in pending:
            continue
        pending.discard(e["terminal"])
        if args.json:
            print_json(e)
            continue
        if not e.get("ok"):
            print(f"  {e['terminal']}: end-of-day FAILED: {e.get('error', '')}")
            status = 1
            continue
        cur = e.get("currency", "")
        print(f"  {e['terminal']} ({e.get('business_date', '')}): "
              f"{'terminal and ledger agree' if e.get('matches') else 'DIFFERENCE between terminal and ledger'}")
        ledger = {t["brand"]: t for t in e.get("ledger_totals", [])}
        for t in e.get("terminal_totals", []):
            l = ledger.pop(t["brand"], {"count": 0, "amount": 0})
            print(f"    {t['brand']:<12} terminal {t['count']:>4} {fmt_money(t['amount'], cur):>16}"
                  f"   ledger {l['count']:>4} {fmt_money(l['amount'], cur):>16}")
        for b, l in ledger.items():
            print(f"    {b:<12} terminal    0 {fmt_money(0, cur):>16}   ledger {l['count']:>4} {fmt_money(l['amount'], cur):>16}")
        for t in e.get("benefit_totals", []):  # benefit vouchers per provider, booked apart
            print(f"    benefit {t['brand']:<12} {t['count']:>4} {fmt_money(t['amount'], cur):>16}")
        for t in e.get("commitment_totals", []):  # commitment cards per billing reference, invoiced apart
            print(f"    commitment {t['brand']:<12} {t['count']:>4} {fmt_money(t['amount'], cur):>16}")
        if not e.get("matches"):
            status = 1
    if pending:
        print(f"no day_close.done within {args.wait} s for: {', '.join(sorted(pending))}", file=sys.stderr)
        return 3
    return status


def cmd_reconcile(client, args):
    currency = args.currency.upper()
    r = client.request("cash.reconcile", register=args.register, counted=to_minor(args.counted, currency),
                       currency=currency, operator=args.operator, note=args.note)
    if args.json:
        print_json(r)
    else:
        c = r["currency"]
        for k in ("opening_float", "cash_in", "cash_out", "expected", "counted", "difference"):
            print(f"  {k:<14} {fmt_money(r[k], c):>16}")
    return 0


def cmd_events(client, args):
    client.subscribe(*(args.topic or [""]))
    while True:
        ev = client.next_event(1.0)
        if ev is not None:
            topic, e = ev
            print(f"{topic} {json.dumps(e, ensure_ascii=False)}", flush=True)


def cmd_ping(client, args):
    t0 = time.monotonic()
    client.request("ping")
    print(f"pong in {(time.monotonic() - t0) * 1000:.1f} ms")
    return 0


def cmd_hello(client, args):
    print_json(client.request("hello", client="erp_client.py", client_version="1"))
    return 0


def cmd_send(client, args):
    """Sends a raw JSON request from a file (or -) and prints the raw reply; for testing."""
    text = sys.stdin.read() if args.file == "-" else open(args.file).read()
    client.req.send_multipart([b"", text.encode()])
    if not client.req.poll(int(args.timeout * 1000)):
        raise Timeout("no reply")
    print([f for f in client.req.recv_multipart() if f][-1].decode())
    return 0


def cmd_keygen(_client, args):
    public, secret = zmq.curve_keypair()
    with open(args.file, "x") as f:
        os.chmod(args.file, 0o600)
        f.write(f"public={public.decode()}\nsecret={secret.decode()}\n")
    print(f"wrote {args.file}; put this public key on paybridged's CURVE allow-list:\n{public.decode()}")
    return 0


def build_parser():
    p = argparse.ArgumentParser(description="Example ERP client for paybridged (protocol v1).")
    p.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help="request socket (ROUTER) [%(default)s]")
    p.add_argument("--events", default=DEFAULT_EVENTS, help="event socket (PUB) [%(default)s]")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a reply [%(default)s]")
    p.add_argument("--server-key", help="daemon's CURVE public key (Z85) to enable CURVE")
    p.add_argument("--client-key-file", help="file with public=... and secret=... (see keygen)")
    p.add_argument("--json", action="store_true", help="print replies and events as JSON lines")
    p.add_argument("-v", "--verbose", action="store_true", help="show the raw messages on stderr")
    sub = p.add_subparsers(dest="command", required=True)

    def money_args(sp, name="--amount", required=True):
        sp.add_argument(name, required=required, help="decimal major units, e.g. 12.50")
        sp.add_argument("--currency", required=required, help="ISO 4217 code, e.g. SEK")

    s = sub.add_parser("pay", help="start a card payment and follow it to its final outcome")
    s.add_argument("--order", required=True)
    s.add_argument("--terminal", required=True)
    s.add_argument("--register", default="K1")
    s.add_argument("--operator", default="erp")
    s.add_argument("--receptionist")
    s.add_argument("--amount", help="total in major units (default: sum of --line)")
    s.add_argument("--currency", required=True)
    s.add_argument("--line", nargs=3, action="append", metavar=("TEXT", "QTY", "UNIT_PRICE"),
                   help="an order line, e.g. --line 'Oil filter' 1 80.00 (repeatable)")
    s.add_argument("--lines-json", help="file with a JSON array of lines (README §4 payment.start)")
    s.add_argument("--request-key", help="idempotency key (default ORDER#ATTEMPT)")
    s.add_argument("--attempt", type=int, default=1, help="attempt number for the default key [%(default)s]")
    s.add_argument("--wait", type=float, default=240.0, help="seconds to wait for the outcome [%(default)s]")
    s.add_argument("--poll", type=float, default=5.0, help="ask payment.get after this many quiet seconds")
    s.set_defaults(func=cmd_pay)

    s = sub.add_parser("cancel", help="abort a payment still waiting for the card")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--payment-id")
    g.add_argument("--request-key")
    s.add_argument("--operator")
    s.set_defaults(func=cmd_cancel)

    s = sub.add_parser("get", help="a payment (by id or request key) or all payments of an order")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--payment-id")
    g.add_argument("--request-key")
    g.add_argument("--order")
    s.set_defaults(func=cmd_get)

    s = sub.add_parser("cash", help="record a cash payment (operator needs the take-cash right)")
    s.add_argument("--order", required=True)
    money_args(s)
    s.add_argument("--register", required=True)
    s.add_argument("--operator", required=True)
    s.add_argument("--receptionist")
    s.add_argument("--request-key")
    s.add_argument("--attempt", type=int, default=1)
    s.set_defaults(func=cmd_cash)

    s = sub.add_parser("refund", help="refund an approved payment (card present on the terminal)")
    s.add_argument("--payment-id", required=True)
    s.add_argument("--request-key", required=True)
    money_args(s, required=False)
    s.add_argument("--terminal")
    s.add_argument("--operator", required=True)
    s.add_argument("--reason")
    s.add_argument("--wait", type=float, default=240.0)
    s.add_argument("--poll", type=float, default=5.0)
    s.set_defaults(func=cmd_refund)

    s = sub.add_parser("reverse", help="reverse (void) an approved card payment of the open batch")
    s.add_argument("--payment-id", required=True)
    s.add_argument("--operator", required=True)
    s.add_argument("--reason")
    s.add_argument("--wait", type=float, default=240.0)
    s.add_argument("--poll", type=float, default=5.0)
    s.set_defaults(func=cmd_reverse)

    s = sub.add_parser("interim", help="list the interim account, or resolve an entry")
    s.add_argument("action", nargs="?", choices=["list", "resolve"], default="list")
    s.add_argument("--register")
    s.add_argument("--terminal")
    s.add_argument("--state", choices=["open", "resolved", "all"], default="open")
    s.add_argument("--entry")
    s.add_argument("--resolution", choices=["paid_otherwise", "retried", "reversed", "written_off"])
    s.add_argument("--operator")
    s.add_argument("--reason")
    s.add_argument("--reference")
    s.set_defaults(func=cmd_interim)

    s = sub.add_parser("terminals", help="terminal status (one or all)")
    s.add_argument("--terminal")
    s.set_defaults(func=cmd_terminals)

    s = sub.add_parser("day-close", help="day-close of a terminal or a register; prints the Z totals")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--terminal")
    g.add_argument("--register")
    s.add_argument("--operator", required=True)
    s.add_argument("--wait", type=float, default=300.0)
    s.set_defaults(func=cmd_day_close)

    s = sub.add_parser("reconcile", help="cash reconciliation of a register")
    s.add_argument("--register", required=True)
    money_args(s, "--counted")
    s.add_argument("--operator", required=True)
    s.add_argument("--note")
    s.set_defaults(func=cmd_reconcile)

    s = sub.add_parser("events", help="print events as they come (topic prefixes, default all)")
    s.add_argument("--topic", action="append")
    s.set_defaults(func=cmd_events)

    sub.add_parser("ping", help="liveness and round-trip time").set_defaults(func=cmd_ping)
    sub.add_parser("hello", help="server name and protocol versions").set_defaults(func=cmd_hello)

    s = sub.add_parser("send", help="send a raw JSON request from FILE or - and print the reply")
    s.add_argument("file")
    s.set_defaults(func=cmd_send)

    s = sub.add_parser("keygen", help="create a CURVE key pair file for this client")
    s.add_argument("file")
    s.set_defaults(func=cmd_keygen)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "keygen":
        return cmd_keygen(None, args)
    client = Client(args)
    try:
        return args.func(client, args)
    except ErpError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Timeout as e:
        print(f"timeout: {e}", file=sys.stderr)
        return 3
    except (argparse.ArgumentTypeError, OSError, zmq.ZMQError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 4
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
