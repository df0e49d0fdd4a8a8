#!/usr/bin/env bash
# The documentation keeps up with the code (a static check; no cluster needed).
#
#  1. every path of the route table (Sources/Responder/Application+Routes.swift: the `case`
#     paths of `route`, constants such as `Pages.stylesheetPath` resolved) has a row in
#     docs/API.md whose first cell is the path, naming every method the route allows; every
#     `.php` alias of `canonicalPath` is named there too;
#  2. every HTTP status the responder can produce (the numbers in `HTTPError(…)` and in
#     `status: …` arguments under Sources/, and 303 for `.seeOther`) has a row in docs/API.md whose
#     first cell is that status;
#  3. every setting read from the environment under Sources/ (`reader.integer("NAME"`,
#     `.seconds(`, `.optionalText(`, `.required(`, the `"\(prefix)_NAME"` reads of `node(prefix:)`
#     for each prefix, `environment["NAME"]`, `getenv("NAME")`) has a row in
#     docs/CONFIGURATION.md whose first cell is the name;
#  4. every markdown link and image in README.md, docs/*.md and bench/README.md resolves to a
#     file or directory inside the repository, and its #anchor (when it has one) to a heading;
#     no such file mentions the team's private spec;
#  5. README.md is at most 220 lines and names every module under Sources/.
#
# DOCS_CHECK_ROOT points the check at another tree (to show that it fails: copy the repository
# elsewhere, remove a setting's row from docs/CONFIGURATION.md, run with DOCS_CHECK_ROOT=/copy).
# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

ROOT=${DOCS_CHECK_ROOT:-$E2E_ROOT}
if [ ! -d "$ROOT/Sources" ] || [ ! -f "$ROOT/README.md" ]; then
    fail "no Sources/ or README.md under $ROOT"
    finish
fi

checker_verdicts < <(python3 - "$ROOT" <<'PY' 2>&1
import glob
import os
import re
import sys

root = os.path.realpath(sys.argv[1])


def read(rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def swift_code(text):
    """Swift source without comments (string literals kept as they are)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def argument(code, start, one_line=False):
    """The text of one argument from `start` up to the next top-level ',' or closing bracket
    (or the end of the line)."""
    depth, i = 0, start
    while i < len(code):
        c = code[i]
        if c == "\n" and one_line:
            break
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            break
        elif c == '"':
            i += 1
            while i < len(code) and code[i] != '"':
                i += 2 if code[i] == "\\" else 1
        i += 1
    return code[start:i]


sources = {}
for path in sorted(glob.glob(os.path.join(root, "Sources", "**", "*.swift"), recursive=True)):
    with open(path, encoding="utf-8") as f:
        sources[os.path.relpath(path, root)] = swift_code(f.read())


def table_rows(markdown):
    """The rows of every table, as lists of stripped cells."""
    rows = []
    for line in markdown.splitlines():
        line = line.strip()
        if line.startswith("|") and not re.match(r"^\|[\s:|-]+\|?$", line):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def has_row(markdown, first_cell):
    return any(row and row[0] == first_cell for row in table_rows(markdown))


# ---------------------------------------------------------------- 1. routes

api = read("docs/API.md")
routes_file = "Sources/Responder/Application+Routes.swift"
code = sources.get(routes_file, "")
route_start = code.find("func route(")
alias_start = code.find("func canonicalPath(")
if route_start < 0 or alias_start < 0:
    print("FAIL %s has no func route( or func canonicalPath(: the check looks in the wrong place" % routes_file)
else:
    route_body = code[route_start:alias_start] if alias_start > route_start else code[route_start:]
    alias_body = code[alias_start:]
    # Each `case` of the switch on the path, with the methods of the `allow([...])` that follows it.
    routes = {}
    for m in re.finditer(r'\n\s*case\s+("(/[^"]*)"|([A-Z]\w*)\.(\w+))\s*:', route_body):
        if m.group(2) is not None:
            path = m.group(2)
        else:
            constant = re.compile(r'static\s+let\s+%s\s*=\s*"(/[^"]*)"' % re.escape(m.group(4)))
            found = [c.group(1) for text in sources.values() for c in constant.finditer(text)]
            if len(found) != 1:
                print("FAIL the route constant %s.%s resolves to %r" % (m.group(3), m.group(4), found))
                continue
            path = found[0]
        following = route_body[m.end():]
        next_case = re.search(r"\n\s*(case\s|default\s*:)", following)
        block = following[:next_case.start()] if next_case else following
        allowed = re.search(r"allow\(\[([^\]]*)\]", block)
        routes[path] = re.findall(r'"([A-Z]+)"', allowed.group(1)) if allowed else []
    aliases = re.findall(r'case\s+"(/[^"]*)"\s*:\s*return\s+"/', alias_body)
    if len(routes) < 5 or len(aliases) < 3:
        print("FAIL found %d routes and %d aliases in %s: the check looks in the wrong place"
              % (len(routes), len(aliases), routes_file))
    for path, methods in sorted(routes.items()):
        rows = [row for row in table_rows(api) if row and row[0] == "`%s`" % path]
        if not rows:
            print("FAIL route %s has no row in docs/API.md (a table row whose first cell is `%s`)" % (path, path))
            continue
        named = set(re.findall(r"\b(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\b", " ".join(" ".join(r) for r in rows)))
        missing = [method for method in methods if method not in named]
        if not methods:
            print("FAIL route %s: no allow([...]) found after its case" % path)
        elif missing:
            print("FAIL route %s allows %s, which its rows in docs/API.md do not name" % (path, ", ".join(missing)))
        else:
            print("PASS route %s (%s) is in docs/API.md" % (path, ", ".join(methods)))
    for alias in aliases:
        if "`%s`" % alias in api:
            print("PASS alias %s is in docs/API.md" % alias)
        else:
            print("FAIL alias %s is not named in docs/API.md" % alias)

# ---------------------------------------------------------------- 2. statuses

statuses = {}
for rel, text in sources.items():
    # `HTTPError(503, …)`, `HTTPError(error.isOverLimit ? 413 : 400, …)`, `status: up ? 200 : 503`;
    # not `var status: Int` (a declaration: the rest of its line holds no number).
    for m in re.finditer(r"\bHTTPError\(\s*|\bstatus:[ \t]*", text):
        value = argument(text, m.end(), one_line=not m.group(0).startswith("HTTPError"))
        for number in re.findall(r"(?<![\w.])([1-5][0-9][0-9])(?![\w.])", value):
            statuses.setdefault(int(number), rel)
    if re.search(r"\.seeOther\(", text):
        statuses.setdefault(303, rel)
if len(statuses) < 10:
    print("FAIL only %d statuses found under Sources/: the check looks in the wrong place" % len(statuses))
for status, rel in sorted(statuses.items()):
    if has_row(api, "`%d`" % status):
        print("PASS status %d (%s) is in docs/API.md" % (status, rel))
    else:
        print("FAIL status %d (produced in %s) has no row in docs/API.md (first cell `%d`)" % (status, rel, status))

# ---------------------------------------------------------------- 3. settings

settings = {}
name = r'"([A-Z][A-Z0-9_]*)"'
for rel, text in sources.items():
    for pattern in (r"\b(?:integer|seconds|optionalText|required|string|bool|double)\(\s*" + name,
                    r"\benvironment\[\s*" + name + r"\s*\]", r"\bgetenv\(\s*" + name):
        for m in re.finditer(pattern, text):
            settings.setdefault(m.group(1), rel)
    prefixes = re.findall(r"\bnode\(\s*prefix:\s*" + name, text)
    for prefix in prefixes:
        suffixes = set()
        for other in sources.values():
            suffixes.update(re.findall(r'"\\\(prefix\)_([A-Z0-9_]+)"', other))
        if not suffixes:
            print("FAIL node(prefix: \"%s\") in %s: no \"\\(prefix)_NAME\" read found" % (prefix, rel))
        for suffix in suffixes:
            settings.setdefault("%s_%s" % (prefix, suffix), rel)
if len(settings) < 20:
    print("FAIL only %d settings found under Sources/: the check looks in the wrong place" % len(settings))
configuration = read("docs/CONFIGURATION.md")
for setting, rel in sorted(settings.items()):
    if has_row(configuration, "`%s`" % setting):
        print("PASS setting %s is in docs/CONFIGURATION.md" % setting)
    else:
        print("FAIL setting %s (read in %s) has no row in docs/CONFIGURATION.md (first cell `%s`)"
              % (setting, rel, setting))

# ---------------------------------------------------------------- 4. links


def slug(heading):
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")


def without_code(markdown):
    """The text without fenced code blocks and inline code spans."""
    kept, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            kept.append("")
            continue
        kept.append("" if fenced else re.sub(r"`[^`]*`", "``", line))
    return "\n".join(kept)


def anchors(markdown):
    found, seen, fenced = set(), {}, False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                base = slug(m.group(1))
                count = seen.get(base, 0)
                seen[base] = count + 1
                found.add(base if count == 0 else "%s-%d" % (base, count))
    return found


documents = ["README.md", "bench/README.md"] + sorted(
    os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "docs", "*.md")))
link_pattern = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|^\s*\[[^\]]+\]:\s*(\S+)", re.M)
# The team's private spec lives outside the repository; no document may point at it or name it.
# (Its names are assembled here so that this file does not mention them either.)
spec = "con" + "tract"
private = re.compile(r"%s\.md|\.\./sha%s|\bthe %s\b" % (spec, "red", spec), re.I)
links = 0
for doc in documents:
    if not os.path.exists(os.path.join(root, doc)):
        print("FAIL %s does not exist" % doc)
        continue
    text = read(doc)
    for number, line in enumerate(text.splitlines(), 1):
        if private.search(line):
            print("FAIL %s:%d mentions the team's private spec: %s" % (doc, number, line.strip()[:100]))
    bad = 0
    for m in link_pattern.finditer(without_code(text)):
        target = m.group(1) or m.group(2)
        links += 1
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            continue  # http:, https:, mailto:
        path, _, anchor = target.partition("#")
        if path:
            resolved = os.path.realpath(os.path.join(root, os.path.dirname(doc), path))
            if resolved != root and not resolved.startswith(root + os.sep):
                print("FAIL %s links to %s, outside the repository" % (doc, target))
                bad += 1
                continue
            if not os.path.exists(resolved):
                print("FAIL %s links to %s, which does not exist" % (doc, target))
                bad += 1
                continue
        else:
            resolved = os.path.join(root, doc)
        if anchor and resolved.endswith(".md"):
            with open(resolved, encoding="utf-8") as f:
                if anchor not in anchors(f.read()):
                    print("FAIL %s links to %s: no heading %s there" % (doc, target, anchor))
                    bad += 1
    if not bad:
        print("PASS every link of %s resolves in the repository" % doc)
if links < 20:
    print("FAIL only %d links found: the check looks in the wrong place" % links)

# ---------------------------------------------------------------- 5. the README

readme = read("README.md")
lines = len(readme.splitlines())
if lines <= 220:
    print("PASS README.md has %d lines (at most 220)" % lines)
else:
    print("FAIL README.md has %d lines, more than 220: move the detail into docs/" % lines)
for module in sorted(os.listdir(os.path.join(root, "Sources"))):
    if not os.path.isdir(os.path.join(root, "Sources", module)):
        continue
    if "`%s`" % module in readme:
        print("PASS module %s is in README.md" % module)
    else:
        print("FAIL module Sources/%s is not in README.md's module map" % module)
PY
)

finish
