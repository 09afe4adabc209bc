// Briefings end to end (issue 24 item 4): the bundled sample stream through the mock
// broker, a daily briefing made through the API, fetched as Markdown, HTML and JSON with
// the right headers, pushed to a small HTTP receiver as each kind of webhook (every part
// within the receiver's limit; the WeCom and DingTalk parts, reassembled, are the
// Markdown), bad parameters answered 400 with their name, and the briefing still there
// after a restart.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "briefing/briefing.h"
#include "tests/support/yuqing.h"

using namespace yuqing::testing;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> topics = {"yuqing.posts", "yuqing.news", "yuqing.mailbox", "yuqing.mailbox-replies",
                                         "yuqing.hits", "yuqing.alerts", "yuqing.deadletter"};

// A receiver of webhooks: every POST body is written to DIR/NNNN-PATH (path without '/'),
// and answered 200 (PATH "fail": 500). It writes its port to DIR/port.
const char* receiver_py = R"(
import http.server, os, sys, threading
out = sys.argv[1]
lock = threading.Lock()
count = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        name = self.path.strip('/').split('?')[0] or 'root'
        with lock:
            count[0] += 1
            n = count[0]
        with open(os.path.join(out, '%04d-%s' % (n, name)), 'wb') as f:
            f.write(body)
        code = 500 if name == 'fail' else 200
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.end_headers()
        self.wfile.write(b'{"errcode":0}')
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
with open(os.path.join(out, 'port.tmp'), 'w') as f:
    f.write(str(s.server_address[1]))
os.rename(os.path.join(out, 'port.tmp'), os.path.join(out, 'port'))
s.serve_forever()
)";

// Bodies received on `path`, in the order received.
std::vector<std::string> received(const fs::path& dir, const std::string& path) {
  std::map<std::string, std::string> by_name;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.size() > 5 && name.substr(5) == path) by_name[name] = read_file(e.path());
  }
  std::vector<std::string> out;
  for (auto& [n, body] : by_name) out.push_back(std::move(body));
  return out;
}

// curl's answer: the headers (lower-case names) and the body.
struct fetched {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};
fetched curl_get(uint16_t port, const std::string& target, const fs::path& dir) {
  const auto body_file = dir / "body", head_file = dir / "head";
  const auto [rc, code] = shell("curl -s -o " + body_file.string() + " -D " + head_file.string() +
                                " -w '%{http_code}' 'http://127.0.0.1:" + std::to_string(port) + target + "'");
  fetched f;
  f.status = rc == 0 ? std::stoi(code) : 0;
  f.body = read_file(body_file);
  std::istringstream in(read_file(head_file));
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    f.headers[name] = value;
  }
  return f;
}

}  // namespace

TEST_CASE("briefing: a daily briefing of the sample stream, downloaded in three formats and pushed to four webhooks",
          "[integration][briefing]") {
  temp_dir dir;
  broker_process broker(dir.path / "broker", topics, 2);
  fs::create_directories(dir.path / "recv");
  write_file(dir.path / "receiver.py", receiver_py);
  child receiver({"/usr/bin/python3", (dir.path / "receiver.py").string(), (dir.path / "recv").string()},
                 dir.path / "receiver.log");
  REQUIRE(eventually([&] { return fs::exists(dir.path / "recv" / "port"); }, 30s));
  const std::string hook = "http://127.0.0.1:" + read_file(dir.path / "recv" / "port");

  const std::string head =
      kafka_head(broker.bootstrap()) +
      "channels:\n"
      "  - {name: posts, topic: yuqing.posts, kind: post}\n"
      "  - {name: news, topic: yuqing.news, kind: news}\n"
      "  - {name: mailbox, topic: yuqing.mailbox, kind: mailbox}\n"
      "  - {name: mailbox-replies, topic: yuqing.mailbox-replies, kind: mailbox-reply,\n"
      "     fields: {id: id, text: [content], time: replied_at, author: unit}}\n"
      "mailbox:\n  calendar_dir: " YUQING_SOURCE_DIR "/seeds/calendar\n"
      "risk:\n  gazetteer: " YUQING_SOURCE_DIR "/seeds/gazetteer/jiangmen.yaml\n"
      "briefing:\n  daily_at: \"off\"\n  weekly_at: \"off\"\n  top_clusters: 20\n"
      "  webhooks:\n"
      "    - {kind: wecom, url: \"" + hook + "/wecom?key=k1\"}\n"
      "    - {kind: dingtalk, url: \"" + hook + "/dingtalk\"}\n"
      "    - {kind: feishu, url: \"" + hook + "/feishu\"}\n"
      "    - {kind: generic, url: \"" + hook + "/generic\"}\n"
      "    - {kind: generic, url: \"" + hook + "/fail\"}\n";
  daemon_process daemon(dir.path / "d", head, YUQING_SOURCE_DIR "/seeds/keyword-sets", ", watch: false",
                        ", token: secret");
  daemon.start();
  const uint16_t port = daemon.port();
  const std::string bootstrap = daemon.status()["kafka"]["bootstrap"];

  size_t total = 0;
  for (const char* t : {"posts", "news", "mailbox", "replies"}) {
    const std::string file = std::string(YUQING_SOURCE_DIR) + "/seeds/sample/" + t + ".jsonl";
    const std::string topic = std::string("yuqing.") + (std::string(t) == "replies" ? "mailbox-replies" : t);
    REQUIRE(shell(std::string(YUQINGCTL) + " produce --brokers " + bootstrap + " --topic " + topic + " " + file +
                  " >/dev/null 2>&1")
                .first == 0);
    total += static_cast<size_t>(std::stoul(shell("grep -c . " + file).second));
  }
  REQUIRE(eventually([&] { return daemon.status()["counters"]["consumed"].get<size_t>() >= total; }, 90s));

  // Bad parameters are named; making one needs the token.
  auto r = http_post(port, "/api/v1/briefings", R"({"kind":"daily","date":"2022-11-21"})");
  CHECK(r.status == 401);
  r = http_post(port, "/api/v1/briefings", R"({"kind":"monthly","date":"2022-11-21"})", "secret");
  CHECK(r.status == 400);
  CHECK(r.body.find("kind") != std::string::npos);
  r = http_post(port, "/api/v1/briefings", R"({"kind":"daily","date":"2022-13-01"})", "secret");
  CHECK(r.status == 400);
  CHECK(r.body.find("date") != std::string::npos);
  r = http_post(port, "/api/v1/briefings", R"({"kind":"daily","date":"2022-11-21","x":"1"})", "secret");
  CHECK(r.status == 400);
  CHECK(r.body.find("x: unknown parameter") != std::string::npos);

  r = http_post(port, "/api/v1/briefings", R"({"kind":"daily","date":"2022-11-21"})", "secret");
  REQUIRE(r.status == 201);
  CHECK(json::parse(r.body)["id"] == "daily-2022-11-21");

  auto list = http_get(port, "/api/v1/briefings", "secret");
  REQUIRE(list.status == 200);
  REQUIRE(json::parse(list.body)["briefings"].size() == 1);
  CHECK(http_get(port, "/api/v1/briefings?limit=0", "secret").status == 400);

  // The three formats, with their types and file names (curl with the token).
  const auto get = [&](const std::string& format) {
    const std::string target = "/api/v1/briefings/daily-2022-11-21?format=" + format;
    const auto f = curl_get(port, target, dir.path);
    return f;
  };
  // Reading needs a token when the daemon has one: use curl with the header.
  const auto curl_auth = [&](const std::string& format) {
    const auto body_file = dir.path / ("b." + format), head_file = dir.path / ("h." + format);
    REQUIRE(shell("curl -s -H 'Authorization: Bearer secret' -o " + body_file.string() + " -D " + head_file.string() +
                  " 'http://127.0.0.1:" + std::to_string(port) + "/api/v1/briefings/daily-2022-11-21?format=" + format +
                  "'")
                .first == 0);
    return std::make_pair(read_file(head_file), read_file(body_file));
  };
  CHECK(get("md").status == 401);
  const auto [md_head, md] = curl_auth("md");
  CHECK(md_head.find("text/markdown; charset=utf-8") != std::string::npos);
  CHECK(md_head.find("attachment; filename=\"daily-2022-11-21.md\"") != std::string::npos);
  CHECK(md.find("# 江门市公安局舆情日报（2022年11月21日）") == 0);
  CHECK(md.find("## 三、话题风险指数") != std::string::npos);
  CHECK(md.find("## 六、政府信箱") != std::string::npos);
  CHECK(md.find("| 疫情防控信息发布 |") != std::string::npos);  // a topic by its set's name
  const auto [html_head, html] = curl_auth("html");
  CHECK(html_head.find("text/html; charset=utf-8") != std::string::npos);
  CHECK(html_head.find("filename=\"daily-2022-11-21.html\"") != std::string::npos);
  CHECK(html_head.find("Content-Security-Policy: default-src 'none'") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  const auto [json_head, js] = curl_auth("json");
  CHECK(json_head.find("application/json") != std::string::npos);
  const auto j = json::parse(js);
  CHECK(j["overview"]["now"]["messages"].get<int>() > 100);
  CHECK(!j["topics"].empty());
  CHECK(j["mailbox"]["received"].get<int>() > 0);
  const auto [bad_head, bad_body] = curl_auth("pdf");
  CHECK(bad_head.find(" 400") != std::string::npos);
  CHECK(bad_body.find("format") != std::string::npos);

  // The webhooks: every part within its limit; WeCom and DingTalk give the Markdown back.
  REQUIRE(eventually([&] {
    return !received(dir.path / "recv", "wecom").empty() && !received(dir.path / "recv", "dingtalk").empty() &&
           !received(dir.path / "recv", "feishu").empty() && !received(dir.path / "recv", "generic").empty() &&
           !received(dir.path / "recv", "fail").empty();
  }, 60s));
  const auto reassemble = [&](const std::vector<std::string>& bodies, const char* field, size_t limit) {
    std::string all;
    for (size_t i = 0; i < bodies.size(); ++i) {
      const auto b = json::parse(bodies[i]);
      CHECK(b["msgtype"] == "markdown");
      const std::string text = b["markdown"][field];
      CHECK(text.size() <= limit);
      const auto header = yuqing::briefing::part_header(i + 1, bodies.size());
      CHECK(text.rfind(header, 0) == 0);
      all += text.substr(header.size());
    }
    return all;
  };
  const auto wecom = received(dir.path / "recv", "wecom");
  CHECK(reassemble(wecom, "content", 4096) == md);
  CHECK(reassemble(received(dir.path / "recv", "dingtalk"), "text", 20000) == md);
  for (const auto& body : received(dir.path / "recv", "feishu")) {
    CHECK(body.size() <= 30000);
    CHECK(json::parse(body)["msg_type"] == "post");
  }
  CHECK(json::parse(received(dir.path / "recv", "generic").front()) == j);
  // The failed receiver: logged once with its kind, counted, the others delivered.
  REQUIRE(eventually([&] { return daemon.log().find("event=briefing_push_failed") != std::string::npos; }, 30s));
  CHECK(occurrences(daemon.log(), "event=briefing_push_failed") == 1);
  CHECK(metric(daemon.metrics(), "yuqing_briefing_push_failures_total{kind=\"generic\"}") >= 1);
  CHECK(metric(daemon.metrics(), "yuqing_briefing_pushes_total{kind=\"wecom\"}") == static_cast<double>(wecom.size()));

  // yuqingctl briefing list and show.
  const std::string ctl = std::string(YUQINGCTL) + " briefing ";
  const std::string api = " --url 127.0.0.1:" + std::to_string(port) + " --token secret";
  const auto [list_rc, list_out] = shell(ctl + "list" + api);
  CHECK(list_rc == 0);
  CHECK(list_out.find("daily-2022-11-21") != std::string::npos);
  const auto [show_rc, show_out] = shell(ctl + "show daily-2022-11-21" + api);
  CHECK(show_rc == 0);
  CHECK(show_out == md);
  const auto html_file = dir.path / "out.html";
  CHECK(shell(ctl + "show daily-2022-11-21 --format html -o " + html_file.string() + api).first == 0);
  CHECK(read_file(html_file) == html);
  const auto [make_rc, make_out] = shell(ctl + "make --kind weekly --date 2022-11-23" + api);
  CHECK(make_rc == 0);
  CHECK(make_out.find("weekly-2022-11-21") == 0);
  CHECK(shell(ctl + "make --kind weekly --date 2022-11-23 --url 127.0.0.1:" + std::to_string(port) +
              " --token wrong 2>&1").first == 1);

  // Kept in the store: still there after a restart.
  REQUIRE(daemon.stop() == 0);
  daemon.start();
  list = http_get(daemon.port(), "/api/v1/briefings", "secret");
  REQUIRE(list.status == 200);
  const auto kept = json::parse(list.body)["briefings"];
  REQUIRE(kept.size() == 2);
  CHECK(kept[0]["id"] == "weekly-2022-11-21");  // newest period first
  CHECK(kept[1]["id"] == "daily-2022-11-21");
}
