// The publishing API end to end: logger -> shared memory -> shm_reader -> entry_interpreter.
#include <gtest/gtest.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <unistd.h>
#endif

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ouroboros/logger.hpp"
#include "ouroboros/record_reader.hpp"
#include "ouroboros/segment.hpp"
#include "test_support.hpp"

namespace {

using namespace ouroboros;

// The id the logger stamps into records: the kernel's thread id.
std::uint32_t os_thread_id() {
#ifdef _WIN32
  return static_cast<std::uint32_t>(::GetCurrentThreadId());
#else
  return static_cast<std::uint32_t>(::gettid());
#endif
}

std::string unique_name(const char* what) {
  static std::atomic<int> counter{0};
  return "ouroboros-test-logger-" + std::string(what) + "-" +
         std::to_string(test::current_process_id()) + "-" + std::to_string(counter++);
}

bool format_in_ring = true;  // the tests run once per formatting strategy (see main below)
bool deferred = false;
producers threading = producers::many;

logger_options small_options() {
  logger_options options;
  options.format_in_ring = format_in_ring;
  options.deferred_format = deferred;
  options.threading = threading;
  options.segment.chunk_count = 8;
  options.segment.chunk_target_size = 16 * 1024;
  options.threshold = level::trace;
  options.maintenance_interval = std::chrono::milliseconds(20);
  return options;
}

std::uint64_t now_unix_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// Everything `log` wrote so far (with producers::staged, after moving it into the ring).
std::vector<log_entry> read_all(logger& log, shm_reader& reader) {
  log.flush();
  entry_interpreter interpreter(reader.bytes());
  std::vector<log_entry> entries;
  for (;;) {
    const read_result r = reader.read_next();
    if (r.status == read_status::no_data) break;
    EXPECT_EQ(r.status, read_status::ok) << to_string(r.status);
    if (r.status != read_status::ok) break;
    entries.push_back(interpreter.to_owned(r.payload, r.sequence));
  }
  return entries;
}

TEST(Logger, RecordsArriveWithEveryPart) {
  const std::string name = unique_name("basic");
  const std::uint64_t before = now_unix_ns();
  logger log(name, small_options());
  shm_reader reader(name);
  EXPECT_EQ(reader.extension()->payload_encoding, layout::extension_layout::encoding_record);

  const std::string peer = "10.0.0.1";
  log.info("net", "sent {} bytes to {}", 1500, peer);
  log.warn("db", {{"table", "users"}, {"rows", 12}, {"ratio", 0.5}, {"ok", true}},
           "slow query took {} ms", 250);
  log.critical("core", "no arguments");
  const std::uint64_t after = now_unix_ns();

  const auto entries = read_all(log, reader);
  ASSERT_EQ(entries.size(), 3U);
  const log_entry& first = entries[0];
  EXPECT_EQ(first.kind, entry_kind::record);
  EXPECT_EQ(first.severity, level::info);
  EXPECT_EQ(first.tag, "net");
  EXPECT_EQ(first.message, "sent 1500 bytes to 10.0.0.1");
  EXPECT_EQ(first.thread, os_thread_id());
  ASSERT_TRUE(first.unix_ns.has_value());
  // Wall-clock time within the call window (the TSC conversion allows a millisecond of slack).
  EXPECT_GE(*first.unix_ns + 1'000'000, before);
  EXPECT_LE(*first.unix_ns, after + 1'000'000);

  const log_entry& second = entries[1];
  EXPECT_EQ(second.severity, level::warn);
  EXPECT_EQ(second.message, "slow query took 250 ms");
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"table", "users"}, {"rows", "12"}, {"ratio", "0.5"}, {"ok", "true"}};
  EXPECT_EQ(second.fields, fields);
  const std::vector<field_type> types = {field_type::string, field_type::i64, field_type::f64,
                                         field_type::boolean};
  EXPECT_EQ(second.field_types, types);
  EXPECT_EQ(entries[2].message, "no arguments");
  EXPECT_EQ(entries[2].severity, level::critical);
  EXPECT_EQ(log.records_written(), 3U);
}

TEST(Logger, TypedFieldsMakeAVersion3RecordStringsStayVersion1) {
  const std::string name = unique_name("typed");
  logger log(name, small_options());
  shm_reader reader(name);
  log.info("t", {{"s", "text"}}, "strings only");
  log.info("t", {{"u", std::uint64_t{18446744073709551615ULL}}, {"i", -3}, {"inf", 1.0 / 0.0}},
           "typed");
  std::vector<unsigned> versions;
  log.flush();
  {
    shm_reader raw(name);
    for (read_result r = raw.read_next(); r.status == read_status::ok; r = raw.read_next())
      versions.push_back(std::to_integer<unsigned>(r.payload[1]));
  }
  EXPECT_EQ(versions, (std::vector<unsigned>{1, 3}));
  const auto entries = read_all(log, reader);
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].field_types, std::vector<field_type>{field_type::string});
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"u", "18446744073709551615"}, {"i", "-3"}, {"inf", "inf"}};
  EXPECT_EQ(entries[1].fields, fields);
  const std::vector<field_type> types = {field_type::u64, field_type::i64, field_type::f64};
  EXPECT_EQ(entries[1].field_types, types);
}

TEST(Logger, ThresholdFiltersBelowIt) {
  const std::string name = unique_name("threshold");
  logger_options options = small_options();
  options.threshold = level::warn;
  logger log(name, options);
  shm_reader reader(name);
  log.trace("t", "trace {}", 1);
  log.debug("t", "debug");
  log.info("t", "info");
  log.warn("t", "warn");
  log.error("t", "error");
  EXPECT_FALSE(log.enabled(level::info));
  log.set_threshold(level::trace);
  EXPECT_EQ(log.threshold(), level::trace);
  log.trace("t", "trace again");
  log.write(level::debug, "t", "written");
  const auto entries = read_all(log, reader);
  ASSERT_EQ(entries.size(), 4U);
  EXPECT_EQ(entries[0].message, "warn");
  EXPECT_EQ(entries[1].message, "error");
  EXPECT_EQ(entries[2].message, "trace again");
  EXPECT_EQ(entries[3].message, "written");
}

TEST(Logger, LongMessagesAreCutVisiblyNeverDropped) {
  const std::string name = unique_name("truncate");
  logger_options options = small_options();
  options.max_record_size = 256;
  logger log(name, options);
  shm_reader reader(name);
  const std::string long_text(1000, 'x');
  log.info("tag", "head {} tail", long_text);
  // A multi-byte character straddling the cut point must not be split.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xC3\xA9";
  log.info("tag", "{}", accents);
  log.write(level::error, "tag", long_text);
  log.info("tag", "short");

  const auto entries = read_all(log, reader);
  ASSERT_EQ(entries.size(), 4U);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(entries[i].truncated) << i;
    EXPECT_TRUE(entries[i].message.ends_with(logger::truncation_marker)) << entries[i].message;
    EXPECT_EQ(entries[i].kind, entry_kind::record);  // decodes: valid UTF-8 throughout
  }
  EXPECT_TRUE(entries[0].message.starts_with("head xxx"));
  EXPECT_FALSE(entries[3].truncated);
  EXPECT_EQ(entries[3].message, "short");
  EXPECT_EQ(log.records_truncated(), 3U);
}

TEST(Logger, TinyRecordLimitStillShowsSomething) {
  const std::string name = unique_name("tiny");
  logger_options options = small_options();
  options.max_record_size = 10;  // raised to the 64-byte minimum
  logger log(name, options);
  EXPECT_EQ(log.max_record_size(), 64U);
  shm_reader reader(name);
  const std::string tag(200, 't');
  log.info(tag, "message {}", 1);
  log.info("tag", {{"key", std::string(100, 'v')}}, "fields do not fit");
  const auto entries = read_all(log, reader);
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].kind, entry_kind::record);
  EXPECT_TRUE(entries[0].truncated);
  EXPECT_EQ(entries[0].tag, std::string(64 - record_layout::fixed_size, 't'));
  EXPECT_EQ(entries[1].kind, entry_kind::record);
  EXPECT_TRUE(entries[1].truncated);
  EXPECT_TRUE(entries[1].fields.empty());
  EXPECT_TRUE(entries[1].message.starts_with("[fields too large]")) << entries[1].message;
}

TEST(Logger, RecordsLargerThanTheStackBufferUseTheRing) {
  const std::string name = unique_name("large");
  logger_options options = small_options();
  options.max_record_size = 10000;
  logger log(name, options);
  shm_reader reader(name);
  const std::string big(6000, 'b');
  log.info("big", "<{}>", big);
  const std::string huge(20000, 'h');
  log.write(level::info, "big", huge);
  const auto entries = read_all(log, reader);
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].message, "<" + big + ">");
  EXPECT_FALSE(entries[0].truncated);
  EXPECT_TRUE(entries[1].truncated);
  EXPECT_TRUE(entries[1].message.ends_with(logger::truncation_marker));
  EXPECT_LE(entries[1].message.size() + 64, 10000U + 64);
}

TEST(Logger, InvalidUtf8FromArgumentsIsReplaced) {
  const std::string name = unique_name("utf8");
  logger log(name, small_options());
  shm_reader reader(name);
  const std::string bad =
      "a\xFF"
      "b\xC3";
  log.info("t\xFE", {{"k\x80", bad}}, "value {} end", bad);
  const auto entries = read_all(log, reader);
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].kind, entry_kind::record);
  EXPECT_EQ(entries[0].message, "value a?b? end");
  EXPECT_EQ(entries[0].tag, "t?");
  ASSERT_EQ(entries[0].fields.size(), 1U);
  EXPECT_EQ(entries[0].fields[0].first, "k?");
  EXPECT_EQ(entries[0].fields[0].second, "a?b?");
}

// Integers shown as characters ({:c}) above 0x7F, and chars of 0x80..0xFF: the record stays
// valid UTF-8 (the byte becomes '?'), in text and in deferred records.
TEST(Logger, CharactersAbove0x7FAreReplaced) {
  const std::string name = unique_name("chars");
  logger log(name, small_options());
  shm_reader reader(name);
  log.info("t", "[{:c}] [{:3c}] [{:c}]", 200, 0xE9, 65);
  log.info("t", "[{}] [{:c}]", static_cast<char>(0xFF), 'A');
  const auto entries = read_all(log, reader);
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].kind, entry_kind::record) << entries[0].error;
  EXPECT_EQ(entries[0].message, "[?] [?  ] [A]");
  EXPECT_EQ(entries[1].kind, entry_kind::record) << entries[1].error;
  EXPECT_EQ(entries[1].message, "[?] [A]");
}

TEST(Logger, MaintenanceThreadBeatsAndCalibrates) {
  const std::string name = unique_name("maintain");
  logger log(name, small_options());
  shm_reader reader(name);
  const auto first = reader.extension()->heartbeat_unix_ns;
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_GT(reader.extension()->heartbeat_unix_ns, first);
  const auto calibration = read_clock(reader.bytes());
  ASSERT_TRUE(calibration.has_value());
  if (log.clock().ticks()) {
    EXPECT_NE(calibration->tick_base, 0U);
    // A rate near 1 ns per tick or slower (TSCs run at GHz): mult below 2^32 * 10.
    EXPECT_GT(calibration->mult, 0U);
    const std::uint64_t converted = calibration->to_unix_ns(log.clock().now());
    const std::uint64_t now = now_unix_ns();
    EXPECT_LT(converted > now ? converted - now : now - converted, 1'000'000U);
  }
}

TEST(Logger, RealtimeClockNeedsNoConversion) {
  const std::string name = unique_name("realtime");
  logger_options options = small_options();
  options.clock = clock_source::realtime;
  logger log(name, options);
  shm_reader reader(name);
  const std::uint64_t before = now_unix_ns();
  log.info("t", "x");
  const std::uint64_t after = now_unix_ns();
  const auto entries = read_all(log, reader);
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_GE(*entries[0].unix_ns, before);
  EXPECT_LE(*entries[0].unix_ns, after);
}

// Every record from every producer arrives intact and in per-thread order. Label: concurrency.
TEST(Logger, ConcurrentProducersNeverCorruptRecords) {
  const std::string name = unique_name("threads");
  logger_options options = small_options();
  options.segment.chunk_count = 64;
  options.segment.chunk_target_size = 64 * 1024;  // 4 MiB: holds every record of this test
  logger log(name, options);
  shm_reader reader(name);
  constexpr int threads = 4;
  constexpr int per_thread = 5000;
  std::atomic<bool> go{false};
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      const std::string padding(static_cast<std::size_t>(t * 7), 'p');
      for (int i = 0; i < per_thread; ++i) {
        log.info("worker", {{"t", t}, {"i", i}}, "thread {} record {} {}", t, i, padding);
      }
    });
  }
  // Read while they write.
  std::map<int, int> next;
  entry_interpreter interpreter(reader.bytes());
  std::size_t received = 0;
  go = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (received < threads * per_thread && std::chrono::steady_clock::now() < deadline) {
    const read_result r = reader.read_next();
    if (r.status == read_status::no_data) {
      std::this_thread::yield();
      continue;
    }
    ASSERT_EQ(r.status, read_status::ok) << to_string(r.status);
    const entry_view view = interpreter.interpret(r.payload);
    ASSERT_EQ(view.kind, entry_kind::record) << view.error();
    ASSERT_EQ(view.record.field_count, 2U);
    const int t = std::stoi(std::string(view.record.field(0).value));
    const int i = std::stoi(std::string(view.record.field(1).value));
    ASSERT_EQ(i, next[t]) << "thread " << t;
    ++next[t];
    const std::string expected = "thread " + std::to_string(t) + " record " + std::to_string(i) +
                                 " " + std::string(static_cast<std::size_t>(t * 7), 'p');
    ASSERT_EQ(view.message, expected);
    ++received;
  }
  for (auto& p : producers) p.join();
  log.flush();
  EXPECT_EQ(received, static_cast<std::size_t>(threads * per_thread));
  EXPECT_EQ(log.records_written(), static_cast<std::uint64_t>(threads * per_thread));
}

TEST(Logger, SegmentIsRemovedOnDestruction) {
  const std::string name = unique_name("cleanup");
  { logger log(name, small_options()); }
  EXPECT_THROW(shm_reader reader(name), segment_error);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Both places records can be formatted (in the ring under the lock, or staged on the stack).
  format_in_ring = true;
  const int in_ring = RUN_ALL_TESTS();
  format_in_ring = false;
  const int staged = RUN_ALL_TESTS();
  // Deferred records (formatted by the reader) must read back the same.
  format_in_ring = true;
  deferred = true;
  const int deferred_records = RUN_ALL_TESTS();
  // Per-thread staging queues drained into the ring, with text and with deferred records.
  threading = producers::staged;
  const int staged_deferred = RUN_ALL_TESTS();
  deferred = false;
  const int staged_text = RUN_ALL_TESTS();
  for (const int result : {in_ring, staged, deferred_records, staged_deferred, staged_text})
    if (result != 0) return result;
  return 0;
}
