#include "ouroboros/clock.hpp"

#include <chrono>
#include <thread>

#include "platform/shared_memory.hpp"

#ifdef OUROBOROS_HAS_TSC
#include <cpuid.h>
#endif

namespace ouroboros {

namespace {
__extension__ using uint128 = unsigned __int128;

std::uint64_t read_ticks() noexcept {
#ifdef OUROBOROS_HAS_TSC
  return __rdtsc();
#else
  return 0;
#endif
}

bool invariant_tsc() noexcept {
#ifdef OUROBOROS_HAS_TSC
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0x80000000U, nullptr) < 0x80000007U) return false;
  __cpuid(0x80000007U, a, b, c, d);
  return (d & (1U << 8)) != 0;
#else
  return false;
#endif
}
}  // namespace

namespace detail {
std::uint64_t realtime_now_ns() noexcept {
  return platform::realtime_ns();
}
}  // namespace detail

std::string_view to_string(clock_source source) noexcept {
  switch (source) {
    case clock_source::automatic: return "automatic";
    case clock_source::tsc: return "tsc";
    case clock_source::realtime: return "realtime";
  }
  return "unknown";
}

bool record_clock::tsc_trusted() noexcept {
  if (!invariant_tsc()) return false;
  return platform::os_trusts_tsc();
}

record_clock::sample record_clock::take_sample() noexcept {
  // Bracket the clock reads between two TSC reads and keep the tightest of a few tries, so a
  // preemption in the middle does not skew the pair.
  sample best;
  std::uint64_t best_window = ~std::uint64_t{0};
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint64_t before = read_ticks();
    const std::uint64_t realtime = platform::realtime_ns();
    const std::uint64_t monotonic = platform::monotonic_ns();
    const std::uint64_t after = read_ticks();
    if (after - before < best_window) {
      best_window = after - before;
      best.ticks = before + (after - before) / 2;
      best.realtime_ns = realtime;
      best.monotonic_ns = monotonic;
    }
  }
  return best;
}

record_clock::record_clock(clock_source requested, unsigned warmup_ms) {
#ifdef OUROBOROS_HAS_TSC
  tsc_ = requested == clock_source::tsc || (requested == clock_source::automatic && tsc_trusted());
#else
  (void)requested;
#endif
  if (!tsc_) return;
  first_ = take_sample();
  std::this_thread::sleep_for(std::chrono::milliseconds(warmup_ms == 0 ? 1 : warmup_ms));
  recalibrate();
}

const clock_calibration& record_clock::recalibrate() noexcept {
  if (!tsc_) return calibration_;
  const sample now = take_sample();
  const std::uint64_t ticks = now.ticks - first_.ticks;
  const std::uint64_t nanoseconds = now.monotonic_ns - first_.monotonic_ns;
  if (ticks == 0 || nanoseconds == 0 || now.ticks < first_.ticks) {
    // The counter went backwards or did not move (migrated VM?): start the rate measurement over.
    first_ = now;
    calibration_.tick_base = now.ticks;
    calibration_.wall_base_ns = now.realtime_ns;
    return calibration_;
  }
  const uint128 mult = (static_cast<uint128>(nanoseconds) << 32) / ticks;
  calibration_.tick_base = now.ticks;
  calibration_.wall_base_ns = now.realtime_ns;
  calibration_.mult = static_cast<std::uint64_t>(mult);
  return calibration_;
}

}  // namespace ouroboros
