// spdlog -> ouroboros::spdlog_sink -> shared memory -> shm_reader -> records.
#include <gtest/gtest.h>
#include <spdlog/async.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ouroboros/record_reader.hpp"
#include "ouroboros/spdlog_sink.hpp"

namespace {

using namespace ouroboros;

std::string unique_name(const char* what) {
  return "ouroboros-test-spdlog-" + std::string(what) + "-" + std::to_string(::getpid());
}

std::shared_ptr<logger> make_logger(const std::string& name) {
  logger_options options;
  options.segment.chunk_count = 4;
  options.segment.chunk_target_size = 16 * 1024;
  options.threshold = level::trace;
  options.maintenance_thread = false;
  return std::make_shared<logger>(name, options);
}

std::vector<log_entry> read_all(shm_reader& reader) {
  entry_interpreter interpreter(reader.bytes());
  std::vector<log_entry> entries;
  for (read_result r = reader.read_next(); r.status == read_status::ok; r = reader.read_next()) {
    entries.push_back(interpreter.to_owned(r.payload, r.sequence));
  }
  return entries;
}

std::uint64_t now_unix_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

TEST(SpdlogSink, EveryLevelArrivesWithNameAsTag) {
  const std::string name = unique_name("levels");
  auto target = make_logger(name);
  shm_reader reader(name);
  auto sink = std::make_shared<spdlog_sink>(target);
  spdlog::logger log("net", sink);
  log.set_level(spdlog::level::trace);
  const std::uint64_t before = now_unix_ns();
  log.trace("t {}", 1);
  log.debug("d {}", 2);
  log.info("sent {} bytes to {}", 1500, "10.0.0.1");
  log.warn("w");
  log.error("e");
  log.critical("c");
  const std::uint64_t after = now_unix_ns();

  const auto entries = read_all(reader);
  ASSERT_EQ(entries.size(), 6U);
  const level expected[] = {level::trace, level::debug, level::info,
                            level::warn,  level::error, level::critical};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].kind, entry_kind::record);
    EXPECT_EQ(entries[i].severity, expected[i]);
    EXPECT_EQ(entries[i].tag, "net");
    EXPECT_EQ(entries[i].thread, static_cast<std::uint32_t>(::gettid()));
    ASSERT_TRUE(entries[i].unix_ns.has_value());
    EXPECT_GE(*entries[i].unix_ns, before);
    EXPECT_LE(*entries[i].unix_ns, after);
  }
  EXPECT_EQ(entries[2].message, "sent 1500 bytes to 10.0.0.1");
}

TEST(SpdlogSink, FixedTagSourceLocationAndThreshold) {
  const std::string name = unique_name("fixed");
  auto target = make_logger(name);
  target->set_threshold(level::info);
  shm_reader reader(name);
  auto sink = std::make_shared<spdlog_sink>(target, "app");
  spdlog::logger log("ignored-name", sink);
  log.set_level(spdlog::level::trace);
  log.debug("below our threshold");
  log.log(spdlog::source_loc{"/src/dir/main.cpp", 42, "main"}, spdlog::level::warn, "located {}",
          7);
  const auto entries = read_all(reader);
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].tag, "app");
  EXPECT_EQ(entries[0].message, "located 7");
  const std::vector<std::pair<std::string, std::string>> fields = {{"file", "main.cpp"},
                                                                   {"line", "42"}};
  EXPECT_EQ(entries[0].fields, fields);
}

TEST(SpdlogSink, AsyncLoggerKeepsTheCallingThread) {
  const std::string name = unique_name("async");
  auto target = make_logger(name);
  shm_reader reader(name);
  spdlog::init_thread_pool(1024, 1);
  auto sink = std::make_shared<spdlog_sink>(target);
  auto log = std::make_shared<spdlog::async_logger>("async", sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::block);
  for (int i = 0; i < 100; ++i) log->info("message {}", i);
  log->flush();
  std::vector<log_entry> entries;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (entries.size() < 100 && std::chrono::steady_clock::now() < deadline) {
    auto more = read_all(reader);
    entries.insert(entries.end(), more.begin(), more.end());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(entries.size(), 100U);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(entries[static_cast<std::size_t>(i)].message, "message " + std::to_string(i));
    EXPECT_EQ(entries[static_cast<std::size_t>(i)].thread, static_cast<std::uint32_t>(::gettid()));
  }
  spdlog::shutdown();
}

}  // namespace
