// The model: the period compared with the one before.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "briefing/briefing.h"

namespace yuqing::briefing {

const char* arrow(trend t) {
  switch (t) {
    case trend::up: return "↑";
    case trend::down: return "↓";
    case trend::flat: return "→";
    case trend::fresh: return "新";
  }
  return "→";
}

const char* level_chinese(const std::string& level) {
  if (level == "low") return "低";
  if (level == "medium") return "中";
  if (level == "high") return "高";
  if (level == "very_high") return "极高";
  return "未知";
}

std::string valid_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) { len = 1; cp = c; }
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok) {
      // overlong forms, surrogates and code points past U+10FFFF are invalid too
      static const uint32_t min_of[5] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= min_of[len] && !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF;
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string html_escape(const std::string& s) {
  const std::string v = valid_utf8(s);
  std::string out;
  out.reserve(v.size() + v.size() / 8);
  for (char c : v) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string name_of(const topic_figures& t) { return t.name.empty() ? t.topic : t.name; }

// "+12.5%" / "-3.0%" / "" (no previous figure)
std::string percent_change(uint64_t now, uint64_t before) {
  if (before == 0) return "";
  const double pct = (static_cast<double>(now) - static_cast<double>(before)) * 100.0 / static_cast<double>(before);
  return (pct >= 0 ? "+" : "") + fixed1(pct) + "%";
}

}  // namespace

std::string briefing::topic_name(const std::string& topic) const {
  auto it = topic_names.find(topic);
  return it == topic_names.end() ? topic : it->second;
}

namespace {

// Each topic of the period with its arrow against the previous period's peak, highest
// index first; the topics the previous period did not have go to new_topics too.
void compare_topics(const input& in, briefing& b) {
  std::map<std::string, const topic_figures*> before;
  for (const auto& t : in.previous.topics) before[t.topic] = &t;
  for (const auto& t : in.now.topics) {
    topic_row r;
    r.now = t;
    auto it = before.find(t.topic);
    if (it == before.end() || it->second->messages == 0) {
      r.t = trend::fresh;
      r.change = t.index;
      if (t.messages > 0) b.new_topics.push_back(name_of(t));
    } else {
      r.previous = it->second->index;
      r.change = t.index - *r.previous;
      r.t = r.change >= in.opts.arrow_points ? trend::up : r.change <= -in.opts.arrow_points ? trend::down : trend::flat;
    }
    b.topics.push_back(std::move(r));
  }
  std::stable_sort(b.topics.begin(), b.topics.end(), [](const topic_row& x, const topic_row& y) {
    return x.now.index != y.now.index ? x.now.index > y.now.index : x.now.topic < y.now.topic;
  });
}

// The regions that rose most (index points, then messages); only those that rose.
void rising_regions(const input& in, briefing& b) {
  std::map<std::string, const region_figures*> regions_before;
  for (const auto& r : in.previous.regions) regions_before[r.region] = &r;
  for (const auto& r : in.now.regions) {
    region_row row;
    row.now = r;
    auto it = regions_before.find(r.region);
    if (it != regions_before.end()) {
      row.previous = it->second->index;
      row.rise = r.index - it->second->index;
      row.message_change = static_cast<int64_t>(r.messages) - static_cast<int64_t>(it->second->messages);
    } else {
      row.rise = r.index;
      row.message_change = static_cast<int64_t>(r.messages);
    }
    if (row.rise > 0) b.regions.push_back(std::move(row));
  }
  std::stable_sort(b.regions.begin(), b.regions.end(), [](const region_row& x, const region_row& y) {
    if (x.rise != y.rise) return x.rise > y.rise;
    if (x.message_change != y.message_change) return x.message_change > y.message_change;
    return x.now.region < y.now.region;
  });
  if (b.regions.size() > in.opts.top_regions) b.regions.resize(in.opts.top_regions);
}

// Clusters, largest first; 新 when the previous period did not have them.
void largest_clusters(const input& in, briefing& b) {
  std::set<std::string> clusters_before;
  for (const auto& c : in.previous.clusters) clusters_before.insert(c.id);
  for (const auto& c : in.now.clusters) b.clusters.push_back({c, !clusters_before.count(c.id)});
  std::stable_sort(b.clusters.begin(), b.clusters.end(), [](const cluster_row& x, const cluster_row& y) {
    return x.c.count != y.c.count ? x.c.count > y.c.count : x.c.first_ms < y.c.first_ms;
  });
  if (b.clusters.size() > in.opts.top_clusters) b.clusters.resize(in.opts.top_clusters);
}

// The mailbox's concentrated issues, largest first, marked for 二次解读 past the threshold.
void mailbox_issues(const input& in, briefing& b) {
  for (const auto& i : in.now.mailbox.issues) b.issues.push_back({i, i.count >= in.opts.reinterpret_count});
  std::stable_sort(b.issues.begin(), b.issues.end(),
                   [](const issue_row& x, const issue_row& y) { return x.i.count > y.i.count; });
}

// The rules with false hits, the most first.
void false_hit_rules(const input& in, briefing& b) {
  for (const auto& r : in.now.rules) {
    if (r.false_hits == 0) continue;
    const uint64_t decided = r.relevant + r.false_hits;
    b.rules.push_back({r, decided ? static_cast<double>(r.relevant) / static_cast<double>(decided) : 0});
  }
  std::stable_sort(b.rules.begin(), b.rules.end(), [](const rule_row& x, const rule_row& y) {
    if (x.r.false_hits != y.r.false_hits) return x.r.false_hits > y.r.false_hits;
    if (x.precision != y.precision) return x.precision < y.precision;
    return x.r.set + "/" + x.r.rule < y.r.set + "/" + y.r.rule;
  });
  if (b.rules.size() > in.opts.top_rules) b.rules.resize(in.opts.top_rules);
}

// 要点: the messages, the topic with the highest index, the new topics, the alerts and
// the mailbox, a sentence each.
void summarise(const input& in, briefing& b) {
  const bool daily = in.p.kind == period_kind::daily;
  const std::string this_p = daily ? "本日" : "本周", last_p = daily ? "前一日" : "上周";
  {
    std::string s = this_p + "共监测信息 " + std::to_string(in.now.messages) + " 条";
    if (auto pc = percent_change(in.now.messages, in.previous.messages); !pc.empty()) s += "（较" + last_p + " " + pc + "）";
    s += "，其中 " + std::to_string(in.now.hit_messages) + " 条命中关键词（" + std::to_string(in.now.hits) + " 次）。";
    b.summary.push_back(s);
  }
  if (!b.topics.empty() && b.topics.front().now.messages > 0) {
    const auto& t = b.topics.front();
    std::string s = "风险指数最高的话题是「" + name_of(t.now) + "」，峰值 " + fixed1(t.now.index) + "（" +
                    level_chinese(t.now.level) + "）";
    if (t.t == trend::fresh) s += "，为" + this_p + "新出现话题。";
    else s += "，较" + last_p + (t.change >= 0 ? "上升 " : "下降 ") + fixed1(std::fabs(t.change)) + " 点" + arrow(t.t) + "。";
    b.summary.push_back(s);
  }
  if (!b.new_topics.empty()) {
    std::string s = "新出现话题：";
    for (size_t i = 0; i < b.new_topics.size(); ++i) s += (i ? "、" : "") + b.new_topics[i];
    b.summary.push_back(s + "。");
  }
  {
    uint64_t total = 0;
    for (const auto& [lvl, n] : in.now.alerts) total += n;
    auto count = [&](const char* lvl) {
      auto it = in.now.alerts.find(lvl);
      return std::to_string(it == in.now.alerts.end() ? 0 : it->second);
    };
    b.summary.push_back(this_p + "产生预警 " + std::to_string(total) + " 条（红色 " + count("red") + "、橙色 " +
                        count("orange") + "、黄色 " + count("yellow") + "、蓝色 " + count("blue") + "）。");
  }
  if (in.now.mailbox.present) {
    const auto& m = in.now.mailbox;
    std::string s = "省长留言信箱收到留言 " + std::to_string(m.received) + " 件，按期答复 " + std::to_string(m.on_time) +
                    " 件，超期未复 " + std::to_string(m.overdue) + " 件";
    if (m.late) s += "，逾期答复 " + std::to_string(m.late) + " 件";
    b.summary.push_back(s + "。");
    size_t reinterpret = 0;
    for (const auto& i : b.issues) reinterpret += i.reinterpret;
    if (reinterpret)
      b.summary.push_back("建议对 " + std::to_string(reinterpret) + " 个集中诉求开展二次解读（见“政府信箱”一节）。");
  }
}

}  // namespace

briefing build(const input& in) {
  briefing b;
  for (const auto* f : {&in.previous, &in.now})
    for (const auto& t : f->topics)
      if (!t.name.empty()) b.topic_names[t.topic] = t.name;
  b.p = in.p;
  b.id = in.p.id();
  b.title = in.opts.organisation + "舆情" + to_chinese(in.p.kind) + "（" + in.p.label() + "）";
  b.generated_ms = in.generated_ms;
  b.opts = in.opts;
  b.now = in.now;
  b.previous = in.previous;
  compare_topics(in, b);
  rising_regions(in, b);
  largest_clusters(in, b);
  mailbox_issues(in, b);
  false_hit_rules(in, b);
  summarise(in, b);
  return b;
}

}  // namespace yuqing::briefing
