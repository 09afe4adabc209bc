#include <catch2/catch.hpp>

#include "common/logging.h"
#include "kafka/kafka.h"
#include "tests/support/process.h"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

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

TEST_CASE("librdkafka's lines: a lost connection is a warning, the whole cluster unreachable an error", "[kafka]") {
  CHECK(kafka_log_level(3, "FAIL", "GroupCoordinator: 1 request(s) timed out: disconnect") == 4);
  CHECK(kafka_log_level(3, "REQTMOUT", "Timed out 1 in-flight requests") == 4);
  CHECK(kafka_log_level(3, "COMMITFAIL", "Offset commit failed") == 7);
  CHECK(kafka_log_level(3, "SSL", "certificate verify failed") == 3);
  CHECK(kafka_log_level(6, "FAIL", "Disconnected") == 6);
  CHECK(kafka_log_level(3, "ERROR", "rdkafka#consumer-1: 1/1 brokers are down") == 3);
  CHECK(kafka_log_level(3, "ERROR", "rdkafka#consumer-1: localhost:9092/1: Disconnected (after 5ms in state UP)") == 4);
  CHECK(kafka_log_level(3, "ERROR", "rdkafka#consumer-1: Failed to acquire SASL OAUTHBEARER token") == 3);

  // A real client at a port where nothing listens: its failed connections are warnings,
  // and the cluster being unreachable is an error line that says so.
  // librdkafka logs from its own threads: the ring buffer sink reads back under its lock.
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(10000);
  auto text = [&] {
    std::string all;
    for (const auto& line : sink->last_formatted()) all += line;
    return all;
  };
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("t", sink);
  logger->set_pattern("%l %v");
  spdlog::set_default_logger(logger);
  const auto port = testing::free_port();
  auto conf = make_kafka_conf("127.0.0.1:" + std::to_string(port), {{"reconnect.backoff.ms", "50"}});
  REQUIRE(conf.ok());
  char err[256];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, *conf, err, sizeof err);
  REQUIRE(rk != nullptr);
  const bool down = testing::eventually([&] {
    rd_kafka_poll(rk, 50);
    return text().find("brokers are down") != std::string::npos;
  }, std::chrono::seconds(20));
  rd_kafka_destroy(rk);
  spdlog::set_default_logger(previous);
  const std::string log = text();
  INFO(log);
  REQUIRE(down);
  CHECK(log.find("error event=kafka_log facility=ERROR") != std::string::npos);    // brokers are down
  CHECK(log.find("warning event=kafka_log facility=ERROR") != std::string::npos);  // the one connection
  CHECK(log.find("facility=FAIL") != std::string::npos);
  CHECK(log.find("error event=kafka_log facility=FAIL") == std::string::npos);
  CHECK(log.find("warning event=kafka_log facility=FAIL") != std::string::npos);
}
