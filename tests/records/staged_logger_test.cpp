// producers::staged: per-thread queues drained into the ring. What the logger promises on top of
// the common record tests (logger_test.cpp runs those in staged mode too): stamp order across
// threads within a drain, each thread's order always, nothing dropped when a queue fills or a
// thread exits, flushing on destruction, and no queue mix-up between loggers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ouroboros/logger.hpp"
#include "ouroboros/record_reader.hpp"
#include "ouroboros/segment.hpp"
#include "test_support.hpp"

namespace {

using namespace ouroboros;

std::string unique_name(const char* what) {
  static std::atomic<int> counter{0};
  return "ouroboros-test-staged-" + std::string(what) + "-" +
         std::to_string(test::current_process_id()) + "-" + std::to_string(counter++);
}

logger_options staged_options(bool maintenance = false) {
  logger_options options;
  options.threading = producers::staged;
  options.threshold = level::trace;
  options.segment.chunk_count = 64;
  options.segment.chunk_target_size = 64 * 1024;  // 4 MiB: holds every record of these tests
  options.maintenance_thread = maintenance;
  options.maintenance_interval = std::chrono::milliseconds(20);
  return options;
}

std::vector<log_entry> read_available(shm_reader& reader) {
  entry_interpreter interpreter(reader.bytes());
  std::vector<log_entry> entries;
  for (;;) {
    const read_result r = reader.read_next();
    if (r.status != read_status::ok) {
      EXPECT_EQ(r.status, read_status::no_data) << to_string(r.status);
      break;
    }
    entries.push_back(interpreter.to_owned(r.payload, r.sequence));
  }
  return entries;
}

// "<thread> <index>" messages: checks each thread's records arrive complete and in order.
void expect_each_thread_in_order(const std::vector<log_entry>& entries, int threads,
                                 int per_thread) {
  std::map<int, int> next;
  for (const log_entry& e : entries) {
    ASSERT_EQ(e.kind, entry_kind::record) << e.error;
    const auto space = e.message.find(' ');
    ASSERT_NE(space, std::string::npos) << e.message;
    const int t = std::stoi(e.message.substr(0, space));
    const int i = std::stoi(e.message.substr(space + 1));
    ASSERT_EQ(i, next[t]) << "thread " << t;
    ++next[t];
  }
  ASSERT_EQ(next.size(), static_cast<std::size_t>(threads));
  for (const auto& [t, count] : next) EXPECT_EQ(count, per_thread) << "thread " << t;
}

// The queue itself, one thread on each side in turn: records of every size claimed with
// try_claim (one comparison) or, when it finds no room, claim (which wraps and looks at the
// consumer again), over many laps; the consumer sees each record whole, once, in order.
TEST(StagingQueue, RecordsOfEverySizeCrossTheEndInOrder) {
  detail::staging_queue queue(4096);
  std::uint64_t produced = 0;
  std::uint64_t consumed = 0;
  std::uint64_t wraps_seen = 0;
  const auto size_of = [](std::uint64_t n) {
    return static_cast<std::size_t>(1 + (n * 37) % 1000);
  };
  const auto drain = [&] {
    queue.snapshot();
    std::uint64_t key = 0;
    const std::byte* record = nullptr;
    std::size_t size = 0;
    while (queue.front(key, record, size)) {
      ASSERT_EQ(key, consumed);
      ASSERT_EQ(size, size_of(consumed));
      for (std::size_t i = 0; i < size; ++i)
        ASSERT_EQ(record[i], static_cast<std::byte>(consumed + i)) << consumed << " byte " << i;
      queue.pop(size);
      ++consumed;
    }
    queue.release();
  };
  std::uintptr_t last = 0;
  while (produced < 20000) {
    const std::size_t size = size_of(produced);
    std::byte* at = queue.try_claim(size);
    if (at == nullptr) at = queue.claim(size);
    if (at == nullptr) {
      drain();
      at = queue.claim(size);
      ASSERT_NE(at, nullptr) << "an empty queue has room for any record";
    }
    if (reinterpret_cast<std::uintptr_t>(at) < last) ++wraps_seen;
    last = reinterpret_cast<std::uintptr_t>(at);
    for (std::size_t i = 0; i < size; ++i) at[i] = static_cast<std::byte>(produced + i);
    queue.commit(at, produced, size);
    ++produced;
    if (produced % 7 == 0) drain();  // the consumer runs behind, by a varying distance
  }
  drain();
  EXPECT_EQ(consumed, produced);
  EXPECT_GT(wraps_seen, 100U);
}

TEST(StagedLogger, NothingReachesTheRingBeforeADrainThenEverythingInStampOrder) {
  for (const bool deferred : {false, true}) {
    const std::string name = unique_name("order");
    logger_options options = staged_options();
    options.deferred_format = deferred;
    logger log(name, options);
    shm_reader reader(name);
    constexpr int threads = 4;
    constexpr int per_thread = 2000;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) log.info("w", "{} {}", t, i);
      });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(log.records_written(), 0U);  // 4 x 2000 records fit the queues: no drain yet
    EXPECT_TRUE(read_available(reader).empty());
    log.flush();
    EXPECT_EQ(log.records_written(), static_cast<std::uint64_t>(threads * per_thread));
    const auto entries = read_available(reader);
    ASSERT_EQ(entries.size(), static_cast<std::size_t>(threads * per_thread));
    expect_each_thread_in_order(entries, threads, per_thread);
    // One drain merges the threads by their time stamps.
    for (std::size_t i = 1; i < entries.size(); ++i)
      ASSERT_LE(*entries[i - 1].unix_ns, *entries[i].unix_ns) << "at " << i;
  }
}

TEST(StagedLogger, AFullQueueIsDrainedByItsProducerNothingIsDropped) {
  const std::string name = unique_name("full");
  logger_options options = staged_options();
  options.staging_bytes = 1;  // rounded up to the least that holds two of the largest records
  logger log(name, options);
  shm_reader reader(name);
  constexpr int calls = 20000;  // ~60 bytes each: the 16 KiB queue fills ~70 times
  const std::string padding(20, 'x');
  for (int i = 0; i < calls; ++i) log.info("w", "0 {} {}", i, padding);
  // Drained by the producer itself whenever its queue was full: most records are in the ring
  // already, without any flush and without a maintenance thread.
  EXPECT_GT(log.records_written(), static_cast<std::uint64_t>(calls / 2));
  log.flush();
  const auto entries = read_available(reader);
  ASSERT_EQ(entries.size(), static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    ASSERT_EQ(entries[static_cast<std::size_t>(i)].message,
              "0 " + std::to_string(i) + " " + padding);
  }
}

TEST(StagedLogger, RecordsOfExitedThreadsAreDeliveredAndNewThreadsStillAttach) {
  const std::string name = unique_name("exit");
  logger log(name, staged_options());
  shm_reader reader(name);
  constexpr int rounds = 20;
  for (int round = 0; round < rounds; ++round) {
    std::thread([&, round] { log.warn("w", "{} {}", round, 0); }).join();
    if (round % 3 == 0) log.flush();  // some queues are dropped while others are still pending
  }
  log.flush();
  const auto entries = read_available(reader);
  ASSERT_EQ(entries.size(), static_cast<std::size_t>(rounds));
  expect_each_thread_in_order(entries, rounds, 1);
}

TEST(StagedLogger, DestructionDrainsWhatIsStaged) {
  const std::string name = unique_name("dtor");
  auto log = std::make_unique<logger>(name, staged_options());
  shm_reader reader(name);  // keeps the mapping after the writer is gone
  for (int i = 0; i < 100; ++i) log->info("w", "0 {}", i);
  log.reset();
  const auto entries = read_available(reader);
  ASSERT_EQ(entries.size(), 100U);
  expect_each_thread_in_order(entries, 1, 100);
}

TEST(StagedLogger, TheMaintenanceThreadDrainsWithoutBeingAsked) {
  const std::string name = unique_name("background");
  logger_options options = staged_options(true);
  options.staging_drain_interval = std::chrono::milliseconds(1);
  logger log(name, options);
  shm_reader reader(name);
  log.info("w", "0 0");
  std::vector<log_entry> entries;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (entries.empty() && std::chrono::steady_clock::now() < deadline) {
    entries = read_available(reader);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].message, "0 0");
}

TEST(StagedLogger, AThreadLoggingToSuccessiveLoggersNeverWritesIntoAnOldQueue) {
  // The same thread logs to logger A, then A is destroyed and B is created (possibly at the same
  // address, with the thread's cached queue still pointing at A's): B must get the record.
  for (int round = 0; round < 5; ++round) {
    const std::string name = unique_name("successive");
    {
      logger a(name + "-a", staged_options());
      a.info("w", "0 0");
    }
    logger b(name, staged_options());
    shm_reader reader(name);
    b.info("w", "0 0");
    b.info("w", "0 1");
    b.flush();
    const auto entries = read_available(reader);
    ASSERT_EQ(entries.size(), 2U) << "round " << round;
    expect_each_thread_in_order(entries, 1, 2);
  }
}

TEST(StagedLogger, TwoLoggersFromTheSameThreadsKeepTheirRecordsApart) {
  const std::string name = unique_name("two");
  logger first(name + "-1", staged_options());
  logger second(name + "-2", staged_options());
  shm_reader reader_first(name + "-1");
  shm_reader reader_second(name + "-2");
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        first.info("w", "{} {}", t, i);
        second.info("w", "{} {}", t, i);
      }
    });
  }
  for (auto& w : workers) w.join();
  first.flush();
  second.flush();
  expect_each_thread_in_order(read_available(reader_first), 3, 500);
  expect_each_thread_in_order(read_available(reader_second), 3, 500);
}

TEST(StagedLogger, ConcurrentDrainsWhileThreadsComeAndGo) {
  // Producers that start and exit, a maintenance thread draining every millisecond, a flusher
  // thread, and a reader following along: every record once, each thread's in order.
  const std::string name = unique_name("churn");
  logger_options options = staged_options(true);
  options.staging_drain_interval = std::chrono::milliseconds(1);
  options.staging_bytes = 1;  // small queues: producers drain too
  logger log(name, options);
  shm_reader reader(name);
  std::atomic<bool> stop{false};
  std::thread flusher([&] {
    while (!stop.load()) {
      log.flush();
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  constexpr int generations = 8;
  constexpr int per_generation = 3;
  constexpr int per_thread = 1500;
  for (int g = 0; g < generations; ++g) {
    std::vector<std::thread> workers;
    for (int t = 0; t < per_generation; ++t) {
      const int id = g * per_generation + t;
      workers.emplace_back([&, id] {
        for (int i = 0; i < per_thread; ++i) log.info("w", "{} {}", id, i);
      });
    }
    for (auto& w : workers) w.join();
  }
  stop = true;
  flusher.join();
  log.flush();
  expect_each_thread_in_order(read_available(reader), generations * per_generation, per_thread);
}

}  // namespace
