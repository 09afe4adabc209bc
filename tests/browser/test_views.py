"""Browser tests of the console's keyword-set (关键词集), hits (命中检索) and mailbox
(政府信箱) views against a real yuqingd on its embedded broker, in headless Debian
chromium. Run one test by name:
    /usr/bin/python3 tests/browser/test_views.py set_typo_then_fix
(ctest runs each as its own test, label `browser`)."""
import glob
import os
import sys
import tempfile
import time

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

import yuqing_browser as yb

SET_V1 = "id: s\nname: 测试集\ntopic: epidemic\nrules:\n  - {id: A, any: [疫情]}\n"
SET_TYPO = SET_V1 + "  - {id: B, anyy: [封城]}\n"
SET_V2 = SET_V1 + "  - {id: B, any: [封城]}\n"
ANALYST = yb.PEOPLE["analyst"][2]
VIEWER = yb.PEOPLE["viewer"][2]


def css(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def one(driver, selector, timeout=20, what=None):
    return yb.wait_for(lambda: (css(driver, selector) or [None])[0], timeout, what or selector)


def goto(driver, d, hash_):
    driver.get(f"{d.url}/#/{hash_}")


def set_version(d, set_id="s"):
    status, body = d.get("/api/v1/keyword-sets")
    assert status == 200, body
    return next((s for s in body["sets"] if s["id"] == set_id), None)


def type_set(driver, text):
    """Replaces the editor's text as typing would (an input event)."""
    area = one(driver, "textarea.code")
    driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", area, text)


def click_text(driver, selector, text, timeout=20):
    el = yb.wait_for(lambda: next((e for e in css(driver, selector) if e.text.strip() == text), None), timeout, f"{selector} '{text}'")
    el.click()
    return el


def no_dialog(driver):
    try:
        driver.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


def set_typo_then_fix():
    """a set saved with a typo shows the error at its line and the running version stays;
    fixed and saved, it is reloaded and /api/v1/keyword-sets shows the new version"""
    d = yb.Daemon({"s": SET_V1}).start()
    driver = yb.browser()
    try:
        before = set_version(d)
        yb.sign_in(driver, d, ANALYST, view="sets")
        goto(driver, d, "sets?set=s&tab=edit")
        one(driver, "textarea.code")
        type_set(driver, SET_TYPO)
        # Checked as typed: line 6 is marked in the gutter, with the message as its title.
        marked = one(driver, ".gutter div.err[data-line='6']", what="line 6 marked as an error while typing")
        assert "anyy" in marked.get_attribute("title"), marked.get_attribute("title")
        assert css(driver, ".diagnostics li.err"), "the error listed under the editor"
        click_text(driver, "button", "保存并重新加载")
        state = yb.wait_for(lambda: "未保存" in one(driver, ".save-state").text and one(driver, ".save-state"), 20, "the refused save")
        assert "第 6 行" in state.text, state.text
        assert one(driver, ".gutter div.err[data-line='6']")
        assert set_version(d)["version"] == before["version"], "the broken set must not replace the running one"

        type_set(driver, SET_V2)
        yb.wait_for(lambda: "校验通过" in one(driver, ".check-state").text, 20, "the fixed text checked clean")
        assert not css(driver, ".gutter div.err")
        click_text(driver, "button", "保存并重新加载")
        yb.wait_for(lambda: "已保存并重新加载" in one(driver, ".save-state").text, 20, "the save reloaded")
        after = set_version(d)
        assert after["version"] != before["version"] and after["rules"] == 2, after
        status, versions = d.get("/api/v1/keyword-sets/s/versions")
        assert status == 200 and versions["versions"][0]["who"] == "王分析（网安支队）", versions
        print(f"saved: {before['version']} -> {after['version']}")

        # The history shows both versions and the diff between them.
        goto(driver, d, "sets?set=s&tab=versions")
        yb.wait_for(lambda: len(css(driver, "table.versions tbody tr")) == 2, 20, "two versions listed")
        click_text(driver, "button", "对比所选版本")
        added = one(driver, "pre.diff div.add")
        assert added.text == "+  - {id: B, any: [封城]}", added.text
    finally:
        driver.quit()
        d.close()


def backtest_progress_and_diff():
    """the backtest of the edited set shows its progress and the per-rule gained/lost diff
    with examples"""
    d = yb.Daemon({"s": SET_V1}, extra="backtest: {max_cpu_percent: 5}\n").start()
    driver = yb.browser()
    try:
        n = 6000
        d.produce([yb.post(f"第{i}条：江门疫情" if i % 2 == 0 else f"第{i}条：传闻封城", i) for i in range(n)])
        yb.wait_for(lambda: d.get("/api/v1/status")[1]["counters"]["consumed"] >= n, 120, f"{n} messages consumed")
        yb.sign_in(driver, d, ANALYST, view="sets")
        goto(driver, d, "sets?set=s&tab=edit")
        one(driver, "textarea.code")
        type_set(driver, SET_V2)
        # Every value the progress bar takes, recorded in the page.
        driver.execute_script("""
          window.__progress = [];
          const bar = document.querySelector('progress');
          new MutationObserver(() => window.__progress.push([bar.value, bar.max]))
            .observe(bar, {attributes: true});""")
        click_text(driver, "button", "开始回测")
        report = one(driver, ".backtest-report", timeout=120, what="the backtest report")
        seen = driver.execute_script("return window.__progress")
        label = one(driver, ".progress-text").text
        print(f"progress values seen: {len(seen)}, last {seen[-1] if seen else None}; label: {label}")
        assert seen and seen[-1][0] == seen[-1][1] and seen[-1][0] >= n, seen[-3:]
        assert "完成" in label, label
        row = yb.wait_for(lambda: next((r for r in report.find_elements(By.CSS_SELECTOR, "tbody tr") if r.text.startswith("B")), None),
                          5, "rule B in the diff")
        gained = row.find_element(By.CSS_SELECTOR, "td.gained").text
        assert gained == f"+{n // 2}", gained  # every odd message says 封城
        examples = report.find_elements(By.CSS_SELECTOR, ".examples li.gained mark")
        assert examples and all(m.text == "封城" for m in examples), [m.text for m in examples]
    finally:
        driver.quit()
        d.close()


def hits_search_and_text():
    """hits search finds by rule and region and highlights the hit; a message whose text
    is markup renders as text and runs nothing, in the list and opened"""
    d = yb.Daemon({"s": SET_V2}).start()
    driver = yb.browser()
    try:
        d.produce([yb.post("<img src=x onerror=alert(1)>江门疫情<script>alert(2)</script>", 1, region="新会区"),
                   yb.post("传闻封城", 2, region="蓬江区"), yb.post("今天天气好", 3)])
        yb.wait_for(lambda: d.get("/api/v1/status")[1]["counters"]["consumed"] >= 3, 60, "3 messages consumed")
        yb.sign_in(driver, d, VIEWER, view="hits")
        goto(driver, d, "hits?rule=A&since=1d")
        yb.wait_for(lambda: len(css(driver, "table.hits tbody tr")) == 1, 20, "one hit of rule A")
        row = css(driver, "table.hits tbody tr")[0]
        assert [m.text for m in row.find_elements(By.CSS_SELECTOR, "mark")] == ["疫情"]
        assert "<img src=x onerror=alert(1)>" in row.text and "新会区" in row.text, row.text
        assert not driver.find_elements(By.CSS_SELECTOR, ".hits-results img, .hits-results script")
        row.find_element(By.XPATH, ".//button[text()='查看原文']").click()
        text = one(driver, ".message-panel .message-text")
        assert "<script>alert(2)</script>" in text.text, text.text
        assert [m.text for m in text.find_elements(By.CSS_SELECTOR, "mark")] == ["疫情"]
        assert not driver.find_elements(By.CSS_SELECTOR, ".message-panel img, .message-panel script")
        assert no_dialog(driver), "a script of the message ran"

        # The form: region filter through the page, and a rule that matched nothing.
        field = one(driver, "input[name=rule]")
        field.clear()
        region = one(driver, "input[name=region]")
        region.send_keys("蓬江区")
        click_text(driver, "button", "检索")
        yb.wait_for(lambda: len(css(driver, "table.hits tbody tr")) == 1 and "封城" in css(driver, "table.hits tbody tr")[0].text,
                    20, "the 蓬江区 hit")
        assert "region=" in driver.current_url
        report = yb.accessibility(driver)
        assert not report["unnamed"], report
    finally:
        driver.quit()
        d.close()


def mailbox_cases_and_report():
    """the mailbox view lists the demo's cases by deadline (overdue first) and by unit, a
    case's message and reply, the concentrated issues with members, the report's tables and
    its CSV download; screenshots of the mailbox and the sets at 1920x1080"""
    d = yb.DemoDaemon().start()
    driver = yb.browser()
    downloads = tempfile.mkdtemp(prefix="yuqing-downloads-")
    try:
        d.feed()
        status, body = d.get("/api/v1/cases?limit=100000")
        assert status == 200, body
        waiting = [c for c in body["cases"] if c["state"] in ("open", "overdue")]
        overdue = [c for c in waiting if c["state"] == "overdue"]
        assert overdue, "the demo has overdue cases"
        yb.sign_in(driver, d, VIEWER, view="mailbox")
        yb.wait_for(lambda: len(css(driver, "table.cases tbody tr")) == len(waiting), 30, f"{len(waiting)} waiting cases")
        clocks = css(driver, "table.cases tbody tr td.clock")
        assert "late" in clocks[0].get_attribute("class") and clocks[0].text.startswith("超时"), clocks[0].text
        states = [r.find_elements(By.TAG_NAME, "td")[1].text for r in css(driver, "table.cases tbody tr")]
        assert states == sorted(states, key=lambda s: s != "已超期"), states  # overdue ones first
        css(driver, "table.cases tbody tr")[0].click()
        one(driver, ".case-detail .case-message", what="the case's message")
        yb.screenshot(driver, "mailbox")
        assert no_dialog(driver)

        closed = [c for c in body["cases"] if c["state"] == "closed"]
        goto(driver, d, "mailbox?tab=cases&state=closed")
        yb.wait_for(lambda: len(css(driver, "table.cases tbody tr")) == len(closed), 30, f"{len(closed)} closed cases")
        css(driver, "table.cases tbody tr")[0].click()
        yb.wait_for(lambda: len(css(driver, ".case-detail .case-message")) == 2, 20, "the message and its reply")
        assert "答复" in one(driver, ".case-detail dl").text

        goto(driver, d, "mailbox?tab=cases&group=unit")
        one(driver, ".unit-group h3", what="cases grouped by unit")

        _, report = d.get("/api/v1/report?from=30d")
        goto(driver, d, "mailbox?tab=issues")
        issues = len(report["concentrated_issues"]) + len(report["same_text_issues"])
        yb.wait_for(lambda: len(css(driver, "ul.issues > li")) == issues, 30, f"{issues} concentrated issues")
        if issues:
            css(driver, "ul.issues summary")[0].click()
            one(driver, "ul.members li", what="the first issue's members")

        goto(driver, d, "mailbox?tab=report")
        total = one(driver, "table.report tbody tr td", what="the report's total row")
        assert total.text == str(report["total"]["received"]), (total.text, report["total"])
        assert any(c.text == "按承办单位" for c in css(driver, "table.report caption"))
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        click_text(driver, "button", "下载 CSV")
        path = yb.wait_for(lambda: (glob.glob(os.path.join(downloads, "*.csv")) or [None])[0], 20, "the CSV download")
        with open(path, encoding="utf-8") as f:
            csv_lines = f.read().splitlines()
        _, api_csv = d.request("GET", "/api/v1/report?from=30d&format=csv")
        assert csv_lines[0] == api_csv.splitlines()[0] and len(csv_lines) == len(api_csv.splitlines()), csv_lines[:3]
        print(f"cases waiting {len(waiting)} (overdue {len(overdue)}), closed {len(closed)}, issues {issues}, csv lines {len(csv_lines)}")

        driver.find_element(By.ID, "signout").click()
        yb.sign_in(driver, d, ANALYST, view="sets")
        yb.wait_for(lambda: len(css(driver, "table.sets-list tbody tr")) >= 1 and css(driver, "table.rules"), 30, "the sets and rules")
        yb.wait_for(lambda: "…" not in one(driver, "table.sets-list").text, 20, "the hit counts")
        yb.screenshot(driver, "sets")
        goto(driver, d, "sets?set=epidemic-info&tab=edit")
        one(driver, ".check-state.ok", what="the set checked clean")
        yb.screenshot(driver, "sets-editor")
        report = yb.accessibility(driver)
        assert not report["unnamed"], report
    finally:
        driver.quit()
        d.close()


if __name__ == "__main__":
    name = sys.argv[1]
    started = time.monotonic()
    globals()[name]()
    print(f"{name}: ok in {time.monotonic() - started:.1f} s")
