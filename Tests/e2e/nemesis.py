#!/usr/bin/env python3
"""Tests/e2e/nemesis.py: a seeded, randomized fault schedule under a shared-session write load,
checked against a ledger of every answer.

  nemesis.py --seed N --duration SECONDS [--clients 8] [--sessions 10] [--settle 30]
             [--timeout 15] [--report FILE] [--schedule-only]

The schedule comes from random.Random(seed) and is printed first: every 3-6 s one fault among
  pause     SIGSTOP node a|b (postmaster and children) for 3-8 s, then SIGCONT
  stop      deploy/cluster stop-node a|b, start-node 2-6 s later
  both      both nodes stopped together for 3-5 s
  stagger   stop X, +2 s stop Y, +2 s start X, +4 s start Y (X, Y = a, b or b, a)
  kill-pool deploy/cluster kill-pool N, start-pool N 1-3 s later
  restart   deploy/cluster restart-pools
Faults never overlap, and the last one ends before the load does. Meanwhile --clients threads
send through HAProxy, nginx and lighttpd item creates, updates (each client of its own items,
one at a time), deletes, POST /session (one new key each) and GET / (visits + 1), each request
with the cookie of one of --sessions shared sessions, picked at random. GET / goes through
HAProxy and lighttpd only: nginx replays a GET that a killed pool had already applied (README,
"Limits, honestly"), which would count a visit twice without any bug of the responder.

Every answer is classified: acknowledged (2xx), rejected (4xx, 503: nothing changed) or
indeterminate (no answer, 500, 502, 504, any other 5xx: it may or may not have happened).
A 500 of the responder (it has X-Served-By; lighttpd's own 500 for a pool that died holding
the request has none, and counts as a front end's 502 does), and an answer that swaps a shared
session for another (Set-Cookie or JSON "id"), are violations at once. After the schedule
everything is healed (SIGCONT, start-node, start-pool), both nodes must become identical (the
`items` and `php_session` digests of ledger.py, no outbox rows; rows that already differed
before the run are left aside while unchanged) within --settle seconds, and then, read on BOTH
nodes with psql:
  * each acknowledged create is a live row with its last acknowledged name/content (or that of
    the one indeterminate write after it: a client leaves an item alone after such a write),
    unless an acknowledged delete followed, which leaves it not live; a rejected create or
    update did not take effect; no name of the run is in two rows (a create applied twice) and
    no row carries a name that no request sent;
  * each acknowledged session key is in php_session.data with its value, a rejected one is absent;
  * each shared session's visits lie between its acknowledged GET / count and that count plus
    its indeterminate GET / count.
The output ends with `N passed, M failed` (checks); exit status 1 when a check failed.
Environment as ledger.py and fault_lib.sh: CLUSTER_DIR, CLUSTER_SCRIPT, BIND_HOST, NODE_*,
CLUSTER_DB_*, E2E_HAPROXY / E2E_NGINX / E2E_LIGHTTPD (or *_PORT), POOL_COUNT, SESSION_NAME.
"""

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ledger as L  # noqa: E402  (the HTTP client, psql and the digest comparison)

ENV = os.environ
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CLUSTER_DIR = ENV.get("CLUSTER_DIR") or os.path.join(ROOT, ".cluster")
CLUSTER_SCRIPT = ENV.get("CLUSTER_SCRIPT") or os.path.join(ROOT, "deploy", "cluster")
POOL_COUNT = int(ENV.get("POOL_COUNT", "4"))
FRONTS = {
    "haproxy": ENV.get("E2E_HAPROXY") or "http://%s:%s" % (L.BIND_HOST, ENV.get("HAPROXY_PORT", "8080")),
    "nginx": ENV.get("E2E_NGINX") or "http://%s:%s" % (L.BIND_HOST, ENV.get("NGINX_PORT", "8081")),
    "lighttpd": ENV.get("E2E_LIGHTTPD") or "http://%s:%s" % (L.BIND_HOST, ENV.get("LIGHTTPD_PORT", "8082")),
}
VISIT_FRONTS = ("haproxy", "lighttpd")  # nginx replays a sent GET (see above)
OPS = {"create": 25, "update": 20, "delete": 10, "session": 25, "visit": 20}
TAIL = 5.0  # seconds of load after the last fault
EXAMPLES = 12  # violations shown per kind


class Interrupted(Exception):
    pass


# ---------------------------------------------------------------- the schedule


FAULT_KINDS = ("pause", "stop", "both", "stagger", "kill-pool", "restart")


def make_schedule(rng, duration, kinds=FAULT_KINDS):
    """[{kind, at, ...}]: faults 3-6 s apart, each over (by its nominal length) before duration - TAIL."""
    faults, t = [], rng.uniform(3, 6)
    while True:
        kind = rng.choice(kinds)
        f = {"kind": kind}
        if kind == "pause":
            f.update(node=rng.choice("ab"), hold=round(rng.uniform(3, 8), 1))
        elif kind == "stop":
            f.update(node=rng.choice("ab"), hold=round(rng.uniform(2, 6), 1))
        elif kind == "both":
            f.update(hold=round(rng.uniform(3, 5), 1))
        elif kind == "stagger":
            f.update(first=rng.choice("ab"))
        elif kind == "kill-pool":
            f.update(pool=rng.randint(1, POOL_COUNT), hold=round(rng.uniform(1, 3), 1))
        if t + nominal(f) > duration - TAIL:
            return faults
        f["at"] = round(t, 1)
        faults.append(f)
        t += nominal(f) + rng.uniform(3, 6)


def nominal(f):
    """A fault's expected length in seconds, its deploy/cluster calls included."""
    return {"pause": lambda: f["hold"] + 0.5, "stop": lambda: f["hold"] + 2, "both": lambda: f["hold"] + 3,
            "stagger": lambda: 10.0, "kill-pool": lambda: f["hold"] + 2, "restart": lambda: 12.0}[f["kind"]]()


def describe_fault(f):
    other = "b" if f.get("first") == "a" else "a"
    return {"pause": lambda: "pause node %s for %.1fs" % (f["node"], f["hold"]),
            "stop": lambda: "stop node %s for %.1fs" % (f["node"], f["hold"]),
            "both": lambda: "stop both nodes for %.1fs" % f["hold"],
            "stagger": lambda: "staggered outage: stop %s, +2s stop %s, +2s start %s, +4s start %s" % (
                f["first"], other, f["first"], other),
            "kill-pool": lambda: "SIGKILL pool %d, start it %.1fs later" % (f["pool"], f["hold"]),
            "restart": lambda: "restart-pools"}[f["kind"]]()


# ---------------------------------------------------------------- the requests


class Req:
    """One request as the ledger keeps it."""

    def __init__(self, op, front, sid, answer, detail):
        self.op, self.front, self.sid, self.detail = op, front, sid, detail
        self.status, self.error = answer.status, answer.error
        self.t, self.duration = answer.started, answer.duration
        self.served_by = answer.header("X-Served-By")
        s = answer.status
        self.kind = "ack" if 200 <= s < 300 else "rejected" if 400 <= s < 500 or s == 503 else "indeterminate"

    def line(self, nemesis=None):
        status = self.status or "no answer (%s)" % self.error
        during = nemesis.faults_at(self.t, self.t + self.duration) if nemesis else ""
        return "%s %s via %s: %s at t=%.2fs, took %.2fs, X-Served-By %s%s" % (
            self.op, self.detail, self.front, status, self.t, self.duration, self.served_by or "-",
            ", during " + during if during else "")

    def to_json(self):
        return {k: getattr(self, k) for k in ("op", "front", "sid", "detail", "status", "error", "t",
                                              "duration", "served_by", "kind")}


class Item:
    def __init__(self, item_id, create):
        self.id, self.create = item_id, create
        self.base = create.detail
        self.acked = []  # [(state, Req)]: every acknowledged write, the create first
        self.pending = None  # (state, Req): an indeterminate write after the last acknowledged one
        self.rejected = []  # [(state, Req)]


class Nemesis:
    def __init__(self, args):
        self.args = args
        self.run_id = uuid.uuid4().hex[:8]
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.requests, self.violations, self.passed = [], [], 0
        self.items = {}  # id -> Item (acknowledged creates)
        self.creates = {}  # name -> Req of every create sent
        self.sent_names = set()
        self.sessions = {}  # sid -> {"visits0", "visit": {kind: n}, "keys": {key: (value, Req)}}
        self.windows = []  # [(start, end, text)] of the faults, seconds since t0
        self.t0 = time.monotonic()

    def now(self):
        return time.monotonic() - self.t0

    def log(self, text):
        print("[%7.2fs] %s" % (self.now(), text), flush=True)

    def faults_at(self, start, end):
        return "; ".join(w[2] for w in self.windows if w[0] <= end and (w[1] is None or w[1] >= start))

    # -- results

    def check(self, ok, kind="", text="", req=None):
        with self.lock:
            if ok:
                self.passed += 1
            else:
                self.violations.append((kind, text, req))

    def send(self, rng, op, method, path, body=None, detail="", fronts=tuple(FRONTS), sid=None):
        front = rng.choice(fronts)
        sid = sid or rng.choice(list(self.sessions))
        accept = "text/html" if op == "visit" else "application/json"
        a = L.request(FRONTS[front], method, path, body, {"Accept": accept, "Cookie": "%s=%s" % (L.SESSION_NAME, sid)},
                      self.args.timeout, self.t0)
        r = Req(op, front, sid, a, detail)
        with self.lock:
            self.requests.append(r)
        if a.status == 500 and r.served_by:  # the responder's own 500 (it names itself on every answer)
            self.check(False, "500 answer", "a 500: %s" % a.body[:160].decode("utf-8", "replace"), r)
        new = a.set_cookie_session()
        j = a.json() if op == "session" and r.kind == "ack" else None
        other = new if new is not None and new != sid else j.get("id") if isinstance(j, dict) and j.get("id") != sid \
            else None
        if other is not None:
            r.kind = "indeterminate"  # it did not apply to the shared session; counted as unknown there
            self.check(False, "session reset", "session %s… answered as session %s…" % (
                sid[:8], (other or "-")[:8]), r)
        return a, r

    # -- the load

    def client(self, index):
        rng = random.Random("%d-%d" % (self.args.seed, index))
        mine, seq = [], 0  # this client's live item ids (not after an indeterminate write)
        try:
            while not self.stop.is_set():
                seq += 1
                op = rng.choices(list(OPS), list(OPS.values()))[0]
                if op in ("update", "delete") and not mine:
                    op = "create"
                if op == "create":
                    name = "nem-%s-%d-%d" % (self.run_id, index, seq)
                    content = "c-%s-%d-%d" % (self.run_id, index, seq)
                    with self.lock:
                        self.sent_names.add(name)
                    a, r = self.send(rng, "create", "POST", "/manage",
                                     {"action": "create", "name": name, "content": content}, name)
                    with self.lock:
                        self.creates[name] = r
                    if r.kind != "ack":
                        continue
                    j = a.json()
                    if a.status != 201 or not isinstance(j, dict) or not isinstance(j.get("id"), int) \
                            or (j.get("name"), j.get("content")) != (name, content):
                        r.kind = "indeterminate"
                        self.check(False, "bad answer", "create answered %r" % a.body[:160], r)
                        continue
                    with self.lock:
                        twice = j["id"] in self.items
                        if not twice:
                            item = self.items[j["id"]] = Item(j["id"], r)
                            item.acked.append((("live", name, content), r))
                    if twice:
                        self.check(False, "id given twice", "create got id %d, which %s had got" % (
                            j["id"], self.items[j["id"]].base), r)
                        continue
                    mine.append(j["id"])
                elif op in ("update", "delete"):
                    item = self.items[rng.choice(mine)]
                    if op == "update":
                        state = ("live", "%s-u%d" % (item.base, seq), "u-%s-%d-%d" % (self.run_id, index, seq))
                        body = {"action": "update", "id": item.id, "name": state[1], "content": state[2]}
                        with self.lock:
                            self.sent_names.add(state[1])
                    else:
                        state, body = ("deleted",), {"action": "delete", "id": item.id}
                    a, r = self.send(rng, op, "POST", "/manage", body, "of item %d" % item.id)
                    j = a.json() if r.kind == "ack" else None
                    if r.kind == "ack" and (not isinstance(j, dict) or (
                            j.get("deleted") != item.id if op == "delete" else
                            (j.get("id"), j.get("name"), j.get("content")) != (item.id,) + state[1:])):
                        r.kind = "indeterminate"
                        self.check(False, "bad answer", "%s answered %r" % (op, a.body[:160]), r)
                    with self.lock:
                        if r.kind == "ack":
                            item.acked.append((state, r))
                        elif r.kind == "rejected":
                            item.rejected.append((state, r))
                        else:
                            item.pending = (state, r)
                    if r.kind == "indeterminate" or (r.kind == "ack" and op == "delete"):
                        mine.remove(item.id)
                elif op == "session":
                    key = "k_%s_%d_%d" % (self.run_id, index, seq)
                    value = "v%d-%s" % (seq, uuid.uuid4().hex[:10])
                    sid = rng.choice(list(self.sessions))
                    a, r = self.send(rng, "session", "POST", "/session", {key: value}, key, sid=sid)
                    j = a.json() if r.kind == "ack" else None
                    if r.kind == "ack" and (not isinstance(j, dict) or not isinstance(j.get("data"), dict)
                                            or j["data"].get(key) != value):
                        r.kind = "indeterminate"
                        self.check(False, "bad answer", "POST /session answered without the key: %r" % a.body[:160], r)
                    with self.lock:
                        self.sessions[sid]["keys"][key] = (value, r)
                else:
                    _, r = self.send(rng, "visit", "GET", "/", fronts=VISIT_FRONTS)
                    with self.lock:
                        self.sessions[r.sid]["visit"][r.kind] += 1
        except Exception as e:  # a bug here must not pass for a clean run
            self.check(False, "nemesis error", "client %d crashed: %s: %s" % (index, type(e).__name__, e))

    def start_sessions(self):
        deadline = time.monotonic() + 30
        while len(self.sessions) < self.args.sessions and time.monotonic() < deadline:
            front = list(FRONTS)[len(self.sessions) % len(FRONTS)]
            a = L.request(FRONTS[front], "GET", "/session", headers={"Accept": "application/json"})
            sid, j = a.set_cookie_session(), a.json()
            if a.status == 200 and sid and isinstance(j, dict) and j.get("id") == sid:
                self.sessions[sid] = {"visits0": j.get("visits") or 0, "keys": {},
                                      "visit": {"ack": 0, "rejected": 0, "indeterminate": 0}}
            else:
                time.sleep(0.5)
        return len(self.sessions) == self.args.sessions

    # -- the faults

    def cluster(self, *verb):
        try:
            p = subprocess.run([CLUSTER_SCRIPT] + list(verb), capture_output=True, text=True, timeout=120)
            ok, out = p.returncode == 0, (p.stdout + p.stderr).strip()
        except subprocess.TimeoutExpired:
            ok, out = False, "no end within 120 s"
        if not ok:
            self.check(False, "nemesis error", "deploy/cluster %s failed: %s" % (" ".join(verb), out[-300:]))
        return ok

    def signal_node(self, node, sig):
        """SIGSTOP (postmaster first, then its children, twice) or SIGCONT (children first) to a node."""
        try:
            with open(os.path.join(CLUSTER_DIR, "node-%s" % node, "postmaster.pid")) as f:
                pid = int(f.readline())
        except (OSError, ValueError):
            return 0

        def children():
            out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
            return [int(x) for x in out.split()]
        sent = set()
        for round_ in range(2 if sig == signal.SIGSTOP else 1):
            targets = children() + [pid] if sig == signal.SIGCONT else [pid] + children()
            for p in targets:
                try:
                    os.kill(p, sig)
                    sent.add(p)
                except ProcessLookupError:
                    pass
            if sig == signal.SIGSTOP and round_ == 0:
                time.sleep(0.2)  # anything forked in between
        return len(sent)

    def sleep_until(self, t):
        while not self.stop.is_set() and self.now() < t:
            time.sleep(min(0.1, max(0.0, t - self.now())))

    def run_fault(self, f):
        start = self.now()
        window = [start, None, describe_fault(f)]
        self.windows.append(window)
        k = f["kind"]
        if k == "pause":
            stopped = self.signal_node(f["node"], signal.SIGSTOP)
            self.check(stopped > 0, "nemesis error", "no process of node %s to pause (no postmaster.pid under %s)" % (
                f["node"], CLUSTER_DIR))
            self.log("pause node %s: SIGSTOP to %d processes" % (f["node"], stopped))
            window[2] = "pause of node %s" % f["node"]
            self.sleep_until(start + f["hold"])
            resumed = self.signal_node(f["node"], signal.SIGCONT)
            self.log("resume node %s: SIGCONT to %d processes" % (f["node"], resumed))
        elif k == "stop":
            self.cluster("stop-node", f["node"])
            self.log("node %s stopped" % f["node"])
            self.sleep_until(self.now() + f["hold"])
            self.cluster("start-node", f["node"])
            self.log("node %s started" % f["node"])
        elif k == "both":
            self.on_both_nodes("stop-node")
            self.log("both nodes stopped")
            self.sleep_until(self.now() + f["hold"])
            self.on_both_nodes("start-node")
            self.log("both nodes started")
        elif k == "stagger":
            x = f["first"]
            y = "b" if x == "a" else "a"
            for offset, verb, node in ((0, "stop-node", x), (2, "stop-node", y), (4, "start-node", x),
                                       (8, "start-node", y)):
                self.sleep_until(start + offset)
                self.cluster(verb, node)
                self.log("%s %s done" % (verb, node))
        elif k == "kill-pool":
            self.cluster("kill-pool", str(f["pool"]))
            self.log("pool %d killed" % f["pool"])
            self.sleep_until(self.now() + f["hold"])
            self.cluster("start-pool", str(f["pool"]))
            self.log("pool %d started" % f["pool"])
        else:
            self.cluster("restart-pools")
            self.log("pools restarted")
        window[1] = self.now()
        f["done"] = [round(start, 2), round(window[1], 2)]

    def on_both_nodes(self, verb):
        """deploy/cluster VERB a and VERB b at the same time."""
        threads = [threading.Thread(target=self.cluster, args=(verb, n)) for n in "ab"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def heal(self):
        for n in "ab":
            self.signal_node(n, signal.SIGCONT)
        ok = all([self.cluster("start-node", n) for n in "ab"] +
                 [self.cluster("start-pool", str(p)) for p in range(1, POOL_COUNT + 1)])
        return ok

    # -- the verification

    def differences(self, known, describe):
        """({table: rows that differ between the nodes}, {node: outbox rows}); raises when a node cannot
        be read. Rows that `known` lists (they differed before the run) count only when they changed
        and still differ. The rows are {key: [digest on a, digest on b]} with `describe`; without it,
        None (a digest of each whole table says only whether any row differs: cheap on big tables)."""
        rows = {}
        for table in ("items", "sessions"):
            old = known.get(table, {})
            md5 = {n: L.psql(n, L.table_md5_sql(table, list(old)) + ";").strip() for n in "ab"}
            now = {n: json.loads(L.psql(n, L.row_digest_sql(table, list(old)) + ";")) for n in "ab"} if old else {}
            changed = [k for k, v in old.items() if [now["a"].get(k, "absent"), now["b"].get(k, "absent")] != v
                       and now["a"].get(k) != now["b"].get(k)]
            if md5["a"] == md5["b"] and not changed:
                continue
            rows[table] = None
            if describe:
                diff, error = L.row_differences(table)
                if error:
                    raise RuntimeError(error)
                rows[table] = {k: v for k, v in diff.items() if old.get(k) != v}
        outbox = {n: int(L.psql(n, "SELECT count(*) FROM replication_outbox;")) for n in "ab"}
        return rows, outbox

    def read_node(self, node):
        """The run's items and sessions on a node, live rows and tombstones (L.rows: a key of the
        tombstone table, or a row marked `deleted` in the previous layout, is not live)."""
        item_ids = sorted(self.items)
        pattern = "^nem-%s-" % self.run_id
        sql = """SELECT json_build_object(
  'items', (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'content', content, 'live', NOT deleted)
            ORDER BY id, deleted), '[]') FROM %s WHERE name ~ '%s' OR id = ANY(%s)),
  'sessions', (SELECT coalesce(json_object_agg(id, json_build_object('live', NOT deleted,
            'data', encode(data, 'hex')) ORDER BY deleted), '{}') FROM %s WHERE id = ANY(%s)),
  'items_both', (%s),
  'sessions_both', (%s));""" % (
            L.rows("items"), pattern, L.sql_list(item_ids, False), L.rows("sessions"),
            L.sql_list(list(self.sessions), True), L.both_sql("items", item_ids),
            L.both_sql("sessions", list(self.sessions)))
        return json.loads(L.psql(node, sql, timeout=60))

    def verify_node(self, node, snap):
        for table in ("items", "sessions"):
            self.check(not snap[table + "_both"], "live and tombstoned", "node %s: %d of the run's %s keys are live "
                       "and tombstoned at once" % (node, snap[table + "_both"], L.TABLES[table][0]))
        # A key live and tombstoned at once (reported above) counts as the tombstone (ordered last).
        by_id = {r["id"]: r for r in snap["items"]}
        rows = [r for r in snap["items"] if r["live"]]  # a tombstone's name is gone
        by_base = {}
        for r in rows:
            by_base.setdefault(re.sub(r"-u\d+$", "", r["name"]), []).append(r)
        unknown = [r for r in rows if r["name"] not in self.sent_names]
        self.check(not unknown, "unknown row", "node %s: %d item(s) carry a name that no request sent: %s" % (
            node, len(unknown), ", ".join("%d %r" % (r["id"], r["name"]) for r in unknown[:5])))
        acked_ids = {i.create.detail: i.id for i in self.items.values()}
        for name, create in sorted(self.creates.items()):
            got = by_base.get(name, [])
            if create.kind == "rejected":
                self.check(not got, "rejected write applied", "node %s: item %s exists although its create was "
                           "refused" % (node, ", ".join(str(r["id"]) for r in got)), create)
            else:
                extra = [r["id"] for r in got if r["id"] != acked_ids.get(name)]
                allowed = 0 if name in acked_ids else 1  # an indeterminate create: at most one row
                self.check(len(extra) <= allowed, "create applied twice", "node %s: the create of %s (%s) made "
                           "live item(s) %s" % (node, name, "acknowledged as item %d" % acked_ids[name]
                                                if name in acked_ids else "answered %s" % (create.status or "nothing"),
                                                ", ".join(str(r["id"]) for r in got)), create)
        for item in self.items.values():
            row = by_id.get(item.id)
            actual = ("live", row["name"], row["content"]) if row and row["live"] else ("deleted",)
            last_state, last = item.acked[-1]
            allowed = [last_state] + ([item.pending[0]] if item.pending else [])
            if actual in allowed:
                self.check(True)
                continue
            shown = "absent" if row is None else "a tombstone" if actual == ("deleted",) else "%r/%r" % actual[1:]
            expected = " or ".join("deleted" if s == ("deleted",) else "%r/%r" % s[1:] for s in allowed)
            rejected = [r for s, r in item.rejected if s == actual]
            earlier = [r for s, r in item.acked[:-1] if s == actual]
            if rejected:
                kind, why, req = "rejected write applied", "", rejected[-1]
            elif actual == ("deleted",):
                kind, why, req = "acknowledged write lost", "", last
            elif last_state == ("deleted",):
                kind, why, req = "deleted item live again", "", last
            else:
                kind, why, req = "acknowledged write lost", " (an earlier acknowledged value)" if earlier else "", last
            self.check(False, kind, "node %s: item %d is %s%s, expected %s" % (
                node, item.id, shown, why, expected), req)
        for sid, s in self.sessions.items():
            row = snap["sessions"].get(sid)
            if row is None or not row["live"]:
                self.check(False, "session lost", "node %s: shared session %s… is %s" % (
                    node, sid[:8], "absent" if row is None else "a tombstone"))
                continue
            text = L.session_text(row)
            for key, (value, r) in sorted(s["keys"].items()):
                if r.kind == "ack":
                    self.check(L.serialized_string(key, value) in text, "acknowledged write lost",
                               "node %s: session %s… lacks key %s" % (node, sid[:8], key), r)
                elif r.kind == "rejected":
                    self.check(re.search(r"(^|[;}])%s\|" % re.escape(key), text) is None, "rejected write applied",
                               "node %s: session %s… holds key %s" % (node, sid[:8], key), r)
            visits = (L.visits_of(text) or 0) - s["visits0"]
            lo, hi = s["visit"]["ack"], s["visit"]["ack"] + s["visit"]["indeterminate"]
            self.check(lo <= visits <= hi, "visits", "node %s: session %s… counts %d visits in the run, the ledger "
                       "%d acknowledged + %d indeterminate GET /" % (node, sid[:8], visits, lo, hi - lo))

    def verify(self, known):
        for kind in ("500 answer", "session reset", "bad answer"):
            if not any(v[0] == kind for v in self.violations):
                self.check(True)
        deadline = time.monotonic() + self.args.settle
        rows, outbox, error = {}, {}, None
        while True:
            last = time.monotonic() >= deadline
            try:
                rows, outbox = self.differences(known, describe=last)
                error = None
            except Exception as e:
                error = str(e)
            if (not error and not rows and not any(outbox.values())) or last:
                break
            time.sleep(0.5)
        ok = not error and not rows and not any(outbox.values())
        self.log("nodes %s" % ("identical, outboxes empty" if ok else "NOT identical after %gs" % self.args.settle))
        listed = sorted(("%s %s" % (t, k), v) for t in rows for k, v in (rows[t] or {}).items())
        detail = error or "%d rows differ (%s)%s" % (
            len(listed), "; ".join("%s: node a %s, node b %s" % (k, v[0], v[1]) for k, v in listed[:10]),
            "; outbox rows: a %s, b %s" % (outbox.get("a"), outbox.get("b")) if any(outbox.values()) else "")
        self.check(ok, "nodes differ", "the nodes are not identical %gs after the heal: %s" % (
            self.args.settle, detail))
        for node in "ab":
            try:
                snap = self.read_node(node)
            except Exception as e:
                self.check(False, "nemesis error", "node %s could not be read: %s" % (node, e))
                continue
            self.verify_node(node, snap)


# ---------------------------------------------------------------- the run


def report(nem, schedule):
    by = {}
    for r in nem.requests:
        by.setdefault(r.op, {}).setdefault(r.kind, 0)
        by[r.op][r.kind] += 1
    statuses = {}
    for r in nem.requests:
        if r.kind != "ack":
            key = "%s%s" % (r.status or "no answer", " (front end)" if r.status and not r.served_by else "")
            statuses[key] = statuses.get(key, 0) + 1
    print("load: %d requests; %s" % (len(nem.requests), "; ".join(
        "%s %s" % (op, ", ".join("%d %s" % (n, k) for k, n in sorted(v.items()))) for op, v in sorted(by.items()))))
    print("load: not acknowledged by status: %s" % (
        ", ".join("%s: %d" % kv for kv in sorted(statuses.items())) or "none"))
    stale = [r for r in nem.requests if r.op in ("update", "delete") and r.status == 404]
    if stale:  # a client sends these only for its own acknowledged, undeleted items: not a lost write by itself
        print("note: %d updates/deletes of an acknowledged, undeleted item answered 404 (the serving node did not "
              "hold it then), e.g. %s" % (len(stale), stale[0].line(nem)))
    slowest = max(nem.requests, key=lambda r: r.duration, default=None)
    pauses = [w for w in nem.windows if w[2].startswith("pause")]
    in_pause = [r for r in nem.requests for w in pauses if r.t <= w[1] and r.t + r.duration >= w[0]]
    slow_pause = max(in_pause, key=lambda r: r.duration, default=None)
    print("latency: longest %s" % (slowest.line(nem) if slowest else "-"))
    print("latency: longest during a pause %s" % (slow_pause.line(nem) if slow_pause else "- (no pause)"))
    kinds = {}
    for kind, _, _ in nem.violations:
        kinds[kind] = kinds.get(kind, 0) + 1
    if nem.violations:
        print("violations: %s" % ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
        for kind in sorted(kinds):
            found = sorted((v for v in nem.violations if v[0] == kind), key=lambda v: v[2].t if v[2] else -1)
            where = {}
            for _, text, req in found:
                at = "%s, %s" % (text.split(":")[0] if text.startswith("node ") else "run",
                                 "request during " + (nem.faults_at(req.t, req.t + req.duration) or "no fault")
                                 if req else "no single request")
                where[at] = where.get(at, 0) + 1
            print("[%s] %d: %s" % (kind, len(found), "; ".join("%s: %d" % kv for kv in sorted(where.items()))))
            step = max(1, len(found) // EXAMPLES)
            for _, text, req in found[::step][:EXAMPLES]:
                print("  VIOLATION [%s] %s%s" % (kind, text, "\n      request: " + req.line(nem) if req else ""))
            if len(found) > EXAMPLES:
                print("  (%d examples of %d, spread over the run; --report FILE has them all)" % (EXAMPLES, len(found)))
    if nem.args.report:
        with open(nem.args.report, "w") as f:
            json.dump({"seed": nem.args.seed, "duration": nem.args.duration, "run_id": nem.run_id,
                       "schedule": schedule, "passed": nem.passed, "violation_counts": kinds,
                       "violations": [{"kind": k, "text": t, "request": r.to_json() if r else None}
                                      for k, t, r in nem.violations],
                       "requests": [r.to_json() for r in nem.requests]}, f, indent=1)
    print("%d passed, %d failed" % (nem.passed, len(nem.violations)), flush=True)
    return 1 if nem.violations else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--duration", type=float, required=True, help="seconds of load; the faults fit inside")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--settle", type=float, default=30.0, help="seconds for the nodes to converge after the heal")
    p.add_argument("--timeout", type=float, default=15.0, help="client time limit of one request")
    p.add_argument("--report", help="write the schedule, violations and every request here (JSON)")
    p.add_argument("--schedule-only", action="store_true", help="print the schedule and exit")
    p.add_argument("--faults", default=",".join(FAULT_KINDS),
                   help="the kinds of fault to draw from, comma-separated (default: all)")
    args = p.parse_args()

    kinds = tuple(k for k in args.faults.split(",") if k)
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown or not kinds:
        p.error("--faults takes some of: %s" % ", ".join(FAULT_KINDS))
    schedule = make_schedule(random.Random(args.seed), args.duration, kinds)
    nem = Nemesis(args)
    print("nemesis: seed %d, %gs, %d clients, %d shared sessions, run id %s; schedule:" % (
        args.seed, args.duration, args.clients, args.sessions, nem.run_id))
    for f in schedule:
        print("  t=%5.1fs  %s" % (f["at"], describe_fault(f)))
    if args.schedule_only:
        return 0
    sys.stdout.flush()

    def interrupt(signum, frame):
        raise Interrupted()
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    threads, known, started = [], None, False
    try:
        if not nem.heal():
            nem.log("the cluster could not be brought up before the run")
        try:
            L.layout()
            known = nem.differences({}, describe=True)[0]
        except Exception as e:
            nem.check(False, "nemesis error", "the nodes could not be compared before the run: %s" % e)
        if known is not None and not nem.start_sessions():
            nem.check(False, "nemesis error", "only %d of %d sessions could be started" % (
                len(nem.sessions), args.sessions))
        elif known is not None:
            n_known = sum(len(v) for v in known.values())  # rows that differ before the run
            if n_known:
                print("nemesis: %d rows already differ between the nodes; left aside while unchanged" % n_known)
            started, nem.t0 = True, time.monotonic()
            nem.log("load starts (t=0 is %s, as the pools log): %d clients through %s" % (
                L.utc(time.time()), args.clients, ", ".join(FRONTS)))
            threads = [threading.Thread(target=nem.client, args=(i,), daemon=True) for i in range(args.clients)]
            for t in threads:
                t.start()
            for f in schedule:
                nem.sleep_until(f["at"])
                if nem.now() + nominal(f) > args.duration - TAIL / 2:
                    nem.log("skipped (running late): %s" % describe_fault(f))
                    continue
                nem.log("fault: %s" % describe_fault(f))
                nem.run_fault(f)
            nem.sleep_until(max(args.duration, nem.now() + 2))
    except Interrupted:
        nem.check(False, "nemesis error", "interrupted")
    finally:
        nem.stop.set()
        for t in threads:
            t.join(args.timeout + 5)
        nem.log("load ended; healing" if started else "healing")
        nem.check(nem.heal(), "nemesis error", "the heal failed")
        for w in nem.windows:  # a fault cut short ends with the heal
            w[1] = nem.now() if w[1] is None else w[1]
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if started:
        nem.verify(known)
    return report(nem, schedule)


if __name__ == "__main__":
    sys.exit(main())
