// The renderings: Markdown, HTML (self-contained, A4, inline SVG) and JSON.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "briefing/briefing.h"

namespace yuqing::briefing {

namespace {

using nlohmann::ordered_json;

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}
std::string signed1(double v) { return (v >= 0 ? "+" : "") + fixed1(v); }
std::string num(uint64_t v) { return std::to_string(v); }
std::string name_of(const topic_figures& t) { return t.name.empty() ? t.topic : t.name; }

// A message's text on one line, at most `max_chars` characters (then "…"), valid UTF-8.
std::string one_line(const std::string& s, size_t max_chars = 120) {
  const std::string v = valid_utf8(s);
  std::string out;
  size_t chars = 0;
  bool space = false;
  for (size_t i = 0; i < v.size();) {
    const unsigned char c = static_cast<unsigned char>(v[i]);
    const size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      ++i;
      continue;
    }
    if (chars >= max_chars) {
      out += "…";
      break;
    }
    if (space) {
      out += ' ';
      ++chars;
      space = false;
    }
    out.append(v, i, len);
    ++chars;
    i += len;
  }
  return out;
}

// Markdown: a text from a message, with the characters that would make markup escaped.
std::string md_text(const std::string& s, size_t max_chars = 120) {
  std::string out;
  for (char c : one_line(s, max_chars)) {
    if (std::string_view("\\`*_[]<>#|~").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string alerts_text(const std::map<std::string, uint64_t>& a) {
  auto n = [&](const char* l) {
    auto it = a.find(l);
    return num(it == a.end() ? 0 : it->second);
  };
  return n("red") + "/" + n("orange") + "/" + n("yellow") + "/" + n("blue");
}

std::string parts_text(const std::vector<index_part>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!p.known) continue;
    if (p.points < 0.05) continue;
    out += (out.empty() ? "" : " + ") + p.label + " " + fixed1(p.points);
  }
  return out.empty() ? "—" : out;
}

std::string unknown_parts(const std::vector<index_part>& parts) {
  std::string out;
  for (const auto& p : parts)
    if (!p.known) out += (out.empty() ? "" : "、") + p.label;
  return out;
}

const char* cluster_kind(const std::string& k) { return k == "mailbox" ? "信箱集中诉求" : "同文多发"; }
const char* issue_by(const std::string& by) {
  if (by == "topic") return "话题";
  if (by == "category") return "类别";
  return "同类留言";
}

std::string offset_text(int off) {
  char buf[32];
  const int a = off < 0 ? -off : off;
  std::snprintf(buf, sizeof buf, "UTC%c%02d:%02d", off < 0 ? '-' : '+', a / 60, a % 60);
  return buf;
}

std::string period_line(const briefing& b) {
  const int off = b.p.utc_offset_minutes;
  return "统计时段：" + local_clock(b.p.from_ms, off) + " 至 " + local_clock(b.p.to_ms, off) + "（" + offset_text(off) +
         "）　生成时间：" + local_clock(b.generated_ms, off);
}

std::string slot_label(const briefing& b, size_t i) {
  static const char* days[] = {"周一", "周二", "周三", "周四", "周五", "周六", "周日"};
  if (b.p.kind == period_kind::weekly) return i < 7 ? days[i] : std::to_string(i);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02zu", i);
  return buf;
}

bool daily(const briefing& b) { return b.p.kind == period_kind::daily; }

// "08:00 至 16:00" within a day's period, else with the dates.
std::string span_text(const briefing& b, int64_t from, int64_t to) {
  const int off = b.p.utc_offset_minutes;
  const bool times = daily(b) && from >= b.p.from_ms && to < b.p.to_ms;
  return local_clock(from, off, times) + " 至 " + local_clock(to, off, times);
}

std::string issue_what(const briefing& b, const issue_figures& i) {
  return i.by == "topic" ? b.topic_name(i.what) : i.what;
}

// 本日 or 本周, and the period it is compared with: 前一日 or 上周.
std::string this_period(const briefing& b) { return daily(b) ? "本日" : "本周"; }
std::string last_period(const briefing& b) { return daily(b) ? "前一日" : "上周"; }

// A row of 二、总体情况: what is counted, in this period and in the one before.
struct overview_row {
  std::string what, now, before;
};

std::vector<overview_row> overview_rows(const briefing& b) {
  std::vector<overview_row> rows = {
      {"监测信息（条）", num(b.now.messages), num(b.previous.messages)},
      {"命中关键词信息（条）", num(b.now.hit_messages), num(b.previous.hit_messages)},
      {"命中次数", num(b.now.hits), num(b.previous.hits)},
      {"预警（红/橙/黄/蓝）", alerts_text(b.now.alerts), alerts_text(b.previous.alerts)}};
  if (b.now.mailbox.present) {
    rows.push_back({"信箱收到留言（件）", num(b.now.mailbox.received), num(b.previous.mailbox.received)});
    rows.push_back({"按期答复（件）", num(b.now.mailbox.on_time), num(b.previous.mailbox.on_time)});
    rows.push_back({"超期未复（件）", num(b.now.mailbox.overdue), num(b.previous.mailbox.overdue)});
  }
  return rows;
}

// The mailbox's figures in a sentence, without its full stop.
std::string mailbox_text(const mailbox_figures& m) {
  return "收到留言 " + num(m.received) + " 件，按期答复 " + num(m.on_time) + " 件，逾期答复 " + num(m.late) +
         " 件，办理中 " + num(m.open) + " 件，超期未复 " + num(m.overdue) + " 件" +
         (m.on_time + m.late ? "，答复用时中位数 " + fixed1(m.median_reply_hours) + " 小时" : std::string());
}

}  // namespace

// ---- Markdown ----------------------------------------------------------------------------

namespace {

std::string markdown_summary(const briefing& b) {
  std::string o = "## 一、要点\n\n";
  for (const auto& s : b.summary) o += "- " + s + "\n";
  return o + "\n";
}

std::string markdown_overview(const briefing& b) {
  std::string o = "## 二、总体情况\n\n";
  o += "| 项目 | " + this_period(b) + " | " + last_period(b) + " |\n|---|---:|---:|\n";
  for (const auto& r : overview_rows(b)) o += "| " + r.what + " | " + r.now + " | " + r.before + " |\n";
  return o + "\n";
}

std::string markdown_topic_row(const briefing& b, const topic_row& t) {
  const int off = b.p.utc_offset_minutes;
  return "| " + md_text(name_of(t.now), 40) + " | " + fixed1(t.now.index) + " | " + level_chinese(t.now.level) +
         " | " + arrow(t.t) + " | " + (t.previous ? signed1(t.change) : std::string("—")) + " | " +
         (t.now.peak_ms ? local_clock(t.now.peak_ms, off, daily(b)) : std::string("—")) + " | " +
         parts_text(t.now.parts) + " | " + num(t.now.messages) + " |\n";
}

// The topics table, with a note on the parts of the index left out.
std::string markdown_topics(const briefing& b) {
  const std::string this_p = this_period(b), last_p = last_period(b);
  std::string o = "## 三、话题风险指数\n\n";
  if (b.topics.empty()) return o + this_p + "无政策话题命中。\n\n";
  o += "指数为" + this_p + "全市峰值（0–100），趋势对比" + last_p + "峰值（±" + fixed1(b.opts.arrow_points) +
       " 点以内为 →），新 为" + this_p + "新出现话题。\n\n";
  o += "| 话题 | 指数 | 等级 | 趋势 | 较" + last_p + " | 峰值时间 | 指数构成 | 信息（条） |\n";
  o += "|---|---:|---|:---:|---:|---|---|---:|\n";
  for (const auto& t : b.topics) o += markdown_topic_row(b, t);
  std::string unknown;
  for (const auto& t : b.topics)
    if (auto u = unknown_parts(t.now.parts); !u.empty()) unknown = u;
  if (!unknown.empty()) o += "\n注：" + unknown + "暂无数据（未配置倾向词表或基线不足），未计入指数。\n";
  return o + "\n";
}

std::string markdown_clusters(const briefing& b) {
  std::string o = "## 四、热点聚类\n\n";
  if (b.clusters.empty()) return o + this_period(b) + "未发现集中诉求或同文多发。\n\n";
  for (size_t i = 0; i < b.clusters.size(); ++i) {
    const auto& c = b.clusters[i];
    o += std::to_string(i + 1) + ". " + (c.fresh ? "【新】" : "") + cluster_kind(c.c.kind) +
         (c.c.topic.empty() ? "" : " · " + md_text(b.topic_name(c.c.topic), 40)) + " · " + num(c.c.count) + " 条（" +
         span_text(b, c.c.first_ms, c.c.last_ms) + "）\n";
    o += "   > " + md_text(c.c.text) + "\n";
  }
  return o + "\n";
}

std::string markdown_regions(const briefing& b) {
  std::string o = "## 五、上升较快的地区\n\n";
  if (b.regions.empty()) return o + "各地区风险指数较" + last_period(b) + "无上升。\n\n";
  o += "| 地区 | 指数 | 上升 | 主要话题 | 信息（条） | 增减 |\n|---|---:|---:|---|---:|---:|\n";
  for (const auto& r : b.regions) {
    o += "| " + md_text(r.now.region, 40) + (r.previous ? "" : " 新") + " | " + fixed1(r.now.index) + " | " +
         signed1(r.rise) + " | " + md_text(b.topic_name(r.now.topic), 40) + " | " + num(r.now.messages) + " | " +
         (r.message_change >= 0 ? "+" : "") + std::to_string(r.message_change) + " |\n";
  }
  return o + "\n";
}

std::string markdown_units(const std::vector<unit_figures>& units) {
  std::string o = "| 责任单位 | 收到 | 按期答复 | 逾期答复 | 办理中 | 超期未复 |\n|---|---:|---:|---:|---:|---:|\n";
  for (const auto& u : units)
    o += "| " + md_text(u.unit, 40) + " | " + num(u.received) + " | " + num(u.on_time) + " | " + num(u.late) +
         " | " + num(u.open) + " | " + (u.overdue ? "**" + num(u.overdue) + "**" : num(u.overdue)) + " |\n";
  return o + "\n";
}

// The mailbox's figures, its units table and the concentrated issues.
std::string markdown_mailbox(const briefing& b) {
  std::string o = "## 六、政府信箱\n\n";
  const auto& m = b.now.mailbox;
  if (!m.present) return o + "未接入省长留言信箱。\n\n";
  o += mailbox_text(m) + "。\n\n";
  if (!m.units.empty()) o += markdown_units(m.units);
  if (b.issues.empty()) return o + "无集中诉求。\n\n";
  o += "集中诉求（" + num(b.opts.reinterpret_count) + " 件及以上建议二次解读）：\n\n";
  for (const auto& i : b.issues) {
    o += "- " + std::string(issue_by(i.i.by)) + "「" + md_text(issue_what(b, i.i), 60) + "」" + num(i.i.count) + " 件（上期 " +
         num(i.i.previous) + " 件）" + (i.reinterpret ? "——**建议二次解读**" : "") + "\n";
  }
  return o + "\n";
}

std::string markdown_rules(const briefing& b) {
  std::string o = "## 七、误报较多的规则\n\n";
  if (b.rules.empty()) return o + this_period(b) + "无研判为误报的命中。\n";
  o += "| 关键词集/规则 | 命中 | 已研判 | 误报 | 准确率 |\n|---|---:|---:|---:|---:|\n";
  for (const auto& r : b.rules)
    o += "| " + md_text(r.r.set + "/" + r.r.rule, 60) + " | " + num(r.r.hits) + " | " + num(r.r.judged) + " | " +
         num(r.r.false_hits) + " | " + fixed1(r.precision * 100) + "% |\n";
  return o;
}

}  // namespace

std::string to_markdown(const briefing& b) {
  return "# " + b.title + "\n\n" + period_line(b) + "\n\n" + markdown_summary(b) + markdown_overview(b) +
         markdown_topics(b) + markdown_clusters(b) + markdown_regions(b) + markdown_mailbox(b) + markdown_rules(b);
}

// ---- HTML --------------------------------------------------------------------------------

namespace {

const char* level_color(const std::string& level) {
  if (level == "very_high") return "#b71c1c";
  if (level == "high") return "#e65100";
  if (level == "medium") return "#f9a825";
  return "#2e7d32";
}

// Bars of messages per hour (daily) or per day (weekly).
std::string volume_chart(const briefing& b) {
  const auto& v = b.now.messages_by_slot;
  if (v.empty()) return "";
  const uint64_t top = std::max<uint64_t>(1, *std::max_element(v.begin(), v.end()));
  const int w = 680, h = 180, left = 40, bottom = 24, top_pad = 14;
  const double slot = static_cast<double>(w - left - 10) / static_cast<double>(v.size());
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"" + std::to_string(w) +
                  "\" height=\"" + std::to_string(h) + "\" viewBox=\"0 0 " + std::to_string(w) + " " +
                  std::to_string(h) + "\"><title>" + (daily(b) ? "每小时信息量" : "每日信息量") + "</title>";
  const int plot_h = h - bottom - top_pad;
  s += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(h - bottom) + "\" x2=\"" +
       std::to_string(w - 10) + "\" y2=\"" + std::to_string(h - bottom) + "\" stroke=\"#888\"/>";
  s += "<text x=\"" + std::to_string(left - 4) + "\" y=\"" + std::to_string(top_pad + 4) +
       "\" text-anchor=\"end\" font-size=\"10\">" + num(top) + "</text>";
  for (size_t i = 0; i < v.size(); ++i) {
    const double bh = static_cast<double>(v[i]) * plot_h / static_cast<double>(top);
    const double x = left + slot * static_cast<double>(i) + slot * 0.15;
    s += "<rect x=\"" + fixed1(x) + "\" y=\"" + fixed1(h - bottom - bh) + "\" width=\"" + fixed1(slot * 0.7) +
         "\" height=\"" + fixed1(bh) + "\" fill=\"#1565c0\"><title>" + slot_label(b, i) + "：" + num(v[i]) +
         " 条</title></rect>";
    if (!daily(b) || i % 3 == 0)
      s += "<text x=\"" + fixed1(x + slot * 0.35) + "\" y=\"" + std::to_string(h - 8) +
           "\" text-anchor=\"middle\" font-size=\"10\">" + slot_label(b, i) + "</text>";
  }
  return s + "</svg>";
}

// Horizontal bars of each topic's index, with the level thresholds' colours.
std::string index_chart(const briefing& b) {
  if (b.topics.empty()) return "";
  const int row = 22, w = 680, label_w = 150, bar_w = w - label_w - 120;
  const int h = row * static_cast<int>(b.topics.size()) + 10;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"" + std::to_string(w) +
                  "\" height=\"" + std::to_string(h) + "\" viewBox=\"0 0 " + std::to_string(w) + " " +
                  std::to_string(h) + "\"><title>话题风险指数</title>";
  for (size_t i = 0; i < b.topics.size(); ++i) {
    const auto& t = b.topics[i];
    const int y = 5 + row * static_cast<int>(i);
    const double len = std::clamp(t.now.index, 0.0, 100.0) * bar_w / 100.0;
    s += "<text x=\"" + std::to_string(label_w - 6) + "\" y=\"" + std::to_string(y + 14) +
         "\" text-anchor=\"end\" font-size=\"12\">" + html_escape(one_line(name_of(t.now), 10)) + "</text>";
    s += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 3) + "\" width=\"" +
         std::to_string(bar_w) + "\" height=\"14\" fill=\"#eee\"/>";
    s += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 3) + "\" width=\"" + fixed1(len) +
         "\" height=\"14\" fill=\"" + level_color(t.now.level) + "\"/>";
    if (t.previous) {
      const double px = label_w + std::clamp(*t.previous, 0.0, 100.0) * bar_w / 100.0;
      s += "<line x1=\"" + fixed1(px) + "\" y1=\"" + std::to_string(y + 1) + "\" x2=\"" + fixed1(px) + "\" y2=\"" +
           std::to_string(y + 19) + "\" stroke=\"#000\" stroke-dasharray=\"2,2\"/>";
    }
    s += "<text x=\"" + std::to_string(label_w + bar_w + 6) + "\" y=\"" + std::to_string(y + 14) +
         "\" font-size=\"12\">" + fixed1(t.now.index) + " " + level_chinese(t.now.level) + " " + arrow(t.t) + "</text>";
  }
  return s + "</svg>";
}

const char* css = R"(@page { size: A4; margin: 15mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun", sans-serif; font-size: 10.5pt; color: #111; margin: 0 auto; max-width: 182mm; line-height: 1.5; }
h1 { font-size: 18pt; text-align: center; color: #b71c1c; border-bottom: 2px solid #b71c1c; padding-bottom: 6px; margin: 8px 0; }
h2 { font-size: 13pt; border-left: 4px solid #b71c1c; padding-left: 6px; margin: 14px 0 6px; page-break-after: avoid; }
.meta { text-align: center; color: #555; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #999; padding: 2px 5px; font-size: 9.5pt; }
th { background: #f2f2f2; white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.up { color: #b71c1c; font-weight: bold; } .down { color: #2e7d32; font-weight: bold; }
.new { color: #fff; background: #b71c1c; border-radius: 3px; padding: 0 3px; font-size: 8.5pt; }
.lvl { color: #fff; border-radius: 3px; padding: 0 4px; }
blockquote { margin: 2px 0 6px 16px; padding: 2px 8px; border-left: 3px solid #ccc; color: #333; word-break: break-all; }
.note { color: #555; font-size: 9pt; }
.suggest { color: #b71c1c; font-weight: bold; }
svg { display: block; margin: 4px 0; max-width: 100%; height: auto; }
footer { margin-top: 16px; color: #777; font-size: 8.5pt; text-align: center; }
)";

std::string td(const std::string& s, bool n = false) { return std::string(n ? "<td class=\"n\">" : "<td>") + s + "</td>"; }

std::string arrow_html(trend t) {
  switch (t) {
    case trend::up: return "<span class=\"up\">↑</span>";
    case trend::down: return "<span class=\"down\">↓</span>";
    case trend::fresh: return "<span class=\"new\">新</span>";
    default: return "→";
  }
}

// The document up to the title and the period line, with the style sheet.
std::string html_head(const briefing& b) {
  const std::string o = "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                        "<title>" + html_escape(b.title) + "</title><style>" + css + "</style></head><body>\n";
  return o + "<h1>" + html_escape(b.title) + "</h1>\n<p class=\"meta\">" + html_escape(period_line(b)) + "</p>\n";
}

std::string html_summary(const briefing& b) {
  std::string o = "<h2>一、要点</h2>\n<ul>";
  for (const auto& s : b.summary) o += "<li>" + html_escape(s) + "</li>";
  return o + "</ul>\n";
}

// The overview table and the chart of messages per hour or day.
std::string html_overview(const briefing& b) {
  std::string o = "<h2>二、总体情况</h2>\n<table><tr><th>项目</th><th>" + this_period(b) + "</th><th>" + last_period(b) +
                  "</th></tr>";
  for (const auto& r : overview_rows(b)) o += "<tr>" + td(r.what) + td(r.now, true) + td(r.before, true) + "</tr>";
  o += "</table>\n";
  return o + "<p class=\"note\">" + std::string(daily(b) ? "每小时信息量" : "每日信息量") + "</p>" + volume_chart(b) + "\n";
}

std::string html_topic_row(const briefing& b, const topic_row& t) {
  const int off = b.p.utc_offset_minutes;
  return "<tr>" + td(html_escape(name_of(t.now))) + td(fixed1(t.now.index), true) +
         td("<span class=\"lvl\" style=\"background:" + std::string(level_color(t.now.level)) + "\">" +
            level_chinese(t.now.level) + "</span>") +
         td(arrow_html(t.t)) + td(t.previous ? signed1(t.change) : "—", true) +
         td(t.now.peak_ms ? local_clock(t.now.peak_ms, off, daily(b)) : "—") + td(html_escape(parts_text(t.now.parts))) +
         td(num(t.now.messages), true) + "</tr>";
}

// The chart of the topics' indexes and the topics table.
std::string html_topics(const briefing& b) {
  std::string o = "<h2>三、话题风险指数</h2>\n";
  if (b.topics.empty()) return o + "<p>" + this_period(b) + "无政策话题命中。</p>\n";
  o += index_chart(b);
  o += "<p class=\"note\">指数为" + this_period(b) + "全市峰值（0–100），虚线为" + last_period(b) + "峰值；趋势 ±" +
       fixed1(b.opts.arrow_points) + " 点以内为 →。</p>\n";
  o += "<table><tr><th>话题</th><th>指数</th><th>等级</th><th>趋势</th><th>较" + last_period(b) +
       "</th><th>峰值时间</th><th>指数构成</th><th>信息（条）</th></tr>";
  for (const auto& t : b.topics) o += html_topic_row(b, t);
  return o + "</table>\n";
}

std::string html_clusters(const briefing& b) {
  std::string o = "<h2>四、热点聚类</h2>\n";
  if (b.clusters.empty()) return o + "<p>" + this_period(b) + "未发现集中诉求或同文多发。</p>\n";
  o += "<ol>";
  for (const auto& c : b.clusters) {
    o += "<li>" + std::string(c.fresh ? "<span class=\"new\">新</span> " : "") + cluster_kind(c.c.kind) +
         (c.c.topic.empty() ? "" : " · " + html_escape(b.topic_name(c.c.topic))) + " · " + num(c.c.count) + " 条（" +
         span_text(b, c.c.first_ms, c.c.last_ms) + "）<blockquote>" +
         html_escape(one_line(c.c.text, 200)) + "</blockquote></li>";
  }
  return o + "</ol>\n";
}

std::string html_regions(const briefing& b) {
  std::string o = "<h2>五、上升较快的地区</h2>\n";
  if (b.regions.empty()) return o + "<p>各地区风险指数较" + last_period(b) + "无上升。</p>\n";
  o += "<table><tr><th>地区</th><th>指数</th><th>上升</th><th>主要话题</th><th>信息（条）</th><th>增减</th></tr>";
  for (const auto& r : b.regions)
    o += "<tr>" + td(html_escape(r.now.region) + (r.previous ? "" : " <span class=\"new\">新</span>")) +
         td(fixed1(r.now.index), true) + td(signed1(r.rise), true) + td(html_escape(b.topic_name(r.now.topic))) +
         td(num(r.now.messages), true) +
         td((r.message_change >= 0 ? "+" : "") + std::to_string(r.message_change), true) + "</tr>";
  return o + "</table>\n";
}

std::string html_units(const std::vector<unit_figures>& units) {
  std::string o = "<table><tr><th>责任单位</th><th>收到</th><th>按期答复</th><th>逾期答复</th><th>办理中</th><th>超期未复</th></tr>";
  for (const auto& u : units)
    o += "<tr>" + td(html_escape(u.unit)) + td(num(u.received), true) + td(num(u.on_time), true) +
         td(num(u.late), true) + td(num(u.open), true) +
         td(u.overdue ? "<b>" + num(u.overdue) + "</b>" : num(u.overdue), true) + "</tr>";
  return o + "</table>\n";
}

// The mailbox's figures, its units table and the concentrated issues.
std::string html_mailbox(const briefing& b) {
  std::string o = "<h2>六、政府信箱</h2>\n";
  const auto& m = b.now.mailbox;
  if (!m.present) return o + "<p>未接入省长留言信箱。</p>\n";
  o += "<p>" + mailbox_text(m) + "。</p>\n";
  if (!m.units.empty()) o += html_units(m.units);
  if (b.issues.empty()) return o + "<p>无集中诉求。</p>\n";
  o += "<p>集中诉求（" + num(b.opts.reinterpret_count) + " 件及以上建议二次解读）：</p><ul>";
  for (const auto& i : b.issues)
    o += "<li>" + std::string(issue_by(i.i.by)) + "「" + html_escape(one_line(issue_what(b, i.i), 100)) + "」" +
         num(i.i.count) + " 件（上期 " + num(i.i.previous) + " 件）" +
         (i.reinterpret ? "——<span class=\"suggest\">建议二次解读</span>" : "") + "</li>";
  return o + "</ul>\n";
}

std::string html_rules(const briefing& b) {
  std::string o = "<h2>七、误报较多的规则</h2>\n";
  if (b.rules.empty()) return o + "<p>" + this_period(b) + "无研判为误报的命中。</p>\n";
  o += "<table><tr><th>关键词集/规则</th><th>命中</th><th>已研判</th><th>误报</th><th>准确率</th></tr>";
  for (const auto& r : b.rules)
    o += "<tr>" + td(html_escape(r.r.set + "/" + r.r.rule)) + td(num(r.r.hits), true) + td(num(r.r.judged), true) +
         td(num(r.r.false_hits), true) + td(fixed1(r.precision * 100) + "%", true) + "</tr>";
  return o + "</table>\n";
}

}  // namespace

std::string to_html(const briefing& b) {
  return html_head(b) + html_summary(b) + html_overview(b) + html_topics(b) + html_clusters(b) + html_regions(b) +
         html_mailbox(b) + html_rules(b) + "<footer>" + html_escape(b.opts.organisation) + " · yuqing 舆情监测 · " +
         html_escape(b.id) + "</footer>\n</body></html>\n";
}

// ---- JSON --------------------------------------------------------------------------------

namespace {

// RFC 3339 in the briefing's offset: "2022-11-21T00:00:00+08:00".
std::string rfc3339(const briefing& b, int64_t ms) {
  const int off = b.p.utc_offset_minutes;
  std::string s = local_clock(ms, off);
  s[10] = 'T';
  char z[16];
  const int a = off < 0 ? -off : off;
  std::snprintf(z, sizeof z, ":00%c%02d:%02d", off < 0 ? '-' : '+', a / 60, a % 60);
  return s + z;
}

// One period's messages, hits, alerts by level and, with a mailbox channel, mailbox figures.
ordered_json json_overview(const period_figures& f) {
  ordered_json j{{"messages", f.messages}, {"hit_messages", f.hit_messages}, {"hits", f.hits}};
  ordered_json alerts = ordered_json::object();
  for (const char* l : {"red", "orange", "yellow", "blue"}) {
    auto it = f.alerts.find(l);
    alerts[l] = it == f.alerts.end() ? 0 : it->second;
  }
  j["alerts"] = alerts;
  if (f.mailbox.present)
    j["mailbox"] = {{"received", f.mailbox.received}, {"on_time", f.mailbox.on_time}, {"late", f.mailbox.late},
                    {"open", f.mailbox.open}, {"overdue", f.mailbox.overdue}};
  return j;
}

ordered_json json_topics(const briefing& b) {
  ordered_json topics = ordered_json::array();
  for (const auto& t : b.topics) {
    ordered_json parts = ordered_json::array();
    for (const auto& p : t.now.parts) parts.push_back({{"label", p.label}, {"points", std::round(p.points * 10) / 10}, {"known", p.known}});
    ordered_json row{{"topic", t.now.topic}, {"name", name_of(t.now)}, {"index", t.now.index},
                     {"level", t.now.level}, {"level_zh", level_chinese(t.now.level)}, {"trend", arrow(t.t)},
                     {"new", t.t == trend::fresh}};
    row["previous"] = t.previous ? ordered_json(*t.previous) : ordered_json(nullptr);
    row["change"] = t.previous ? ordered_json(std::round(t.change * 10) / 10) : ordered_json(nullptr);
    row["peak_at"] = t.now.peak_ms ? ordered_json(rfc3339(b, t.now.peak_ms)) : ordered_json(nullptr);
    row["end_index"] = t.now.end_index;
    row["parts"] = parts;
    row["messages"] = t.now.messages;
    row["hits"] = t.now.hits;
    topics.push_back(row);
  }
  return topics;
}

ordered_json json_clusters(const briefing& b) {
  ordered_json clusters = ordered_json::array();
  for (const auto& c : b.clusters)
    clusters.push_back({{"id", c.c.id}, {"kind", c.c.kind}, {"topic", c.c.topic}, {"count", c.c.count},
                        {"new", c.fresh}, {"first", rfc3339(b, c.c.first_ms)}, {"last", rfc3339(b, c.c.last_ms)},
                        {"text", valid_utf8(c.c.text)}});
  return clusters;
}

ordered_json json_regions(const briefing& b) {
  ordered_json regions = ordered_json::array();
  for (const auto& r : b.regions) {
    ordered_json row{{"region", r.now.region}, {"index", r.now.index}};
    row["previous"] = r.previous ? ordered_json(*r.previous) : ordered_json(nullptr);
    row["rise"] = std::round(r.rise * 10) / 10;
    row["topic"] = r.now.topic;
    row["messages"] = r.now.messages;
    row["message_change"] = r.message_change;
    regions.push_back(row);
  }
  return regions;
}

// The mailbox's figures, units and issues; null without a mailbox channel.
ordered_json json_mailbox(const briefing& b) {
  const auto& m = b.now.mailbox;
  if (!m.present) return nullptr;
  ordered_json units = ordered_json::array();
  for (const auto& u : m.units)
    units.push_back({{"unit", u.unit}, {"received", u.received}, {"on_time", u.on_time}, {"late", u.late},
                     {"open", u.open}, {"overdue", u.overdue}});
  ordered_json issues = ordered_json::array();
  for (const auto& i : b.issues)
    issues.push_back({{"id", i.i.id}, {"by", i.i.by}, {"what", valid_utf8(i.i.what)}, {"count", i.i.count},
                      {"previous", i.i.previous}, {"reinterpret", i.reinterpret}});
  return {{"received", m.received}, {"on_time", m.on_time}, {"late", m.late}, {"open", m.open},
          {"overdue", m.overdue}, {"median_reply_hours", std::round(m.median_reply_hours * 10) / 10},
          {"reinterpret_from", b.opts.reinterpret_count}, {"units", units}, {"issues", issues}};
}

ordered_json json_rules(const briefing& b) {
  ordered_json rules = ordered_json::array();
  for (const auto& r : b.rules)
    rules.push_back({{"set", r.r.set}, {"rule", r.r.rule}, {"hits", r.r.hits}, {"judged", r.r.judged},
                     {"relevant", r.r.relevant}, {"false_hits", r.r.false_hits},
                     {"precision", std::round(r.precision * 1000) / 1000}});
  return rules;
}

}  // namespace

std::string to_json(const briefing& b) {
  ordered_json j;
  j["id"] = b.id;
  j["kind"] = to_string(b.p.kind);
  j["title"] = b.title;
  j["from"] = rfc3339(b, b.p.from_ms);
  j["to"] = rfc3339(b, b.p.to_ms);
  j["generated"] = rfc3339(b, b.generated_ms);
  j["utc_offset_minutes"] = b.p.utc_offset_minutes;
  j["summary"] = b.summary;
  j["overview"] = {{"now", json_overview(b.now)}, {"previous", json_overview(b.previous)}};
  j["messages_by_slot"] = {{"slot", daily(b) ? "hour" : "day"}, {"counts", b.now.messages_by_slot}};
  j["topics"] = json_topics(b);
  j["new_topics"] = b.new_topics;
  j["clusters"] = json_clusters(b);
  j["regions_rising"] = json_regions(b);
  j["mailbox"] = json_mailbox(b);
  j["false_hit_rules"] = json_rules(b);
  return j.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace yuqing::briefing
