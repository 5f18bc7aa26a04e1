// Cross-process latency of the ring: a writer process and a busy-polling reader process, pinned to
// two CPUs, 64-byte entries at a steady rate (100 000/s by default). Each payload carries the
// writer's TSC at the moment before the write, its sequence number and a checksum.
//
// Phases, each with a fresh pair of processes over the same shared mapping (MAP_SHARED, created
// before fork):
//   floor        two processes bounce one cache line (a ping-pong of one atomic word): one-way
//                time = round trip / 2. The cost of moving a line from one core to the other.
//                Measured again right before each other phase (it takes milliseconds) and printed
//                as "floor" above it: on a VM the hypervisor may move the vCPUs between phases,
//                and the one-way time then changes by 4x (28 ns against 110-140 ns here), so a
//                phase is compared with the floor next to it.
//   header       the reader polls the next entry's header word at its known position and takes
//                its timestamp when it reads committed: polling loop + the header's line.
//   +copy        as header, then copies the payload out (the payload's other line).
//   +recheck     as +copy, then an acquire fence and a re-load of the chunk row (offset, token,
//                offset): everything ring_reader's fast path does, written out by hand.
//   read_next    ring_reader::read_next, busy-polled.
//   read_batch   ring_reader::read_batch, busy-polled (one entry per call at this rate).
// The ring holds every entry of a phase (one chunk, no wrap), so the hand-written readers need no
// chunk logic and all phases read the same layout. Latency = reader TSC after the read (or header
// load) - writer TSC in the payload, over the samples taken while the reader was polling (the
// previous poll found no data: the entry arrived while the reader waited, not in a backlog).
// Integrity per phase: lost (gaps in sequence numbers, lapped), duplicated (a sequence number not
// above the previous one), corrupt (checksum or sequence in the payload wrong, corrupt results);
// all must be 0.
//
// With --drain the writer also times each write until its stores are globally visible (a full
// fence after the write, then the TSC): what the publish costs the writer's core, separating a
// slow store (a line the writer must first fetch) from the reader's side of the transfer. The
// fence comes after the entry's stores, so it does not delay them; it is off by default so that
// the writer is the plain one.
//
// Usage: ouroboros-bench-latency [--rate N] [--seconds S] [--cpus A,B] [--drain 0|1]
//                                [--phases floor,header,copy,recheck,read_next,read_batch]
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ouroboros/detail/shared_words.hpp"
#include "ouroboros/layout.hpp"
#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"

namespace {

using namespace ouroboros;

constexpr std::size_t payload_size = 64;

struct control {
  std::atomic<std::uint32_t> writer_ready{0};
  std::atomic<std::uint32_t> reader_ready{0};
  std::atomic<std::uint32_t> writer_done{0};
  alignas(64) std::atomic<std::uint64_t> ping{0};  // the floor's line, alone in it
  alignas(64) std::uint64_t reserved = 0;
};

struct options {
  std::uint64_t rate = 100000;
  double seconds = 2.0;
  int cpu_writer = 0;
  int cpu_reader = 1;
  bool drain = false;
  std::string phases = "floor,header,copy,recheck,read_next,read_batch";
  bool wants(std::string_view name) const {
    std::string_view rest = phases;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      if (rest.substr(0, comma) == name) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return false;
  }
};

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) std::perror("sched_setaffinity");
}

// The TSC where there is one (10 ns to read on the development VM, against 22 ns for the steady
// clock); the steady clock's nanoseconds elsewhere.
std::uint64_t tsc() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
#endif
}

// The TSC once every earlier store of this core is globally visible.
std::uint64_t tsc_after_stores() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_mfence();
  _mm_lfence();
  return __rdtsc();
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return tsc();
#endif
}

// TSC ticks per nanosecond, against the steady clock over 100 ms.
double tsc_per_ns() {
  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t c0 = tsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t1 = std::chrono::steady_clock::now();
  const std::uint64_t c1 = tsc();
  return static_cast<double>(c1 - c0) /
         static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

std::uint32_t checksum(const std::byte* bytes, std::size_t size) noexcept {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (std::size_t i = 0; i < size; ++i) {
    h ^= std::to_integer<std::uint32_t>(bytes[i]);
    h *= 16777619u;
  }
  return h;
}

// The stamp's share of the checksum: a few cycles, so the stamp can be taken right before the
// write while the rest of the payload is made beforehand.
std::uint32_t stamp_sum(std::uint64_t stamp) noexcept {
  stamp *= 0x9E3779B97F4A7C15ULL;
  return static_cast<std::uint32_t>(stamp >> 32);
}

// Everything but the stamp (bytes 0..7) and the stamp's share of the checksum.
void make_payload(std::byte* out, std::uint64_t seq) noexcept {
  std::memset(out, 0, 8);
  std::memcpy(out + 8, &seq, 8);
  std::uint64_t x = seq * 0x9E3779B97F4A7C15ULL;
  for (std::size_t i = 16; i < payload_size - 4; i += 4) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    const auto word = static_cast<std::uint32_t>(x >> 32);
    std::memcpy(out + i, &word, 4);
  }
  const std::uint32_t sum = checksum(out + 8, payload_size - 12);
  std::memcpy(out + payload_size - 4, &sum, 4);
}

void stamp_payload(std::byte* out, std::uint64_t stamp) noexcept {
  std::memcpy(out, &stamp, 8);
  std::uint32_t sum = 0;
  std::memcpy(&sum, out + payload_size - 4, 4);
  sum ^= stamp_sum(stamp);
  std::memcpy(out + payload_size - 4, &sum, 4);
}

struct tally {
  std::vector<std::uint64_t> samples;  // TSC ticks
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t corrupt = 0;
  std::uint64_t backlog = 0;  // entries not taken as samples (the reader was not polling)
  std::uint64_t last = 0;

  // One delivered entry; `polling`: the previous poll found nothing.
  void take(std::uint64_t seq, const std::byte* payload, std::size_t size, std::uint64_t now,
            bool polling) {
    ++delivered;
    std::uint64_t stamp = 0;
    std::uint64_t inner = 0;
    std::uint32_t sum = 0;
    if (size != payload_size) {
      ++corrupt;
      return;
    }
    std::memcpy(&stamp, payload, 8);
    std::memcpy(&inner, payload + 8, 8);
    std::memcpy(&sum, payload + payload_size - 4, 4);
    if (sum != (checksum(payload + 8, payload_size - 12) ^ stamp_sum(stamp)) || inner != seq) {
      ++corrupt;
    }
    if (seq <= last) {
      ++duplicated;
    } else {
      lost += seq - last - 1;
      last = seq;
    }
    if (polling) {
      samples.push_back(now - stamp);
    } else {
      ++backlog;
    }
  }
};

enum class phase { header, copy, recheck, read_next, read_batch };

const char* name_of(phase p) {
  switch (p) {
    case phase::header: return "header";
    case phase::copy: return "+copy";
    case phase::recheck: return "+recheck";
    case phase::read_next: return "read_next";
    case phase::read_batch: return "read_batch";
  }
  return "?";
}

const char* phase_key(phase p) {
  switch (p) {
    case phase::header: return "header";
    case phase::copy: return "copy";
    case phase::recheck: return "recheck";
    case phase::read_next: return "read_next";
    case phase::read_batch: return "read_batch";
  }
  return "?";
}

// Hand-written readers for the breakdown: one chunk, no wrap, so the next entry's position is
// known; the loads are the ones ring_reader makes (acquire, as single aligned words).
void read_by_hand(const std::byte* base, std::size_t first, phase p, std::uint64_t count, tally& t,
                  std::byte* scratch) {
  std::size_t position = first;
  const std::size_t row = layout::row_position(0);
  const auto offset_word = detail::load_shared<std::uint64_t>(base, row);
  const auto token = detail::load_shared<std::uint64_t>(base, row + 8);
  std::uint64_t seq = 0;
  while (seq < count) {
    bool polling = false;
    std::uint32_t header = 0;
    while (true) {
      header = detail::load_shared<std::uint32_t>(base, position);
      if ((header & layout::entry_committed_bit) != 0) break;
      polling = true;
    }
    std::uint64_t now = tsc();
    const std::uint32_t length = header & layout::entry_length_mask;
    if (p != phase::header) {
      std::memcpy(scratch, base + position + 4, length - 4);
      if (p == phase::recheck) {
        std::atomic_thread_fence(std::memory_order_acquire);
        const auto w1 = detail::load_shared<std::uint64_t>(base, row);
        const auto tk = detail::load_shared<std::uint64_t>(base, row + 8);
        const auto w2 = detail::load_shared<std::uint64_t>(base, row);
        if (w1 != offset_word || w2 != offset_word || tk != token) ++t.corrupt;
      }
      now = tsc();
    } else {
      // The sample is taken at the header; the payload is checked afterwards, untimed.
      std::memcpy(scratch, base + position + 4, length - 4);
    }
    ++seq;
    t.take(seq, scratch, length - 4, now, polling);
    position += (length + 3) & ~std::uint32_t{3};
  }
}

void read_with_reader(std::span<const std::byte> bytes, phase p, std::uint64_t count, tally& t,
                      control& ctl) {
  ring_reader reader;
  if (reader.attach(bytes, start_position::oldest).status != read_status::ok) {
    std::fprintf(stderr, "attach failed\n");
    std::exit(2);
  }
  ctl.reader_ready.store(1, std::memory_order_release);
  bool polling = false;
  bool done = false;  // the writer had finished at the last "no data": one more read drains it
  while (t.delivered + t.lost < count) {
    if (p == phase::read_next) {
      const read_result r = reader.read_next();
      if (r.status == read_status::ok) {
        const std::uint64_t now = tsc();
        t.take(r.sequence, r.payload.data(), r.payload.size(), now, polling);
        polling = false;
        continue;
      }
      if (r.status == read_status::no_data) {
        if (done) break;
        done = ctl.writer_done.load(std::memory_order_acquire) != 0;
        polling = true;
        continue;
      }
      if (r.status == read_status::lapped) continue;  // counted from the sequence gap
      ++t.corrupt;
    } else {
      const batch_result b = reader.read_batch();
      if (b.status == read_status::ok) {
        const std::uint64_t now = tsc();
        for (const batch_entry& e : b.entries) {
          t.take(e.sequence, e.payload.data(), e.payload.size(), now, polling);
          polling = false;
        }
        continue;
      }
      if (b.status == read_status::no_data) {
        if (done) break;
        done = ctl.writer_done.load(std::memory_order_acquire) != 0;
        polling = true;
        continue;
      }
      if (b.status == read_status::lapped) continue;
      ++t.corrupt;
    }
  }
  // Entries never seen at the end count as lost too.
  if (t.last < count) t.lost += count - t.last;
}

std::uint64_t percentile(std::vector<std::uint64_t>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

void report(const char* what, std::vector<std::uint64_t>& ticks, double per_ns, const tally* t) {
  const double p50 = static_cast<double>(percentile(ticks, 0.50)) / per_ns;
  const double p90 = static_cast<double>(percentile(ticks, 0.90)) / per_ns;
  const double p99 = static_cast<double>(percentile(ticks, 0.99)) / per_ns;
  std::printf("%-11s samples %8zu  p50 %7.1f ns  p90 %7.1f ns  p99 %8.1f ns", what, ticks.size(),
              p50, p90, p99);
  if (t != nullptr) {
    std::printf(
        "  delivered %llu lost %llu duplicated %llu corrupt %llu backlog %llu",
        static_cast<unsigned long long>(t->delivered), static_cast<unsigned long long>(t->lost),
        static_cast<unsigned long long>(t->duplicated), static_cast<unsigned long long>(t->corrupt),
        static_cast<unsigned long long>(t->backlog));
  }
  std::printf("\n");
  std::fflush(stdout);
}

template <class F>
pid_t spawn(F&& body) {
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    body();
    std::fflush(stdout);
    std::_Exit(0);
  }
  return pid;
}

bool wait_ok(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The floor: A stores 2k+1, B answers 2k+2; A times each round trip.
void run_floor(control& ctl, const options& opt, double per_ns, const char* label) {
  const std::uint64_t rounds = static_cast<std::uint64_t>(opt.rate * opt.seconds);
  ctl.ping.store(0);
  const pid_t b = spawn([&] {
    pin(opt.cpu_reader);
    for (std::uint64_t k = 0; k < rounds; ++k) {
      while (ctl.ping.load(std::memory_order_acquire) != 2 * k + 1) {
      }
      ctl.ping.store(2 * k + 2, std::memory_order_release);
    }
  });
  const pid_t a = spawn([&] {
    pin(opt.cpu_writer);
    std::vector<std::uint64_t> one_way;
    one_way.reserve(rounds);
    for (std::uint64_t k = 0; k < rounds; ++k) {
      const std::uint64_t t0 = tsc();
      ctl.ping.store(2 * k + 1, std::memory_order_release);
      while (ctl.ping.load(std::memory_order_acquire) != 2 * k + 2) {
      }
      one_way.push_back((tsc() - t0) / 2);
    }
    report(label, one_way, per_ns, nullptr);
  });
  if (!wait_ok(a) || !wait_ok(b)) std::fprintf(stderr, "floor phase failed\n");
}

void run_phase(phase p, control& ctl, std::span<std::byte> ring, const options& opt,
               double per_ns) {
  const std::uint64_t count = static_cast<std::uint64_t>(opt.rate * opt.seconds);
  ctl.writer_ready.store(0);
  ctl.reader_ready.store(0);
  ctl.writer_done.store(0);
  writer_config config;
  config.chunk_count = 1;
  config.chunk_target_size = ring.size();
  const pid_t writer = spawn([&] {
    pin(opt.cpu_writer);
    ring_writer w(ring, config);
    ctl.writer_ready.store(1, std::memory_order_release);
    while (ctl.reader_ready.load(std::memory_order_acquire) == 0) {
    }
    const double ticks_apart = per_ns * 1e9 / static_cast<double>(opt.rate);
    std::byte payload[payload_size];
    std::vector<std::uint64_t> drained;
    if (opt.drain) drained.reserve(count);
    const std::uint64_t start = tsc();
    for (std::uint64_t seq = 1; seq <= count; ++seq) {
      const auto due = start + static_cast<std::uint64_t>(static_cast<double>(seq) * ticks_apart);
      make_payload(payload, seq);
      while (tsc() < due) {
      }
      const std::uint64_t stamp = tsc();
      stamp_payload(payload, stamp);
      w.write(std::span<const std::byte>(payload, payload_size));
      if (opt.drain) drained.push_back(tsc_after_stores() - stamp);
    }
    if (opt.drain) {
      char what[32];
      std::snprintf(what, sizeof what, "  drain %s", name_of(p));
      report(what, drained, per_ns, nullptr);
    }
    ctl.writer_done.store(1, std::memory_order_release);
  });
  const pid_t reader = spawn([&] {
    pin(opt.cpu_reader);
    while (ctl.writer_ready.load(std::memory_order_acquire) == 0) {
    }
    tally t;
    t.samples.reserve(count);
    if (p == phase::read_next || p == phase::read_batch) {
      read_with_reader(ring, p, count, t, ctl);
    } else {
      const std::size_t first = static_cast<std::size_t>(
          detail::load_shared<std::uint64_t>(ring.data(), layout::row_position(0)) &
          layout::row_offset_mask);
      std::vector<std::byte> scratch(4096);
      ctl.reader_ready.store(1, std::memory_order_release);
      read_by_hand(ring.data(), first, p, count, t, scratch.data());
    }
    report(name_of(p), t.samples, per_ns, &t);
  });
  if (!wait_ok(writer) || !wait_ok(reader)) std::fprintf(stderr, "phase %s failed\n", name_of(p));
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--rate") {
      opt.rate = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (flag == "--seconds") {
      opt.seconds = std::strtod(argv[i + 1], nullptr);
    } else if (flag == "--drain") {
      opt.drain = std::strtol(argv[i + 1], nullptr, 10) != 0;
    } else if (flag == "--phases") {
      opt.phases = argv[i + 1];
    } else if (flag == "--cpus") {
      std::sscanf(argv[i + 1], "%d,%d", &opt.cpu_writer, &opt.cpu_reader);
    } else {
      std::fprintf(
          stderr, "usage: %s [--rate N] [--seconds S] [--cpus A,B] [--drain 0|1] [--phases LIST]\n",
          argv[0]);
      return 2;
    }
  }
  if (opt.rate == 0 || opt.seconds <= 0) {
    std::fprintf(stderr, "rate and seconds must be positive\n");
    return 2;
  }
  const std::uint64_t count = static_cast<std::uint64_t>(opt.rate * opt.seconds);
  // One chunk that holds every entry of a phase, plus the table and slack.
  const std::size_t ring_size =
      layout::align_up(64 + count * layout::align_up(payload_size + 4, 4) + 4096, 4096);
  const std::size_t total = 4096 + ring_size;
  void* memory = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  auto* ctl = new (memory) control;
  std::span<std::byte> ring(static_cast<std::byte*>(memory) + 4096, ring_size);
  const double per_ns = tsc_per_ns();
  std::printf(
      "rate %llu/s, %.1f s per phase, %zu-byte payloads, writer on CPU %d, reader on CPU "
      "%d, TSC %.3f GHz\n",
      static_cast<unsigned long long>(opt.rate), opt.seconds, payload_size, opt.cpu_writer,
      opt.cpu_reader, per_ns);
  std::fflush(stdout);  // before the forks copy the buffer
  if (opt.wants("floor")) run_floor(*ctl, opt, per_ns, "floor");
  for (const phase p :
       {phase::header, phase::copy, phase::recheck, phase::read_next, phase::read_batch}) {
    if (!opt.wants(phase_key(p))) continue;
    if (opt.wants("floor")) run_floor(*ctl, opt, per_ns, "  floor");
    run_phase(p, *ctl, ring, opt, per_ns);
  }
  munmap(memory, total);
  return 0;
}
