#include "daemon/risk_service.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "mailbox/calendar.h"
#include "mailbox/cases.h"
#include "mailbox/clusters.h"
#include "mailbox/mailbox.h"

namespace yuqing::daemon {

namespace {

alerting::alert_level color_of(risk::level l) {
  switch (l) {
    case risk::level::very_high: return alerting::alert_level::red;
    case risk::level::high: return alerting::alert_level::orange;
    default: return alerting::alert_level::yellow;
  }
}

std::string fingerprint(const std::string& topic, risk::level l) {
  return "risk_level/" + topic + "/" + risk::to_string(l);
}

// The mailbox's deadlines (mailbox.deadlines, on the working-day calendar).
std::function<int64_t(const std::string&, int64_t)> deadlines(const config::daemon_config& cfg, const mailbox::calendar* cal) {
  if (!cal) return {};
  mailbox::deadline_policy p;
  for (const auto& [category, text] : cfg.mailbox_deadlines)
    if (auto r = mailbox::parse_deadline_rule(text)) p.by_category[category] = *r;
  if (auto r = mailbox::parse_deadline_rule(cfg.mailbox_default_deadline)) p.otherwise = *r;
  return [p, cal](const std::string& category, int64_t received) { return p.rule_for(category).deadline(*cal, received); };
}

}  // namespace

risk_service::risk_service(const config::daemon_config& cfg, storage::store& store, const clock& clk)
    : cfg_(cfg), store_(store), clk_(clk), policies_(cfg.storage_path / "policies.json") {}

status risk_service::start(risk_alert_sink sink, const mailbox::calendar* cal) {
  auto o = risk::options::from_config(cfg_);
  o.deadline = deadlines(cfg_, cal);
  sink_ = std::move(sink);
  risk::gazetteer gaz;
  std::error_code ec;
  if (cfg_.risk_gazetteer == config::daemon_config{}.risk_gazetteer && !std::filesystem::exists(cfg_.risk_gazetteer, ec)) {
    // The packaged default, on a host without the package (a build tree): regions then come
    // from the region field only.
    spdlog::warn("event=risk_gazetteer_missing file={} effect=\"regions from the region field only\"",
                 cfg_.risk_gazetteer.string());
  } else if (!cfg_.risk_gazetteer.empty()) {
    auto g = risk::gazetteer::load(cfg_.risk_gazetteer);
    if (!g) return error{"risk.gazetteer: " + g.error_message()};
    gaz = std::move(*g);
  }
  if (!cfg_.risk_lexicon_dir.empty()) {
    auto l = risk::lexicon::load(cfg_.risk_lexicon_dir);
    if (!l) return error{"risk.lexicon_dir: " + l.error_message()};
    lexicon_ = *l;
  }
  std::vector<risk::policy> from_config;
  for (const auto& e : cfg_.risk_policies) {
    risk::policy p;
    p.id = e.id, p.name = e.name, p.keywords = e.keywords, p.unit = e.unit;
    auto t = risk::parse_time(e.published, cfg_.mailbox_utc_offset_minutes);
    if (!t) return error{"risk.policies: " + e.id + ": published: expected YYYY-MM-DD or RFC 3339"};
    p.published_ms = *t;
    from_config.push_back(std::move(p));
  }
  if (auto st = policies_.load(from_config); !st) return st;
  const size_t regions = gaz.regions().size();
  engine_ = std::make_unique<risk::engine>(std::move(o), lexicon_, std::move(gaz));
  const int64_t now = clk_.now_ms();
  if (auto st = engine_->rebuild(store_, now); !st) return error{"risk: rebuild from the store: " + st.error_message()};
  // Mailbox cases outlive the messages kept: they come from the mailbox's own records.
  auto cases = mailbox::list_cases(store_, {"", "", std::numeric_limits<size_t>::max()}, now);
  if (!cases) return error{"risk: mailbox cases: " + cases.error_message()};
  for (const auto& c : *cases)
    if (c.opened)
      engine_->add_case(c.id, c.received_ms, c.deadline_ms, {c.topics.begin(), c.topics.end()}, c.region,
                        c.title + "\n" + c.excerpt,
                        c.reply ? std::optional<int64_t>(c.reply->time_ms) : std::nullopt);
  // What the store already shows is not news: alerts are raised for rises from here on
  // (those raised before are kept by the alerting service).
  for (const auto& r : engine_->current({"", risk::all_regions})) announced_[r.topic] = r.lvl;
  spdlog::info("event=risk_started topics={} newest={} lexicon={} gazetteer_regions={} policies={}",
               engine_->topics().size(), engine_->newest_ms(), lexicon_ ? "yes" : "none",
               regions, policies_.list().size());
  ready_ = true;
  return ok_status();
}

void risk_service::stored(const storage::batch& b, std::any) {
  if (!ready() || (b.hits.empty() && b.messages.empty())) return;
  engine_->observe(b);
  announce(engine_->current({"", risk::all_regions}));
}

alerting::alert risk_service::level_alert(const risk::reading& r) const {
  alerting::alert a;
  a.kind = "risk_level";
  a.origin = "risk";
  a.fingerprint = fingerprint(r.topic, r.lvl);
  a.level = color_of(r.lvl);
  a.topic = r.topic;
  a.count = r.fig.messages;
  a.distinct = r.fig.authors;
  a.baseline = r.fig.baseline;
  a.window_ms = engine_->settings().window_ms;
  a.first_hit_ms = r.at_ms - a.window_ms;
  a.last_hit_ms = r.at_ms;
  char value[16];
  std::snprintf(value, sizeof value, "%.1f", r.value);
  a.labels = {{"region", r.region}, {"risk_index", value}, {"risk_level", risk::to_chinese(r.lvl)}};
  for (const auto& p : r.parts) {
    char points[16];
    std::snprintf(points, sizeof points, "%.1f", p.points);
    a.labels["risk_" + p.name] = p.known ? points : "unknown";
  }
  return a;
}

void risk_service::announce(const std::vector<risk::reading>& totals) {
  const auto from = risk::parse_level(cfg_.risk_alert_from);
  std::lock_guard lk(mu_);
  for (const auto& r : totals) {
    auto& before = announced_[r.topic];
    if (r.lvl == before) continue;
    if (r.lvl > before && from && r.lvl >= *from && sink_.raise) {
      sink_.raise(level_alert(r));
      spdlog::info("event=risk_level_rose topic={} from={} to={} index={:.1f}", r.topic, risk::to_string(before),
                   risk::to_string(r.lvl), r.value);
    }
    if (r.lvl < before && sink_.resolve) {
      for (int l = static_cast<int>(r.lvl) + 1; l <= static_cast<int>(before); ++l)
        sink_.resolve(fingerprint(r.topic, static_cast<risk::level>(l)),
                      std::string("风险等级回落至") + risk::to_chinese(r.lvl));
    }
    before = r.lvl;
  }
}

result<risk::policy_curve> risk_service::curve(const std::string& id, int64_t until_ms) const {
  auto p = policies_.get(id);
  if (!p) return error{"id: no policy " + id};
  mailbox::cluster_options o;
  o.similarity = cfg_.clusters_similarity_percent / 100.0;
  o.window_ms = std::numeric_limits<int64_t>::max() / 2;
  mailbox::clusterer groups(o);
  auto by_text = [&groups](const std::string& key, const std::string& text, int64_t t) {
    mailbox::clusterer::member m;
    m.key = key, m.time_ms = t, m.sig = mailbox::sign(text);
    return groups.add(std::move(m)).first;
  };
  return risk::follow(store_, *p, lexicon_.get(), until_ms, cfg_.mailbox_utc_offset_minutes, by_text, 5,
                      int64_t{cfg_.message_retention_hours} * 3600 * 1000);
}

namespace {

prometheus::MetricFamily gauge_family(const char* name, const char* help) {
  prometheus::MetricFamily f;
  f.name = name, f.help = help, f.type = prometheus::MetricType::Gauge;
  return f;
}

void gauge(prometheus::MetricFamily& f, double v, std::vector<prometheus::ClientMetric::Label> labels) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = v;
  f.metric.push_back(std::move(m));
}

}  // namespace

std::vector<prometheus::MetricFamily> risk_service::families() const {
  std::vector<prometheus::MetricFamily> out;
  if (!ready()) return out;
  auto index = gauge_family("yuqing_risk_index", "Risk index 0-100 of a policy topic and region (region 全市: all), at the newest message");
  auto lvl = gauge_family("yuqing_risk_level", "Risk level with hysteresis: 0 低, 1 中, 2 高, 3 极高");
  auto points = gauge_family("yuqing_risk_part_points", "What each part adds to the risk index (volume, growth, spread, negative, mailbox); absent: unknown");
  auto score = gauge_family("yuqing_risk_part_score", "Score 0-1 of each part of the risk index; absent: unknown");
  auto messages = gauge_family("yuqing_risk_window_messages", "Messages of the topic and region in the risk window");
  auto baseline = gauge_family("yuqing_risk_baseline_messages", "Mean messages of the same window on previous days; absent: no baseline yet");
  for (const auto& r : engine_->current()) {
    const std::vector<prometheus::ClientMetric::Label> l = {{"topic", r.topic}, {"region", r.region}};
    gauge(index, r.value, l);
    gauge(lvl, static_cast<double>(r.lvl), l);
    gauge(messages, static_cast<double>(r.fig.messages), l);
    if (r.fig.baseline_days) gauge(baseline, r.fig.baseline, l);
    for (const auto& p : r.parts) {
      if (!p.known) continue;
      auto with_part = l;
      with_part.push_back({"part", p.name});
      gauge(points, p.points, with_part);
      gauge(score, p.score, with_part);
    }
  }
  for (auto* f : {&index, &lvl, &points, &score, &messages, &baseline}) out.push_back(std::move(*f));
  return out;
}

}  // namespace yuqing::daemon
