// ouroboros-test-ring-stress: the processes of the multi-process stress test.
//
//   writer NAME COUNT SEED         creates NAME, prints "ready", waits for "go" on stdin, writes
//                                  COUNT self-checking entries of random size, prints "done",
//                                  then waits for stdin to close before it exits (and unlinks)
//   reader NAME MODE COUNT SEED    MODE = pace | lag | reattach; attaches, prints "attached",
//                                  reads until it has seen entry COUNT and prints one line:
//                                  "result delivered=.. lost=.. corrupt=.. duplicates=..
//                                   backwards=.. accounting=.. bad_status=.. attachments=.."
//
// Thread-safety: single-threaded processes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ouroboros/segment.hpp"
#include "test_support.hpp"

namespace {

using namespace ouroboros;
using namespace ouroboros::test;

constexpr std::uint32_t stress_chunks = 8;
constexpr std::size_t stress_chunk_target = 1024;

int run_writer(const std::string& name, std::uint64_t count, std::uint64_t seed) {
  shm_writer_options options;
  options.chunk_count = stress_chunks;
  options.chunk_target_size = stress_chunk_target;
  options.take_over = true;
  shm_writer writer(name, options);
  std::cout << "ready" << std::endl;
  std::string line;
  if (!std::getline(std::cin, line) || line != "go") return 2;

  std::mt19937_64 rng(seed);
  const std::size_t max = writer.ring().max_payload_size();
  std::vector<std::byte> payload(max);
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    std::size_t size = checked_min_size + rng() % 600;
    const auto dice = rng() % 1000;
    if (dice < 20) size = checked_min_size + rng() % (3 * stress_chunk_target);  // > a chunk
    if (dice == 999) size = max;
    size = std::min(size, max);
    fill_checked({payload.data(), size}, seq);
    if (writer.write({payload.data(), size}) != write_status::ok) return 3;
    // Pace: about 50k entries/s in bursts of 8, so the pacing reader can keep up (the ring
    // holds about 24 entries) while the ring still laps about 2000 times a second.
    if (seq % 8 == 0) {
      const auto due = started + std::chrono::microseconds(seq * 20);
      std::this_thread::sleep_until(due);
    }
    if (seq % 4096 == 0) writer.heartbeat();
  }
  std::cout << "done " << count << std::endl;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}

int run_reader(const std::string& name, const std::string& mode, std::uint64_t count,
               std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::unique_ptr<shm_reader> reader;
  std::uint64_t start = 0;
  std::uint64_t last = 0;
  std::uint64_t delivered = 0, lost = 0, corrupt = 0, duplicates = 0, backwards = 0;
  std::uint64_t accounting = 0, bad_status = 0, attachments = 0, lapped_events = 0;
  std::uint64_t rejected = 0;  // rows judged implausible (never, with a correct writer)

  auto close_books = [&] {
    if (!reader) return;
    const ring_reader& ring = reader->ring();
    rejected += ring.rows_rejected();
    if (ring.entries_delivered() + ring.entries_lost() !=
        ring.position_sequence() - ring.start_sequence()) {
      ++accounting;
    }
  };
  auto attach = [&](start_position where) {
    close_books();
    reader = std::make_unique<shm_reader>(name, where);
    start = reader->ring().position_sequence();
    last = start;
    ++attachments;
  };
  attach(start_position::oldest);
  std::cout << "attached" << std::endl;

  // Re-attach every ~count/400 delivered entries on average, so the reader re-attaches dozens of
  // times whatever the (sanitizer-scaled) count and whatever share of the entries it gets to read
  // (under Wine each attach is a round trip to the wineserver and the reader gets fewer).
  const std::uint64_t reattach_spread = std::max<std::uint64_t>(count / 200, 2);
  auto next_reattach = [&] { return 20 + rng() % reattach_spread; };
  std::uint64_t until_reattach = next_reattach();
  std::uint64_t seen_last = 0;  // the highest sequence number seen
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (seen_last < count) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "reader " << mode << ": timed out at " << seen_last << "\n";
      return 4;
    }
    const read_result r = reader->read_next();
    switch (r.status) {
      case read_status::ok: {
        const auto claimed = verify_checked(r.payload);
        if (!claimed || *claimed != r.sequence) ++corrupt;
        if (r.sequence == last) {
          ++duplicates;
        } else if (r.sequence < last) {
          ++backwards;
        }
        last = r.sequence;
        seen_last = std::max(seen_last, r.sequence);
        ++delivered;
        if (mode == "lag" && rng() % 100 == 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (mode == "reattach" && --until_reattach == 0) {
          attach(static_cast<start_position>(rng() % 3));
          until_reattach = next_reattach();
        }
        break;
      }
      case read_status::lapped:
        lost += r.lost;
        ++lapped_events;
        break;
      case read_status::no_data:
        seen_last = std::max(seen_last, reader->ring().position_sequence());
        // The pacing reader polls without sleeping (a sleep is longer than a lap here).
        if (mode == "pace") {
          std::this_thread::yield();
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        break;
      default:
        ++bad_status;
        std::cerr << "reader " << mode << ": " << to_string(r.status) << " " << r.detail << "\n";
        break;
    }
  }
  close_books();
  if (mode != "reattach" && delivered + lost != reader->ring().position_sequence()) ++accounting;
  std::cout << "result delivered=" << delivered << " lost=" << lost << " corrupt=" << corrupt
            << " duplicates=" << duplicates << " backwards=" << backwards
            << " accounting=" << accounting << " bad_status=" << bad_status
            << " attachments=" << attachments << " lapped_events=" << lapped_events
            << " rejected=" << rejected << " position=" << reader->ring().position_sequence()
            << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 4 && args[0] == "writer") {
      return run_writer(args[1], std::stoull(args[2]), std::stoull(args[3]));
    }
    if (args.size() == 5 && args[0] == "reader") {
      return run_reader(args[1], args[2], std::stoull(args[3]), std::stoull(args[4]));
    }
    std::cerr << "usage: ouroboros-test-ring-stress writer NAME COUNT SEED | reader NAME "
                 "pace|lag|reattach COUNT SEED\n";
    return 64;
  } catch (const std::exception& e) {
    std::cerr << "ouroboros-test-ring-stress: " << e.what() << "\n";
    return 1;
  }
}
