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
