#!/usr/bin/env bash
# No SQL text is ever built from a runtime value (a static check of the
# sources; no cluster needed).
#
# Every Swift string literal under Sources/ is read with a small lexer
# (comments, "…", """…""", raw #"…"#, \( … ) interpolations nested to any
# depth). A literal is SQL when it holds an upper-case SQL keyword, a `$n`
# placeholder, a `::type` cast or AT TIME ZONE. Then:
#
#  1. an interpolation inside SQL is allowed only where it is listed below
#     (file and expression), each one a compile-time text or a number from
#     the configuration, with a check that keeps it so where that is needed;
#  2. SQL is never concatenated with anything but another literal (`+`,
#     `+=`), never the start of a `var`, never changed by a method
#     (`.replacingOccurrences`, `.appending`), never a `String(format:)`;
#  3. in Sources/Cluster and Sources/Postgres every call that runs SQL text
#     (`query`, `sendQuery`, `prepare`) gets a literal or a name bound to
#     one, and the calls that run a `Statement` take the enum, values apart;
#  4. libpq is only called through its parameterised entry points
#     (PQsendQueryParams, PQsendPrepare, PQsendQueryPrepared, PQexecParams,
#     PQexecPrepared, PQprepare): never PQexec, PQsendQuery or PQescape*.
#
# SQL_CHECK_ROOT points the check at another tree (to show that it fails on
# an interpolated query: copy Sources/ elsewhere, break a file, run with
# SQL_CHECK_ROOT=/that/copy).
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=${SQL_CHECK_ROOT:-$E2E_ROOT}
if [ ! -d "$ROOT/Sources" ]; then
    fail "no Sources/ under $ROOT"
    finish
fi

checker_verdicts < <(python3 - "$ROOT" <<'PY' 2>&1
import os
import re
import sys

root = sys.argv[1]
SQL_MARK = re.compile(
    r"\b(SELECT|INSERT INTO|UPDATE\s+\w+\s+SET|DELETE FROM|WHERE|VALUES|RETURNING|ON CONFLICT|AT TIME ZONE|GROUP BY"
    r"|ORDER BY)\b|\$[0-9]+|::(int|integer|bigint|smallint|text|timestamp|timestamptz|bytea|boolean|bool|numeric)\b")

# Interpolations allowed inside SQL text: (file name, expression) -> why it is not a runtime value.
ALLOWED = {
    ("Statement.swift", "parameter"): "clockTime's Int parameter; every call passes a number literal (checked)",
    ("Statement.swift", "Self.clockTime(3)"): "a static function of a literal",
    ("Statement.swift", "Self.itemColumns"): "a static let of literals",
    ("Statement.swift", "clockTime(3)"): "a static function of a literal",
    ("Statement.swift", "clockTime(4)"): "a static function of a literal",
    ("Statement.swift", "itemColumns"): "a static let of literals",
    ("Statement.swift", "Self.standingColumns(freshness: 3)"): "a static function of a literal (checked)",
    ("Statement.swift", "Self.standingColumns(freshness: 2)"): "a static function of a literal (checked)",
    ("Statement.swift", "Self.nodeClock"): "a static let literal",
    ("Statement.swift", "fence(7)"): "a static function of a literal (checked): a $n placeholder",
    ("Statement.swift", "fence(8)"): "a static function of a literal (checked): a $n placeholder",
    ("Statement.swift", "Self.fence(7)"): "a static function of a literal (checked): a $n placeholder",
    ("Statement.swift", "guardClause(guarded)"): "a static function returning one of two literals",
    ("Statement.swift", "settleClause(settle)"): "a static function returning one of two literals",
    ("Statement.swift", "itemSettleClause(settle)"): "a static function returning one of two literals",
    ("Statement.swift", "soloSettleSeconds"): "a static let Int",
    ("Statement.swift", "write"): "alone(_:_:)'s and guarded(_:)'s SQL argument; every call passes a static function's SQL (checked)",
    ("Statement.swift", "table"): "alone(_:_:)'s table argument; every call passes a literal (checked)",
    ("Statement.swift", "fence(6)"): "a static function of a literal (checked): a $n placeholder",
    ("ClusterMaintenance+AntiEntropy.swift", "table.recentVersionsSQL"): "ReplicatedTable SQL, built from literals (checked)",
    ("ClusterMaintenance+AntiEntropy.swift", "retainedVersions(table)"):
        "ReplicatedTable SQL, built from literals and Int settings (checked)",
    ("ClusterMaintenance+AntiEntropy.swift", "Self.bucketCount - 1"): "a static let Int",
    ("ClusterMaintenance+AntiEntropy.swift", "configuration.sessionLifetime"): "an Int setting read at start",
    ("ClusterMaintenance+AntiEntropy.swift", "configuration.tombstoneTTL"): "an Int setting read at start",
    ("ClusterMaintenance+AntiEntropy.swift", "max(configuration.sessionLifetime, configuration.tombstoneTTL)"):
        "Int settings read at start",
}


class Unterminated(Exception):
    pass


def lex(src):
    """Returns (code, literals): code is the source without comments, each literal replaced by
    \x00<k>\x00 (newlines kept, so lines count as in the source); literals[k] = (line, text with
    \x01 for each interpolation, [interpolations])."""
    literals = []
    out = []
    i = 0
    n = len(src)

    def line_of(pos):
        return src.count("\n", 0, pos) + 1

    def string_start(pos):
        j = pos
        while j < n and src[j] == "#":
            j += 1
        return j < n and src[j] == '"'

    def skip_comment(pos):
        if src.startswith("//", pos):
            end = src.find("\n", pos)
            return n if end < 0 else end
        if src.startswith("/*", pos):
            depth, pos = 1, pos + 2
            while pos < n and depth:
                if src.startswith("/*", pos):
                    depth, pos = depth + 1, pos + 2
                elif src.startswith("*/", pos):
                    depth, pos = depth - 1, pos + 2
                else:
                    pos += 1
            return pos
        return None

    def parse_string(pos):
        start = pos
        hashes = 0
        while src[pos] == "#":
            hashes, pos = hashes + 1, pos + 1
        multi = src.startswith('"""', pos)
        pos += 3 if multi else 1
        close = ('"""' if multi else '"') + "#" * hashes
        escape = "\\" + "#" * hashes
        text, interps = [], []
        while True:
            if pos >= n or (not multi and src[pos] == "\n"):
                raise Unterminated(line_of(start))
            if src.startswith(close, pos):
                pos += len(close)
                break
            if src.startswith(escape, pos):
                after = pos + len(escape)
                if after < n and src[after] == "(":
                    end = parse_expression(after + 1)
                    interps.append(" ".join(src[after + 1:end - 1].split()))
                    text.append("\x01")
                    pos = end
                else:
                    text.append(src[pos:after + 1])
                    pos = after + 1
                continue
            text.append(src[pos])
            pos += 1
        return pos, (line_of(start), "".join(text), interps)

    def parse_expression(pos):
        depth = 1
        while pos < n:
            skipped = skip_comment(pos)
            if skipped is not None:
                pos = skipped
            elif string_start(pos):
                pos, _ = parse_string(pos)
            elif src[pos] == "(":
                depth, pos = depth + 1, pos + 1
            elif src[pos] == ")":
                depth, pos = depth - 1, pos + 1
                if depth == 0:
                    return pos
            else:
                pos += 1
        raise Unterminated(line_of(pos))

    while i < n:
        skipped = skip_comment(i)
        if skipped is not None:
            out.append(" " + "\n" * src.count("\n", i, skipped))
            i = skipped
        elif string_start(i):
            end, literal = parse_string(i)
            out.append("\x00%d\x00" % len(literals) + "\n" * src.count("\n", i, end))
            i = end
            literals.append(literal)
        else:
            out.append(src[i])
            i += 1
    return "".join(out), literals


# ReplicatedTable.swift builds each replicated table's SQL from the table's descriptor: every
# interpolation there may only name these (descriptor fields made of literals, SQL built from them
# in the same file, Int parameters and settings), and the descriptors are made of literals (checked).
DESCRIPTOR_NAMES = {
    "key", "name", "type", "tombstones", "changedAt", "fields", "fieldList", "nulls", "keys", "columns", "arrays",
    "updates", "forced", "Self", "raiseTombstone", "clockTime", "parameter", "fence", "condition", "liveFilter",
    "tombstoneFilter", "table", "column", "seconds", "joined", "separator",
}


def descriptor_interpolation(expression):
    words = set(re.findall(r"[A-Za-z_]\w*", re.sub(r'"[^"]*"', "", expression)))
    return words <= DESCRIPTOR_NAMES


def is_sql(literal):
    return SQL_MARK.search(literal[1].replace("\x01", " ")) is not None


def first_arguments(code, start):
    """The top-level arguments of the call whose '(' is at start, as stripped texts."""
    depth, args, current, i = 0, [], [], start
    while i < len(code):
        c = code[i]
        if c in "([{":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args
        elif c == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            i += 1
            continue
        current.append(c)
        i += 1
    return args


LIT = r"\x00(\d+)\x00"
sql_count = 0
files = []
for directory, _, names in os.walk(os.path.join(root, "Sources")):
    for name in sorted(names):
        if name.endswith(".swift"):
            files.append(os.path.join(directory, name))
files.sort()
if not files:
    print("FAIL no Swift file under %s/Sources" % root)

libpq_safe = set()
for path in files:
    rel = os.path.relpath(path, root)
    base = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        src = f.read()
    try:
        code, literals = lex(src)
    except Unterminated as e:
        print("FAIL %s:%s: a string literal the checker cannot read (unterminated?)" % (rel, e))
        continue
    sql = {k for k, literal in enumerate(literals) if is_sql(literal)}
    sql_count += len(sql)

    def where(k):
        return "%s:%d" % (rel, literals[k][0])

    # 1. interpolations inside SQL text
    for k in sorted(sql):
        line, text, interps = literals[k]
        bad = [e for e in interps if (base, e) not in ALLOWED
               and not (base == "ReplicatedTable.swift" and descriptor_interpolation(e))]
        if bad:
            print("FAIL %s: SQL built from a runtime value: %s" % (where(k), ", ".join("\\(%s)" % e for e in bad)))
        else:
            print("PASS %s: SQL text%s" % (where(k), " with vetted interpolations" if interps else ""))

    # 2. concatenation and mutation of SQL text
    for m in re.finditer(LIT + r"\s*(\+=?|\.\s*\w+|\[)", code):
        k = int(m.group(1))
        if k not in sql:
            continue
        rest = code[m.end():].lstrip()
        if m.group(2) == "+" and re.match(LIT, rest):
            continue
        print("FAIL %s: SQL text followed by '%s' with something that is not a literal" % (where(k), m.group(2)))
    for m in re.finditer(r"(\+=?|\(\s*format:)\s*" + LIT, code):
        k = int(m.group(2))
        if k not in sql:
            continue
        before = code[:m.start()].rstrip()
        if m.group(1) == "+" and re.search(LIT + r"$", before):
            continue
        print("FAIL %s: SQL text joined onto something that is not a literal ('%s')" % (where(k), m.group(1).strip()))
    for m in re.finditer(r"\bvar\s+\w+\s*(:\s*String\s*)?=\s*" + LIT, code):
        k = int(m.group(2))
        if k in sql:
            print("FAIL %s: SQL text in a var (it can be appended to)" % where(k))
    for m in re.finditer(r"\b(\w+)\s*(\+=|\.append\(|\.insert\()", code):
        name = m.group(1)
        if re.search(r"\b(let|var)\s+%s\s*(:\s*String\s*)?=\s*%s" % (re.escape(name), LIT), code):
            k = int(re.search(r"\b(?:let|var)\s+%s\s*(?::\s*String\s*)?=\s*%s" % (re.escape(name), LIT), code).group(1))
            if k in sql:
                print("FAIL %s: the SQL text in '%s' is appended to" % (where(k), name))

    # The checks that keep the allowed interpolations static.
    if base == "Statement.swift":
        for function, declaration in (("clockTime", "_ parameter: Int"), ("fence", "_ parameter: Int"),
                                      ("standingColumns", "freshness parameter: Int")):
            calls = re.findall(r"\b%s\(([^)]*)\)" % function, code)
            if any(not re.fullmatch(r"(freshness: )?\d+|parameter|" + declaration, c.strip()) for c in calls):
                print("FAIL %s: %s(...) is called with something other than a number literal" % (rel, function))
        for call in re.findall(r"\bguarded\(([^)]*\)?)\)", code):
            if call.strip().startswith("_ write") or re.fullmatch(r"(guarded: )?(true|false)", call.strip()):
                continue
            if not re.fullmatch(r"Self\.\w+(\(((settle|guarded): (true|false)(, )?)+\))?", call.strip()):
                print("FAIL %s: guarded(...) is called with something other than static SQL: %s"
                      % (rel, call.replace("\x00", "#")))
        for call in re.findall(r"\balone\(([^)]*\)?)\)", code):
            if call.strip().startswith("_ table"):
                continue
            if not re.fullmatch(
                    r"\x00\d+\x00,\s*Self\.\w+(\((\.(sessions|items), )?((settle|guarded): (true|false)(, )?)+\))?",
                    call.strip()):
                print("FAIL %s: alone(...) is called with something other than a literal and static SQL: %s"
                      % (rel, call.replace("\x00", "#")))
    if base == "ReplicatedTable.swift":
        made = [m.start() for m in re.finditer(r"\bReplicatedTable\(\s*name:", code)]
        if len(made) < 2:
            print("FAIL %s: fewer than two ReplicatedTable(...) found; the allowed interpolations need review" % rel)
        for start in made:
            args = first_arguments(code, code.index("(", start))
            for a in args:
                ok = (re.fullmatch(r"\w+:\s*" + LIT, a) or re.fullmatch(r"\w+:\s*(true|false|\.\w+)", a)
                      or re.fullmatch(r"\w+:\s*Column\(%s,\s*%s\)" % (LIT, LIT), a)
                      or re.fullmatch(r"fields:\s*\[\s*Column\(%s,\s*%s\)(\s*,\s*Column\(%s,\s*%s\))*\s*\]"
                                      % (LIT, LIT, LIT, LIT), a))
                if not ok:
                    print("FAIL %s: ReplicatedTable(...) made from something other than literals: %s"
                          % (rel, a.replace("\x00", "#")))
        if re.search(r"\bvar\s+(name|type|key|tombstones|fields|changedAt|expires)\b\s*:", code):
            print("FAIL %s: a ReplicatedTable field is a var" % rel)
        if re.search(r"\bReplicatedTable\(", re.sub(r"\bReplicatedTable\(\s*name:", "", code)):
            print("FAIL %s: a ReplicatedTable made elsewhere than its static lets" % rel)

    # 3. calls that run SQL text or a Statement (Sources/Cluster and Sources/Postgres)
    if rel.startswith(os.path.join("Sources", "Cluster")) or rel.startswith(os.path.join("Sources", "Postgres")):
        for m in re.finditer(r"\.(query|sendQuery|prepare)\(", code):
            args = first_arguments(code, m.end() - 1)
            position = 1 if m.group(1) == "prepare" else 0
            if len(args) <= position:
                continue
            arg = args[position]
            line = code.count("\n", 0, m.start()) + 1
            literal = re.fullmatch(LIT, arg)
            if literal:
                print("PASS %s:%d: %s runs a literal" % (rel, line, m.group(1)))
            elif re.fullmatch(r"table\.\w+SQL", arg):
                print("PASS %s:%d: %s runs the table's SQL, built from its descriptor" % (rel, line, m.group(1)))
            elif re.fullmatch(r"[A-Za-z_]\w*(\.sql)?", arg):
                name = arg
                bound = (name.endswith(".sql")
                         or re.search(r"\blet\s+%s\s*=\s*%s" % (re.escape(name), LIT), code)
                         or re.search(r"\bfor\s*\(?\s*%s\b[^{]*\bin\s+(zip\()?Self\.\w+" % re.escape(name), code)
                         or (re.search(r"\bfor\s*\(\s*%s\b[^{]*\bin\s+statements\b" % re.escape(name), code)
                             and re.search(r"\blet statements = table\.purgeStatements\(", code))
                         or re.search(r"func \w+\(_ %s: String" % re.escape(name), code))
                if bound:
                    print("PASS %s:%d: %s runs '%s', bound to SQL text" % (rel, line, m.group(1), name))
                else:
                    print("FAIL %s:%d: %s runs '%s', which is not bound to a literal" % (rel, line, m.group(1), name))
            else:
                print("FAIL %s:%d: %s runs an expression, not a literal: %s"
                      % (rel, line, m.group(1), re.sub(r"\x00\d+\x00", '"…"', arg)[:80]))
        for m in re.finditer(r"\bfunc (run|send|readAll|writeAll)\(([^)]*PostgresValue[^)]*)\)", code):
            if not re.match(r"\s*_ \w+: Statement, _ values: \[PostgresValue\]", m.group(2)):
                print("FAIL %s: func %s(%s) does not take a Statement and its values apart"
                      % (rel, m.group(1), m.group(2)[:80]))
        for m in re.finditer(r"\bfunc (query|sendQuery)\(([^)]*)\)", code):
            if not re.match(r"\s*_ sql: String, _ (values|parameters): \[PostgresValue\]", m.group(2)):
                print("FAIL %s: func %s(%s) does not take SQL and its values apart" % (rel, m.group(1), m.group(2)[:80]))

    # 4. libpq entry points
    for m in re.finditer(r"\b(PQexec|PQsendQuery|PQescape\w*)\(", code):
        print("FAIL %s:%d: %s (SQL and values not apart)" % (rel, code.count("\n", 0, m.start()) + 1, m.group(1)))
    libpq_safe.update(re.findall(r"\b(PQsendQueryParams|PQsendPrepare|PQsendQueryPrepared|PQexecParams|PQexecPrepared"
                                 r"|PQprepare)\(", code))

if sql_count < 10:
    print("FAIL only %d SQL literals found under %s/Sources: the check looks in the wrong place" % (sql_count, root))
else:
    print("PASS %d SQL literals found" % sql_count)
if libpq_safe:
    print("PASS libpq is called through %s" % ", ".join(sorted(libpq_safe)))
else:
    print("FAIL no parameterised libpq call found: the check looks in the wrong place")
PY
)

finish
