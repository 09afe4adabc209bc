"""Support for the console's browser tests: a real yuqingd on its embedded broker, a
producer (kcat), the API with a token, headless Debian chromium through selenium, waits
with deadlines, an accessibility check run in the page and screenshots.

Run with /usr/bin/python3 (Debian's selenium). Paths come from the environment that
ctest sets: YUQINGD, YUQING_SOURCE_DIR, YUQING_ARTIFACTS (screenshots), and
YUQING_KEEP_TEST_DIRS=1 keeps the daemon's directory. YUQING_CONSOLE_DIR serves another
console/ folder (e.g. an older commit's, to measure a change before and after).
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SOURCE = os.environ.get("YUQING_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
YUQINGD = os.environ.get("YUQINGD", os.path.join(SOURCE, "build", "daemon", "yuqingd"))
ARTIFACTS = os.environ.get("YUQING_ARTIFACTS", os.path.join(SOURCE, "build", "browser-artifacts"))
CONSOLE = os.environ.get("YUQING_CONSOLE_DIR", os.path.join(SOURCE, "console"))

# Tokens of the people every test daemon knows (http.people), and the shared admin token.
ADMIN_TOKEN = "console-admin-token"
PEOPLE = {
    "officer": ("张值班", "市公安局指挥中心", "officer-token-1"),
    "viewer": ("李查看", "宣传科", "viewer-token-1"),
    "analyst": ("王分析", "网安支队", "analyst-token-1"),
}


def wait_for(cond, timeout, what, interval=0.05):
    """Polls cond() until it returns a true value (returned) or fails naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - the condition may fail while things start
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """yuqingd in its own directory: embedded broker, the given keyword sets, tokens."""

    def __init__(self, sets, channels=("posts",), extra="", mailbox=""):
        """sets: {file name: YAML}; channels: names (topic yuqing.NAME) or dicts written as
        they are ({name, topic, kind, ...}); extra: more top-level YAML; mailbox: more
        keys of the mailbox map (", utc_offset_minutes: 480")."""
        self.dir = tempfile.mkdtemp(prefix="yuqing-browser-")
        self.port = free_port()
        self.proc = None
        os.makedirs(os.path.join(self.dir, "sets"))
        for name, text in sets.items():
            with open(os.path.join(self.dir, "sets", name + ".yaml"), "w", encoding="utf-8") as f:
                f.write(text)
        with open(os.path.join(self.dir, "people.yaml"), "w", encoding="utf-8") as f:
            f.write("people:\n")
            for role, (name, unit, token) in PEOPLE.items():
                digest = hashlib.sha256(token.encode()).hexdigest()
                f.write(f"  - {{name: {name}, unit: {unit}, role: {role}, token_sha256: {digest}}}\n")
        chans = "".join(f"  - {{name: {c}, topic: yuqing.{c}}}\n" if isinstance(c, str)
                        else "  - " + json.dumps(c, ensure_ascii=False) + "\n" for c in channels)
        with open(os.path.join(self.dir, "yuqing.yaml"), "w", encoding="utf-8") as f:
            f.write(
                "kafka: {embedded: {partitions: 1}}\n"
                f"channels:\n{chans}"
                "storage: {path: data}\n"
                "keyword_sets: {dir: sets, watch: false}\n"
                f"plan: {{path: {SOURCE}/seeds/plan.yaml}}\n"
                f"mailbox: {{calendar_dir: {SOURCE}/seeds/calendar{mailbox}}}\n"
                f"http: {{listen: \"127.0.0.1:{self.port}\", token: {ADMIN_TOKEN}, people: people.yaml,"
                f" console_dir: {CONSOLE}}}\n"
                "ingest: {batch_max_wait_ms: 20}\n" + extra)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        log = open(os.path.join(self.dir, "yuqingd.log"), "ab")
        self.proc = subprocess.Popen([YUQINGD, "--config", os.path.join(self.dir, "yuqing.yaml")],
                                     stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.get("/readyz", token=None)[0] == 200 or self._died(), 90, "yuqingd ready")
        if self.proc.poll() is not None:
            raise AssertionError("yuqingd exited:\n" + self.log())
        self.bootstrap = self.get("/api/v1/status", token=None)[1]["kafka"]["bootstrap"]
        return self

    def _died(self):
        return self.proc.poll() is not None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        if not os.environ.get("YUQING_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        with open(os.path.join(self.dir, "yuqingd.log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None, token=ADMIN_TOKEN):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def get(self, path, token=ADMIN_TOKEN):
        return self.request("GET", path, token=token)

    def alerts(self, **query):
        q = urllib.parse.urlencode({"limit": 10000, **query})
        status, body = self.get("/api/v1/alerts?" + q)
        assert status == 200, body
        return body["alerts"]

    def fired_total(self):
        """Alerts fired since start (yuqing_alerts_fired_total, all series)."""
        text = self.get("/metrics", token=None)[1]
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("yuqing_alerts_fired_total{"))

    def produce(self, messages, topic="yuqing.posts"):
        """Produces JSON messages (dicts) to the embedded broker with kcat."""
        lines = "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages)
        r = subprocess.run(["kcat", "-P", "-b", self.bootstrap, "-t", topic, "-p", "0"],
                           input=lines.encode(), capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr.decode()


def browser(width=1920, height=1080):
    """Headless Debian chromium through chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              f"--window-size={width},{height}", "--lang=zh-CN", "--force-device-scale-factor=1",
              "--autoplay-policy=no-user-gesture-required"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.set_capability("unhandledPromptBehavior", "ignore")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    # The viewport itself is width x height (the window's size would include its frame).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    return driver


def sign_in(driver, daemon, token, view="alerts"):
    """Opens the console and signs in with `token` through the sign-in form."""
    from selenium.webdriver.common.by import By
    driver.get(f"{daemon.url}/#/{view}")
    field = wait_for(lambda: driver.find_element(By.ID, "token"), 20, "the sign-in form")
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f".view-{view}"), 20, f"the {view} view")


def screenshot(driver, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name + ".png")
    driver.save_screenshot(path)
    print(f"screenshot: {path}")
    return path


# Every control must have an accessible name: a label, aria-label(ledby), text or title.
A11Y_CHECK = r"""
const controls = document.querySelectorAll(
  'button, a[href], input:not([type=hidden]), select, textarea, [role=button], [role=option], ' +
  '[role=listbox], [tabindex]:not([tabindex="-1"])');
const bad = [];
for (const el of controls) {
  if (el.hidden || el.closest('[hidden]') || el.getClientRects().length === 0) continue;
  let name = (el.getAttribute('aria-label') || '').trim();
  if (!name && el.getAttribute('aria-labelledby'))
    name = el.getAttribute('aria-labelledby').split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
  if (!name && el.labels && el.labels.length) name = [...el.labels].map((l) => l.textContent).join(' ').trim();
  if (!name && el.tagName !== 'INPUT' && el.tagName !== 'SELECT' && el.tagName !== 'TEXTAREA') name = (el.textContent || '').trim();
  if (!name) name = (el.getAttribute('title') || '').trim();
  if (!name) bad.push(el.outerHTML.slice(0, 160));
}
return {checked: controls.length, unnamed: bad};
"""


def accessibility(driver):
    """Runs the accessible-name check in the page: {checked, unnamed: [html...]}."""
    return driver.execute_script(A11Y_CHECK)


def post(text, i, **extra):
    """A post message for the posts channel."""
    m = {"id": f"b{i}", "author": extra.pop("author", f"网友{i}"), "content": text,
         "url": f"https://forum.example/t/{i}", "region": extra.pop("region", "蓬江区"),
         "published_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    m.update(extra)
    return m


class DemoDaemon(Daemon):
    """yuqingd as `bash scripts/demo` runs it (config/yuqing.yaml, the seed keyword sets),
    with tokens and its own directory; feed() replays the sample stream into it with its
    times moved to the last week, like the demo."""

    def __init__(self):
        import yaml
        super().__init__({})
        with open(os.path.join(SOURCE, "config", "yuqing.yaml"), encoding="utf-8") as f:
            cfg = yaml.safe_load(f)
        cfg["storage"]["path"] = "data"
        cfg["keyword_sets"].update({"dir": os.path.join(SOURCE, "seeds", "keyword-sets"), "watch": False})
        cfg["plan"]["path"] = os.path.join(SOURCE, "seeds", "plan.yaml")
        cfg["mailbox"]["calendar_dir"] = os.path.join(SOURCE, "seeds", "calendar")
        cfg["risk"]["gazetteer"] = os.path.join(SOURCE, "seeds", "gazetteer", "jiangmen.yaml")
        cfg["http"].update({"listen": f"127.0.0.1:{self.port}", "token": ADMIN_TOKEN, "people": "people.yaml",
                            "console_dir": CONSOLE})
        with open(os.path.join(self.dir, "yuqing.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(cfg, f, allow_unicode=True)

    def feed(self):
        """Produces seeds/sample/*.jsonl as scripts/demo does; waits until all is consumed."""
        ctl = os.environ.get("YUQINGCTL", os.path.join(os.path.dirname(YUQINGD), "yuqingctl"))
        sample = os.path.join(SOURCE, "seeds", "sample")
        shift = ["--shift-from", "2022-11-25T12:00:00+08:00"]
        for topic, name in (("posts", "posts"), ("news", "news"), ("mailbox", "mailbox"),
                            ("mailbox-replies", "replies"), ("mailbox", "mailbox-late")):
            subprocess.run([ctl, "produce", *shift, "--brokers", self.bootstrap, "--topic", "yuqing." + topic,
                            os.path.join(sample, name + ".jsonl")], check=True, capture_output=True, timeout=120)
        total = 0
        for name in os.listdir(sample):
            with open(os.path.join(sample, name), encoding="utf-8") as f:
                total += sum(1 for line in f if line.strip())
        wait_for(lambda: self.get("/api/v1/status")[1]["counters"]["consumed"] >= total, 120,
                 f"{total} sample messages consumed")
        wait_for(lambda: any(a["kind"] == "overdue" for a in self.alerts()), 30, "the mailbox's overdue alerts")


def run_named(tests):
    """Runs the test function named by argv[1] among `tests` (a module's globals()) and
    says how long it took."""
    name = sys.argv[1]
    started = time.monotonic()
    tests[name]()
    print(f"{name}: ok in {time.monotonic() - started:.1f} s")
