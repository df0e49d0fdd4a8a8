#!/usr/bin/env python3
"""Tests/e2e/ledger.py: a bounded write load that keeps a ledger, and its verifier.

The fault-injection tests (Tests/e2e/test_1*_fault_*.sh) run `ledger.py run` in
the background, inject a fault meanwhile, and then run `ledger.py verify`.

  ledger.py run --ledger FILE [--url URL[,URL...]] [--threads N]
                [--duration SECONDS] [--requests N] [--mix create=25,update=20,...]
                [--continue] [--phase NAME] [--max-failures N] [--max-latency S]
                [--fast-after-slow S] [--ready-file F] [--pause-file F] [--stop-file F]

    N worker threads send, for SECONDS (or until N requests in all, whichever
    comes first), a mixed write load through the front end(s): item creates
    (unique names), updates (of items the thread created), deletes, session
    writes (JSON POST /session, one new key per write, one cookie per thread
    so a session is written by every pool) and `GET /` (visits + 1). Every
    request's status, latency and X-Served-By is recorded; every acknowledged
    (2xx) write goes into the ledger together with what must hold afterwards.
    The answers are checked as they come (read-your-writes): a POST /session
    answer must hold every key acknowledged before in that session, and the
    visits shown must be the number of 2xx `GET /` of that cookie (a
    difference is reported once, when it appears).
    --continue loads FILE first and goes on with its sessions and items
    (its live items are shared out among the threads); the new requests are
    appended. Creates are tagged with --phase (show --phase lists them).
    While --pause-file exists the workers wait; when --stop-file appears they
    end early; --ready-file is created once every worker holds its session.
    SIGTERM/SIGINT end the run early too; the ledger is always written.
    Exit status 1 when more than --max-failures requests failed (non-2xx or no
    answer; default: any number allowed), a request took longer than
    --max-latency, an answer contradicted the ledger, or, with
    --fast-after-slow S, a pool answered a request slower than S seconds that
    started after its first answer slower than S.

  ledger.py verify [--ledger FILE ...] [--wait SECONDS] [--manage URL ...] [--sessions URL ...]
                   [--baseline FILE]

    Polls both nodes (at most --wait seconds, default 15) until they hold the
    same rows for every ledger entry, the same full `items` and `php_session`
    tables (with their tombstones) and empty outboxes; then checks every ledger
    entry on BOTH nodes: acknowledged creates/updates present with their last
    acknowledged value, acknowledged deletes not live but tombstones (a key of
    items_tombstone; in the previous layout a row marked `deleted`), no key
    live and tombstoned at once, session keys present in
    `php_session.data`, `visits|i:N;` equal to the 2xx `GET /` count of the
    cookie, item ids unique, no item carrying a run's name that no
    acknowledged create made (a create applied twice, or a refused create
    that changed something); and the full tables identical (md5 of every
    column that is replicated; the differing rows are listed). With --manage, `GET URL/manage` (JSON) must
    list every live ledger item with its name and no deleted one; with
    --sessions, `GET URL/session` with each ledger cookie must answer that
    same session with every acknowledged key and the visits. Without
    --ledger only the nodes' convergence is checked. Exit status 1 on any
    mismatch.

  ledger.py diff --out FILE

    Records the rows in which the two nodes differ now (by digest). A test
    takes it before it starts and passes it to verify --baseline FILE, so that
    a difference an earlier failure left behind is reported there and not
    again in every later test; a known row that changes again counts anew.

  ledger.py show --ledger FILE [--what created|live|deleted|sessions] [--phase NAME]

    Prints item ids (or session ids), one a line.

  ledger.py listed --url URL [--min ID --max ID]

    Prints the ids of every item GET URL/manage (JSON) lists, following its pages
    (with --min/--max only the pages that cover that range of ids).

The nodes come from the environment lib.sh uses: BIND_HOST, NODE_A_PORT,
NODE_B_PORT, NODE_A_DB, NODE_B_DB, CLUSTER_DB_USER, CLUSTER_DB_PASSWORD;
the default URL from E2E_HAPROXY; the cookie name from SESSION_NAME.
Python 3 standard library only; psql does the database reads.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

ENV = os.environ
BIND_HOST = ENV.get("BIND_HOST", "127.0.0.1")
SESSION_NAME = ENV.get("SESSION_NAME", "PHPSESSID")
NODES = {
    "a": (int(ENV.get("NODE_A_PORT", "54321")), ENV.get("NODE_A_DB", "cluster_session_a")),
    "b": (int(ENV.get("NODE_B_PORT", "54322")), ENV.get("NODE_B_DB", "cluster_session_b")),
}
DB_USER = ENV.get("CLUSTER_DB_USER", "webuser")
DB_PASSWORD = ENV.get("CLUSTER_DB_PASSWORD", "change_me")

DEFAULT_MIX = "create=25,update=20,delete=10,session=20,visit=25"
OPS = ("create", "update", "delete", "session", "visit")
VISITS_RE = re.compile(r'id="visits">(\d+)<')


def utc(epoch):
    """An epoch time as the pools' logs write it (UTC, milliseconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".%03dZ" % int((epoch % 1) * 1000)


def log(msg):
    print("ledger: " + msg, flush=True)


# ---------------------------------------------------------------- the ledger


class Ledger:
    """Everything that must be true afterwards; shared by the workers under one lock.

    items[id]      = {"state": "live"|"deleted", "name", "content", "phase",
                      "uncertain": bool (a write of it failed: it is not touched again),
                      "alternatives": [[state, name, content], ...] (what that write may have left)}
    sessions[sid]  = {"keys": {key: value}, "uncertain_keys": [key...] (writes that failed),
                      "visits_ok": 2xx GET / count, "visits_unknown": failed GET / count,
                      "visits_offset", "reported_lost": what the answers showed (reported once)}
    creates        = [[id, name, phase]...]: every acknowledged create, in order
    failed_creates = {name: status}: creates without a 2xx (status 0: no answer)
    requests       = [[t, duration, op, status, served_by, front, error, run id]...]
    anomalies      = [text...]: answers that contradicted the ledger
    runs           = [{"id", "phase", "threads", "urls", "elapsed", "wall_start"}...]
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.items = {}
        self.sessions = {}
        self.creates = []
        self.requests = []
        self.anomalies = []
        self.runs = []
        self.dropped_sessions = []
        self.failed_creates = {}

    def to_json(self):
        return {
            "items": self.items,
            "sessions": self.sessions,
            "creates": self.creates,
            "requests": self.requests,
            "anomalies": self.anomalies,
            "runs": self.runs,
            "dropped_sessions": self.dropped_sessions,
            "failed_creates": self.failed_creates,
        }

    @classmethod
    def load(cls, path):
        with open(path) as f:
            raw = json.load(f)
        ledger = cls()
        ledger.items = {int(k): v for k, v in raw.get("items", {}).items()}
        ledger.sessions = raw.get("sessions", {})
        ledger.creates = raw.get("creates", [])
        ledger.requests = raw.get("requests", [])
        ledger.anomalies = raw.get("anomalies", [])
        ledger.runs = raw.get("runs", [])
        ledger.dropped_sessions = raw.get("dropped_sessions", [])
        ledger.failed_creates = raw.get("failed_creates", {})
        return ledger

    def save(self, path):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({**self.to_json(), "items": {str(k): v for k, v in self.items.items()}}, f)
        os.replace(tmp, path)

    def anomaly(self, text):
        with self.lock:
            self.anomalies.append(text)
        log("ANOMALY " + text)


# ---------------------------------------------------------------- HTTP


class Answer:
    def __init__(self, status, headers, body, error, duration, started):
        self.status = status
        self.headers = headers
        self.body = body
        self.error = error
        self.duration = duration
        self.started = started

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return ""

    def set_cookie_session(self):
        """The session id a Set-Cookie header gives (None: none; "" when it expires it)."""
        for k, v in self.headers:
            if k.lower() != "set-cookie":
                continue
            first = v.split(";", 1)[0].strip()
            if first.startswith(SESSION_NAME + "="):
                value = first[len(SESSION_NAME) + 1:]
                if "max-age=0" in v.lower().replace(" ", ""):
                    return ""
                return value
        return None

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    @property
    def ok(self):
        return 200 <= self.status < 300


def request(base, method, path, body=None, headers=None, timeout=15.0, t0=0.0):
    """One request on a fresh connection (no keep-alive, so no stale-connection errors)."""
    parsed = urllib.parse.urlsplit(base)
    hdrs = {"Connection": "close", "User-Agent": "e2e-ledger"}
    hdrs.update(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    started = time.monotonic()
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=timeout)
    try:
        conn.request(method, (parsed.path.rstrip("/") + path) or "/", body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return Answer(resp.status, resp.getheaders(), payload, "", time.monotonic() - started, started - t0)
    except Exception as e:  # no answer: refused, reset, timed out
        return Answer(0, [], b"", "%s: %s" % (type(e).__name__, e), time.monotonic() - started, started - t0)
    finally:
        conn.close()


# ---------------------------------------------------------------- the load


class Run:
    def __init__(self, args, ledger):
        self.args = args
        self.ledger = ledger
        self.urls = [u.strip().rstrip("/") for u in args.url.split(",") if u.strip()]
        self.mix = parse_mix(args.mix)
        self.t0 = time.monotonic()
        self.t0_wall = time.time()
        self.deadline = self.t0 + args.duration if args.duration else None
        self.budget = args.requests  # requests left in all (None: unbounded)
        self.budget_lock = threading.Lock()
        self.stopping = threading.Event()
        self.ready = 0
        self.ready_lock = threading.Lock()
        self.run_id = uuid.uuid4().hex[:8]
        self.phase = args.phase
        self.threads = []

    def at(self, answer):
        """When a request was sent: seconds into the run and UTC (as the pools log)."""
        return "t=%.2fs (%s)" % (answer.started, utc(self.t0_wall + answer.started))

    # -- flow control

    def take_request(self):
        """True when this worker may send one more request."""
        if self.stopping.is_set():
            return False
        if self.args.stop_file and os.path.exists(self.args.stop_file):
            return False
        while self.args.pause_file and os.path.exists(self.args.pause_file):
            if self.stopping.is_set() or (self.deadline and time.monotonic() >= self.deadline):
                return False
            time.sleep(0.05)
        if self.deadline and time.monotonic() >= self.deadline:
            return False
        if self.budget is not None:
            with self.budget_lock:
                if self.budget <= 0:
                    return False
                self.budget -= 1
        return True

    def record(self, op, answer, front):
        by = answer.header("X-Served-By")
        with self.ledger.lock:
            self.ledger.requests.append(
                [round(answer.started, 4), round(answer.duration, 4), op, answer.status, by, front,
                 answer.error, self.run_id])

    def send(self, worker, op, method, path, body=None, headers=None):
        front = self.urls[worker.sent % len(self.urls)]
        worker.sent += 1
        hdrs = dict(headers or {})
        if worker.sid:
            hdrs["Cookie"] = "%s=%s" % (SESSION_NAME, worker.sid)
        answer = request(front, method, path, body, hdrs, self.args.timeout, self.t0)
        self.record(op, answer, front)
        if not answer.ok:
            log("%s %s %s at t=%.2fs (%s): %s %s (%.2fs, %s)" % (
                op, method, path, answer.started, utc(self.t0_wall + answer.started), answer.status or "no answer",
                answer.error or answer.body[:160].decode("utf-8", "replace"), answer.duration,
                answer.header("X-Served-By") or front))
        self.follow_cookie(worker, answer, op)
        return answer

    def follow_cookie(self, worker, answer, op):
        sid = answer.set_cookie_session()
        if sid is None or sid == worker.sid:
            return
        if worker.sid is not None:
            # The session of this thread was not adopted any more: it was lost.
            self.ledger.anomaly("%s %s: session %s… replaced by %s… (%s, X-Served-By %s)" % (
                self.at(answer), op, worker.sid[:8], (sid or "-")[:8], answer.status,
                answer.header("X-Served-By")))
            with self.ledger.lock:
                self.ledger.dropped_sessions.append(worker.sid)
        worker.sid = sid or None
        if worker.sid:
            with self.ledger.lock:
                self.ledger.sessions.setdefault(
                    worker.sid, {"keys": {}, "uncertain_keys": [], "visits_ok": 0, "visits_unknown": 0})

    # -- operations

    def op_create(self, w):
        name = "e2e-%s-%d-%d" % (self.run_id, w.index, w.seq)
        content = "c-%s-%d-%d-0" % (self.run_id, w.index, w.seq)
        w.seq += 1
        a = self.send(w, "create", "POST", "/manage", {"action": "create", "name": name, "content": content})
        if not a.ok:
            # Refused by a pool (an answer): it must have changed nothing. No answer, or a front
            # end's own 502/504 (no X-Served-By: the pool failed while it held the request): it
            # may have happened.
            pool_failed = not a.header("X-Served-By") and a.status in (502, 504)
            with self.ledger.lock:
                self.ledger.failed_creates[name] = 0 if pool_failed else a.status
            return
        j = a.json()
        if a.status != 201 or not isinstance(j, dict) or not isinstance(j.get("id"), int):
            self.ledger.anomaly("%s create %s answered %s %r" % (self.at(a), name, a.status, a.body[:200]))
            return
        item_id = j["id"]
        if j.get("name") != name or j.get("content") != content:
            self.ledger.anomaly("%s create %d answered name/content %r/%r, sent %r/%r" % (
                self.at(a), item_id, j.get("name"), j.get("content"), name, content))
        with self.ledger.lock:
            earlier = self.ledger.items.get(item_id)
        if earlier is not None:
            self.ledger.anomaly("%s create %s got id %d, which create of %s had already got" % (
                self.at(a), name, item_id, earlier["name"]))
        with self.ledger.lock:
            self.ledger.creates.append([item_id, name, self.phase])
            self.ledger.items[item_id] = {"state": "live", "name": name, "content": content,
                                          "uncertain": False, "alternatives": [], "phase": self.phase}
        w.items.append(item_id)

    def op_update(self, w):
        if not w.items:
            return self.op_create(w)
        item_id = random.choice(w.items)
        with self.ledger.lock:
            before = dict(self.ledger.items[item_id])
        name = "%s-u%d" % (before["name"].split("-u")[0], w.seq)
        content = "u-%s-%d-%d" % (self.run_id, w.index, w.seq)
        w.seq += 1
        a = self.send(w, "update", "POST", "/manage",
                      {"action": "update", "id": item_id, "name": name, "content": content})
        if not a.ok:
            # The update may or may not have happened: both states are acceptable; the item is
            # not touched again.
            with self.ledger.lock:
                entry = self.ledger.items[item_id]
                entry["uncertain"] = True
                entry["alternatives"].append(["live", name, content])
            w.items.remove(item_id)
            return
        j = a.json()
        if a.status != 200 or not isinstance(j, dict) or j.get("id") != item_id \
                or j.get("name") != name or j.get("content") != content:
            self.ledger.anomaly("%s update %d answered %s %r" % (self.at(a), item_id, a.status, a.body[:200]))
        with self.ledger.lock:
            entry = self.ledger.items[item_id]
            entry.update({"state": "live", "name": name, "content": content})

    def op_delete(self, w):
        if not w.items:
            return self.op_create(w)
        item_id = random.choice(w.items)
        w.items.remove(item_id)
        a = self.send(w, "delete", "POST", "/manage", {"action": "delete", "id": item_id})
        if not a.ok:
            with self.ledger.lock:
                entry = self.ledger.items[item_id]
                entry["uncertain"] = True
                entry["alternatives"].append(["deleted", "", ""])
            return
        j = a.json()
        if a.status != 200 or not isinstance(j, dict) or j.get("deleted") != item_id:
            self.ledger.anomaly("%s delete %d answered %s %r" % (self.at(a), item_id, a.status, a.body[:200]))
        with self.ledger.lock:
            self.ledger.items[item_id].update({"state": "deleted", "name": "", "content": ""})

    def expected_visits(self, sid):
        with self.ledger.lock:
            s = self.ledger.sessions[sid]
            return s["visits_ok"], s["visits_ok"] + s["visits_unknown"]

    def op_session(self, w):
        key = "k_%s_%d_%d" % (self.run_id, w.index, w.seq)
        value = "v-%d-%s" % (w.seq, uuid.uuid4().hex[:12])
        w.seq += 1
        sid = w.sid
        a = self.send(w, "session", "POST", "/session", {key: value})
        if sid is None or w.sid != sid:
            return  # the session changed under us: reported by follow_cookie
        if not a.ok:
            with self.ledger.lock:
                self.ledger.sessions[sid]["uncertain_keys"].append(key)
            return
        j = a.json()
        with self.ledger.lock:
            s = self.ledger.sessions[sid]
            s["keys"][key] = value
            expected = dict(s["keys"])
            uncertain = set(s["uncertain_keys"])
            vmin, vmax = s["visits_ok"], s["visits_ok"] + s["visits_unknown"]
        if not isinstance(j, dict) or not isinstance(j.get("data"), dict):
            self.ledger.anomaly("%s POST /session answered %s %r" % (self.at(a), a.status, a.body[:200]))
            return
        data = j["data"]
        with self.ledger.lock:
            reported = s.setdefault("reported_lost", [])
            lost = [k for k, v in expected.items() if data.get(k) != v and k not in uncertain and k not in reported]
            reported.extend(lost)  # each lost key is reported once
        if lost:
            self.ledger.anomaly("%s POST /session (X-Served-By %s) of session %s… lacks %d acknowledged "
                                "key(s), e.g. %s" % (self.at(a), a.header("X-Served-By"), sid[:8], len(lost),
                                                     ", ".join(sorted(lost)[:3])))
        self.check_visits(sid, j.get("visits"), vmin, vmax, a, "POST /session")

    def op_visit(self, w):
        sid = w.sid
        a = self.send(w, "visit", "GET", "/", headers={"Accept": "text/html"})
        if sid is None or w.sid != sid:
            return
        with self.ledger.lock:
            s = self.ledger.sessions[sid]
            if not a.ok:
                s["visits_unknown"] += 1
                return
            vmin = s["visits_ok"] + 1
            vmax = vmin + s["visits_unknown"]
            s["visits_ok"] += 1
        m = VISITS_RE.search(a.body.decode("utf-8", "replace"))
        self.check_visits(sid, int(m.group(1)) if m else None, vmin, vmax, a, "GET /")

    def check_visits(self, sid, shown, vmin, vmax, a, what):
        """The visits an answer shows against the ledger's count. A difference is reported once,
        when it appears or changes (the count goes on from what was shown); `verify` still wants
        the stored value to equal the ledger's own count."""
        with self.ledger.lock:
            s = self.ledger.sessions[sid]
            offset = s.get("visits_offset", 0)
            if isinstance(shown, int) and vmin + offset <= shown <= vmax + offset:
                return
            if isinstance(shown, int):
                s["visits_offset"] = shown - vmin
        self.ledger.anomaly("%s %s (X-Served-By %s) of session %s… shows visits %r, the ledger counts %s "
                            "(2xx GET / of this cookie)%s" % (
                                self.at(a), what, a.header("X-Served-By"), sid[:8], shown,
                                vmin if vmin == vmax else "%d..%d" % (vmin, vmax),
                                "; later answers are compared with this offset" if isinstance(shown, int) else ""))

    # -- workers

    def start_session(self, w):
        """Gives the worker a session: its inherited one, else a new one from GET /session."""
        tries = 0
        while w.sid is None and not self.stopping.is_set():
            tries += 1
            if self.deadline and time.monotonic() >= self.deadline:
                return False
            a = self.send(w, "session-start", "GET", "/session")
            if w.sid is None and a.ok:
                j = a.json() or {}
                self.ledger.anomaly("GET /session without a cookie set none (answer %r)" % (j,))
                return False
            if w.sid is None:
                time.sleep(0.2)
            if tries > 50:
                return False
        return w.sid is not None

    def worker(self, w):
        try:
            ok = self.start_session(w)
            with self.ready_lock:
                self.ready += 1
                if self.ready == len(self.threads) and self.args.ready_file:
                    open(self.args.ready_file, "w").close()
            if not ok:
                return
            ops = [op for op in OPS if self.mix.get(op)]
            weights = [self.mix[op] for op in ops]
            while self.take_request():
                op = random.choices(ops, weights)[0]
                getattr(self, "op_" + op)(w)
        except Exception as e:  # a bug here must not pass as a clean run
            self.ledger.anomaly("worker %d crashed: %s: %s" % (w.index, type(e).__name__, e))

    def go(self):
        # Sessions and items carried over from an earlier run (--continue).
        carried_sessions = [sid for sid in self.ledger.sessions if sid not in self.ledger.dropped_sessions]
        carried_items = sorted(i for i, e in self.ledger.items.items()
                               if e["state"] == "live" and not e["uncertain"])
        workers = []
        for i in range(self.args.threads):
            w = Worker(i)
            if i < len(carried_sessions):
                w.sid = carried_sessions[i]
            w.items = carried_items[i::self.args.threads]
            workers.append(w)
        self.threads = [threading.Thread(target=self.worker, args=(w,), daemon=True) for w in workers]

        def on_signal(signum, frame):
            self.stopping.set()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        for t in self.threads:
            t.start()
        for t in self.threads:
            while t.is_alive():
                t.join(0.2)
        return time.monotonic() - self.t0


class Worker:
    def __init__(self, index):
        self.index = index
        self.sid = None
        self.items = []
        self.seq = 0
        self.sent = 0


def parse_mix(text):
    mix = {}
    for part in text.split(","):
        if not part.strip():
            continue
        op, _, weight = part.partition("=")
        op = op.strip()
        if op not in OPS:
            raise SystemExit("ledger: unknown operation %r in --mix (known: %s)" % (op, ", ".join(OPS)))
        mix[op] = float(weight or 1)
    if not any(mix.values()):
        raise SystemExit("ledger: --mix has no operation with a weight")
    return mix


def summarize_requests(requests, run_id=None):
    rows = [r for r in requests if run_id is None or r[7] == run_id]
    statuses = {}
    failed = []
    for r in rows:
        if not 200 <= r[3] < 300:
            key = str(r[3]) if r[3] else "no answer"
            statuses[key] = statuses.get(key, 0) + 1
            failed.append(r)
    slowest = max(rows, key=lambda r: r[1]) if rows else None
    return rows, statuses, failed, slowest


def slow_after_first_slow(rows, threshold):
    """Per pool (X-Served-By): requests slower than threshold that started after the pool's first
    answer slower than threshold had arrived."""
    first_end = {}
    for r in sorted(rows, key=lambda r: r[0] + r[1]):
        if r[4] and r[1] > threshold and r[4] not in first_end:
            first_end[r[4]] = r[0] + r[1]
    late = [r for r in rows if r[4] in first_end and r[0] > first_end[r[4]] and r[1] > threshold]
    return first_end, late


def cmd_run(args):
    ledger = Ledger.load(args.ledger) if args.cont and os.path.exists(args.ledger) else Ledger()
    run = Run(args, ledger)
    anomalies_before = len(ledger.anomalies)
    log("run %s: %d threads, %s, mix %s, through %s" % (
        run.run_id, args.threads,
        " / ".join(x for x in ("%gs" % args.duration if args.duration else "",
                               "%d requests" % args.requests if args.requests else "") if x) or "unbounded",
        args.mix, ", ".join(run.urls)))
    elapsed = run.go()
    ledger.runs.append({"id": run.run_id, "phase": args.phase, "threads": args.threads, "urls": run.urls,
                        "elapsed": round(elapsed, 3), "wall_start": run.t0_wall})

    def at(t):
        return utc(run.t0_wall + t)
    ledger.save(args.ledger)

    rows, statuses, failed, slowest = summarize_requests(ledger.requests, run.run_id)
    by_op = {}
    for r in rows:
        by_op[r[2]] = by_op.get(r[2], 0) + 1
    live = sum(1 for e in ledger.items.values() if e["state"] == "live")
    deleted = sum(1 for e in ledger.items.values() if e["state"] == "deleted")
    keys = sum(len(s["keys"]) for s in ledger.sessions.values())
    visits = sum(s["visits_ok"] for s in ledger.sessions.values())
    log("run %s (t=0 at %s) done in %.1fs: %d requests (%s), %d non-2xx%s" % (
        run.run_id, at(0), elapsed, len(rows), ", ".join("%s %d" % kv for kv in sorted(by_op.items())),
        len(failed), (" (%s)" % ", ".join("%s: %d" % kv for kv in sorted(statuses.items()))) if failed else ""))
    if slowest:
        log("max latency %.3fs (%s at t=%.2fs, X-Served-By %s, status %s)" % (
            slowest[1], slowest[2], slowest[0], slowest[4] or "-", slowest[3] or "no answer"))
    per_pool = {}
    for r in rows:
        if r[4]:
            per_pool.setdefault(r[4], []).append(r[1])
    if per_pool:
        log("per pool: " + ", ".join("%s %d req max %.2fs >1s %d" % (p, len(v), max(v), sum(1 for d in v if d > 1))
                                     for p, v in sorted(per_pool.items())))
    log("ledger: %d items created (%d live, %d deleted), %d sessions, %d session keys, %d visits" % (
        len(ledger.creates), live, deleted, len(ledger.sessions), keys, visits))
    bad = False
    if args.max_failures is not None and len(failed) > args.max_failures:
        bad = True
        log("FAIL %d failed requests (at most %d allowed):" % (len(failed), args.max_failures))
        for r in failed[:20]:
            log("  t=%.2fs (%s) %s -> %s in %.2fs via %s %s %s" % (r[0], at(r[0]), r[2], r[3] or "no answer",
                                                                   r[1], r[5], r[4] or "", r[6]))
    if args.max_latency is not None:
        slow = [r for r in rows if r[1] > args.max_latency]
        if slow:
            bad = True
            log("FAIL %d requests took longer than %gs:" % (len(slow), args.max_latency))
            for r in slow[:20]:
                log("  t=%.2fs (%s) %s %.2fs status %s X-Served-By %s" % (r[0], at(r[0]), r[2], r[1], r[3] or "none",
                                                                        r[4] or "-"))
    if args.fast_after_slow is not None:
        first_end, late = slow_after_first_slow(rows, args.fast_after_slow)
        for pool, t in sorted(first_end.items()):
            log("%s: first answer slower than %gs arrived at t=%.2fs (%s)" % (pool, args.fast_after_slow, t, at(t)))
        if late:
            bad = True
            log("FAIL %d requests slower than %gs although their pool had already had a slow answer:" % (
                len(late), args.fast_after_slow))
            for r in late[:20]:
                log("  t=%.2fs (%s) %s %.2fs X-Served-By %s status %s" % (r[0], at(r[0]), r[2], r[1], r[4], r[3]))
    run_anomalies = ledger.anomalies[anomalies_before:]
    if run_anomalies:
        bad = True
        log("FAIL %d answers contradicted the ledger:" % len(run_anomalies))
        for a in run_anomalies[:20]:
            log("  " + a)
    if len(rows) == 0:
        bad = True
        log("FAIL no request was sent")
    return 1 if bad else 0


# ---------------------------------------------------------------- verify


def psql(node, sql, timeout=10):
    port, db = NODES[node]
    env = dict(ENV, PGPASSWORD=DB_PASSWORD, PGCONNECT_TIMEOUT="3")
    p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", BIND_HOST, "-p", str(port),
                        "-U", DB_USER, "-d", db, "-f", "-"],
                       input=sql, capture_output=True, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("psql node %s: %s" % (node, p.stderr.strip().splitlines()[-1:] or p.returncode))
    return p.stdout


def sql_list(values, quote):
    if quote:
        return "ARRAY[%s]::text[]" % ",".join("'%s'" % v.replace("'", "''") for v in values) if values \
            else "ARRAY[]::text[]"
    return "ARRAY[%s]::bigint[]" % ",".join(str(int(v)) for v in values) if values else "ARRAY[]::bigint[]"


# Per table: the SQL table, a row as text (every replicated column), a short row digest. The
# columns are those of rows(): `deleted` there says whether the row is a tombstone.
TABLES = {
    "items": ("items", False, "concat_ws('|', id, hlc, origin, deleted, name, content)",
              "concat_ws('|', hlc, origin, deleted, left(name, 40), md5(name || content))"),
    "sessions": ("php_session", True, "concat_ws('|', id, hlc, origin, deleted, encode(data, 'hex'))",
                 "concat_ws('|', hlc, origin, deleted, length(data), md5(data))"),
}

# How the nodes keep a delete, read from node a on first use: {table: {"tombstones": the table
# <table>_tombstone exists (php_session and items then hold live rows only), "deleted": the
# live table has a column `deleted` (the previous layout kept tombstones there; the current one
# keeps it, always false, for writers of the previous one)}}.
_LAYOUT = {}


def layout():
    if not _LAYOUT:
        def exists(sql):
            return "(SELECT count(*) FROM %s AND table_schema = ANY (current_schemas(false)))" % sql
        checks = []
        for name in ("items", "php_session"):
            checks.append(exists("information_schema.tables WHERE table_name = '%s_tombstone'" % name))
            checks.append(exists("information_schema.columns WHERE table_name = '%s' AND column_name = 'deleted'"
                                 % name))
        got = psql("a", "SELECT %s;" % ", ".join(checks)).strip().split("|")
        if len(got) != 4:
            raise RuntimeError("node a: could not read the layout: %r" % got)
        for i, name in enumerate(("items", "php_session")):
            _LAYOUT[name] = {"tombstones": got[2 * i] != "0", "deleted": got[2 * i + 1] != "0"}
    return _LAYOUT


def rows(table):
    """SQL FROM item named as the table: its live rows and its tombstones, each once, with the
    columns (id, name, content | data, hlc, origin, deleted). A row is live when `deleted` is absent
    or false; a key of the tombstone table is deleted. (A key in both shows twice: both_sql.)"""
    name = TABLES[table][0]
    lay = layout()[name]
    cols, empty = ("name, content", "''::text, ''::text") if name == "items" else ("data", "'\\x'::bytea")
    sql = "SELECT id, %s, hlc, origin, %s AS deleted FROM %s" % (cols, "deleted" if lay["deleted"] else "false", name)
    if lay["tombstones"]:
        sql += " UNION ALL SELECT id, %s, hlc, origin, true FROM %s_tombstone" % (empty, name)
    return "(%s) AS %s" % (sql, name)


def both_sql(table, keys=None):
    """SQL: the number of keys (of `keys` only, when given) that are live and tombstoned at once
    (never, by the triggers)."""
    name, text_key = TABLES[table][:2]
    if not layout()[name]["tombstones"]:
        return "SELECT 0"
    where = " WHERE id = ANY(%s)" % sql_list(keys, text_key) if keys is not None else ""
    return "SELECT count(*) FROM %s JOIN %s_tombstone USING (id)%s" % (name, name, where)


def table_md5_sql(table, exclude=()):
    """SQL: "<rows> <md5 of every row in id order>" of a whole table (its live rows and its tombstones),
    without the rows `exclude`."""
    name, text_key, row, _ = TABLES[table]
    where = " WHERE NOT (id = ANY(%s))" % sql_list(exclude, text_key) if exclude else ""
    return "SELECT count(*) || ' ' || coalesce(md5(string_agg(%s, E'\\n' ORDER BY id, deleted)), '-') FROM %s%s" % (
        row, rows(table), where)


def row_digest_sql(table, keys=None):
    """SQL: {id: digest} of a table's rows and tombstones (of `keys` only, when given). A key that is
    live and tombstoned at once shows as both digests."""
    name, text_key, _, digest = TABLES[table]
    where = " WHERE id = ANY(%s)" % sql_list(keys, text_key) if keys is not None else ""
    return "SELECT coalesce(json_object_agg(id, d), '{}') FROM (SELECT id, string_agg(%s, ' AND ' ORDER BY deleted) AS d " \
        "FROM %s%s GROUP BY id) AS r" % (digest, rows(table), where)


def snapshot(node, item_ids, session_ids, run_ids=(), known=None):
    """One node's rows for the ledger's entries, its full-table digests (and, with `known`
    differences, the digests without those rows and those rows' own), its outbox length, and
    the rows that carry a name of one of the runs but are no ledger entry (phantoms)."""
    pattern = "^e2e-(%s)-" % "|".join(re.escape(r) for r in run_ids) if run_ids else "^$never"
    extra = ""
    for table in ("items", "sessions"):
        keys = list((known or {}).get(table, {}))
        if table == "items":
            keys = [int(k) for k in keys]
        if keys:
            extra += ",\n  '%s_rest', (%s),\n  '%s_known', (%s)" % (
                table, table_md5_sql(table, keys), table, row_digest_sql(table, keys))
    sql = """
SELECT json_build_object(
  'items', (SELECT coalesce(json_object_agg(id, json_build_object('deleted', deleted, 'name', name,
            'content', content, 'hlc', hlc, 'origin', origin) ORDER BY deleted), '{}') FROM %s WHERE id = ANY(%s)),
  'sessions', (SELECT coalesce(json_object_agg(id, json_build_object('deleted', deleted,
            'data', encode(data, 'hex'), 'hlc', hlc, 'origin', origin) ORDER BY deleted), '{}')
            FROM %s WHERE id = ANY(%s)),
  'items_md5', (%s),
  'sessions_md5', (%s),
  'items_both', (%s),
  'sessions_both', (%s),
  'outbox', (SELECT count(*) FROM replication_outbox),
  'phantoms', (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'deleted', deleted)
            ORDER BY id), '[]') FROM %s WHERE name ~ '%s' AND NOT (id = ANY(%s)))%s);
""" % (rows("items"), sql_list(item_ids, False), rows("sessions"), sql_list(session_ids, True),
       table_md5_sql("items"), table_md5_sql("sessions"), both_sql("items"), both_sql("sessions"),
       rows("items"), pattern.replace("'", "''"), sql_list(item_ids, False), extra)
    return json.loads(psql(node, sql))


def converged(snaps, known=None):
    """Both nodes hold the same rows for the ledger's entries, the same whole tables and empty
    outboxes. With `known` differences (from before the test): each of those rows is as it was
    then, or now the same on both nodes, and all the other rows are identical."""
    a, b = snaps.get("a"), snaps.get("b")
    if a is None or b is None:
        return False
    if a["items"] != b["items"] or a["sessions"] != b["sessions"] or a["outbox"] or b["outbox"]:
        return False
    for table in ("items", "sessions"):
        if a[table + "_md5"] == b[table + "_md5"]:
            continue
        if not (known or {}).get(table) or a[table + "_rest"] != b[table + "_rest"]:
            return False
        for k, before in known[table].items():
            now = [a[table + "_known"].get(k, "absent"), b[table + "_known"].get(k, "absent")]
            if now != before and now[0] != now[1]:
                return False
    return True


def describe_difference(snaps, known=None):
    out = []
    a, b = snaps.get("a"), snaps.get("b")
    for node in ("a", "b"):
        if snaps.get(node) is None:
            out.append("node %s could not be read: %s" % (node, snaps.get(node + "_error")))
    if a is None or b is None:
        return out
    for table in ("items", "sessions"):
        for key in sorted(set(a[table]) | set(b[table]), key=str):
            ra, rb = a[table].get(key), b[table].get(key)
            if ra != rb:
                out.append("%s %s differs: node a %s, node b %s" % (table, key, brief(ra), brief(rb)))
    for digest in ("items_md5", "sessions_md5"):
        if a[digest] != b[digest]:
            table = digest.split("_")[0]
            rows = full_table_differences(table, known)
            if rows:
                out.append("full table %s differs: node a %s, node b %s (rows, md5)" % (table, a[digest], b[digest]))
                out.extend(rows)
    for node in ("a", "b"):
        if snaps[node]["outbox"]:
            out.append("node %s still holds %d outbox rows" % (node, snaps[node]["outbox"]))
    return out


def row_differences(table):
    """({key: [digest on a, digest on b]} for the rows of a whole table that differ, error or None)."""
    try:
        a = json.loads(psql("a", row_digest_sql(table) + ";"))
        b = json.loads(psql("b", row_digest_sql(table) + ";"))
    except Exception as e:
        return {}, str(e)
    return {k: [a.get(k, "absent"), b.get(k, "absent")] for k in set(a) | set(b) if a.get(k) != b.get(k)}, None


def full_table_differences(table, known=None, limit=10):
    """Rows of a whole table that differ between the nodes (when the digests differ), apart from
    `known` ones that were there before, unchanged."""
    diff, error = row_differences(table)
    if error:
        return ["%s: could not compare the rows: %s" % (table, error)]
    known = (known or {}).get(table, {})
    keys = sorted(k for k in diff if known.get(k) != diff[k])
    out = ["%s %s: node a %s, node b %s (hlc|origin|deleted|...)" % (table, k, diff[k][0], diff[k][1])
           for k in keys[:limit]]
    if len(keys) > limit:
        out.append("%s: %d more rows differ" % (table, len(keys) - limit))
    return out


def brief(row):
    if row is None:
        return "absent"
    row = dict(row)
    if "data" in row:
        data = bytes.fromhex(row["data"]).decode("utf-8", "replace")
        row["data"] = (data[:60] + "…(%d bytes)" % len(data)) if len(data) > 60 else data
    return json.dumps(row, ensure_ascii=False)


def session_text(row):
    return bytes.fromhex(row["data"]).decode("utf-8", "replace")


def serialized_string(key, value):
    return '%s|s:%d:"%s";' % (key, len(value.encode("utf-8")), value)


def visits_of(text):
    m = re.search(r'(?:^|[;}])visits\|i:(-?\d+);', text)
    return int(m.group(1)) if m else None


def check_entries(ledgers, snaps):
    """Every ledger entry on both nodes; returns a list of mismatches."""
    problems = []
    items, sessions, creates = {}, {}, []
    for ledger in ledgers:
        items.update(ledger.items)
        sessions.update(ledger.sessions)
        creates.extend(ledger.creates)
    seen = {}
    for item_id, name, _phase in creates:
        if item_id in seen and seen[item_id] != name:
            problems.append("item id %d was given to two creates: %s and %s" % (item_id, seen[item_id], name))
        seen[item_id] = name
    failed = {}
    for ledger in ledgers:
        failed.update(ledger.failed_creates)
    for node in ("a", "b"):
        snap = snaps[node]
        for table in ("items", "sessions"):
            if snap.get(table + "_both"):
                problems.append("node %s: %d %s keys are live and tombstoned at once" % (
                    node, snap[table + "_both"], TABLES[table][0]))
        for row in snap.get("phantoms", []):
            base = re.sub(r"-u\d+$", "", row["name"])
            if failed.get(base) == 0:
                continue  # a create without an answer may have happened
            if base in failed:
                problems.append("node %s: item %d (%s) exists although its create was refused with %s" % (
                    node, row["id"], row["name"], failed[base]))
            else:
                problems.append("node %s: item %d (%s) exists but its create was acknowledged with another id "
                                "(the create was applied twice)" % (node, row["id"], row["name"]))
        for item_id, e in sorted(items.items()):
            row = snap["items"].get(str(item_id))
            allowed = [[e["state"], e["name"], e["content"]]] + (e["alternatives"] if e["uncertain"] else [])
            if row is None:
                problems.append("node %s: item %d (%s) is absent (no row, not even a tombstone)" % (
                    node, item_id, e["name"] or "deleted"))
                continue
            actual = ["deleted", "", ""] if row["deleted"] else ["live", row["name"], row["content"]]
            if actual in allowed:
                continue
            if actual[0] == "live" and all(a[0] == "deleted" for a in allowed):
                problems.append("node %s: item %d was deleted (acknowledged) but is live again: %r/%r" % (
                    node, item_id, row["name"], row["content"]))
            elif actual[0] == "deleted":
                problems.append("node %s: item %d is a tombstone, expected live %s" % (
                    node, item_id, " or ".join("%r/%r" % (a[1], a[2]) for a in allowed if a[0] == "live")))
            else:
                problems.append("node %s: item %d holds %r/%r, expected %s" % (
                    node, item_id, row["name"], row["content"],
                    " or ".join("%s %r/%r" % tuple(a) for a in allowed)))
        for sid, s in sorted(sessions.items()):
            row = snap["sessions"].get(sid)
            if row is None or row["deleted"]:
                problems.append("node %s: session %s… is %s" % (node, sid[:8], "missing" if row is None
                                                                 else "a tombstone"))
                continue
            text = session_text(row)
            lost = [k for k, v in s["keys"].items() if serialized_string(k, v) not in text
                    and k not in s["uncertain_keys"]]
            if lost:
                problems.append("node %s: session %s… lacks %d acknowledged key(s), e.g. %s" % (
                    node, sid[:8], len(lost), ", ".join(sorted(lost)[:3])))
            visits = visits_of(text) or 0
            lo, hi = s["visits_ok"], s["visits_ok"] + s["visits_unknown"]
            if not lo <= visits <= hi:
                problems.append("node %s: session %s… holds visits|i:%d;, the ledger counts %s 2xx GET /" % (
                    node, sid[:8], visits, lo if lo == hi else "%d..%d" % (lo, hi)))
    return problems


def manage_items(url, lo=None, hi=None):
    """Every item GET URL/manage (JSON) lists, following its pages, newest id first; with lo/hi
    only the pages that cover ids lo..hi. Returns (items by id, problem or None)."""
    listed = {}
    path = "/manage?limit=1000" + ("&before=%d" % (hi + 1) if hi is not None else "")
    for _ in range(1000):
        a = request(url.rstrip("/"), "GET", path, headers={"Accept": "application/json"})
        j = a.json()
        if a.status != 200 or not isinstance(j, dict) or not isinstance(j.get("items"), list):
            return listed, "GET %s%s answered %s %s" % (url, path, a.status or "nothing",
                                                      a.error or a.body[:200])
        for i in j["items"]:
            if isinstance(i, dict):
                listed[i.get("id")] = i
        if not isinstance(j.get("next"), str):
            return listed, None
        ids = [i.get("id") for i in j["items"] if isinstance(i, dict) and isinstance(i.get("id"), int)]
        if lo is not None and ids and min(ids) < lo:
            return listed, None
        path = j["next"]
    return listed, "GET %s/manage: more than 1000 pages" % url


def check_manage(url, ledgers):
    items = {}
    for ledger in ledgers:
        items.update(ledger.items)
    if not items:
        return []
    listed, problem = manage_items(url, min(items), max(items))
    if problem:
        return [problem]
    problems = []
    for item_id, e in sorted(items.items()):
        got = listed.get(item_id)
        if e["uncertain"]:
            continue
        if e["state"] == "deleted" and got is not None:
            problems.append("GET %s/manage lists item %d, which was deleted (acknowledged)" % (url, item_id))
        if e["state"] == "live" and (got is None or got.get("name") != e["name"]
                                     or got.get("content") != e["content"]):
            problems.append("GET %s/manage %s item %d (expected %r)" % (
                url, "does not list" if got is None else "shows %r/%r for" % (got.get("name"), got.get("content")),
                item_id, e["name"]))
    return problems


def check_sessions(url, ledgers):
    """Every ledger session read back through the service: GET URL/session with its cookie."""
    problems = []
    for ledger in ledgers:
        for sid, s in sorted(ledger.sessions.items()):
            if sid in ledger.dropped_sessions:
                continue
            a = request(url.rstrip("/"), "GET", "/session", headers={"Cookie": "%s=%s" % (SESSION_NAME, sid)})
            j = a.json()
            new = a.set_cookie_session()
            if a.status != 200 or not isinstance(j, dict) or not isinstance(j.get("data"), dict):
                problems.append("GET %s/session of session %s… answered %s %s" % (
                    url, sid[:8], a.status or "nothing", a.error or a.body[:200]))
                continue
            if j.get("id") != sid or (new is not None and new != sid):
                problems.append("GET %s/session of session %s… answered another session %s… (the session was "
                                "not found)" % (url, sid[:8], str(j.get("id"))[:8]))
                continue
            lost = [k for k, v in s["keys"].items() if j["data"].get(k) != v and k not in s["uncertain_keys"]]
            if lost:
                problems.append("GET %s/session of session %s… lacks %d acknowledged key(s), e.g. %s" % (
                    url, sid[:8], len(lost), ", ".join(sorted(lost)[:3])))
            lo, hi = s["visits_ok"], s["visits_ok"] + s["visits_unknown"]
            if not isinstance(j.get("visits"), int) or not lo <= j["visits"] <= hi:
                problems.append("GET %s/session of session %s… shows visits %r, the ledger counts %s" % (
                    url, sid[:8], j.get("visits"), lo if lo == hi else "%d..%d" % (lo, hi)))
    return problems


def cmd_verify(args):
    ledgers = [Ledger.load(p) for p in args.ledger]
    item_ids = sorted({i for ledger in ledgers for i in ledger.items})
    session_ids = sorted({s for ledger in ledgers for s in ledger.sessions})
    run_ids = sorted({r["id"] for ledger in ledgers for r in ledger.runs})
    known = {}
    if args.baseline and os.path.exists(args.baseline):
        with open(args.baseline) as f:
            known = json.load(f)
    t0 = time.monotonic()
    deadline = t0 + args.wait
    snaps = {}
    while True:
        snaps = {}
        for node in ("a", "b"):
            try:
                snaps[node] = snapshot(node, item_ids, session_ids, run_ids, known)
            except Exception as e:
                snaps[node] = None
                snaps[node + "_error"] = str(e)
        if converged(snaps, known) or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    waited = time.monotonic() - t0
    problems = []
    if converged(snaps, known):
        n_known = sum(len(v) for v in known.values())
        log("both nodes identical after %.1fs (items %s, php_session %s, outboxes empty%s)" % (
            waited, snaps["a"]["items_md5"], snaps["a"]["sessions_md5"],
            ", apart from %d rows that already differed before the test, unchanged" % n_known if n_known else ""))
    else:
        diff = describe_difference(snaps, known)
        problems.append("the nodes are not identical after %.1fs (%d differences)" % (waited, len(diff)))
        problems.extend(diff[:30])
    if snaps.get("a") is not None and snaps.get("b") is not None:
        problems.extend(check_entries(ledgers, snaps))
    anomalies = [a for ledger in ledgers for a in ledger.anomalies]
    if anomalies:
        problems.append("%d answers during the run contradicted the ledger (ledger.py run listed them), "
                        "the first: %s" % (len(anomalies), anomalies[0]))
    for url in args.manage or []:
        problems.extend(check_manage(url, ledgers))
    for url in args.sessions or []:
        problems.extend(check_sessions(url, ledgers))
    n_items = len(item_ids)
    n_keys = sum(len(s["keys"]) for ledger in ledgers for s in ledger.sessions.values())
    log("verified %d items, %d sessions, %d session keys on both nodes: %d mismatches" % (
        n_items, len(session_ids), n_keys, len(problems)))
    for p in problems[:60]:
        log("MISMATCH " + p)
    if len(problems) > 60:
        log("… and %d more" % (len(problems) - 60))
    return 1 if problems else 0


def write_lines(values):
    try:
        sys.stdout.write("".join("%s\n" % v for v in values))
        sys.stdout.flush()
    except BrokenPipeError:  # a reader like `head` that stops early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def cmd_diff(args):
    """Records the rows in which the nodes differ now (a baseline for verify --baseline)."""
    known = {}
    for table in ("items", "sessions"):
        diff, error = row_differences(table)
        if error:
            log("could not compare %s: %s" % (table, error))
            return 1
        known[table] = diff
    with open(args.out, "w") as f:
        json.dump(known, f)
    rows = ["%s %s: node a %s, node b %s" % (t, k, v[0], v[1]) for t in known for k, v in sorted(known[t].items())]
    log("%d rows differ between the nodes" % len(rows))
    for r in rows[:10]:
        log("  " + r)
    return 0


def cmd_show(args):
    ledger = Ledger.load(args.ledger)
    if args.what == "created":
        ids = [c[0] for c in ledger.creates if args.phase is None or c[2] == args.phase]
    elif args.what == "sessions":
        ids = list(ledger.sessions)
    else:
        ids = sorted(i for i, e in ledger.items.items() if e["state"] == args.what and not e["uncertain"]
                     and (args.phase is None or e.get("phase") == args.phase))
    write_lines(ids)
    return 0


def cmd_listed(args):
    listed, problem = manage_items(args.url, args.min, args.max)
    if problem:
        print("ledger: " + problem, file=sys.stderr)
        return 1
    write_lines(sorted(k for k in listed if isinstance(k, int)))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--ledger", required=True)
    r.add_argument("--url", default=ENV.get("E2E_HAPROXY", "http://127.0.0.1:8080"))
    r.add_argument("--threads", type=int, default=4)
    r.add_argument("--duration", type=float, default=None)
    r.add_argument("--requests", type=int, default=None)
    r.add_argument("--mix", default=DEFAULT_MIX)
    r.add_argument("--continue", dest="cont", action="store_true")
    r.add_argument("--phase", default="")
    r.add_argument("--timeout", type=float, default=20.0, help="client time limit of one request")
    r.add_argument("--max-failures", type=int, default=None)
    r.add_argument("--max-latency", type=float, default=None)
    r.add_argument("--fast-after-slow", type=float, default=None)
    r.add_argument("--ready-file")
    r.add_argument("--pause-file")
    r.add_argument("--stop-file")
    v = sub.add_parser("verify")
    v.add_argument("--ledger", action="append", default=[])
    v.add_argument("--wait", type=float, default=15.0)
    v.add_argument("--manage", action="append")
    v.add_argument("--sessions", action="append")
    v.add_argument("--baseline")
    d = sub.add_parser("diff")
    d.add_argument("--out", required=True)
    s = sub.add_parser("show")
    s.add_argument("--ledger", required=True)
    s.add_argument("--what", default="created", choices=["created", "live", "deleted", "sessions"])
    s.add_argument("--phase")
    li = sub.add_parser("listed")
    li.add_argument("--url", required=True)
    li.add_argument("--min", type=int, help="only the pages that cover ids from --min ...")
    li.add_argument("--max", type=int, help="... to --max")
    args = p.parse_args()
    if args.cmd == "run":
        if not args.duration and not args.requests:
            p.error("run needs --duration or --requests")
        return cmd_run(args)
    if args.cmd == "verify":
        return cmd_verify(args)
    if args.cmd == "listed":
        return cmd_listed(args)
    if args.cmd == "diff":
        return cmd_diff(args)
    return cmd_show(args)


if __name__ == "__main__":
    sys.exit(main())
