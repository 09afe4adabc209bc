#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>

#include "config/config.h"
#include "tests/support/temp_dir.h"

using namespace yuqing;

namespace {
std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("the shipped configuration loads and uses the embedded broker", "[config]") {
  auto c = config::load_file(YUQING_SOURCE_DIR "/config/yuqing.yaml");
  REQUIRE(c.ok());
  CHECK(c->embedded_kafka());
  CHECK(c->http_listen == "127.0.0.1:9464");
  REQUIRE(c->channels.size() == 4);
  CHECK(c->channels[3].kind == config::channel_kind::mailbox_reply);
  CHECK(c->channels[3].fields.time == "/replied_at");
  CHECK(c->channels[0].fields.text == std::vector<std::string>{"/title", "/content"});
  CHECK(c->keyword_sets_dir == std::filesystem::path(YUQING_SOURCE_DIR "/seeds/keyword-sets"));
}

TEST_CASE("every declared key is documented in the shipped configuration", "[config]") {
  const auto text = read(YUQING_SOURCE_DIR "/config/yuqing.yaml");
  for (const auto& k : config::keys()) {
    const auto leaf = k.name.substr(k.name.rfind('.') + 1);
    INFO(k.name);
    CHECK(text.find(leaf + ":") != std::string::npos);
    CHECK(!k.description.empty());
  }
}

TEST_CASE("configuration errors name the key and line", "[config]") {
  const auto base = R"(channels:
  - {topic: t}
)";
  SECTION("unknown key") {
    auto c = config::load_string(std::string(base) + "kafka:\n  brokerz: x\n", "c.yaml", "/");
    REQUIRE(!c.ok());
    CHECK(c.error_message() == "c.yaml:4: kafka.brokerz: unknown key");
  }
  SECTION("out of bounds") {
    auto c = config::load_string(std::string(base) + "ingest:\n  batch_max_messages: 0\n", "c.yaml", "/");
    REQUIRE(!c.ok());
    CHECK(c.error_message() ==
          "c.yaml:4: ingest.batch_max_messages: must be between 1 and 100000, is 0");
  }
  SECTION("bad channel kind") {
    auto c = config::load_string("channels:\n  - {topic: t, kind: tweet}\n", "c.yaml", "/");
    REQUIRE(!c.ok());
    CHECK(c.error_message().find("kind must be post, news, mailbox or mailbox-reply") !=
          std::string::npos);
  }
  SECTION("no channels") {
    auto c = config::load_string("log: {level: info}\n", "c.yaml", "/");
    REQUIRE(!c.ok());
    CHECK(c.error_message() == "c.yaml: channels: at least one channel is needed");
  }
  SECTION("relative paths resolve against the file's directory") {
    auto c = config::load_string(std::string(base) + "storage: {path: data}\n", "c.yaml", "/etc/yq");
    REQUIRE(c.ok());
    CHECK(c->storage_path == "/etc/yq/data");
  }
  SECTION("properties pass through") {
    auto c = config::load_string(
        std::string(base) + "kafka:\n  properties: {security.protocol: SASL_SSL}\n", "c.yaml", "/");
    REQUIRE(c.ok());
    CHECK(c->kafka_properties.at("security.protocol") == "SASL_SSL");
  }
}

TEST_CASE("kafka secrets come from the environment or a file and are never quoted", "[config]") {
  const std::string base = "channels:\n  - {topic: t}\nkafka:\n  properties:\n    sasl.password: ";
  const yuqing::testing::temp_dir tmp;
  const auto& dir = tmp.path;
  std::ofstream(dir / "pass") << "s3cr3t-from-file\n";
  ::setenv("YUQING_TEST_SECRET", "s3cr3t-from-env", 1);

  auto env = config::load_string(base + "${env:YUQING_TEST_SECRET}\n", "c.yaml", dir);
  REQUIRE(env.ok());
  CHECK(env->kafka_properties.at("sasl.password") == "s3cr3t-from-env");

  auto file = config::load_string(base + "${file:pass}\n", "c.yaml", dir);
  REQUIRE(file.ok());
  CHECK(file->kafka_properties.at("sasl.password") == "s3cr3t-from-file");

  auto unset = config::load_string(base + "${env:YUQING_TEST_NO_SUCH_VAR}\n", "c.yaml", dir);
  REQUIRE(!unset.ok());
  CHECK(unset.error_message().find("environment variable YUQING_TEST_NO_SUCH_VAR is not set") !=
        std::string::npos);

  auto missing = config::load_string(base + "${file:nope}\n", "c.yaml", dir);
  REQUIRE(!missing.ok());
  CHECK(missing.error_message().find("cannot read secret file") != std::string::npos);
}

TEST_CASE("alert closing, the unit directory and the people file", "[config]") {
  const std::string base = "channels:\n  - {topic: t}\n";
  const yuqing::testing::temp_dir tmp;
  const auto& dir = tmp.path;
  auto people = [&](const std::string& text) {
    std::ofstream(dir / "people.yaml") << text;
    return config::load_string(base + "http: {people: people.yaml}\n", "c.yaml", dir.string());
  };
  const std::string hash = "3e4f1189ca4e64f6981981adad73798a940b771ae89bf869c31af1d0ac2bd4c9";
  SECTION("defaults: blue and yellow close unattended after 30 minutes; no units, no people") {
    auto c = config::load_string(base, "c.yaml", "/");
    REQUIRE(c.ok());
    CHECK(c->alert_close_unattended_levels == std::vector<std::string>{"blue", "yellow"});
    CHECK(c->alert_close_grace_minutes == 30);
    CHECK(c->units.empty());
    CHECK(c->http_people.empty());
  }
  SECTION("closing levels are levels") {
    auto c = config::load_string(base + "alerting:\n  close_unattended: {levels: [blue, purple]}\n", "c.yaml", "/");
    REQUIRE(!c.ok());
    CHECK(c.error_message().find("'purple' is not blue, yellow, orange or red") != std::string::npos);
  }
  SECTION("units map plan names to a real unit and its receiver") {
    auto c = config::load_string(base + "units:\n  - {name: 市委宣传部, receiver: publicity, plan_names: [宣传科]}\n",
                                 "c.yaml", "/");
    REQUIRE(c.ok());
    REQUIRE(c->units.size() == 1);
    CHECK(c->units[0].receiver == "publicity");
    CHECK(c->units[0].plan_names == std::vector<std::string>{"宣传科"});
    auto bad = config::load_string(base + "units:\n  - {name: 市委宣传部, receiver: 宣传}\n", "c.yaml", "/");
    REQUIRE(!bad.ok());
    CHECK(bad.error_message().find("receiver: an Alertmanager receiver name") != std::string::npos);
  }
  SECTION("people: read with their role; a wrong role or hash names the file and line") {
    auto c = people("people:\n  - {name: 张三, unit: 防控办, role: officer, token_sha256: " + hash + "}\n");
    REQUIRE(c.ok());
    REQUIRE(c->http_people.size() == 1);
    CHECK(c->http_people[0].role == "officer");
    c = people("people:\n  - {name: 张三, unit: 防控办, role: officer, token_sha256: " + hash + "}\n"
               "  - {name: 李四, unit: 宣传科, role: chief, token_sha256: " + hash + "}\n");
    REQUIRE(!c.ok());
    CHECK(c.error_message().find("people.yaml:3: role: viewer, officer, analyst or admin, not 'chief'") != std::string::npos);
    c = people("people:\n  - {name: 张三, unit: 防控办, role: officer, token_sha256: secret}\n");
    REQUIRE(!c.ok());
    CHECK(c.error_message().find("people.yaml:2: token_sha256: 64 lower-case hex digits") != std::string::npos);
  }
}

TEST_CASE("a channel's offset gaps and the HTTP Host allow-list", "[config]") {
  auto c = config::load_string("channels:\n  - {topic: a}\n  - {topic: b, offset_gaps: expected}\n"
                               "http: {allowed_hosts: [yuqing.example, 127.0.0.1]}\n", "c.yaml", "/");
  REQUIRE(c.ok());
  CHECK(!c->channels[0].gaps_expected);
  CHECK(c->channels[1].gaps_expected);
  CHECK(c->http_allowed_hosts == std::vector<std::string>{"yuqing.example", "127.0.0.1"});
  auto bad = config::load_string("channels:\n  - {topic: a, offset_gaps: sometimes}\n", "c.yaml", "/");
  REQUIRE(!bad.ok());
  CHECK(bad.error_message().find("offset_gaps must be lost or expected") != std::string::npos);
  CHECK(!config::load_string("channels:\n  - {topic: a}\nhttp: {allowed_hosts: x}\n", "c.yaml", "/").ok());
}
