#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "config/config.h"

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
