// Log call latency (p50 / p99 / p99.9) of the publishing API against spdlog, in one run.
//
// Each call is bracketed by two TSC reads; the bracket's own cost (measured with nothing in it)
// is printed and subtracted from every percentile. The TSC of this VM advances in steps of about
// 10 ns, so percentiles come in 10 ns steps; "mean" is an unbracketed loop of the same calls
// (total time / calls), which is not quantised. Cases:
//   clock read        record_clock::now() alone (the time stamp every call takes): the unit the
//                     goals are expressed in
//   constant          log.info("bench", "constant message without arguments")
//   int+string        log.info("net", "sent {} bytes to {}", n, peer)         (peer: std::string)
//   int+string 1prod  the same with producers::single (no producer lock)
//   ... text          the same call writing a text record (formatted at the call site); the
//                     other ouroboros cases write deferred records
//                     (logger_options::deferred_format)
//   ... staged        producers::staged: each thread writes its own queue (no lock, no atomic
//                     read-modify-write); the logger's maintenance thread drains the queues
//                     into the ring
//   int+string x4     the same from 4 threads at once (2 cores: includes preemption); the
//                     throughput line counts records in the ring after the last one was drained
//   spdlog sink       spdlog::logger (synchronous) -> ouroboros::spdlog_sink
//   spdlog async      spdlog's async logger -> null sink (its queue hand-off only)
//
// Usage: ouroboros-bench-log-latency [calls per case, default 1000000]
// OUROBOROS_BENCH_STAGING_BYTES=N sets logger_options::staging_bytes of the staged cases.
#include <spdlog/async.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ouroboros/clock.hpp"
#include "ouroboros/logger.hpp"
#include "ouroboros/spdlog_sink.hpp"

namespace {

double ns_per_tick = 1.0;
double overhead_ns = 0.0;

struct percentiles {
  double p50, p99, p999, max;
};

percentiles summarise(std::vector<std::uint64_t>& ticks) {
  std::sort(ticks.begin(), ticks.end());
  auto at = [&](double q) {
    const auto i =
        std::min(ticks.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ticks.size())));
    return static_cast<double>(ticks[i]) * ns_per_tick;
  };
  return {at(0.50), at(0.99), at(0.999), static_cast<double>(ticks.back()) * ns_per_tick};
}

thread_local double last_mean_ns =
    0.0;  // mean of the last measure(): unbracketed loop, finer than the TSC step

template <class F>
std::vector<std::uint64_t> measure(std::size_t calls, F&& call) {
  std::vector<std::uint64_t> ticks(calls);
  for (std::size_t i = 0; i < calls / 10; ++i) call(i);  // warm caches, pages and the ring
  const std::uint64_t loop_start = __rdtsc();
  for (std::size_t i = 0; i < calls; ++i) call(i);
  last_mean_ns =
      static_cast<double>(__rdtsc() - loop_start) * ns_per_tick / static_cast<double>(calls);
  for (std::size_t i = 0; i < calls; ++i) {
    const std::uint64_t start = __rdtsc();
    call(i);
    ticks[i] = __rdtsc() - start;
  }
  return ticks;
}

void report(const char* name, std::vector<std::uint64_t> ticks) {
  const percentiles p = summarise(ticks);
  auto net = [](double v) { return std::max(0.0, v - overhead_ns); };
  std::printf("%-26s %9.1f %9.1f %9.1f %9.1f %11.1f\n", name, last_mean_ns, net(p.p50), net(p.p99),
              net(p.p999), net(p.max));
}

std::string segment_name(const char* what) {
  return "ouroboros-bench-" + std::string(what) + "-" + std::to_string(::getpid());
}

ouroboros::logger_options bench_options(ouroboros::producers threading = ouroboros::producers::many,
                                        bool deferred = true) {
  ouroboros::logger_options options;
  options.deferred_format = deferred;
  options.segment.chunk_count = 64;
  options.segment.chunk_target_size = 64 * 1024;  // 4 MiB ring: wraps many times per case
  options.threading = threading;
  if (const char* bytes = std::getenv("OUROBOROS_BENCH_STAGING_BYTES"))
    options.staging_bytes = std::strtoull(bytes, nullptr, 10);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t calls = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  ouroboros::record_clock clock(ouroboros::clock_source::tsc, 200);
  ns_per_tick = static_cast<double>(clock.calibration().mult) / 4294967296.0;
  const std::string peer = "10.1.2.3:443";
  {
    // An unreported first pass: the first case measured otherwise pays for a cold machine.
    ouroboros::logger log(segment_name("warmup"), bench_options());
    measure(calls, [&](std::size_t i) {
      log.info("net", "sent {} bytes to {}", static_cast<int>(i), peer);
    });
  }
  {
    auto empty = measure(calls, [](std::size_t) {});
    overhead_ns = summarise(empty).p50;
  }
  std::printf(
      "clock: %s, timer bracket overhead %.1f ns (subtracted), %zu calls per case\n",
      std::string(
          to_string(ouroboros::record_clock(ouroboros::clock_source::automatic, 1).source()))
          .c_str(),
      overhead_ns, calls);
  std::printf("%-26s %9s %9s %9s %9s %11s\n", "case (ns per call)", "mean", "p50", "p99", "p99.9",
              "max");

  {
    ouroboros::logger log(segment_name("clock"), bench_options());
    std::uint64_t sink = 0;
    report("clock read", measure(calls, [&](std::size_t) {
             sink += log.clock().now();
             asm volatile("" : : "r"(sink) : "memory");
           }));
  }
  {
    ouroboros::logger log(segment_name("constant"), bench_options());
    report("ouroboros constant", measure(calls, [&](std::size_t) {
             log.info("bench", "constant message without arguments");
           }));
  }
  {
    ouroboros::logger log(segment_name("intstr"), bench_options());
    report("ouroboros int+string", measure(calls, [&](std::size_t i) {
             log.info("net", "sent {} bytes to {}", static_cast<int>(i), peer);
           }));
  }
  {
    ouroboros::logger log(segment_name("text-const"),
                          bench_options(ouroboros::producers::many, false));
    report("ouroboros constant text", measure(calls, [&](std::size_t) {
             log.info("bench", "constant message without arguments");
           }));
  }
  {
    ouroboros::logger log(segment_name("text-intstr"),
                          bench_options(ouroboros::producers::many, false));
    report("ouroboros int+string text", measure(calls, [&](std::size_t i) {
             log.info("net", "sent {} bytes to {}", static_cast<int>(i), peer);
           }));
  }
  {
    // Fields (a text record: fields take the formatting path); int and double fields are typed.
    ouroboros::logger log(segment_name("fields"), bench_options());
    report("ouroboros 3 fields", measure(calls, [&](std::size_t i) {
             log.info("db", {{"rows", static_cast<int>(i)}, {"ratio", 0.25}, {"table", "users"}},
                      "query done");
           }));
  }
  {
    ouroboros::logger log(segment_name("single"), bench_options(ouroboros::producers::single));
    report("ouroboros int+string 1prod", measure(calls, [&](std::size_t i) {
             log.info("net", "sent {} bytes to {}", static_cast<int>(i), peer);
           }));
  }
  struct threaded_case {
    const char* name;
    const char* throughput;
    ouroboros::producers threading;
    bool deferred;
  };
  for (const threaded_case& c :
       {threaded_case{"ouroboros int+string x4", "  x4 throughput", ouroboros::producers::many,
                      true},
        threaded_case{"ouroboros int+string x4 text", "  x4 text throughput",
                      ouroboros::producers::many, false},
        threaded_case{"ouroboros int+string x4 stg", "  x4 staged throughput",
                      ouroboros::producers::staged, true}}) {
    ouroboros::logger log(segment_name("threads"), bench_options(c.threading, c.deferred));
    constexpr int threads = 4;
    std::vector<std::vector<std::uint64_t>> results(threads);
    std::vector<double> means(threads);
    std::vector<std::thread> workers;
    const auto started = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        results[static_cast<std::size_t>(t)] = measure(calls / threads, [&](std::size_t i) {
          log.info("net", "sent {} bytes to {}", static_cast<int>(i), peer);
        });
        means[static_cast<std::size_t>(t)] = last_mean_ns;
      });
    }
    for (auto& w : workers) w.join();
    log.flush();  // staged: the records still queued count once they are in the ring
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::vector<std::uint64_t> all;
    for (auto& r : results) all.insert(all.end(), r.begin(), r.end());
    last_mean_ns = 0;
    for (const double m : means) last_mean_ns += m / threads;
    report(c.name, std::move(all));
    std::printf("%-26s %9.2f M records/s in total (incl. warm-up calls)\n", c.throughput,
                static_cast<double>(log.records_written()) / seconds / 1e6);
  }
  {
    ouroboros::logger log(segment_name("staged-const"),
                          bench_options(ouroboros::producers::staged));
    report("ouroboros constant staged", measure(calls, [&](std::size_t) {
             log.info("bench", "constant message without arguments");
           }));
  }
  {
    ouroboros::logger log(segment_name("staged-intstr"),
                          bench_options(ouroboros::producers::staged));
    report("ouroboros int+string staged", measure(calls, [&](std::size_t i) {
             log.info("net", "sent {} bytes to {}", static_cast<int>(i), peer);
           }));
  }
  {
    auto target = std::make_shared<ouroboros::logger>(segment_name("spdlog"), bench_options());
    spdlog::logger log("net", std::make_shared<ouroboros::spdlog_sink>(target));
    log.set_level(spdlog::level::info);
    report("spdlog -> ouroboros sink", measure(calls, [&](std::size_t i) {
             log.info("sent {} bytes to {}", static_cast<int>(i), peer);
           }));
  }
  {
    spdlog::init_thread_pool(8192, 1);
    auto log = std::make_shared<spdlog::async_logger>(
        "net", std::make_shared<spdlog::sinks::null_sink_mt>(), spdlog::thread_pool(),
        spdlog::async_overflow_policy::block);
    report("spdlog async -> null sink", measure(calls, [&](std::size_t i) {
             log->info("sent {} bytes to {}", static_cast<int>(i), peer);
           }));
    spdlog::shutdown();
  }
  return 0;
}
