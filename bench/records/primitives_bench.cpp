// The building blocks of a log call, measured one by one to choose the clock, the formatter and
// the producer lock (docs/performance.md, "Records and the publishing API").
#include <benchmark/benchmark.h>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <time.h>
#include <x86intrin.h>

#include <atomic>
#include <mutex>
#include <string>

namespace {

void clock_realtime(benchmark::State& state) {
  timespec ts{};
  for (auto _ : state) {
    clock_gettime(CLOCK_REALTIME, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(clock_realtime);

void clock_realtime_coarse(benchmark::State& state) {
  timespec ts{};
  for (auto _ : state) {
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(clock_realtime_coarse);

void clock_monotonic(benchmark::State& state) {
  timespec ts{};
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(clock_monotonic);

void clock_rdtsc(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(__rdtsc());
}
BENCHMARK(clock_rdtsc);

void clock_rdtscp(benchmark::State& state) {
  unsigned aux = 0;
  for (auto _ : state) benchmark::DoNotOptimize(__rdtscp(&aux));
}
BENCHMARK(clock_rdtscp);

void lock_std_mutex(benchmark::State& state) {
  static std::mutex mutex;
  for (auto _ : state) {
    mutex.lock();
    benchmark::ClobberMemory();
    mutex.unlock();
  }
}
BENCHMARK(lock_std_mutex)->Threads(1)->Threads(4);

void lock_spin_exchange(benchmark::State& state) {
  static std::atomic<bool> locked{false};
  for (auto _ : state) {
    while (locked.exchange(true, std::memory_order_acquire)) {
      while (locked.load(std::memory_order_relaxed)) _mm_pause();
    }
    benchmark::ClobberMemory();
    locked.store(false, std::memory_order_release);
  }
}
BENCHMARK(lock_spin_exchange)->Threads(1)->Threads(4);

const std::string peer = "10.1.2.3:443";

void format_runtime_format_to_n(benchmark::State& state) {
  char buffer[256];
  int n = 1500;
  for (auto _ : state) {
    benchmark::DoNotOptimize(n);
    auto r = fmt::format_to_n(buffer, sizeof buffer, "sent {} bytes to {}", n, peer);
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(format_runtime_format_to_n);

void format_compiled_format_to(benchmark::State& state) {
  char buffer[256];
  int n = 1500;
  for (auto _ : state) {
    benchmark::DoNotOptimize(n);
    auto r = fmt::format_to(buffer, FMT_COMPILE("sent {} bytes to {}"), n, peer);
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(format_compiled_format_to);

}  // namespace

#include "ouroboros/format.hpp"

namespace {
void format_ouroboros_format_to(benchmark::State& state) {
  char buffer[256];
  int n = 1500;
  for (auto _ : state) {
    benchmark::DoNotOptimize(n);
    ouroboros::format_sink sink(buffer, sizeof buffer);
    ouroboros::format_to(sink, ouroboros::log_format<int, std::string>("sent {} bytes to {}"), n,
                         peer);
    benchmark::DoNotOptimize(sink);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(format_ouroboros_format_to);
}  // namespace

#include <unistd.h>

#include "ouroboros/logger.hpp"

namespace {
ouroboros::logger& bench_logger(ouroboros::producers threading, bool in_ring = true) {
  static auto make = [](ouroboros::producers t, const char* what, bool ring = true) {
    ouroboros::logger_options options;
    options.threading = t;
    options.format_in_ring = ring;
    return std::make_unique<ouroboros::logger>(
        std::string("ouroboros-bench-prim-") + what + "-" + std::to_string(::getpid()), options);
  };
  static auto many = make(ouroboros::producers::many, "many");
  static auto single = make(ouroboros::producers::single, "single");
  static auto staged = make(ouroboros::producers::many, "staged", false);
  if (!in_ring) return *staged;
  return threading == ouroboros::producers::many ? *many : *single;
}

void logger_constant(benchmark::State& state) {
  auto& log = bench_logger(ouroboros::producers::many);
  for (auto _ : state) log.info("bench", "constant message without arguments");
}
BENCHMARK(logger_constant);

void logger_int_string(benchmark::State& state) {
  auto& log = bench_logger(ouroboros::producers::many);
  int n = 0;
  for (auto _ : state) log.info("net", "sent {} bytes to {}", ++n, peer);
}
BENCHMARK(logger_int_string);

void logger_int_string_staged(benchmark::State& state) {
  auto& log = bench_logger(ouroboros::producers::many, false);
  int n = 0;
  for (auto _ : state) log.info("net", "sent {} bytes to {}", ++n, peer);
}
BENCHMARK(logger_int_string_staged);
BENCHMARK(logger_int_string_staged)->Threads(4);
BENCHMARK(logger_int_string)->Threads(4);

void logger_int_string_single_producer(benchmark::State& state) {
  auto& log = bench_logger(ouroboros::producers::single);
  int n = 0;
  for (auto _ : state) log.info("net", "sent {} bytes to {}", ++n, peer);
}
BENCHMARK(logger_int_string_single_producer);

void logger_below_threshold(benchmark::State& state) {
  auto& log = bench_logger(ouroboros::producers::many);
  int n = 0;
  for (auto _ : state) log.debug("net", "sent {} bytes to {}", ++n, peer);
}
BENCHMARK(logger_below_threshold);
}  // namespace

#include "ouroboros/clock.hpp"
#include "ouroboros/record_reader.hpp"
#include "ouroboros/segment.hpp"

// Deferred records (record version 2), and the parts of a call one by one.
namespace {
ouroboros::logger& deferred_logger(ouroboros::producers threading) {
  static auto make = [](ouroboros::producers t, const char* what) {
    ouroboros::logger_options options;
    options.threading = t;
    options.deferred_format = true;
    return std::make_unique<ouroboros::logger>(
        std::string("ouroboros-bench-prim-deferred-") + what + "-" + std::to_string(::getpid()),
        options);
  };
  static auto many = make(ouroboros::producers::many, "many");
  static auto single = make(ouroboros::producers::single, "single");
  static auto queued = make(ouroboros::producers::staged, "queued");
  if (threading == ouroboros::producers::staged) return *queued;
  return threading == ouroboros::producers::many ? *many : *single;
}

void deferred_constant(benchmark::State& state) {
  auto& log = deferred_logger(ouroboros::producers::many);
  for (auto _ : state) log.info("bench", "constant message without arguments");
}
BENCHMARK(deferred_constant);

void deferred_int_string(benchmark::State& state) {
  auto& log = deferred_logger(ouroboros::producers::many);
  int n = 0;
  for (auto _ : state) log.info("net", "sent {} bytes to {}", ++n, peer);
}
BENCHMARK(deferred_int_string);
BENCHMARK(deferred_int_string)->Threads(4);

void deferred_int_string_single_producer(benchmark::State& state) {
  auto& log = deferred_logger(ouroboros::producers::single);
  int n = 0;
  for (auto _ : state) log.info("net", "sent {} bytes to {}", ++n, peer);
}
BENCHMARK(deferred_int_string_single_producer);

// producers::staged: the call writes its thread's queue; the maintenance thread drains it.
void deferred_constant_per_thread_queue(benchmark::State& state) {
  auto& log = deferred_logger(ouroboros::producers::staged);
  for (auto _ : state) log.info("bench", "constant message without arguments");
}
BENCHMARK(deferred_constant_per_thread_queue);

void deferred_int_string_per_thread_queue(benchmark::State& state) {
  auto& log = deferred_logger(ouroboros::producers::staged);
  int n = 0;
  for (auto _ : state) log.info("net", "sent {} bytes to {}", ++n, peer);
}
BENCHMARK(deferred_int_string_per_thread_queue);
BENCHMARK(deferred_int_string_per_thread_queue)->Threads(4);

// The staged call alone: batches of 1 024 calls, the queue drained between batches with the
// timer stopped, so that the producer never drains it itself (the cases above flood the queue,
// and a flood runs at the drain's pace). "call" is the time per call.
template <class Call>
void staged_calls_only(benchmark::State& state, Call call) {
  auto& log = deferred_logger(ouroboros::producers::staged);
  constexpr int batch = 1024;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) call(log, i);
    state.PauseTiming();
    log.flush();
    state.ResumeTiming();
  }
  state.counters["call"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * batch,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void deferred_constant_staged_call_only(benchmark::State& state) {
  staged_calls_only(state, [](ouroboros::logger& log, int) {
    log.info("bench", "constant message without arguments");
  });
}
BENCHMARK(deferred_constant_staged_call_only);
void deferred_int_string_staged_call_only(benchmark::State& state) {
  staged_calls_only(state, [](ouroboros::logger& log, int i) {
    log.info("net", "sent {} bytes to {}", i, peer);
  });
}
BENCHMARK(deferred_int_string_staged_call_only);

void part_record_clock_now(benchmark::State& state) {
  auto& log = deferred_logger(ouroboros::producers::many);
  for (auto _ : state) benchmark::DoNotOptimize(log.clock().now());
}
BENCHMARK(part_record_clock_now);

void part_thread_id(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ouroboros::detail::current_thread_id());
}
BENCHMARK(part_thread_id);

void part_intern_lookup(benchmark::State& state) {
  ouroboros::detail::intern_table table;
  static const char literal[] = "sent {} bytes to {}";
  table.insert(literal, 0);
  const char* key = literal;
  for (auto _ : state) {
    benchmark::DoNotOptimize(key);
    benchmark::DoNotOptimize(table.find(key));
  }
}
BENCHMARK(part_intern_lookup);

// A segment of the ring's size, written as the logger does but without clock, lock and lookup:
// claim, header, tag, arguments, publish.
void part_ring_claim_encode_publish(benchmark::State& state) {
  ouroboros::shm_writer_options o;
  o.chunk_count = 64;
  o.chunk_target_size = 64 * 1024;
  ouroboros::shm_writer writer("ouroboros-bench-prim-ring-" + std::to_string(::getpid()), o);
  auto& ring = writer.ring();
  int n = 0;
  for (auto _ : state) {
    const std::size_t size = 22 + 3 + 9 + 5 + peer.size();
    std::byte* p = ring.claim(size);
    std::memset(p, 0, 22);
    std::memcpy(p + 22, "net", 3);
    std::byte* at = ouroboros::detail::put_deferred(p + 25, ++n);
    ouroboros::detail::put_deferred(at, peer);
    ring.publish();
  }
}
BENCHMARK(part_ring_claim_encode_publish);

// Reader side: the entry interpreter on a deferred record against a text record of the same call
// (the text record's cost is decoding only; formatting happened at the call site).
void interpret_payload(benchmark::State& state, bool deferred) {
  const std::string name = std::string("ouroboros-bench-prim-render-") + (deferred ? "d-" : "t-") +
                           std::to_string(::getpid());
  ouroboros::logger_options options;
  options.deferred_format = deferred;
  options.maintenance_thread = false;
  ouroboros::logger log(name, options);
  log.info("net", "sent {} bytes to {}", 1500, peer);
  ouroboros::shm_reader reader(name);
  const ouroboros::read_result r = reader.read_next();
  const std::vector<std::byte> payload(r.payload.begin(), r.payload.end());
  ouroboros::entry_interpreter interpreter(reader.bytes());
  for (auto _ : state) {
    const ouroboros::entry_view v = interpreter.interpret(payload);
    benchmark::DoNotOptimize(v.message.data());
  }
}
void interpret_deferred_int_string(benchmark::State& state) {
  interpret_payload(state, true);
}
BENCHMARK(interpret_deferred_int_string);
void interpret_text_int_string(benchmark::State& state) {
  interpret_payload(state, false);
}
BENCHMARK(interpret_text_int_string);
}  // namespace

#include "ouroboros/deferred.hpp"

namespace {
// Formatting alone, reader side: a parsed format string and encoded arguments to text (compare
// with format_ouroboros_format_to, the same call formatted at the call site into a buffer). The
// first case is what entry_interpreter does: into its buffer, the spec check remembered by the
// memo; the second appends to a std::string with the full check (tests, vector generator).
const ouroboros::deferred_format& int_string_format() {
  static const ouroboros::deferred_format format =
      ouroboros::parse_deferred_format("sent {} bytes to {}");
  return format;
}

std::span<const std::byte> int_string_arguments() {
  static std::byte args[64];
  static const std::size_t size = [] {
    std::byte* at = ouroboros::detail::put_deferred(args, 1500);
    at = ouroboros::detail::put_deferred(at, peer);
    return static_cast<std::size_t>(at - args);
  }();
  return {args, size};
}

void render_deferred_int_string(benchmark::State& state) {
  const ouroboros::deferred_format& format = int_string_format();
  const std::span<const std::byte> encoded = int_string_arguments();
  ouroboros::deferred_memo memo;
  char buffer[256];
  for (auto _ : state) {
    benchmark::DoNotOptimize(encoded);
    ouroboros::format_sink sink(buffer, sizeof buffer);
    benchmark::DoNotOptimize(ouroboros::render_deferred(format, encoded, sink, &memo));
    benchmark::DoNotOptimize(sink);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(render_deferred_int_string);

void render_deferred_int_string_to_string(benchmark::State& state) {
  const ouroboros::deferred_format& format = int_string_format();
  const std::span<const std::byte> encoded = int_string_arguments();
  std::string out;
  out.reserve(256);
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(ouroboros::render_deferred(format, encoded, out));
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(render_deferred_int_string_to_string);
}  // namespace
