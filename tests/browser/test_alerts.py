"""Browser tests of the console's alert desk (值班台) and wall (大屏) against a real yuqingd
on its embedded broker, in headless Debian chromium. Run one test by name:
    /usr/bin/python3 tests/browser/test_alerts.py live_alert_and_ack
(ctest runs each as its own test, label `browser`)."""
import sys
import time
import urllib.request

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import yuqing_browser as yb

DIGITS = "甲乙丙丁戊己庚辛壬癸"


def word(n, width=4):
    """A keyword of its own for rule n (fixed width: none contains another)."""
    s = ""
    for _ in range(width):
        s = DIGITS[n % 10] + s
        n //= 10
    return "事件" + s


def alarm_set(set_id, rules, level, topic="public-safety", name="突发警情", first=0):
    """A set whose every rule fires an immediate alert of `level`: one alert per rule."""
    lines = [f"id: {set_id}", f"name: {name}", f"topic: {topic}", "plan_item: 9", "rules:"]
    for n in range(first, first + rules):
        lines.append(f"  - {{id: k{n:05d}, any: [{word(n)}], severity: critical}}")
    lines += ["alerts:", f"  - {{kind: immediate, min_severity: critical, level: {level}}}", ""]
    return "\n".join(lines)


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, ".list [role=option]")


def row_for(driver, text):
    for r in rows(driver):
        if text in r.text:
            return r
    return None


def start(sets=None):
    d = yb.Daemon(sets or {"alarm": alarm_set("alarm", 50, "red")})
    return d.start()


# Records (epoch ms, in the page) when a row with the text first appears in the list.
WATCH_JS = r"""
const text = arguments[0];
window.__seen_ms = null;
const list = document.querySelector('.list');
const check = () => {
  if (window.__seen_ms) return;
  for (const r of list.querySelectorAll('[role=option]'))
    if (r.textContent.includes(text)) { window.__seen_ms = performance.timeOrigin + performance.now(); return; }
};
new MutationObserver(check).observe(list, {subtree: true, childList: true});
"""


def live_alert_and_ack():
    """a message produced to Kafka shows as a new alert on an open page (target 2 s, printed), and
    acknowledging it from the page shows in /api/v1/alerts/ID and its audit trail"""
    d = start()
    driver = yb.browser()
    try:
        yb.sign_in(driver, d, yb.PEOPLE["officer"][2])
        yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "#conn.open"), 10, "the live stream")
        driver.execute_script(WATCH_JS, "突发警情")
        d.produce([yb.post(f"蓬江区某小区{word(1)}，现场有人员聚集", 1)])
        produced = time.time() * 1000
        seen = yb.wait_for(lambda: driver.execute_script("return window.__seen_ms"), 10,
                           "the new alert on the page")
        # The target is 2 s; it is measured and printed, not asserted (a shared 2-core
        # machine running other tests takes longer: the wait above is the bound).
        print(f"produced (kcat returned) -> alert row on the page: {(seen - produced) / 1000:.2f} s "
              f"(clock of the page; target 2 s)")
        row = row_for(driver, "突发警情")
        alert_id = d.alerts()[0]["id"]
        row.click()
        button = yb.wait_for(lambda: driver.find_element(By.ID, "alert-ack"), 5, "the 签收 button")
        driver.find_element(By.ID, "alert-note").send_keys("已通知辖区派出所")
        button.click()
        got = yb.wait_for(lambda: (lambda a: a if a["state"] == "acknowledged" else None)(
            d.get("/api/v1/alerts/" + alert_id)[1]), 10, "the alert acknowledged in the API")
        last = got["audit"][-1]
        assert last["action"] == "acknowledged", got["audit"]
        assert last["who"] == "张值班（市公安局指挥中心）", last
        assert last["note"] == "已通知辖区派出所", last
        yb.wait_for(lambda: "已签收" in driver.find_element(By.CSS_SELECTOR, ".detail").text, 5, "已签收 on the page")
        yb.wait_for(lambda: "已通知辖区派出所" in driver.find_element(By.CSS_SELECTOR, ".audit").text, 5,
                    "the note in the page's audit trail")
    finally:
        driver.quit()
        d.close()


def restart_recovers():
    """the page recovers by itself after the daemon restarts (SSE reconnect) and misses no
    alert fired meanwhile"""
    d = start()
    driver = yb.browser()
    try:
        yb.sign_in(driver, d, yb.PEOPLE["viewer"][2])
        d.produce([yb.post(f"{word(2)} 第一条", 1)])
        yb.wait_for(lambda: len(rows(driver)) == 1, 10, "the first alert")
        driver.execute_script("window.__same_page = 42")
        d.stop()
        yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "#conn.closed"), 45, "the page to see the stream gone")
        d.start()  # a new embedded cluster: produce to its bootstrap
        d.produce([yb.post(f"{word(3)} 重启后第二条", 2), yb.post(f"{word(4)} 重启后第三条", 3)])
        yb.wait_for(lambda: len(d.alerts()) == 3, 20, "three alerts in the API")
        yb.wait_for(lambda: len(rows(driver)) == 3, 20, "all three alerts on the page without reload")
        assert driver.execute_script("return window.__same_page") == 42, "the page was reloaded"
        yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "#conn.open"), 10, "the stream live again")
    finally:
        driver.quit()
        d.close()


XSS = ["<img src=x onerror=alert(1)>", "<script>window.__xss=1;alert(2)</script>"]


def hostile_text_is_text():
    """message texts <img src=x onerror=alert(1)> and <script> render as text and run
    nothing (checked in the browser)"""
    d = start()
    driver = yb.browser()
    try:
        yb.sign_in(driver, d, yb.PEOPLE["officer"][2])
        d.produce([yb.post(f"{XSS[0]} {word(5)}", 1, author="<b onmouseover=alert(3)>作者</b>"),
                   yb.post(f"{XSS[1]} {word(6)}", 2, url="javascript:alert(4)")])
        yb.wait_for(lambda: len(rows(driver)) == 2, 10, "two alerts")
        for i in range(2):
            rows(driver)[i].click()
            yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".examples[aria-busy=false]"), 10, "examples")
            text = driver.find_element(By.CSS_SELECTOR, ".examples").text
            assert any(x in text for x in XSS), text
            assert not driver.find_elements(By.CSS_SELECTOR, ".detail img, .detail script, .detail b"), "markup was parsed"
            assert not driver.find_elements(By.CSS_SELECTOR, ".detail a[href^=javascript]"), "a javascript: link"
        shown = driver.find_element(By.CSS_SELECTOR, ".view-alerts").text
        assert XSS[0] in shown or XSS[1] in shown
        marks = [m.text for m in driver.find_elements(By.CSS_SELECTOR, ".examples mark")]
        assert word(5) in marks or word(6) in marks, marks
        try:
            driver.switch_to.alert
            raise AssertionError("an alert dialog opened")
        except NoAlertPresentException:
            pass
        assert driver.execute_script("return window.__xss") is None, "a script ran"
    finally:
        driver.quit()
        d.close()


def keyboard_and_accessibility():
    """keyboard only: reach, acknowledge and handle an alert; every control has an
    accessible name (checked in the page)"""
    d = start()
    driver = yb.browser()
    try:
        driver.get(f"{d.url}/#/alerts")
        field = yb.wait_for(lambda: driver.find_element(By.ID, "token"), 20, "sign-in")
        report = yb.accessibility(driver)
        assert not report["unnamed"], report
        field.send_keys(yb.PEOPLE["officer"][2] + Keys.ENTER)  # the form submits with Enter
        d.produce([yb.post(f"{word(7)} 键盘测试", 1), yb.post(f"{word(8)} 键盘测试二", 2)])
        yb.wait_for(lambda: len(rows(driver)) == 2, 10, "two alerts")
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("j")
        yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".row.selected"), 5, "j selects the first alert")
        chosen = driver.find_element(By.CSS_SELECTOR, ".row.selected").get_attribute("data-id")
        driver.switch_to.active_element.send_keys("a")
        yb.wait_for(lambda: d.get("/api/v1/alerts/" + chosen)[1]["state"] == "acknowledged", 10, "a acknowledges")
        yb.wait_for(lambda: driver.find_element(By.ID, "alert-handle").is_displayed(), 5, "the 处置 button")
        driver.switch_to.active_element.send_keys("h")
        yb.wait_for(lambda: driver.switch_to.active_element.get_attribute("id") == "alert-note", 5,
                    "h asks for the handling note")
        driver.switch_to.active_element.send_keys("已处置，已回复网民" + Keys.ENTER)
        got = yb.wait_for(lambda: (lambda a: a if a["state"] == "handled" else None)(d.get("/api/v1/alerts/" + chosen)[1]),
                          10, "h handles")
        assert got["audit"][-1]["note"] == "已处置，已回复网民", got["audit"]
        report = yb.accessibility(driver)
        print(f"accessibility: {report['checked']} controls checked on the alert desk")
        assert not report["unnamed"], report
        driver.get(f"{d.url}/#/wall")
        yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".wall .tiles"), 10, "the wall")
        report = yb.accessibility(driver)
        assert not report["unnamed"], report
    finally:
        driver.quit()
        d.close()


def viewer_sees_no_controls():
    """a viewer's page shows no acknowledge or handle control, and without a token the
    API refuses to read alerts while the console's files stay open"""
    d = start()
    driver = yb.browser()
    try:
        assert d.get("/api/v1/alerts", token=None)[0] == 401
        assert d.get("/api/v1/hits", token=None)[0] == 401
        assert d.get("/", token=None)[0] == 200
        with urllib.request.urlopen(d.url + "/") as r:
            csp = r.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert d.get("/metrics", token=None)[0] == 200
        yb.sign_in(driver, d, yb.PEOPLE["viewer"][2])
        d.produce([yb.post(f"{word(9)} 只读", 1)])
        yb.wait_for(lambda: len(rows(driver)) == 1, 10, "the alert")
        rows(driver)[0].click()
        yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".detail h2"), 5, "the detail")
        assert not driver.find_elements(By.ID, "alert-ack") and not driver.find_elements(By.ID, "alert-handle")
        assert "查看员" in driver.find_element(By.ID, "who").text
    finally:
        driver.quit()
        d.close()


TIMING_JS = r"""
const done = arguments[arguments.length - 1];
const list = document.querySelector('.list');
const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
(async () => {
  const out = {scroll: [], filter: []};
  for (const frac of [0.25, 0.5, 0.75, 1, 0.1, 0]) {
    const t0 = performance.now();
    list.scrollTop = frac * (list.scrollHeight - list.clientHeight);
    await frames();
    out.scroll.push(performance.now() - t0);
  }
  // Each change as a person makes it: the control's value, its input event, until the list
  // is painted (two frames). "#1": the select's second option (the first value there is).
  for (let round = 0; round < arguments[1]; round++) for (const [id, wanted] of arguments[0]) {
    const el = document.getElementById(id);
    const value = wanted === '#1' ? el.options[1].value : wanted;
    const t0 = performance.now();
    el.value = value;
    el.dispatchEvent(new Event('input', {bubbles: true}));
    await frames();
    out.filter.push({round, what: `${id}=${value}`, ms: performance.now() - t0, count: Number(list.dataset.count),
                     js: Number(list.dataset.filterMs), rendered: Number(list.dataset.rendered)});
  }
  out.snapshot = {bytes: Number(list.dataset.snapshotBytes), parse_ms: Number(list.dataset.snapshotParseMs)};
  done(out);
})();
"""

# Every filter and grouping of the desk, changed one after the other (issue 22: each must
# draw within 200 ms with 10,000 alerts).
CHANGES = [["f-q", word(1234)], ["f-q", "交通"], ["f-q", "第99"], ["f-q", ""],
           ["f-level", "orange"], ["f-level", ""], ["f-state", "all"], ["f-state", ""],
           ["f-topic", "交通事件"], ["f-topic", ""], ["f-unit", "#1"], ["f-unit", ""],
           ["f-by", "topic"], ["f-by", "unit"], ["f-by", "level"],
           ["f-level", "orange"], ["f-level", ""]]
ROUNDS = 5  # the sequence is run this many times: each change's median and slowest are printed


def ten_thousand_alerts():
    """10,000 active alerts: the list is virtualised; scroll and every filter and grouping
    change timed in the browser and printed (not asserted as a timing)"""
    n = 10000
    sets = {"a-red": alarm_set("a-red", 2000, "red", first=0),
            "a-orange": alarm_set("a-orange", 4000, "orange", topic="traffic", name="交通事件", first=2000),
            "a-yellow": alarm_set("a-yellow", 4000, "yellow", topic="rumour", name="不实信息", first=6000)}
    d = yb.Daemon(sets)
    d.start()
    driver = yb.browser()
    try:
        t0 = time.monotonic()
        for chunk in range(0, n, 2000):
            d.produce([yb.post(f"第{i}条 {word(i)}", i) for i in range(chunk, chunk + 2000)])
        yb.wait_for(lambda: d.fired_total() >= n, 600, f"{n} alerts fired", interval=1)
        t1 = time.monotonic()
        assert len(d.alerts()) == n
        print(f"GET /api/v1/alerts?limit={n}: {time.monotonic() - t1:.2f} s")
        print(f"{n} messages produced and {n} alerts fired in {time.monotonic() - t0:.1f} s")
        t0 = time.monotonic()
        yb.sign_in(driver, d, yb.PEOPLE["officer"][2])
        yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f".list[data-count='{n}']"), 120, "the list of 10000")
        print(f"page open to 10000 alerts listed: {time.monotonic() - t0:.2f} s (console: {yb.CONSOLE})")
        rendered = int(driver.find_element(By.CSS_SELECTOR, ".list").get_attribute("data-rendered"))
        assert rendered < 200, f"{rendered} rows in the DOM: not virtualised"
        driver.set_script_timeout(120)
        out = driver.execute_async_script(TIMING_JS, CHANGES, ROUNDS)
        for i, ms in enumerate(out["scroll"]):
            print(f"scroll jump {i + 1}: {ms:.1f} ms to the next frame drawn")
        print(f"snapshot event: {out['snapshot']['bytes'] / 1e6:.1f} MB, JSON.parse {out['snapshot']['parse_ms']:.0f} ms")
        first = [f for f in out["filter"] if f["round"] == 0]
        for i, f in enumerate(first):
            runs = sorted(out["filter"][r * len(CHANGES) + i]["ms"] for r in range(ROUNDS))
            js = sorted(out["filter"][r * len(CHANGES) + i]["js"] for r in range(ROUNDS))
            print(f"filter {f['what']}: median {runs[ROUNDS // 2]:.1f} ms, slowest {runs[-1]:.1f} ms of {ROUNDS} "
                  f"to the list painted (JS median {js[ROUNDS // 2]:.1f} ms), {f['count']} shown, {f['rendered']} rows in the DOM")
        slowest = max(out["filter"], key=lambda f: f["ms"])
        medians = sorted(sorted(out["filter"][r * len(CHANGES) + i]["ms"] for r in range(ROUNDS))[ROUNDS // 2]
                         for i in range(len(CHANGES)))
        print(f"slowest change: {slowest['what']} {slowest['ms']:.1f} ms (round {slowest['round'] + 1}); "
              f"slowest median {medians[-1]:.1f} ms; changes over 200 ms: "
              f"{sum(f['ms'] > 200 for f in out['filter'])} of {len(out['filter'])} (goal: none)")
        assert first[0]["count"] == 1, first[0]
        assert first[3]["count"] == n, first[3]
        assert first[4]["count"] == 4000, first[4]
        assert first[-2]["count"] == 4000 and first[-1]["count"] == n, first[-2:]
        assert all(f["rendered"] < 200 for f in out["filter"]), out["filter"]
    finally:
        driver.quit()
        d.close()


def screenshots():
    """screenshots of the alert desk and the wall on the demo data (1920x1080) and of the
    alert desk on a phone (390x844), written to the build tree"""
    d = yb.DemoDaemon().start()
    try:
        d.feed()
        for (w, hgt, views) in ((1920, 1080, ("alerts", "wall")), (390, 844, ("alerts",))):
            driver = yb.browser(w, hgt)
            try:
                yb.sign_in(driver, d, yb.PEOPLE["officer"][2])
                yb.wait_for(lambda: len(rows(driver)) > 3, 20, "the demo's alerts")
                rows(driver)[0].click()
                yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".examples[aria-busy=false]"), 10, "examples")
                driver.execute_script("document.activeElement.blur()")
                for view in views:
                    if view != "alerts":
                        driver.get(f"{d.url}/#/{view}")
                        yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".wall .tiles .tile"), 20, "the wall")
                        yb.wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ".wall svg"), 20, "the trend")
                    yb.screenshot(driver, f"{view}-{w}x{hgt}")
            finally:
                driver.quit()
    finally:
        d.close()


TESTS = {f.__name__: f for f in (live_alert_and_ack, restart_recovers, hostile_text_is_text,
                                  keyboard_and_accessibility, viewer_sees_no_controls, ten_thousand_alerts,
                                  screenshots)}

if __name__ == "__main__":
    names = sys.argv[1:] or list(TESTS)
    for name in names:
        print(f"== {name}: {TESTS[name].__doc__.split(chr(10))[0]}", flush=True)
        TESTS[name]()
        print(f"ok {name}", flush=True)
