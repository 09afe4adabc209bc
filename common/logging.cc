#include "common/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <nlohmann/json.hpp>

#include "common/time.h"

namespace yuqing::common {

namespace {

class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line =
        kv_line_to_json(std::string_view(msg.payload.data(), msg.payload.size()), format_rfc3339(ms),
                        std::string(level.data(), level.size())) + "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<json_formatter>(); }
};

// Formats with `inner` a copy of each line whose text has the secrets redacted (before
// any JSON escaping, which could hide them).
class redacting_formatter final : public spdlog::formatter {
 public:
  redacting_formatter(std::unique_ptr<spdlog::formatter> inner, std::vector<std::string> secrets)
      : inner_(std::move(inner)), secrets_(std::move(secrets)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string text =
        redact(std::string_view(msg.payload.data(), msg.payload.size()), secrets_);
    spdlog::details::log_msg copy = msg;
    copy.payload = text;
    inner_->format(copy, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<redacting_formatter>(inner_->clone(), secrets_);
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
  std::vector<std::string> secrets_;
};

}  // namespace

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::vector<char> hidden(text.size(), 0);
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    // Every window of the text that is a piece of the secret (all of it, if short).
    const size_t k = std::min(s.size(), min_secret_fragment);
    std::set<std::string_view> pieces;
    for (size_t i = 0; i + k <= s.size(); ++i) pieces.insert(std::string_view(s).substr(i, k));
    for (size_t i = 0; i + k <= text.size(); ++i)
      if (pieces.count(text.substr(i, k)))
        std::fill_n(hidden.begin() + static_cast<ptrdiff_t>(i), k, 1);
  }
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (!hidden[i]) out += text[i];
    else if (i == 0 || !hidden[i - 1]) out += "***";
  }
  return out;
}

std::string kv_line_to_json(std::string_view line, const std::string& time, const std::string& level) {
  nlohmann::ordered_json j{{"time", time}, {"level", level}};
  std::string rest;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '=') ++i;
    if (i < line.size() && line[i] == '=' && i > start) {
      const std::string key(line.substr(start, i - start));
      ++i;
      std::string value;
      if (i < line.size() && line[i] == '"') {
        // A quoted value ends at the quote that ends the line or comes before " key=" (else
        // at the first quote before a space).
        auto ends_value = [&](size_t q) {
          if (q + 1 == line.size()) return true;
          if (line[q + 1] != ' ') return false;
          size_t k = q + 2;
          while (k < line.size() && (std::isalnum(static_cast<unsigned char>(line[k])) || line[k] == '_' || line[k] == '.')) ++k;
          return k > q + 2 && k < line.size() && line[k] == '=';
        };
        const size_t open = ++i;
        size_t close = line.find('"', open);
        while (close != std::string_view::npos && !ends_value(close)) close = line.find('"', close + 1);
        if (close == std::string_view::npos) {  // none before a key: the first before a space
          close = line.find('"', open);
          while (close != std::string_view::npos && close + 1 < line.size() && line[close + 1] != ' ')
            close = line.find('"', close + 1);
        }
        if (close == std::string_view::npos) close = line.size();
        value = std::string(line.substr(open, close - open));
        i = std::min(line.size(), close + 1);
      } else {
        const size_t end = std::min(line.find(' ', i), line.size());
        value = std::string(line.substr(i, end - i));
        i = end;
      }
      j[key] = value;
    } else {
      while (i < line.size() && line[i] != ' ') ++i;
      if (i > start) rest += (rest.empty() ? "" : " ") + std::string(line.substr(start, i - start));
    }
  }
  if (!rest.empty()) j["msg"] = rest;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

status setup_logging(const std::string& level, const std::string& format,
                     const std::vector<std::string>& secrets) {
  std::unique_ptr<spdlog::formatter> f;
  if (format == "json") {
    f = std::make_unique<json_formatter>();
  } else if (format == "text") {
    f = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%e%z level=%l %v");
  } else {
    return error{"log.format: text or json, not '" + format + "'"};
  }
  if (!secrets.empty()) f = std::make_unique<redacting_formatter>(std::move(f), secrets);
  spdlog::set_formatter(std::move(f));
  spdlog::set_level(spdlog::level::from_str(level));
  return ok_status();
}

}  // namespace yuqing::common
