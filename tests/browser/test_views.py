"""Browser tests of the console's keyword-set (关键词集), hits (命中检索) and mailbox
(政府信箱) views against a real yuqingd on its embedded broker, in headless Debian
chromium. Run one test by name:
    /usr/bin/python3 tests/browser/test_views.py set_typo_then_fix
(ctest runs each as its own test, label `browser`)."""
import glob
import os
import tempfile
import urllib.parse

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


def shot(driver, name):
    """A screenshot once the sign-in's passing notice has gone."""
    yb.wait_for(lambda: not css(driver, "#toast.show") and driver.execute_script(
        "return getComputedStyle(document.getElementById('toast')).opacity") == "0", 10, "the notice gone")
    yb.screenshot(driver, name)


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
        shot(driver, "mailbox")
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
        listed = report["concentrated_issues"] + report["same_text_issues"]
        with_members = next((i for i, x in enumerate(listed) if x["members"]), None)
        if with_members is not None:
            css(driver, "ul.issues summary")[with_members].click()
            yb.wait_for(lambda: len(css(driver, ".members li")) == min(20, len(listed[with_members]["members"])), 20,
                        "the members of an issue")

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
        shot(driver, "sets")
        goto(driver, d, "sets?set=epidemic-info&tab=edit")
        one(driver, ".check-state.ok", what="the set checked clean")
        shot(driver, "sets-editor")
        report = yb.accessibility(driver)
        assert not report["unnamed"], report
    finally:
        driver.quit()
        d.close()


SET_ALARM = ("id: s\nname: 疫情测试集\ntopic: epidemic\nplan_item: 9\nrules:\n"
             "  - {id: A, any: [疫情], severity: critical}\n  - {id: B, any: [封城]}\n"
             "alerts:\n  - {kind: immediate, min_severity: critical, level: orange}\n")


def api_verdict(d, hit_id):
    status, body = d.get("/api/v1/hits/" + urllib.parse.quote(hit_id, safe="") + "/verdict")
    return body if status == 200 else None


def hit_row(driver, hit_id):
    return next((r for r in css(driver, "table.hits tbody tr") if r.get_attribute("data-hit") == hit_id), None)


def verdicts_in_hits_and_alerts():
    """an analyst marks a hit 误报 with a note in 命中检索: the API has it with the person's
    name, the page shows it after a reload with its history; 有效 on the whole alert in
    值班台 marks its examples; a viewer sees the verdicts but no buttons"""
    d = yb.Daemon({"s": SET_ALARM}).start()
    driver = yb.browser()
    try:
        d.produce([yb.post("浙江门户网站转载：外省疫情通报", 1, region="新会区"),
                   yb.post("江门蓬江区疫情防控最新通知", 2, region="蓬江区"),
                   yb.post("传闻封城，官方辟谣", 3)])
        yb.wait_for(lambda: d.get("/api/v1/status")[1]["counters"]["consumed"] >= 3, 60, "3 messages consumed")
        yb.wait_for(lambda: any(a["set"] == "s" and a["examples"] for a in d.alerts()), 30, "the alert of set s with its example")
        yb.sign_in(driver, d, ANALYST, view="hits")
        goto(driver, d, "hits?set=s&rule=A&since=1d")
        yb.wait_for(lambda: len(css(driver, "table.hits tbody tr")) == 2, 20, "two hits of rule A")
        row = next(r for r in css(driver, "table.hits tbody tr") if "浙江门户" in r.text)
        hit_id = row.get_attribute("data-hit")
        assert hit_id.startswith("s|A|"), hit_id
        assert "未研判" in row.find_element(By.CSS_SELECTOR, ".verdict-current").text
        row.find_element(By.CSS_SELECTOR, "input.verdict-note-input").send_keys("浙江门户，非本地疫情")
        row.find_element(By.CSS_SELECTOR, "button.verdict-button[data-verdict=false]").click()
        got = yb.wait_for(lambda: api_verdict(d, hit_id), 10, "the verdict in the API")
        assert got["current"]["verdict"] == "false", got
        assert got["current"]["who"] == "王分析（网安支队）", got
        assert got["current"]["note"] == "浙江门户，非本地疫情", got
        yb.wait_for(lambda: "误报" in hit_row(driver, hit_id).find_element(By.CSS_SELECTOR, ".verdict-current").text, 5,
                    "误报 on the row at once")

        # After a reload the page shows what the daemon keeps, and the history on demand.
        driver.refresh()
        yb.wait_for(lambda: hit_row(driver, hit_id), 20, "the hit after the reload")
        shown = hit_row(driver, hit_id).find_element(By.CSS_SELECTOR, ".verdict-current")
        assert shown.find_element(By.CSS_SELECTOR, ".verdict").get_attribute("data-verdict") == "false", shown.text
        assert "王分析" in shown.text and "浙江门户，非本地疫情" in shown.text, shown.text
        hit_row(driver, hit_id).find_element(By.CSS_SELECTOR, ".verdict-log summary").click()
        item = one(driver, "table.hits .verdict-history li", what="the verdict history")
        assert "误报" in item.text and "王分析" in item.text, item.text
        assert "已研判 1 条" in one(driver, ".hits-results p.muted").text
        report = yb.accessibility(driver)
        assert not report["unnamed"], report
        driver.execute_script("document.activeElement.blur()")
        shot(driver, "hits-verdicts")

        # The whole alert 有效: its examples are marked (the hit above too: the latest verdict counts).
        alert = next(a for a in d.alerts() if a["set"] == "s")
        goto(driver, d, "alerts?id=" + urllib.parse.quote(alert["id"]))
        one(driver, ".examples[aria-busy=false]", what="the examples")
        assert len(css(driver, ".examples .verdict-box")) == len(alert["examples"]), "a verdict per example"
        one(driver, "#alert-verdict-note").send_keys("确为疫情舆情")
        one(driver, "#alert-verdict-relevant").click()
        status, av = yb.wait_for(lambda: (lambda r: r if r[0] == 200 else None)(
            d.get("/api/v1/alerts/" + urllib.parse.quote(alert["id"], safe="") + "/verdict")), 10, "the alert verdict in the API")
        assert av["verdict"] == "relevant" and av["hits_marked"] == len(alert["examples"]), av
        if any(hit_id.endswith("|" + e["message_key"]) for e in alert["examples"]):
            assert api_verdict(d, hit_id)["current"]["verdict"] == "relevant"
        yb.wait_for(lambda: len(css(driver, ".examples[aria-busy=false] .verdict-current .verdict-relevant")) == len(alert["examples"]),
                    10, "every example marked 有效")
        assert "有效" in one(driver, ".alert-verdict .verdict-current").text
        assert "null" not in one(driver, ".alert-verdict").text
        report = yb.accessibility(driver)
        assert not report["unnamed"], report
        shot(driver, "alerts-verdict")

        # A viewer reads the verdicts and gets no buttons.
        driver.find_element(By.ID, "signout").click()
        yb.sign_in(driver, d, VIEWER, view="hits")
        goto(driver, d, "hits?set=s&rule=A&since=1d")
        yb.wait_for(lambda: len(css(driver, "table.hits tbody tr")) == 2, 20, "the hits for the viewer")
        assert "有效" in hit_row(driver, hit_id).find_element(By.CSS_SELECTOR, ".verdict-current").text
        assert not css(driver, "button.verdict-button"), "a viewer must not see verdict buttons"
        status, _ = d.request("POST", "/api/v1/hits/" + urllib.parse.quote(hit_id, safe="") + "/verdict",
                              {"verdict": "false"}, token=VIEWER)
        assert status == 403, status
    finally:
        driver.quit()
        d.close()


SET_PLACE = "id: place\nname: 地名集\ntopic: place\nrules:\n  - {id: JM, any: [江门]}\n  - {id: XH, any: [新会]}\n"


def precision_and_suggestion_applied():
    """the 准确率 tab shows each rule's hits, verdicts, precision and Wilson interval as the
    API gives them, ranked by false hits; the suggestion that removes the false hits is
    listed with its backtest, and 采纳 makes a new set version that the view shows"""
    d = yb.Daemon({"place": SET_PLACE}).start()
    driver = yb.browser()
    try:
        # 江门 inside 浙江门户 is the false hit; 网站 is in every message, so it is no suggestion.
        false_texts = ["浙江门户网站首页改版", "浙江门户网站发布天气预报", "浙江门户网站招聘公告",
                       "浙江门户网站访谈节目", "浙江门户网站专栏上线", "浙江门户网站维护通知"]
        true_texts = ["江门市政府网站发布降雨通报", "江门日报网站报道交通管制", "江门本地网站关注停水",
                      "江门网站通报疫情防控", "江门新闻网站直播会议", "江门官方网站答复市民", "新会区陈皮节开幕"]
        d.produce([yb.post(t, i) for i, t in enumerate(false_texts + true_texts)])
        yb.wait_for(lambda: d.get("/api/v1/status")[1]["counters"]["consumed"] >= 13, 60, "13 messages consumed")
        _, hits = d.get("/api/v1/hits?set=place&rule=JM&excerpt=1&limit=100")
        assert len(hits["hits"]) == 12, hits
        for x in hits["hits"]:
            text = "".join(p["text"] for p in x["context"]["excerpt"])
            verdict = "false" if "浙江门户" in text else "relevant"
            status, body = d.request("POST", "/api/v1/hits/" + urllib.parse.quote(x["id"], safe="") + "/verdict",
                                     {"verdict": verdict, "note": "测试"}, token=ANALYST)
            assert status == 200, body
        before = set_version(d, "place")["version"]
        _, rep = d.get("/api/v1/precision?set=place")
        _, sug = d.get("/api/v1/suggestions?set=place&rule=JM")
        assert sug["suggestions"], sug

        yb.sign_in(driver, d, ANALYST, view="sets")
        goto(driver, d, "sets?set=place&tab=precision")
        yb.wait_for(lambda: len(css(driver, "table.precision tbody tr")) == 2, 20, "both rules in the precision table")
        rows = css(driver, "table.precision tbody tr")
        assert [r.get_attribute("data-rule") for r in rows] == [r["rule"] for r in rep["rules"]] == ["JM", "XH"], rep
        for r, want in zip(rows, rep["rules"]):
            cell = lambda c: r.find_element(By.CSS_SELECTOR, "td." + c).text
            assert [cell("hits"), cell("judged"), cell("relevant"), cell("false")] == \
                [str(want["hits"]), str(want["judged"]), str(want["relevant"]), str(want["false"])], (r.text, want)
            if want["precision"] is None:
                assert cell("precision-value") == "—"
            else:
                assert cell("precision-value") == f"{want['precision'] * 100:.1f}%", (cell("precision-value"), want)
                iv = want["interval"]
                assert cell("interval") == f"{iv['low'] * 100:.1f}% – {iv['high'] * 100:.1f}%", (cell("interval"), iv)
        assert rows[0].find_element(By.CSS_SELECTOR, "td.precision-value").text == "50.0%"

        table = one(driver, "table.suggestions[data-rule=JM]", timeout=60, what="the suggestions of JM")
        srows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert len(srows) == len(sug["suggestions"]), (len(srows), sug)
        first = sug["suggestions"][0]
        assert srows[0].get_attribute("data-text") == first["text"], (srows[0].text, first)
        assert srows[0].find_element(By.CSS_SELECTOR, "td.false-removed").text == str(first["backtest"]["false_removed"])
        assert srows[0].find_element(By.CSS_SELECTOR, "td.relevant-lost").text == str(first["backtest"]["relevant_lost"])
        assert first["backtest"]["false_removed"] == 6 and first["backtest"]["relevant_lost"] == 0, first
        print(f"precision JM {rep['rules'][0]['precision']:.3f} {rep['rules'][0]['interval']}; "
              f"first suggestion {first['kind']} '{first['text']}' S/O {first['so']:.2f}, "
              f"removes {first['backtest']['false_removed']} false, loses {first['backtest']['relevant_lost']} relevant")
        report = yb.accessibility(driver)
        assert not report["unnamed"], report
        driver.execute_script("document.activeElement.blur()")
        shot(driver, "sets-precision")

        srows[0].find_element(By.CSS_SELECTOR, "button.apply").click()
        state = yb.wait_for(lambda: (lambda e: e if e and "新版本" in e.text else None)(
            (css(driver, ".apply-state.ok") or [None])[0]), 30, "the new version announced")
        after = set_version(d, "place")["version"]
        assert after != before, (before, after)
        assert after in state.text and before in state.text, state.text
        assert one(driver, ".current-version").text == after
        assert after in one(driver, "table.sets-list").text
        _, detail = d.get("/api/v1/keyword-sets/place")
        assert first["text"] in detail["text"], detail["text"]
        print(f"采纳: version {before} -> {after}")
    finally:
        driver.quit()
        d.close()


def risk_view_parts_equal_api():
    """the 风险研判 view on the demo data lists every policy topic with its index, level,
    trend sparkline and parts, each number equal to /api/v1/risk; a topic's regions with
    theirs; screenshot at 1920x1080"""
    d = yb.DemoDaemon().start()
    driver = yb.browser()
    try:
        d.feed()
        status, risk = d.get("/api/v1/risk")
        assert status == 200, risk
        totals = [r for r in risk["readings"] if r["region"] == "全市"]
        assert totals, risk
        yb.sign_in(driver, d, VIEWER, view="risk")
        yb.wait_for(lambda: len(css(driver, "table.risk-topics tbody tr")) == len(totals), 30, f"{len(totals)} topics")
        yb.wait_for(lambda: len(css(driver, "table.risk-topics svg.spark")) == len(totals), 20, "the sparklines")
        by_topic = {r["topic"]: r for r in totals}
        values = []
        for row in css(driver, "table.risk-topics tbody tr"):
            want = by_topic[row.get_attribute("data-topic")]
            values.append(want["value"])
            assert row.find_element(By.CSS_SELECTOR, "td.index .value").text == f"{want['value']:.1f}", (row.text, want)
            assert row.find_element(By.CSS_SELECTOR, ".risk-level").text == want["level_label"]
            assert f"risk-{want['level']}" in row.find_element(By.CSS_SELECTOR, ".risk-level").get_attribute("class")
            for part in want["parts"]:
                cell = row.find_element(By.CSS_SELECTOR, f"td.part[data-part={part['name']}]")
                shown = cell.find_element(By.CSS_SELECTOR, ".points").text
                assert shown == (f"{part['points']:.1f}" if part["known"] else "—"), (part, shown)
            vol = row.find_element(By.CSS_SELECTOR, "td.part[data-part=volume] .figures").text
            assert vol == f"消息 {want['figures']['messages']} 条", vol
        assert values == sorted(values, reverse=True), values
        print("topics: " + ", ".join(f"{r.get_attribute('data-topic')} {r.get_attribute('data-value')}"
                                      for r in css(driver, "table.risk-topics tbody tr")))
        report = yb.accessibility(driver)
        assert not report["unnamed"], report
        shot(driver, "risk-1920x1080")

        top = css(driver, "table.risk-topics tbody tr")[0].get_attribute("data-topic")
        regions = sorted((r for r in risk["readings"] if r["topic"] == top and r["region"] != "全市"),
                         key=lambda r: (-r["value"], r["region"]))
        goto(driver, d, "risk?topic=" + urllib.parse.quote(top))
        yb.wait_for(lambda: len(css(driver, "table.risk-regions tbody tr")) == len(regions), 30, f"the {len(regions)} regions of {top}")
        shown = [(r.get_attribute("data-region"), r.get_attribute("data-value")) for r in css(driver, "table.risk-regions tbody tr")]
        assert shown == [(r["region"], f"{r['value']:.1f}") for r in regions], (shown, regions)
        assert "topic=" in driver.current_url
    finally:
        driver.quit()
        d.close()


if __name__ == "__main__":
    yb.run_named(globals())
