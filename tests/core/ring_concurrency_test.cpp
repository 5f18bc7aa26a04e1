// In-process concurrency: one writer thread and several reader threads on small rings. Payloads
// carry their own sequence number and a checksum, so a torn, stale or misnumbered entry cannot
// pass. Runs under ThreadSanitizer (label "concurrency").
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"
#include "test_support.hpp"

namespace ouroboros::test {
namespace {

enum class pace { spin, lag, reattach };

struct reader_report {
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t corrupt = 0;     // payload checksum or embedded sequence wrong
  std::uint64_t backwards = 0;   // sequence not greater than the previous one
  std::uint64_t accounting = 0;  // delivered + lost != position - start for an attachment
  std::uint64_t bad_status = 0;  // anything but ok / lapped / no_data
  std::uint64_t attachments = 0;
  std::uint64_t rejected = 0;  // rows judged implausible: never, with a correct writer
  std::uint64_t first_start = 0;
  std::uint64_t final_position = 0;
};

struct concurrent_shape {
  const char* name;
  std::uint32_t chunks;
  std::size_t target;
  std::size_t size;  // 0: required size
};

void PrintTo(const concurrent_shape& s, std::ostream* os) {
  *os << s.name;
}

// The spinning reader publishes how far it got; the writer stays within a varying window ahead
// of it, so most reads happen right behind the writer, where the races are.
reader_report run_reader(std::span<const std::byte> buffer, pace mode, std::uint64_t total,
                         const std::atomic<bool>& writer_done, std::uint64_t seed,
                         std::atomic<std::uint64_t>* progress) {
  reader_report report;
  std::mt19937_64 rng(seed);
  ring_reader reader;
  std::uint64_t start = 0;
  auto attach = [&](start_position where) {
    if (reader.attached() && reader.entries_delivered() + reader.entries_lost() !=
                                 reader.position_sequence() - reader.start_sequence()) {
      ++report.accounting;
    }
    report.rejected += reader.rows_rejected();
    if (reader.attach(buffer, where).status != read_status::ok) ++report.bad_status;
    start = reader.position_sequence();
    ++report.attachments;
  };
  attach(start_position::oldest);
  report.first_start = start;
  std::uint64_t last = start;
  std::uint64_t until_reattach = 1 + rng() % 3000;
  for (;;) {
    const read_result r = reader.read_next();
    if (progress != nullptr) progress->store(reader.position_sequence(), std::memory_order_relaxed);
    if (r.status == read_status::ok) {
      const auto claimed = verify_checked(r.payload);
      if (!claimed || *claimed != r.sequence) ++report.corrupt;
      if (r.sequence <= last) ++report.backwards;
      last = r.sequence;
      ++report.delivered;
      if (mode == pace::lag && rng() % 64 == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      if (mode == pace::reattach && --until_reattach == 0) {
        attach(static_cast<start_position>(rng() % 3));
        last = start;
        until_reattach = 1 + rng() % 3000;
      }
    } else if (r.status == read_status::lapped) {
      report.lost += r.lost;
    } else if (r.status == read_status::no_data) {
      if (writer_done.load(std::memory_order_acquire) && reader.position_sequence() >= total) break;
      std::this_thread::yield();
    } else {
      ++report.bad_status;
      if (writer_done.load(std::memory_order_acquire)) break;
    }
  }
  if (reader.entries_delivered() + reader.entries_lost() !=
      reader.position_sequence() - reader.start_sequence()) {
    ++report.accounting;
  }
  report.rejected += reader.rows_rejected();
  report.final_position = reader.position_sequence();
  return report;
}

class RingConcurrency : public ::testing::TestWithParam<concurrent_shape> {};

TEST_P(RingConcurrency, WriterAndReaderThreadsNeverSeeATornOrMisnumberedEntry) {
  const concurrent_shape s = GetParam();
  writer_config config;
  config.chunk_count = s.chunks;
  config.chunk_target_size = s.target;
  aligned_buffer buffer(s.size ? s.size : required_buffer_size(config));
  ring_writer writer(buffer, config);
  const std::uint64_t total = scaled(100000, 20000);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> progress{0};

  std::vector<reader_report> reports(3);
  std::vector<std::thread> readers;
  const pace modes[] = {pace::spin, pace::lag, pace::reattach};
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&, i] {
      reports[i] =
          run_reader(buffer, modes[i], total, done, 1000 + i, i == 0 ? &progress : nullptr);
    });
  }

  std::mt19937_64 rng(42);
  std::vector<std::byte> payload(writer.max_payload_size());
  const std::size_t max = writer.max_payload_size();
  const std::uint64_t windows[] = {1, 2, 8, 32, 128, 1024};
  std::uint64_t window = 1;
  for (std::uint64_t seq = 1; seq <= total; ++seq) {
    if (seq % 2048 == 0) window = windows[rng() % 6];
    // Bounded wait: the test must not depend on the reader being scheduled.
    for (int spins = 0; spins < 2000 && seq > progress.load(std::memory_order_relaxed) + window;
         ++spins) {
      std::this_thread::yield();
    }
    std::size_t size = checked_min_size + rng() % (2 * s.target);
    if (rng() % 500 == 0) size = max;
    size = std::min(size, max);
    fill_checked({payload.data(), size}, seq);
    ASSERT_EQ(writer.write({payload.data(), size}), write_status::ok);
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();

  const char* names[] = {"spinning", "lagging", "re-attaching"};
  for (int i = 0; i < 3; ++i) {
    const reader_report& r = reports[i];
    SCOPED_TRACE(names[i]);
    EXPECT_EQ(r.corrupt, 0u);
    EXPECT_EQ(r.backwards, 0u);
    EXPECT_EQ(r.accounting, 0u);
    EXPECT_EQ(r.bad_status, 0u);
    EXPECT_EQ(r.rejected, 0u) << "a row the writer committed was judged implausible";
    EXPECT_EQ(r.final_position, total);
    if (i < 2) {
      EXPECT_EQ(r.delivered + r.lost, total - r.first_start);
    }
    std::cout << "  " << names[i] << ": delivered " << r.delivered << ", lost " << r.lost
              << ", attachments " << r.attachments << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RingConcurrency,
                         ::testing::Values(concurrent_shape{"one_chunk", 1, 256, 1024},
                                           concurrent_shape{"two_chunks", 2, 64, 0},
                                           concurrent_shape{"eight_chunks", 8, 256, 0},
                                           concurrent_shape{"thirty_two_chunks", 32, 128, 0}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ouroboros::test
