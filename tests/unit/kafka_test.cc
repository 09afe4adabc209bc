#include <catch2/catch.hpp>

#include "common/logging.h"
#include "kafka/kafka.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdlib.h>

using namespace yuqing;
using namespace yuqing::kafka;

TEST_CASE("a rejected Kafka property is named but its value is not quoted", "[kafka]") {
  auto conf = make_kafka_conf("127.0.0.1:9", {{"security.protocol", "not-a-protocol-s3cr3t"}});
  REQUIRE(!conf.ok());
  CHECK(conf.error_message().find("security.protocol") != std::string::npos);
  CHECK(conf.error_message().find("s3cr3t") == std::string::npos);
}

TEST_CASE("a rejected Kafka property quotes no piece of a long value", "[kafka][hostile]") {
  // librdkafka cuts its message short, so the value is never there whole.
  std::string secret;
  for (int i = 0; secret.size() < 700; ++i) secret += "Zq" + std::to_string(i * 7919) + "x";
  auto conf = make_kafka_conf("127.0.0.1:9", {{"security.protocol", secret}});
  REQUIRE(!conf.ok());
  const auto& why = conf.error_message();
  CHECK(why.find("security.protocol") != std::string::npos);
  for (size_t i = 0; i + yuqing::common::min_secret_fragment <= secret.size(); ++i)
    REQUIRE(why.find(secret.substr(i, yuqing::common::min_secret_fragment)) == std::string::npos);
}
