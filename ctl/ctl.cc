// yuqingctl: the operator's tool. Subcommands: produce, hits, check, test, broker,
// config-keys, and against a running daemon's HTTP API: sets (versions, diff, rollback),
// reload, backtest, rules,
// alerts, ack, handle, verdict, precision, suggest (precision.cc), risk, policy, briefing
// (briefing.cc);
// cases and report read either the API or the store (--db).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "common/time.h"
#include "config/clock.h"
#include "config/config.h"
#include "ctl/api.h"
#include "ctl/briefing.h"
#include "ctl/precision.h"
#include "http/client.h"
#include "kafka/kafka.h"
#include "mailbox/mailbox.h"
#include "matchers/matcher.h"
#include "precision/text.h"
#include "precision/verdicts.h"
#include "sets/checks.h"
#include "storage/store.h"

namespace {

using nlohmann::json;
using namespace yuqing;

// Moves every top-level RFC 3339 value of a JSON line by shift_ms (a recorded stream
// replayed as if it happened now).
std::string shifted(const std::string& line, int64_t shift_ms) {
  auto j = json::parse(line, nullptr, false);
  if (!j.is_object()) return line;
  for (auto& [k, v] : j.items()) {
    int64_t ms = 0;
    if (v.is_string() && common::parse_rfc3339(v.get<std::string>(), ms)) v = common::format_rfc3339(ms + shift_ms);
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

int produce(const std::string& brokers, const std::string& topic, const std::string& file,
            const std::string& key_field, int64_t shift_ms) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << file << ": cannot open\n";
    return 1;
  }
  auto p = kafka::sync_producer::create(brokers, {});
  if (!p) {
    std::cerr << p.error_message() << "\n";
    return 1;
  }
  std::string line;
  size_t n = 0, lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    std::string key;
    if (!key_field.empty()) {
      const auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.contains(key_field)) {
        key = j[key_field].is_string() ? j[key_field].get<std::string>() : j[key_field].dump();
      }
    }
    if (shift_ms != 0) line = shifted(line, shift_ms);
    if (auto st = (*p)->produce(topic, key, line); !st) {
      std::cerr << file << ":" << lineno << ": " << st.error_message() << "\n";
      return 1;
    }
    if (++n % 10000 == 0) {
      std::cerr << "\rproduced " << n << " messages" << std::flush;
      if (const size_t failed = (*p)->flush(60000); failed) {
        std::cerr << "\n" << failed << " messages not delivered: " << (*p)->last_error() << "\n";
        return 1;
      }
    }
  }
  if (const size_t failed = (*p)->flush(60000); failed) {
    std::cerr << failed << " messages not delivered: " << (*p)->last_error() << "\n";
    return 1;
  }
  std::cerr << (n >= 10000 ? "\r" : "") << "produced " << n << " messages to " << topic << "\n";
  return 0;
}

int64_t parse_time(const std::string& s) {
  if (s.empty()) return 0;
  int64_t ms = 0;
  if (!common::parse_time_or_age(s, yuqing::system_clock().now_ms(), ms))
    throw std::invalid_argument("time '" + s + "': RFC 3339, milliseconds, or an age like 7d, 12h, 30m");
  return ms;
}

int hits(const std::string& db, const std::string& topic, const std::string& set,
         const std::string& message, const std::string& since, size_t limit, bool as_json) {
  auto s = storage::store::open({db, false, true});
  if (!s) {
    std::cerr << s.error_message() << "\n";
    return 1;
  }
  storage::hit_query q;
  q.topic = topic;
  q.set = set;
  q.message = message;
  q.limit = limit;
  try {
    q.since_ms = parse_time(since);
  } catch (const std::exception& e) {
    std::cerr << "--since: " << e.what() << "\n";
    return 2;
  }
  auto found = (*s)->hits(q);
  if (!found) {
    std::cerr << found.error_message() << "\n";
    return 1;
  }
  precision::verdict_book book(**s);
  for (const auto& h : *found) {
    const auto v = book.find(precision::hit_id(h));  // the analyst's verdict, exported with the hit
    const bool judged = v && v->has_value();
    if (as_json) {
      auto j = json::parse(h.to_json());
      j["id"] = precision::hit_id(h);
      j["verdict"] = judged ? json::parse((*v)->to_json())["current"] : json(nullptr);
      std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      continue;
    }
    std::string words;
    for (const auto& sp : h.spans) words += (words.empty() ? "" : " ") + sp.text;
    std::cout << common::format_rfc3339(h.time_ms) << "  " << h.topic << "  " << h.set_id << "/"
              << h.rule_id << "  " << h.severity << "  " << h.message_key << "  [" << words
              << "]  " << h.title << (judged ? std::string("  ") + precision::to_chinese((*v)->current.what) : "")
              << "\n";
    // Its id (for yuqingctl verdict), the text around each span and where the message came from.
    std::cout << "    id " << precision::hit_id(h) << "\n";
    auto m = (*s)->message(h.message_key);
    if (!m || !m->has_value()) continue;
    for (const auto& sp : h.spans)
      for (const auto& [name, text] : (*m)->text)
        if (name == sp.field && sp.begin < sp.end && sp.end <= text.size())
          std::cout << "    " << precision::excerpt(text, sp.begin, sp.end, 30) << "\n";
    if (!(*m)->url.empty()) std::cout << "    " << (*m)->url << "\n";
  }
  if (!as_json) std::cerr << found->size() << " hits\n";
  return 0;
}

// Errors first, then warnings (as `falco -V`); exit 1 on errors, and with --strict on
// warnings too.
int check(const std::string& path, bool as_json, bool strict) {
  const auto r = matchers::load_directory(path, sets::checked_options());
  size_t warnings = 0;
  for (const auto& c : r.results)
    for (const auto& d : c.diagnostics) warnings += d.warning ? 1 : 0;
  if (as_json) {
    json out = json::array();
    for (const auto& c : r.results) {
      json diags = json::array();
      for (const bool warning : {false, true})
        for (const auto& d : c.diagnostics)
          if (d.warning == warning)
            diags.push_back({{"file", d.file}, {"line", d.pos.line}, {"column", d.pos.column},
                             {"rule", d.rule}, {"message", d.message},
                             {"severity", d.warning ? "warning" : "error"}});
      json e = {{"ok", c.ok()}, {"diagnostics", diags}};
      if (c.set) {
        e["set"] = c.set->definition().id;
        e["file"] = c.set->definition().file;
        e["version"] = c.set->definition().version;
      }
      out.push_back(e);
    }
    std::cout << out.dump(2) << "\n";
  } else {
    for (const bool warning : {false, true})
      for (const auto& c : r.results)
        for (const auto& d : c.diagnostics)
          if (d.warning == warning) std::cout << d.to_text() << "\n";
    for (const auto& c : r.results) {
      if (!c.set) continue;
      const auto& d = c.set->definition();
      std::printf("ok: %s (%s) version %s: %zu rules, %zu literals, compiled in %.1f ms\n",
                  d.id.c_str(), d.file.c_str(), d.version.c_str(), d.rules.size(),
                  c.set->literal_count(), c.compile_seconds * 1000);
    }
    if (r.error_count() || warnings) std::printf("%zu errors, %zu warnings\n", r.error_count(), warnings);
  }
  return r.error_count() == 0 && !(strict && warnings > 0) ? 0 : 1;
}

int test(const std::string& set_file, const std::string& text, const std::string& file,
         bool as_json) {
  auto c = matchers::compiled_set::load(set_file, sets::checked_options());
  if (!c.set) {
    std::cerr << c.to_text();
    return 1;
  }
  std::vector<std::string> inputs;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) {
      std::cerr << file << ": cannot open\n";
      return 1;
    }
    for (std::string line; std::getline(in, line);) inputs.push_back(line);
  } else {
    inputs.push_back(text);
  }
  const bool color = !as_json && isatty(STDOUT_FILENO);
  std::vector<matchers::hit> found;
  size_t total = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    found.clear();
    c.set->match({inputs[i]}, found);
    total += found.size();
    for (const auto& h : found) {
      if (as_json) {
        json spans = json::array();
        for (const auto& s : h.spans)
          spans.push_back({{"begin", s.begin}, {"end", s.end},
                           {"text", inputs[i].substr(s.begin, s.end - s.begin)}});
        std::cout << json{{"line", i + 1}, {"set", h.set_id}, {"rule", h.rule_id},
                          {"severity", matchers::to_string(h.level)}, {"spans", spans},
                          {"boundary", yuqing::segment::to_string(h.boundary)}}
                         .dump()
                  << "\n";
      } else {
        std::string where;
        for (const auto& s : h.spans)
          where += (where.empty() ? "" : ",") + std::to_string(s.begin) + "-" + std::to_string(s.end);
        std::cout << (inputs.size() > 1 ? std::to_string(i + 1) + ": " : "") << h.set_id << "/"
                  << h.rule_id << " " << matchers::to_string(h.level) << " bytes " << where
                  << (h.boundary != yuqing::segment::alignment::unknown
                          ? std::string(" boundary ") + yuqing::segment::to_string(h.boundary) : "")
                  << "  "
                  << matchers::highlight(inputs[i], h.spans, 0, color ? "\033[1;31m" : "【",
                                         color ? "\033[0m" : "】")
                  << "\n";
      }
    }
  }
  if (!as_json) std::cerr << total << " hits\n";
  return 0;
}

using ctl::api;

// GETs `target`. An error is printed (exit code 1); with as_json the body is printed (0);
// otherwise the body is left in `out` for the caller to render (nullopt).
std::optional<int> get_or_print(const api& a, const std::string& target, bool as_json, json& out) {
  return ctl::print_or_keep(a.call("GET", target, ""), as_json, out);
}

int sets(const api& a, bool as_json) {
  json body;
  if (auto rc = get_or_print(a, "/api/v1/keyword-sets", as_json, body)) return *rc;
  const json* j = &body;
  std::printf("%-20s %-16s %6s %8s %10s %-6s %-20s %s\n", "set", "version", "rules", "literals",
              "compile_ms", "cached", "loaded", "trigger");
  for (const auto& s : (*j)["sets"]) {
    std::printf("%-20s %-16s %6d %8d %10.1f %-6s %-20s %s\n", s["id"].get<std::string>().c_str(),
                s["version"].get<std::string>().c_str(), s["rules"].get<int>(),
                s["literals"].get<int>(), s["compile_ms"].get<double>(),
                s["from_cache"].get<bool>() ? "yes" : "no", s["loaded"].get<std::string>().c_str(),
                s["trigger"].get<std::string>().c_str());
    for (const auto& v : s["versions"])
      std::printf("    %s %s %s (%d rules)\n", v["loaded"].get<std::string>().c_str(),
                  v["version"].get<std::string>().c_str(), v["trigger"].get<std::string>().c_str(),
                  v["rules"].get<int>());
  }
  if (j->contains("last_reload")) {
    const auto& r = (*j)["last_reload"];
    std::printf("last reload: %s, %s (%s)\n", r["finished"].get<std::string>().c_str(),
                r["ok"].get<bool>() ? "ok" : "failed", r["trigger"].get<std::string>().c_str());
    for (const auto& e : r["errors"]) std::printf("  %s\n", e.get<std::string>().c_str());
  }
  return 0;
}

int reload(const api& a) {
  int status = 0;
  auto j = a.call("POST", "/api/v1/keyword-sets/reload", "", &status);
  if (!j) {
    // A failed reload is a 422 with the diagnostics in the body.
    std::cerr << j.error_message() << "\n";
    return 1;
  }
  if (status == 202) {
    std::cout << "reload still running; see yuqingctl sets\n";
    return 0;
  }
  std::cout << "reload " << ((*j)["ok"].get<bool>() ? "ok" : "failed") << ": "
            << (*j)["sets"].get<int>() << " sets, changed: " << (*j)["changed"].get<bool>() << "\n";
  for (const auto& l : (*j)["loaded"]) std::cout << "  loaded " << l.get<std::string>() << "\n";
  return 0;
}

// The alerts each version would have raised (as elastalert-test-rule shows them).
void print_backtest_alerts(const json& report) {
  for (const char* version : {"running", "candidate"}) {
    const auto& list = report["alerts"][version];
    std::printf("\nalerts the %s version would have raised: %zu\n", version, list.size());
    for (const auto& x : list)
      std::printf("  %s %-6s %-9s %-12s %5llu  %s\n", x["fired"].get<std::string>().c_str(),
                  x["level"].get<std::string>().c_str(), x["kind"].get<std::string>().c_str(),
                  x["alert_rule"].get<std::string>().c_str(), x["count"].get<unsigned long long>(),
                  x["summary"].get<std::string>().c_str());
  }
}

int backtest(const api& a, const std::string& set_file, const std::string& since, size_t examples,
             bool as_json) {
  // Check locally first: errors then name the real file.
  auto local = matchers::compiled_set::load(set_file, sets::checked_options());
  if (!local.ok()) {
    std::cerr << local.to_text();
    return 1;
  }
  std::ifstream in(set_file);
  std::stringstream text;
  text << in.rdbuf();
  const auto request = json{{"set", text.str()}, {"since", since}, {"examples", examples}}.dump();
  auto started = a.call("POST", "/api/v1/backtest", request);
  // A set the daemon still compiles: posted again, that compile answers when it is done.
  while (started && started->value("state", "") == "compiling") {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    started = a.call("POST", "/api/v1/backtest", request);
  }
  if (!started) {
    std::cerr << started.error_message() << "\n";
    return 1;
  }
  const std::string id = (*started)["id"];
  const bool bar = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  json job;
  for (int polls = 0;; ++polls) {
    auto j = a.call("GET", "/api/v1/backtest/" + id, "");
    if (!j) {
      std::cerr << j.error_message() << "\n";
      return 1;
    }
    job = *j;
    const uint64_t done = job["progress"]["scanned"], total = job["progress"]["estimated_total"];
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (bar || polls % 20 == 0 || job["state"] != "running") {
      const double frac = total ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 0;
      const int filled = static_cast<int>(frac * 30);
      std::fprintf(stderr, "%sbacktest %s [%s%s] %3.0f%% %llu/%llu messages %.0fs%s", bar ? "\r" : "",
                   id.c_str(), std::string(static_cast<size_t>(filled), '#').c_str(),
                   std::string(static_cast<size_t>(30 - filled), '.').c_str(), frac * 100,
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                   elapsed, bar ? "" : "\n");
    }
    if (job["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (bar) std::fprintf(stderr, "\n");
  if (job["state"] != "done") {
    std::cerr << "backtest " << job["state"].get<std::string>() << ": " << job.value("error", "") << "\n";
    return 1;
  }
  if (as_json) {
    std::cout << job["report"].dump(2) << "\n";
    return 0;
  }
  const auto& r = job["report"];
  std::printf("set %s: candidate %s against %s\n%llu messages since %s (%llu stored), hits %llu -> %llu\n\n",
              r["set"].get<std::string>().c_str(), r["candidate_version"].get<std::string>().c_str(),
              r["running_version"].get<std::string>().empty()
                  ? "nothing (a new set)"
                  : ("running " + r["running_version"].get<std::string>()).c_str(),
              r["messages_in_period"].get<unsigned long long>(), r["since"].get<std::string>().c_str(),
              r["messages_scanned"].get<unsigned long long>(), r["hits_running"].get<unsigned long long>(),
              r["hits_candidate"].get<unsigned long long>());
  std::printf("%-24s %10s %10s %10s\n", "rule", "added", "removed", "kept");
  for (const auto& c : r["rules"])
    std::printf("%-24s %10llu %10llu %10llu\n", c["rule"].get<std::string>().c_str(),
                c["added"].get<unsigned long long>(), c["removed"].get<unsigned long long>(),
                c["kept"].get<unsigned long long>());
  for (const auto& c : r["rules"]) {
    for (const auto& e : c["added_examples"])
      std::printf("  + %s  %s  %s\n", c["rule"].get<std::string>().c_str(),
                  e["message_key"].get<std::string>().c_str(), e["text"].get<std::string>().c_str());
    for (const auto& e : c["removed_examples"])
      std::printf("  - %s  %s  %s\n", c["rule"].get<std::string>().c_str(),
                  e["message_key"].get<std::string>().c_str(), e["text"].get<std::string>().c_str());
  }
  print_backtest_alerts(r);
  return 0;
}

// `yuqingctl sets versions|diff|rollback`: a set's recorded versions, a diff between two,
// and going back to one (saved again as the newest version).
bool plain_word(const std::string& s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

int set_versions(const api& a, const std::string& name, bool as_json) {
  json body;
  if (auto rc = get_or_print(a, "/api/v1/keyword-sets/" + name + "/versions", as_json, body)) return *rc;
  std::printf("%5s  %-16s  %-29s  %5s  %s\n", "#", "version", "loaded", "rules", "who / trigger");
  for (const auto& v : body["versions"]) {
    const std::string who = v["who"].get<std::string>();
    std::printf("%4llu%s  %-16s  %-29s  %5llu  %s\n", v["number"].get<unsigned long long>(),
                v["in_force"].get<bool>() ? "*" : " ", v["version"].get<std::string>().c_str(),
                v["time"].get<std::string>().c_str(), v["rules"].get<unsigned long long>(),
                (who.empty() ? v["trigger"].get<std::string>() : who).c_str());
  }
  std::printf("(* in force)\n");
  return 0;
}

int set_diff(const api& a, const std::string& name, const std::string& from, const std::string& to, bool as_json) {
  json body;
  const auto target = "/api/v1/keyword-sets/" + name + "/diff?from=" + from + "&to=" + to;
  if (auto rc = get_or_print(a, target, as_json, body)) return *rc;
  std::cout << body["unified"].get<std::string>();
  std::cerr << "+" << body["added"].get<size_t>() << " -" << body["removed"].get<size_t>() << " lines\n";
  return 0;
}

int set_rollback(const api& a, const std::string& name, const std::string& version) {
  int status = 0;
  const auto request = json{{"version", version}}.dump();
  auto j = a.call("POST", "/api/v1/keyword-sets/" + name + "/rollback", request, &status);
  while (j && status == 202 && j->value("state", "") == "compiling") {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    j = a.call("POST", "/api/v1/keyword-sets/" + name + "/rollback", request, &status);
  }
  if (!j) {
    std::cerr << j.error_message() << "\n";
    return 1;
  }
  if (status == 202) {
    std::cout << "saved; the reload still runs: see yuqingctl sets versions " << name << "\n";
    return 0;
  }
  std::cout << "set " << name << " is back at version " << (*j)["version"].get<std::string>()
            << ((*j)["changed"].get<bool>() ? " (reloaded)" : " (it was in force already)") << "\n";
  return 0;
}

int rules(const api& a, int top, bool as_json) {
  json body;
  if (auto rc = get_or_print(a, "/api/v1/rules?top=" + std::to_string(top), as_json, body)) return *rc;
  const json* j = &body;
  std::printf("since %s: %llu messages, %llu hits\n%-16s %-20s %10s %7s %10s %6s %6s %9s  %s\n",
              (*j)["since"].get<std::string>().c_str(), (*j)["messages"].get<unsigned long long>(),
              (*j)["hits"].get<unsigned long long>(), "set", "rule", "hits", "share", "per_1000", "judged", "false",
              "precision", "latest example");
  for (const auto& r : (*j)["rules"]) {
    // With verdicts, the daemon ranks by false hits and precision (yuqingctl precision for more).
    const bool judged = r.contains("judged");
    std::printf("%-16s %-20s %10llu %6.1f%% %10.2f %6s %6s %9s  %s %s\n", r["set"].get<std::string>().c_str(),
                r["rule"].get<std::string>().c_str(), r["hits"].get<unsigned long long>(),
                r["share"].get<double>() * 100, r["per_1000_messages"].get<double>(),
                judged ? std::to_string(r["judged"].get<uint64_t>()).c_str() : "-",
                judged ? std::to_string(r["false"].get<uint64_t>()).c_str() : "-",
                judged && r["precision"].is_number() ? std::to_string(r["precision"].get<double>()).substr(0, 5).c_str() : "-",
                r["example"]["message_key"].get<std::string>().c_str(),
                r["example"]["text"].get<std::string>().c_str());
  }
  return 0;
}

int config_keys() {
  for (const auto& k : config::keys()) {
    std::cout << k.name << " (" << k.type << (k.needs_restart ? ", restart" : ", reloadable")
              << ")";
    if (!k.default_value.empty()) std::cout << " default: " << k.default_value;
    if (k.type == "integer") std::cout << " bounds: " << k.min << ".." << k.max;
    for (size_t i = 0; i < k.choices.size(); ++i) std::cout << (i ? "|" : " one of: ") << k.choices[i];
    std::cout << "\n    " << k.description << "\n";
  }
  return 0;
}

// A standalone mock cluster. Prints its bootstrap address on the first line of stdout.
// SIGUSR1 takes every broker down, SIGUSR2 brings them back; SIGTERM/SIGINT stop it.
int broker(int brokers, const std::vector<std::string>& topics, int partitions, int rtt_ms) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before librdkafka starts its threads
  auto k = kafka::embedded_kafka::start(brokers);
  if (!k) {
    std::cerr << k.error_message() << "\n";
    return 1;
  }
  for (const auto& t : topics) {
    if (auto st = (*k)->create_topic(t, partitions); !st) {
      std::cerr << st.error_message() << "\n";
      return 1;
    }
  }
  if (auto st = rtt_ms > 0 ? (*k)->set_rtt(rtt_ms) : ok_status(); !st) {
    std::cerr << st.error_message() << "\n";
    return 1;
  }
  std::cout << (*k)->bootstrap() << std::endl;
  while (true) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGTERM || sig == SIGINT) return 0;
    const bool up = sig == SIGUSR2;
    const auto st = (*k)->set_brokers_up(up);
    std::cerr << "event=" << (up ? "brokers_up" : "brokers_down")
              << (st ? "" : " error=\"" + st.error_message() + "\"") << std::endl;
  }
}

// The state of mailbox cases, from the store (--db) or the daemon.
int cases(const api& a, const std::string& db, const std::string& state, const std::string& unit, size_t limit,
          bool as_json) {
  const int64_t now = system_clock().now_ms();
  json list = json::array();
  if (!db.empty()) {
    auto s = storage::store::open({db, false, true});
    if (!s) {
      std::cerr << s.error_message() << "\n";
      return 1;
    }
    auto found = mailbox::list_cases(**s, {state, unit, limit}, now);
    if (!found) {
      std::cerr << found.error_message() << "\n";
      return 1;
    }
    for (const auto& c : *found) list.push_back(json::parse(c.to_json(now)));
    if (as_json) {
      std::cout << json{{"cases", list}}.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
      return 0;
    }
  } else {
    json body;
    std::string target = "/api/v1/cases?limit=" + std::to_string(limit);
    if (!state.empty()) target += "&state=" + state;
    if (!unit.empty()) target += "&unit=" + http::url_encode(unit);
    if (auto rc = get_or_print(a, target, as_json, body)) return *rc;
    list = body["cases"];
  }
  std::printf("%-10s %-10s %-25s %-6s %-25s %-28s %s\n", "case", "state", "received", "cat.", "deadline",
              "units", "reply / title");
  for (const auto& c : list) {
    std::string units;
    for (const auto& u : c["units"]) units += (units.empty() ? "" : ",") + u.get<std::string>();
    std::string tail = c.value("title", "");
    if (c.contains("reply"))
      tail = c["reply"].value("unit", "") + " " + c["reply"].value("time", "") +
             (c.value("on_time", true) ? " (on time)" : " (late)");
    std::printf("%-10s %-10s %-25s %-6s %-25s %-28s %s\n", c.value("id", "").c_str(), c.value("state", "").c_str(),
                c.value("received", "").c_str(), c.value("category", "").c_str(), c.value("deadline", "").c_str(),
                units.c_str(), tail.c_str());
  }
  std::cerr << list.size() << " cases\n";
  return 0;
}

// Alerts of the daemon, newest first: id, level, duty state, condition, when it fired (in
// the daemon's offset) and the summary.
int alerts(const api& a, const std::map<std::string, std::string>& filters, size_t limit, bool as_json) {
  std::string target = "/api/v1/alerts?limit=" + std::to_string(limit);
  for (const auto& [key, value] : filters)
    if (!value.empty()) target += "&" + key + "=" + http::url_encode(value);
  json body;
  if (auto rc = get_or_print(a, target, as_json, body)) return *rc;
  std::printf("%-16s %-7s %-13s %-8s %-30s %s\n", "alert", "level", "state", "cond.", "fired", "summary");
  for (const auto& al : body["alerts"])
    std::printf("%-16s %-7s %-13s %-8s %-30s %s\n", al.value("id", "").c_str(), al.value("level", "").c_str(),
                al.value("state", "").c_str(), al.value("condition", "").c_str(), al.value("fired", "").c_str(),
                al.value("summary", "").c_str());
  std::cerr << body["alerts"].size() << " alerts\n";
  return 0;
}

// The risk index of each topic and region with every part beside it (issue 24).
int risk_table(const api& a, const std::string& topic, const std::string& region, const std::string& at,
               bool as_json) {
  std::string target = "/api/v1/risk?";
  for (const auto& [k, v] : {std::pair<const char*, std::string>{"topic", topic}, {"region", region}, {"at", at}})
    if (!v.empty()) target += std::string(k) + "=" + http::url_encode(v) + "&";
  json body;
  if (auto rc = get_or_print(a, target.substr(0, target.size() - 1), as_json, body)) return *rc;
  std::printf("%-16s %-8s %5s %-4s | %6s %6s %6s %6s %6s | %5s %7s %4s %4s %4s %4s %4s\n", "topic", "region", "index",
              "lvl", "volume", "growth", "spread", "neg.", "mail", "msgs", "basel.", "auth", "chan", "src", "open", "late");
  for (const auto& r : body["readings"]) {
    std::string parts;
    for (const auto& p : r["parts"]) {
      char cell[16] = "     - ";
      if (p["known"].get<bool>()) std::snprintf(cell, sizeof cell, "%6.1f ", p["points"].get<double>());
      parts += cell;
    }
    const auto& f = r["figures"];
    const std::string base = f["baseline"].is_null() ? "-" : std::to_string(f["baseline"].get<double>()).substr(0, 5);
    std::printf("%-16s %-8s %5.1f %-4s | %s| %5d %7s %4d %4d %4d %4d %4d\n", r.value("topic", "").c_str(),
                r.value("region", "").c_str(), r["value"].get<double>(), r.value("level_label", "").c_str(),
                parts.c_str(), f["messages"].get<int>(), base.c_str(), f["authors"].get<int>(),
                f["channels"].get<int>(), f["sources"].get<int>(), f["mailbox_open"].get<int>(),
                f["mailbox_overdue"].get<int>());
  }
  std::cerr << body["readings"].size() << " readings, window " << body.value("window_minutes", 0)
            << " min, tendency: " << body.value("tendency", "") << "\n";
  return 0;
}

// Registered policies, or one policy's reaction curve by day with its largest clusters.
int policy(const api& a, const std::string& id, const std::string& until, bool as_json) {
  json body;
  if (id.empty()) {
    if (auto rc = get_or_print(a, "/api/v1/policies", as_json, body)) return *rc;
    for (const auto& p : body["policies"])
      std::printf("%-20s %-28s %s  %s\n", p.value("id", "").c_str(), p.value("published", "").c_str(),
                  p.value("origin", "").c_str(), p.value("name", "").c_str());
    std::cerr << body["policies"].size() << " policies\n";
    return 0;
  }
  const std::string target = "/api/v1/policies/" + http::url_encode(id) + (until.empty() ? "" : "?until=" + http::url_encode(until));
  if (auto rc = get_or_print(a, target, as_json, body)) return *rc;
  std::printf("%s (%s)\n%-10s %8s %8s %8s %8s %8s\n", body["policy"].value("name", "").c_str(),
              body["policy"].value("published", "").c_str(), "day", "messages", "negative", "neutral", "positive", "unknown");
  for (const auto& d : body["days"])
    std::printf("%-10s %8d %8d %8d %8d %8d\n", d.value("day", "").c_str(), d["messages"].get<int>(),
                d["negative"].get<int>(), d["neutral"].get<int>(), d["positive"].get<int>(), d["tendency_unknown"].get<int>());
  for (const auto& c : body["clusters"])
    std::printf("  cluster of %d (%d negative): %s\n", c["size"].get<int>(), c["negative"].get<int>(),
                c.value("representative", "").c_str());
  if (body.value("before_retention", false)) std::cerr << "published before the messages kept: the first days are partial\n";
  return 0;
}

// Acknowledges (ack) or handles (handle) an alert in the name of `who`.
int alert_step(const api& a, const std::string& action, const std::string& id, const std::string& who,
               const std::string& note) {
  auto j = a.call("POST", "/api/v1/alerts/" + http::url_encode(id) + "/" + action,
                  json{{"who", who}, {"note", note}}.dump());
  if (!j) {
    std::cerr << j.error_message() << "\n";
    return 1;
  }
  std::cout << j->value("id", "") << " " << j->value("state", "") << " (" << j->value("summary", "") << ")\n";
  return 0;
}

// The report of a period, from the store (--db, with progress) or the daemon.
int report(const api& a, const std::string& db, const std::string& from, const std::string& to,
           const std::string& format) {
  if (format != "md" && format != "csv" && format != "json") {
    std::cerr << "--format: md, csv or json\n";
    return 2;
  }
  const int64_t now = system_clock().now_ms();
  int64_t from_ms = 0, to_ms = now;
  try {
    from_ms = from.empty() ? now - int64_t{30} * 86400000 : parse_time(from);
    if (!to.empty()) to_ms = parse_time(to);
  } catch (const std::exception& e) {
    std::cerr << "--from/--to: " << e.what() << "\n";
    return 2;
  }
  if (db.empty()) {
    std::cerr << "reading the report from " << a.url << " ...\n";
    auto r = a.send("GET", "/api/v1/report?from=" + std::to_string(from_ms) + "&to=" + std::to_string(to_ms) +
                               "&format=" + format);
    if (!r || r->status != 200) {
      std::cerr << (r ? "HTTP " + std::to_string(r->status) + ": " + r->body : r.error_message()) << "\n";
      return 1;
    }
    std::cout << r->body << (r->body.empty() || r->body.back() != '\n' ? "\n" : "");
    return 0;
  }
  auto s = storage::store::open({db, false, true});
  if (!s) {
    std::cerr << s.error_message() << "\n";
    return 1;
  }
  auto r = mailbox::build_report(**s, from_ms, to_ms, now, [](uint64_t done, uint64_t total) {
    std::cerr << "\rreading cases: " << done << " / " << total << std::flush;
  });
  std::cerr << "\n";
  if (!r) {
    std::cerr << r.error_message() << "\n";
    return 1;
  }
  std::cout << (format == "md" ? r->to_markdown() : format == "csv" ? r->to_csv() : r->to_json() + "\n");
  return 0;
}

// --shift-from: whole weeks, so that every message keeps its weekday (working days stay
// working days), and never past now: a message stamped in the future is a data error.
int64_t shift_of(const std::string& shift_from) {
  if (shift_from.empty()) return 0;
  int64_t from = 0;
  if (!common::parse_rfc3339(shift_from, from)) throw std::invalid_argument("--shift-from: not an RFC 3339 time");
  constexpr int64_t week = int64_t{7} * 86400000;
  return (system_clock().now_ms() - from) / week * week;
}

// A subcommand once added: runs it when it was the one given (nullopt otherwise).
using runner = std::function<std::optional<int>()>;
// Adds --url and --token (the daemon's HTTP API) to a subcommand.
using api_flags = std::function<void(CLI::App*)>;

// The commands that work on files, a store or a broker, without the daemon.
std::vector<runner> local_commands(CLI::App& cli) {
  struct options {
    std::string brokers, topic, file, key_field = "id", shift_from;
    std::string db, topic_filter, set, message, since;
    size_t limit = 1000;
    bool as_json = false, strict = false;
    std::string check_path, set_file, text, text_file;
    int nbrokers = 1, partitions = 4, rtt_ms = 0;
    std::vector<std::string> topics;
  };
  auto o = std::make_shared<options>();
  auto* p = cli.add_subcommand("produce", "feed a file of JSON lines into a Kafka topic");
  p->add_option("--brokers", o->brokers, "bootstrap servers")->required();
  p->add_option("--topic", o->topic, "topic")->required();
  p->add_option("--key-field", o->key_field, "JSON field used as the message key ('' for none)")
      ->capture_default_str();
  p->add_option("file", o->file, "JSON lines file")->required();
  p->add_option("--shift-from", o->shift_from,
                "the newest RFC 3339 time of the stream: every time in the messages moves by the "
                "largest whole number of weeks that keeps it before now (no message from the future)");
  auto* h = cli.add_subcommand("hits", "list stored hits");
  h->add_option("--db", o->db, "RocksDB directory (storage.path)")->required();
  h->add_option("--topic", o->topic_filter, "policy topic");
  h->add_option("--set", o->set, "keyword set id");
  h->add_option("--message", o->message, "message key (topic/id): the hits of one message");
  h->add_option("--since", o->since, "RFC 3339 time or a duration back from now (7d, 12h, 30m)");
  h->add_option("--limit", o->limit, "most hits to print")->capture_default_str();
  h->add_flag("--json", o->as_json, "one JSON object per line");
  auto* c = cli.add_subcommand("check", "validate keyword sets (exit 0: all good, 1: errors, or warnings with --strict)");
  c->add_option("path", o->check_path, "keyword-set directory or file")->required();
  c->add_flag("--strict", o->strict, "warnings fail the check too (exit 1)");
  c->add_flag("--json", o->as_json, "JSON output");
  auto* t = cli.add_subcommand("test", "match text against a keyword set, with highlights");
  t->add_option("--set", o->set_file, "keyword-set file")->required();
  auto* text_opt = t->add_option("--text", o->text, "text to match");
  auto* file_opt = t->add_option("--file", o->text_file, "file to match, one message per line");
  text_opt->excludes(file_opt);
  t->add_flag("--json", o->as_json, "one JSON object per hit");
  auto* b = cli.add_subcommand("broker", "run a standalone mock Kafka cluster (for tests and demos)");
  b->add_option("--brokers", o->nbrokers, "brokers")->capture_default_str();
  b->add_option("--partitions", o->partitions, "partitions per topic")->capture_default_str();
  b->add_option("--topic", o->topics, "topic to create (repeatable)");
  b->add_option("--rtt-ms", o->rtt_ms, "delay every broker response (a slow broker)");
  b->footer("Prints the bootstrap address. SIGUSR1 takes the brokers down, SIGUSR2 up.");
  auto* k = cli.add_subcommand("config-keys", "list every configuration key with its default");
  auto when = [](CLI::App* sub, std::function<int()> fn) -> runner {
    return [sub, fn] { return *sub ? std::optional<int>(fn()) : std::nullopt; };
  };
  return {
      when(k, [] { return config_keys(); }),
      when(p, [o] { return produce(o->brokers, o->topic, o->file, o->key_field, shift_of(o->shift_from)); }),
      when(h, [o] { return hits(o->db, o->topic_filter, o->set, o->message, o->since, o->limit, o->as_json); }),
      when(c, [o] { return check(o->check_path, o->as_json, o->strict); }),
      when(t, [o, text_opt, file_opt] {
        if (!*text_opt && !*file_opt) {
          std::cerr << "test: give --text or --file\n";
          return 2;
        }
        return test(o->set_file, o->text, o->text_file, o->as_json);
      }),
      when(b, [o] { return broker(o->nbrokers, o->topics, o->partitions, o->rtt_ms); }),
  };
}

// Keyword sets in force, their versions, reloads, backtests and the noisiest rules.
std::vector<runner> set_commands(CLI::App& cli, const api_flags& api_options, const api& a) {
  struct options {
    bool as_json = false;
    std::string name, from, to, version, set, since = "7d";
    size_t examples = 3;
    int top = 20;
  };
  auto o = std::make_shared<options>();
  auto* ks = cli.add_subcommand("sets", "keyword sets in force, their versions and the last reload");
  api_options(ks);
  ks->add_flag("--json", o->as_json, "JSON output");
  auto* ksv = ks->add_subcommand("versions", "the recorded versions of a set, newest first");
  auto* ksd = ks->add_subcommand("diff", "a unified diff between two versions of a set");
  auto* ksr = ks->add_subcommand("rollback", "save an earlier version of a set again and reload it");
  for (auto* sub : {ksv, ksd, ksr}) {
    api_options(sub);
    sub->add_option("name", o->name, "the set id")->required();
  }
  ksv->add_flag("--json", o->as_json, "JSON output");
  ksd->add_flag("--json", o->as_json, "JSON output");
  ksd->add_option("--from", o->from, "the older version: its hash or its number (see versions)")->required();
  ksd->add_option("--to", o->to, "the newer version")->required();
  ksr->add_option("--version", o->version, "the version to go back to: its hash or its number")->required();
  auto* rl = cli.add_subcommand("reload", "reload the keyword sets now (exit 1 when it failed)");
  api_options(rl);
  auto* bt = cli.add_subcommand("backtest", "what a candidate set would add and remove on stored messages");
  api_options(bt);
  bt->add_option("--set", o->set, "candidate keyword-set file")->required();
  bt->add_option("--since", o->since, "messages since (RFC 3339 or an age: 7d, 12h)")->capture_default_str();
  bt->add_option("--examples", o->examples, "examples per rule and direction")->capture_default_str();
  bt->add_flag("--json", o->as_json, "the report as JSON");
  auto* ru = cli.add_subcommand("rules", "the noisiest rules since the daemon started");
  api_options(ru);
  ru->add_option("--top", o->top, "how many")->capture_default_str();
  ru->add_flag("--json", o->as_json, "JSON output");
  return {
      [o, &a, ks, ksv, ksd, ksr]() -> std::optional<int> {
        if (!*ks) return std::nullopt;
        for (const auto& [opt, v] : {std::pair{"name", o->name}, {"--from", o->from}, {"--to", o->to},
                                     {"--version", o->version}})
          if (!v.empty() && !plain_word(v)) throw std::invalid_argument(std::string(opt) + ": letters, digits, '.', '_' or '-'");
        if (*ksv) return set_versions(a, o->name, o->as_json);
        if (*ksd) return set_diff(a, o->name, o->from, o->to, o->as_json);
        if (*ksr) return set_rollback(a, o->name, o->version);
        return sets(a, o->as_json);
      },
      [&a, rl]() -> std::optional<int> { return *rl ? std::optional<int>(reload(a)) : std::nullopt; },
      [o, &a, bt]() -> std::optional<int> {
        return *bt ? std::optional<int>(backtest(a, o->set, o->since, o->examples, o->as_json)) : std::nullopt;
      },
      [o, &a, ru]() -> std::optional<int> {
        return *ru ? std::optional<int>(rules(a, o->top, o->as_json)) : std::nullopt;
      },
  };
}

// Mailbox cases and the period report.
std::vector<runner> mailbox_commands(CLI::App& cli, const api_flags& api_options, const api& a) {
  struct options {
    bool as_json = false;
    std::string db, state, unit, rp_db, from, to, format = "md";
    size_t limit = 1000;
  };
  auto o = std::make_shared<options>();
  auto* cs = cli.add_subcommand("cases", "governor's-mailbox cases and their state");
  api_options(cs);
  cs->add_option("--db", o->db, "read the RocksDB directory (storage.path) instead of the daemon");
  cs->add_option("--state", o->state, "open, overdue, closed or reply_only")
      ->check(CLI::IsMember({"open", "overdue", "closed", "reply_only"}));
  cs->add_option("--unit", o->unit, "a responsible unit (or the replying unit)");
  cs->add_option("--limit", o->limit, "most cases to list")->capture_default_str();
  cs->add_flag("--json", o->as_json, "JSON output");
  auto* rp = cli.add_subcommand("report", "mailbox report of a period: on time, late, open, overdue, concentrated issues");
  api_options(rp);
  rp->add_option("--db", o->rp_db, "read the RocksDB directory (storage.path) instead of the daemon (shows progress)");
  rp->add_option("--from", o->from, "cases received from (RFC 3339 or an age: 30d; default 30d)");
  rp->add_option("--to", o->to, "... until (exclusive; default now)");
  rp->add_option("--format", o->format, "md, csv or json")->capture_default_str();
  return {
      [o, &a, cs]() -> std::optional<int> {
        return *cs ? std::optional<int>(cases(a, o->db, o->state, o->unit, o->limit, o->as_json)) : std::nullopt;
      },
      [o, &a, rp]() -> std::optional<int> {
        return *rp ? std::optional<int>(report(a, o->rp_db, o->from, o->to, o->format)) : std::nullopt;
      },
  };
}

// Alerts: the list, acknowledge (签收) and handle (处置).
std::vector<runner> alert_commands(CLI::App& cli, const api_flags& api_options, const api& a) {
  struct options {
    bool as_json = false;
    std::map<std::string, std::string> filters;
    size_t limit = 100;
    std::string id, who, note;
  };
  auto o = std::make_shared<options>();
  auto* al = cli.add_subcommand("alerts", "alerts of the daemon, newest first");
  api_options(al);
  al->add_option("--state", o->filters["state"], "duty state: open, acknowledged, handled or closed")
      ->check(CLI::IsMember({"open", "acknowledged", "handled", "closed"}));
  al->add_option("--condition", o->filters["condition"], "firing or cleared")->check(CLI::IsMember({"firing", "cleared"}));
  al->add_option("--level", o->filters["level"], "blue, yellow, orange or red")
      ->check(CLI::IsMember({"blue", "yellow", "orange", "red"}));
  al->add_option("--topic", o->filters["topic"], "policy topic");
  al->add_option("--unit", o->filters["unit"], "a lead or cooperating unit");
  al->add_option("--limit", o->limit, "most alerts to list")->capture_default_str();
  al->add_flag("--json", o->as_json, "JSON output");
  auto* ack = cli.add_subcommand("ack", "acknowledge an alert (签收)");
  auto* hd = cli.add_subcommand("handle", "mark an alert handled (处置)");
  for (auto* sub : {ack, hd}) {
    api_options(sub);
    sub->add_option("id", o->id, "alert id")->required();
    sub->add_option("--who", o->who, "the person (with the shared http.token; a person's own token names them)");
    sub->add_option("--note", o->note, "a note for the audit trail");
  }
  return {
      [o, &a, al]() -> std::optional<int> {
        return *al ? std::optional<int>(alerts(a, o->filters, o->limit, o->as_json)) : std::nullopt;
      },
      [o, &a, ack, hd]() -> std::optional<int> {
        if (!*ack && !*hd) return std::nullopt;
        return alert_step(a, *ack ? "ack" : "handle", o->id, o->who, o->note);
      },
  };
}

// The risk index and the followed policies (issue 24).
std::vector<runner> risk_commands(CLI::App& cli, const api_flags& api_options, const api& a) {
  struct options {
    bool as_json = false;
    std::string topic, region, at, id, until;
  };
  auto o = std::make_shared<options>();
  auto* rk = cli.add_subcommand("risk", "risk index of each policy topic and region, with the parts it is made of");
  api_options(rk);
  rk->add_option("--topic", o->topic, "policy topic");
  rk->add_option("--region", o->region, "region (全市: the topic's total)");
  rk->add_option("--at", o->at, "at this time (YYYY-MM-DD or RFC 3339; default: the newest message)");
  rk->add_flag("--json", o->as_json, "JSON output");
  auto* pl = cli.add_subcommand("policy", "followed policies, or one policy's reaction curve since publication");
  api_options(pl);
  pl->add_option("id", o->id, "policy id (none: list them)");
  pl->add_option("--until", o->until, "curve until (YYYY-MM-DD or RFC 3339; default now)");
  pl->add_flag("--json", o->as_json, "JSON output");
  return {
      [o, &a, rk]() -> std::optional<int> {
        return *rk ? std::optional<int>(risk_table(a, o->topic, o->region, o->at, o->as_json)) : std::nullopt;
      },
      [o, &a, pl]() -> std::optional<int> {
        return *pl ? std::optional<int>(policy(a, o->id, o->until, o->as_json)) : std::nullopt;
      },
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"yuqingctl: operate yuqing"};
  cli.set_version_flag("--version", "yuqingctl " YUQING_VERSION);
  cli.require_subcommand(1);
  api a;
  a.url = std::getenv("YUQING_URL") ? std::getenv("YUQING_URL") : "127.0.0.1:9464";
  a.token = std::getenv("YUQING_HTTP_TOKEN") ? std::getenv("YUQING_HTTP_TOKEN") : "";
  const api_flags api_options = [&](CLI::App* sub) {
    sub->add_option("--url", a.url, "the daemon's HTTP address (env YUQING_URL)")->capture_default_str();
    sub->add_option("--token", a.token, "bearer token: POST endpoints, and reading alerts, cases and the report when the daemon has tokens (env YUQING_HTTP_TOKEN)");
  };
  std::vector<runner> commands = local_commands(cli);
  for (auto group : {set_commands, mailbox_commands, alert_commands, risk_commands}) {
    auto more = group(cli, api_options, a);
    commands.insert(commands.end(), more.begin(), more.end());
  }
  ctl::precision_commands precision_cmds(cli, api_options);
  ctl::briefing_commands briefing_cmds(cli, api_options);
  CLI11_PARSE(cli, argc, argv);
  try {
    for (const auto& run : commands)
      if (auto rc = run()) return *rc;
    if (auto rc = precision_cmds.run(a.url, a.token)) return *rc;
    if (auto rc = briefing_cmds.run(a.url, a.token)) return *rc;
  } catch (const std::exception& e) {
    std::cerr << "yuqingctl: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
