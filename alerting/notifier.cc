#include "alerting/notifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/clock.h"
#include "common/time.h"
#include "http/client.h"

namespace yuqing::alerting {

namespace {

using nlohmann::json;
using steady = std::chrono::steady_clock;

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "、" : "") + v[i];
  return s;
}

}  // namespace

struct notifier::impl {
  impl(notifier_options o, alerting::probe& p) : opt(std::move(o)), probe(p) {}
  notifier_options opt;
  alerting::probe& probe;
  http::http_url alertmanager, webhook;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<alerting::notification> queue;
  bool stopping = false;
  std::thread thread;
  std::map<std::string, alerting::alert> active;  // by id, for the Alertmanager resend
  std::map<std::string, bool> failing;             // sink -> in a failure streak
  system_clock clk;

  // POSTs with retries; counts and logs the outcome.
  bool post(const std::string& sink, const http::http_url& url, const std::string& target,
            const std::string& body) {
    std::string last;
    for (int attempt = 0; attempt < 4; ++attempt) {
      if (attempt > 0) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(250 << attempt), [&] { return stopping; });
        if (stopping) break;
      }
      http::http_call c;
      c.address = url.address;
      c.method = "POST";
      c.target = url.path + target;
      c.body = body;
      c.timeout = std::chrono::seconds(5);
      auto r = http::http_request_once(c);
      if (r && r->status >= 200 && r->status < 300) {
        probe.sent(sink);
        if (failing[sink]) spdlog::info("event=alert_sink_recovered sink={}", sink);
        failing[sink] = false;
        return true;
      }
      last = r ? "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 200) : r.error_message();
    }
    probe.failed(sink);
    if (!failing[sink]) spdlog::error("event=alert_sink_failed sink={} error=\"{}\"", sink, last);
    failing[sink] = true;
    return false;
  }

  void send_alertmanager(const std::vector<alerting::alert>& alerts) {
    if (opt.alertmanager_url.empty() || alerts.empty()) return;
    post("alertmanager", alertmanager, "/api/v2/alerts",
         alertmanager_body(alerts, clk.now_ms(), opt.resend_seconds, opt.api_base, opt.units));
  }

  void run() {
    auto next_resend = steady::now() + std::chrono::seconds(opt.resend_seconds);
    while (true) {
      std::deque<alerting::notification> batch;
      {
        std::unique_lock lock(mu);
        cv.wait_until(lock, next_resend, [&] { return stopping || !queue.empty(); });
        if (stopping && queue.empty()) return;
        batch.swap(queue);
      }
      std::vector<alerting::alert> changed;  // one entry per Alertmanager alert, the latest
      auto change = [&](const alerting::alert& a) {
        const auto same = [&](const alerting::alert& c) { return c.id == a.id && c.level == a.level; };
        if (auto it = std::find_if(changed.begin(), changed.end(), same); it != changed.end()) *it = a;
        else changed.push_back(a);
      };
      for (const auto& n : batch) {
        const auto& a = n.snapshot;
        // Labels are an Alertmanager alert's identity: an escalated level is a new alert,
        // so the one with the old level ends now.
        if (auto old = active.find(a.id); old != active.end() && old->second.level != a.level) {
          auto ended = old->second;
          ended.state = alerting::alert_state::closed;
          ended.closed_ms = clk.now_ms();
          change(ended);
        }
        if (a.unattended()) active[a.id] = a;
        else active.erase(a.id);
        change(a);
        if (!opt.webhook_url.empty()) {
          post("webhook", webhook, "",
               json{{"reason", alerting::to_string(n.why)}, {"detail", n.detail},
                    {"alert", json::parse(a.to_json())}}
                   .dump(-1, ' ', false, json::error_handler_t::replace));
        }
      }
      send_alertmanager(changed);
      if (steady::now() >= next_resend) {
        std::vector<alerting::alert> all;
        for (const auto& [id, a] : active) all.push_back(a);
        send_alertmanager(all);
        next_resend = steady::now() + std::chrono::seconds(opt.resend_seconds);
      }
    }
  }
};

notifier::notifier(notifier_options options, alerting::probe& probe)
    : impl_(std::make_unique<impl>(std::move(options), probe)) {}

notifier::~notifier() { stop(); }

status notifier::start() {
  if (!impl_->opt.alertmanager_url.empty()) {
    auto u = http::parse_http_url(impl_->opt.alertmanager_url);
    if (!u) return error{"alerting.alertmanager.url: " + u.error_message()};
    impl_->alertmanager = *u;
  }
  if (!impl_->opt.webhook_url.empty()) {
    auto u = http::parse_http_url(impl_->opt.webhook_url);
    if (!u) return error{"alerting.webhook.url: " + u.error_message()};
    impl_->webhook = *u;
  }
  impl_->thread = std::thread([this] { impl_->run(); });
  return ok_status();
}

void notifier::stop() {
  if (!impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

void notifier::notify(const alerting::notification& n) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->queue.push_back(n);
  }
  impl_->cv.notify_all();
}

namespace {

// When an alert stopped being open (signed for, or closed): Alertmanager's endsAt.
int64_t left_open_ms(const alerting::alert& a) {
  for (const int64_t t : {a.acknowledged_ms, a.handled_ms, a.closed_ms})
    if (t > 0) return t;
  return a.fired_ms;
}

}  // namespace

std::string notifier::alertmanager_body(const std::vector<alerting::alert>& alerts, int64_t now_ms,
                                        int resend_seconds, const std::string& api_base,
                                        const unit_directory& units) {
  json out = json::array();
  for (const auto& a : alerts) {
    std::string lines;
    for (const auto& e : a.examples) lines += e.message_key + " " + e.text + "\n";
    json j{{"labels",
            {{"alertname", "yuqing_" + a.kind},
             {"alert_id", a.id},
             {"level", alerting::to_string(a.level)},
             {"topic", a.topic},
             {"plan_item", std::to_string(a.plan_item)},
             {"unit", a.lead_units.empty() ? "none" : a.lead_units.front()},
             {"receiver", "none"},
             {"set", a.set_id},
             {"rule", a.alert_rule},
             {"kind", a.kind}}},
           {"annotations",
            {{"summary", a.summary()},
             {"state", alerting::to_string(a.state)},
             {"condition", alerting::to_string(a.condition)},
             {"acknowledged_by", a.who("acknowledged")},
             {"handled_by", a.who("handled")},
             {"keyword_rule", a.keyword_rule},
             {"lead_units", joined(a.lead_units)},
             {"cooperating_units", joined(a.cooperating_units)},
             {"plan_text", a.plan_text},
             {"count", std::to_string(a.count)},
             {"examples", lines}}},
           {"startsAt", common::format_rfc3339(a.fired_ms)},
           {"endsAt", common::format_rfc3339(a.unattended() ? now_ms + 4000LL * resend_seconds : left_open_ms(a))}};
    for (const auto& [k, v] : a.labels) j["labels"][k] = v;
    auto& labels = j["labels"];
    if (const auto route = units.find(labels["unit"].get<std::string>()); route != units.end()) {
      labels["unit"] = route->second.unit;
      labels["receiver"] = route->second.receiver;
    }
    if (!api_base.empty()) j["generatorURL"] = api_base + "/api/v1/alerts/" + a.id;
    out.push_back(std::move(j));
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace yuqing::alerting
