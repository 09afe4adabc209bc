"""Browser test of the console's 简报 view (js/views/briefings.js) against a real yuqingd on
its embedded broker, in headless Debian chromium: the demo's busiest day made into a daily
briefing from the view, listed, opened as text, and the HTML briefing itself rendered.
Screenshots: briefing-daily (the view) and briefing-html (the A4 HTML). Run:
    /usr/bin/python3 tests/browser/test_briefing.py briefing_view
(ctest runs it as its own test, label `browser`)."""
import datetime
import os
import tempfile

from selenium.webdriver.common.by import By

import yuqing_browser as yb


def css(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def one(driver, selector, timeout=20, what=None):
    return yb.wait_for(lambda: (css(driver, selector) or [None])[0], timeout, what or selector)


def busiest_day():
    """2022-11-21 (the sample's busiest day) moved as DemoDaemon.feed() moves the sample:
    by whole weeks to the last week before now."""
    tz = datetime.timezone(datetime.timedelta(hours=8))
    recorded = datetime.datetime(2022, 11, 25, 12, 0, tzinfo=tz)
    week = datetime.timedelta(days=7)
    weeks = (datetime.datetime.now(datetime.timezone.utc) - recorded) // week
    return (datetime.datetime(2022, 11, 21, 12, 0, tzinfo=tz) + weeks * week).date().isoformat()


def briefing_view():
    """the 简报 view makes the daily briefing of a date with the admin token, lists it, opens
    its Markdown as text with the topic table and 新 marks, and the HTML renders on its own
    (no script, inline SVG); screenshots of both"""
    d = yb.DemoDaemon().start()
    driver = yb.browser()
    try:
        d.feed()
        day = busiest_day()
        yb.sign_in(driver, d, yb.ADMIN_TOKEN, view="briefings")
        one(driver, ".briefing-list li", what="the (empty) list")
        date = one(driver, "input[type=date]")
        # the date input takes the date as typed in the browser's locale: set it by script
        driver.execute_script("arguments[0].value = arguments[1]", date, day)
        driver.find_element(By.CSS_SELECTOR, "form.row-controls button[type=submit]").click()
        pre = one(driver, "pre.briefing-md", timeout=60, what="the briefing's text")
        text = pre.text
        assert text.startswith("# 江门市公安局舆情日报"), text[:200]
        assert "## 三、话题风险指数" in text and "## 六、政府信箱" in text, text
        yb.wait_for(lambda: any(day.replace("-", "") in a.get_attribute("data-id").replace("-", "")
                                for a in css(driver, ".briefing-list a")), 20, "the briefing listed")
        status, body = d.get("/api/v1/briefings")
        # (the schedule may have made yesterday's too: config/yuqing.yaml has daily_at 08:00)
        assert status == 200 and f"daily-{day}" in [b["id"] for b in body["briefings"]], body
        yb.wait_for(lambda: not css(driver, "#toast.show") and driver.execute_script(
            "return getComputedStyle(document.getElementById('toast')).opacity") == "0", 15, "the notice faded")
        yb.screenshot(driver, "briefing-daily")
        report = yb.accessibility(driver)
        assert not report["unnamed"], report

        # The HTML briefing itself: self-contained, rendered from a file.
        status, html = d.request("GET", f"/api/v1/briefings/daily-{day}?format=html")
        html = html if isinstance(html, str) else html.decode("utf-8") if isinstance(html, bytes) else str(html)
        assert "<script" not in html and "<svg" in html
        path = os.path.join(tempfile.mkdtemp(prefix="yuqing-briefing-"), "briefing.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(html)
        driver.set_window_size(900, 2000)
        driver.get("file://" + path)
        one(driver, "h1", what="the briefing's title")
        assert driver.execute_script("return document.scripts.length") == 0
        yb.screenshot(driver, "briefing-html")
    finally:
        driver.quit()
        d.close()


if __name__ == "__main__":
    yb.run_named(globals())
