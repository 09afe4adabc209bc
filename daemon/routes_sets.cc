#include "daemon/routes_sets.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "ingest/decoder.h"
#include "sets/checks.h"
#include "sets/set_diff.h"
#include "matchers/keyword_set.h"

namespace yuqing::daemon {

namespace {

using nlohmann::json;
const std::string base_path = "/api/v1/keyword-sets/";

http::http_response answer(int status, const json& j) {
  return {status, "application/json", j.dump(-1, ' ', false, json::error_handler_t::replace)};
}
http::http_response fail(int status, const std::string& message) { return answer(status, json{{"error", message}}); }

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 128 || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::vector<std::string> split_path(std::string_view rest) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= rest.size();) {
    const size_t slash = std::min(rest.find('/', at), rest.size());
    out.emplace_back(rest.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

// Who saves: the person of the token, or the shared token and the client address.
std::string who_of(const http::http_request& r) {
  if (!r.person.empty()) return r.unit.empty() ? r.person : r.person + "（" + r.unit + "）";
  return "http.token " + r.remote.substr(0, r.remote.rfind(':'));
}

// A text checked as `yuqingctl check` does: parsed, then compiled on the keyword-set thread
// (with its time limit). `compiling` when the compile did not end within a second.
struct checked {
  bool compiling = false;
  std::vector<matchers::diagnostic> diagnostics;
  std::shared_ptr<const matchers::compiled_set> set;
};

checked check_text(sets::keyword_sets& sets, const std::string& text, const std::string& file) {
  checked out;
  auto parsed = sets::parse_set(text, file);
  out.diagnostics = parsed.diagnostics;
  if (!parsed.ok()) return out;
  auto f = sets.compile(std::move(*parsed.set));
  if (f.wait_for(std::chrono::seconds(1)) != std::future_status::ready) {
    out.compiling = true;
    return out;
  }
  const auto& c = f.get();
  std::set<std::string> seen;
  for (const auto& d : out.diagnostics) seen.insert(d.to_text());
  for (const auto& d : c.diagnostics)
    if (seen.insert(d.to_text()).second) out.diagnostics.push_back(d);
  out.set = c.set;
  return out;
}

json check_json(const checked& c) {
  json diags = json::array();
  size_t errors = 0;
  for (const auto& d : c.diagnostics) {
    errors += !d.warning;
    diags.push_back({{"line", d.pos.line}, {"column", d.pos.column}, {"rule", d.rule},
                     {"message", d.message}, {"severity", d.warning ? "warning" : "error"},
                     {"text", d.to_text()}});
  }
  json j{{"ok", c.set != nullptr && errors == 0}, {"errors", errors},
         {"warnings", c.diagnostics.size() - errors}, {"diagnostics", diags}};
  if (c.set) {
    const auto& d = c.set->definition();
    j["set"] = d.id;
    j["version"] = d.version;
    j["rules"] = d.rules.size();
  }
  return j;
}

http::http_response still_compiling() {
  return answer(202, json{{"state", "compiling"}, {"retry", "send the same text again for its result"}});
}

// Writes `text` to `target` through a temporary file in the same directory (a name that
// starts with '.', which set loading and the watcher skip), synced, then renamed over it.
status write_atomically(const std::filesystem::path& target, const std::string& text) {
  const auto tmp = target.parent_path() / ("." + target.filename().string() + ".saving");
  struct stat st {};
  const mode_t mode = ::stat(target.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0644;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return error{tmp.string() + ": " + std::strerror(errno)};
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool written = done == text.size() && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), target.c_str()) != 0) {
    const std::string why = std::strerror(written ? errno : saved);
    ::unlink(tmp.c_str());
    return error{target.string() + ": " + why};
  }
  if (const int dir = ::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return ok_status();
}

json outcome_json(const sets::reload_outcome& o) {
  return {{"ok", o.ok}, {"changed", o.changed}, {"trigger", o.trigger}, {"sets", o.sets},
          {"errors", o.errors}, {"loaded", o.loaded}, {"seconds", o.seconds}};
}

// Hits per set and rule over the last 24 hours and 7 days, from the stored hits' keys,
// computed again when a minute old.
class rule_hit_counts {
 public:
  struct counts {
    uint64_t day = 0, week = 0;
  };
  // The counts of the sets in force; an error of the store leaves the last counts.
  std::string refresh(const storage::store& store, const std::vector<sets::loaded_set>& sets, int64_t now) {
    std::lock_guard lock(mu_);
    if (computed_ms_ && now - computed_ms_ < 60000) return error_;
    std::set<std::string> topics;
    for (const auto& l : sets) topics.insert(l.set->definition().topic);
    std::map<std::pair<std::string, std::string>, counts> fresh;
    const int64_t day_ago = now - 86400000, week_ago = now - 7 * int64_t{86400000};
    for (const auto& topic : topics) {
      auto st = store.scan_hit_keys(topic, week_ago, now + 1, [&](int64_t t, std::string_view s, std::string_view r) {
        auto& c = fresh[{std::string(s), std::string(r)}];
        ++c.week;
        c.day += t >= day_ago;
      });
      if (!st) return error_ = st.error_message();
    }
    counts_ = std::move(fresh);
    computed_ms_ = now;
    return error_ = "";
  }
  counts of(const std::string& set, const std::string& rule) const {
    std::lock_guard lock(mu_);
    auto it = counts_.find({set, rule});
    return it == counts_.end() ? counts{} : it->second;
  }
  int64_t computed_ms() const {
    std::lock_guard lock(mu_);
    return computed_ms_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, counts> counts_;
  int64_t computed_ms_ = 0;
  std::string error_;
};

json terms_json(const std::vector<matchers::term>& ts) {
  json a = json::array();
  for (const auto& t : ts) a.push_back(t.text);
  return a;
}

}  // namespace

namespace {

class set_file_api {
 public:
  explicit set_file_api(set_routes_context ctx) : ctx_(std::move(ctx)) {}

  http::http_response check(const http::http_request& r) {
    if (r.body.empty()) return fail(400, "body: the text of a keyword-set file");
    const auto c = check_text(*ctx_.sets, r.body, "(check)");
    if (c.compiling) return still_compiling();
    return answer(200, check_json(c));
  }

  http::http_response get(const http::http_request& r) {
    const auto parts = split_path(std::string_view(r.path).substr(base_path.size()));
    if (!valid_name(parts[0])) return fail(400, "NAME: a set id of letters, digits, '.', '_' or '-'");
    if (parts.size() == 1) return set_detail(parts[0]);
    if (parts.size() == 2 && parts[1] == "versions") return versions(parts[0]);
    if (parts.size() == 3 && parts[1] == "versions") return version_text(parts[0], parts[2]);
    if (parts.size() == 2 && parts[1] == "diff") return diff(parts[0], r);
    return fail(404, "GET " + base_path + "NAME, NAME/versions, NAME/versions/V or NAME/diff?from=V1&to=V2");
  }

  http::http_response put(const http::http_request& r) {
    const auto parts = split_path(std::string_view(r.path).substr(base_path.size()));
    if (parts.size() != 1) return fail(404, "PUT " + base_path + "NAME with the set file as the body");
    if (!valid_name(parts[0])) return fail(400, "NAME: a set id of letters, digits, '.', '_' or '-'");
    if (r.body.empty()) return fail(400, "body: the text of the keyword-set file");
    std::string base;
    for (const auto& [key, value] : r.query) {
      if (key != "base") return fail(400, key + ": unknown parameter (base)");
      if (value.empty()) return fail(400, "base: the version the edit started from");
      base = value;
    }
    const std::string who = who_of(r);
    return save(parts[0], r.body, who, "http PUT by " + who, base);
  }

  http::http_response post(const http::http_request& r) {
    const auto parts = split_path(std::string_view(r.path).substr(base_path.size()));
    if (parts.size() != 2 || parts[1] != "rollback")
      return fail(404, "POST " + base_path + "NAME/rollback with {\"version\": V}");
    if (!valid_name(parts[0])) return fail(400, "NAME: a set id of letters, digits, '.', '_' or '-'");
    const json body = json::parse(r.body, nullptr, false);
    if (!body.is_object() || !body.contains("version") || !(body["version"].is_string() || body["version"].is_number_unsigned()))
      return fail(400, "version: the version to go back to, its hash or its number ({\"version\": V})");
    const std::string v = body["version"].is_string() ? body["version"].get<std::string>()
                                                       : std::to_string(body["version"].get<uint64_t>());
    auto all = versions_of(parts[0]);
    if (!all) return fail(500, all.error_message());
    size_t number = 0;
    const auto* rec = find_version(*all, v, number);
    if (!rec) return fail(404, "version: set " + parts[0] + " has no version " + v);
    auto text = text_of(*rec);
    if (!text) return fail(500, text.error_message());
    if (!*text) return fail(404, "version: the text of " + parts[0] + " version " + v + " was not kept (loaded before texts were recorded)");
    const std::string who = who_of(r);
    return save(parts[0], **text, who, "http rollback to #" + std::to_string(number) + " by " + who, "");
  }

 private:
  set_routes_context ctx_;
  rule_hit_counts counts_;

  std::shared_ptr<const matchers::compiled_set> running(const std::string& name) const {
    for (const auto& l : ctx_.sets->sets())
      if (l.set->definition().id == name) return l.set;
    return nullptr;
  }

  result<std::vector<storage::set_version_record>> versions_of(const std::string& name) const {
    return ctx_.store->set_versions(name, 1000000);
  }

  // A version by its hash or its number (1 = the first recorded); null when unknown.
  static const storage::set_version_record* find_version(const std::vector<storage::set_version_record>& all,
                                                         const std::string& v, size_t& number) {
    const bool is_number = !v.empty() && v.size() <= 9 && v.find_first_not_of("0123456789") == std::string::npos;
    if (is_number) {
      number = std::stoul(v);
      return number >= 1 && number <= all.size() ? &all[number - 1] : nullptr;
    }
    for (size_t i = all.size(); i-- > 0;) {
      if (all[i].version != v) continue;
      number = i + 1;
      return &all[i];
    }
    return nullptr;
  }

  result<std::optional<std::string>> text_of(const storage::set_version_record& rec) const {
    auto t = ctx_.store->set_text(rec.set_id, rec.version);
    if (!t || *t) return t;
    if (auto s = running(rec.set_id); s && s->definition().version == rec.version)
      return std::optional<std::string>(s->definition().text);
    return t;
  }

  json version_json(const storage::set_version_record& v, size_t number, const std::string& current) const {
    return {{"number", number},  {"version", v.version}, {"time", common::local_rfc3339(v.loaded_ms, ctx_.utc_offset_minutes)},
            {"time_ms", v.loaded_ms}, {"who", v.who}, {"trigger", v.trigger}, {"rules", v.rules},
            {"file", v.file},    {"in_force", v.version == current}};
  }

  http::http_response set_detail(const std::string& name) {
    const auto s = running(name);
    if (!s) return fail(404, "NAME: no set " + name + " in force");
    const int64_t now = ctx_.clk->now_ms();
    const std::string counts_error = counts_.refresh(*ctx_.store, ctx_.sets->sets(), now);
    const auto& d = s->definition();
    json rules = json::array();
    for (const auto& rule : d.rules) {
      const auto c = counts_.of(d.id, rule.id);
      json all = json::array();
      for (const auto& group : rule.all) all.push_back(terms_json(group));
      rules.push_back({{"id", rule.id}, {"line", rule.pos.line}, {"severity", matchers::to_string(rule.level)},
                       {"any", terms_json(rule.any)}, {"all", all}, {"none", terms_json(rule.none)},
                       {"regex", rule.regex ? rule.regex->text : ""}, {"hits_24h", c.day}, {"hits_7d", c.week}});
    }
    json j{{"id", d.id},     {"name", d.name},       {"topic", d.topic}, {"file", d.file},
           {"version", d.version}, {"text", d.text}, {"rules", rules},
           {"hits_counted", common::local_rfc3339(counts_.computed_ms(), ctx_.utc_offset_minutes)}};
    if (!counts_error.empty()) j["hits_error"] = counts_error;
    return answer(200, j);
  }

  http::http_response versions(const std::string& name) {
    auto all = versions_of(name);
    if (!all) return fail(500, all.error_message());
    const auto s = running(name);
    if (all->empty() && !s) return fail(404, "NAME: set " + name + " has no recorded version");
    std::string current = s ? s->definition().version : "";
    const std::string in_force = current;
    json out = json::array();
    for (size_t i = all->size(); i-- > 0;) {
      out.push_back(version_json((*all)[i], i + 1, current));
      if ((*all)[i].version == current) current.clear();  // an older record of the same text is not the one in force
    }
    return answer(200, json{{"set", name}, {"in_force", in_force}, {"versions", out}});
  }

  http::http_response version_text(const std::string& name, const std::string& v) {
    auto all = versions_of(name);
    if (!all) return fail(500, all.error_message());
    size_t number = 0;
    const auto* rec = find_version(*all, v, number);
    if (!rec) return fail(404, "V: set " + name + " has no version " + v);
    auto text = text_of(*rec);
    if (!text) return fail(500, text.error_message());
    if (!*text) return fail(404, "V: the text of " + name + " version " + v + " was not kept (loaded before texts were recorded)");
    const auto s = running(name);
    json j = version_json(*rec, number, s ? s->definition().version : "");
    j["set"] = name;
    j["text"] = **text;
    return answer(200, j);
  }

  http::http_response diff(const std::string& name, const http::http_request& r) {
    for (const auto& [key, value] : r.query)
      if (key != "from" && key != "to") return fail(400, key + ": unknown parameter (from, to)");
    auto all = versions_of(name);
    if (!all) return fail(500, all.error_message());
    std::string texts[2], labels[2];
    const char* keys[2] = {"from", "to"};
    for (int i = 0; i < 2; ++i) {
      const auto it = r.query.find(keys[i]);
      if (it == r.query.end() || it->second.empty())
        return fail(400, std::string(keys[i]) + ": a version of the set (its hash or its number)");
      size_t number = 0;
      const auto* rec = find_version(*all, it->second, number);
      if (!rec) return fail(404, std::string(keys[i]) + ": set " + name + " has no version " + it->second);
      auto text = text_of(*rec);
      if (!text) return fail(500, text.error_message());
      if (!*text) return fail(404, std::string(keys[i]) + ": the text of version " + it->second + " was not kept");
      texts[i] = **text;
      labels[i] = name + " #" + std::to_string(number) + " " + rec->version + " " +
                  common::local_rfc3339(rec->loaded_ms, ctx_.utc_offset_minutes);
    }
    const auto d = sets::unified_diff(texts[0], texts[1], labels[0], labels[1]);
    return answer(200, json{{"set", name}, {"from", r.query.at("from")}, {"to", r.query.at("to")},
                            {"added", d.added}, {"removed", d.removed}, {"unified", d.unified}});
  }

  // Where a save of `name` goes: the file of the set in force, else the file in the set
  // directory that declares it (one refused for its errors: the save repairs it, and no
  // second file gets the same id), else NAME.yaml unless that file declares another set.
  // "" and the reason when refused.
  std::pair<std::filesystem::path, std::string> target_of(const std::string& name) const {
    if (const auto s = running(name)) return {s->definition().file, ""};
    for (const auto& f : matchers::keyword_set_files(ctx_.dir))
      if (matchers::refused_set_file(ctx_.dir, f).empty() && matchers::declared_set_id(f) == name) return {f, ""};
    const auto file = ctx_.dir / (name + ".yaml");
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return {file, ""};
    if (const auto id = matchers::declared_set_id(file); id && *id != name)
      return {{}, "NAME: " + file.filename().string() + " holds the set " + *id + ", not " + name};
    return {file, ""};  // no id readable: the save repairs it
  }

  http::http_response save(const std::string& name, const std::string& text, const std::string& who,
                     const std::string& trigger, const std::string& base) {
    const auto s = running(name);
    const std::string before = s ? s->definition().version : "";
    if (!base.empty() && base != before)
      return answer(409, json{{"error", "base: set " + name + " is at version " + (before.empty() ? "(none)" : before) +
                                            " now, not " + base + " (saved by someone else meanwhile?)"},
                              {"in_force", before}});
    const auto [target, refused] = target_of(name);
    if (!refused.empty()) return fail(409, refused);
    const auto c = check_text(*ctx_.sets, text, target.string());
    if (c.compiling) return still_compiling();
    json report = check_json(c);
    if (!report["ok"].get<bool>()) {
      report["error"] = "the set has errors; the version in force is kept";
      return answer(422, report);
    }
    const std::string version = c.set->definition().version;
    if (c.set->definition().id != name)
      return fail(400, "id: the file names the set " + c.set->definition().id + ", the URL " + name);
    if (version == before) return answer(200, json{{"ok", true}, {"changed", false}, {"set", name}, {"version", version}});
    ctx_.sets->note_author(name, version, who);
    if (auto st = write_atomically(target, text); !st) {
      spdlog::error("event=set_save_failed set={} who=\"{}\" error=\"{}\"", name, http::log_safe(who), st.error_message());
      return fail(500, "file: cannot write " + st.error_message());
    }
    spdlog::info("event=set_saved set={} version={} previous={} who=\"{}\" file={}", name, version, before,
                 http::log_safe(who), target.string());
    auto f = ctx_.sets->request(trigger);
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
      return answer(202, json{{"state", "reloading"}, {"set", name}, {"version", version},
                              {"see", "/api/v1/keyword-sets"}});
    const auto o = f.get();
    const auto now = running(name);
    const bool taken = now && now->definition().version == version;
    json j{{"ok", taken}, {"changed", taken}, {"set", name}, {"version", version}, {"previous", before},
           {"reload", outcome_json(o)}};
    if (!taken) j["error"] = "the reload did not take version " + version + " (see reload.errors)";
    return answer(taken ? 200 : 422, j);
  }
};

}  // namespace

void add_set_file_routes(http::http_server& http, const set_routes_context& ctx) {
  using access = http::http_server::access;
  auto api = std::make_shared<set_file_api>(ctx);
  http.route("POST", "/api/v1/keyword-sets/check", [api](const http::http_request& r) { return api->check(r); },
             access::analyst);
  http.route("GET", base_path, [api](const http::http_request& r) { return api->get(r); });
  http.route("PUT", base_path, [api](const http::http_request& r) { return api->put(r); }, access::analyst);
  http.route("POST", base_path, [api](const http::http_request& r) { return api->post(r); }, access::analyst);
}

}  // namespace yuqing::daemon
