// The timestamp source of the publishing API.
//
// Reading CLOCK_REALTIME costs about twice as much as the time-stamp counter on this machine
// (docs/performance.md), so records are stamped with raw TSC ticks when the TSC is invariant and
// the kernel itself uses it as its clock source; the segment's extension block then carries a
// calibration (ticks -> unix ns) that readers apply, and records carry flag_ticks. Elsewhere the
// clock falls back to CLOCK_REALTIME nanoseconds and records need no conversion.
//
// Calibration: one (ticks, realtime) pair is taken at start and a first rate is measured over a
// short window; recalibrate() (called about once a second by the logger's maintenance thread)
// re-anchors at the current (ticks, realtime) pair, so a stepped wall clock is followed, and
// refines the rate against CLOCK_MONOTONIC over the whole run, so it converges to well under a
// part per million.
//
// Thread-safety: now() and ticks() are safe from any thread; recalibrate() must be called by one
// thread at a time.
#pragma once

#include <cstdint>
#include <string_view>

#include "ouroboros/extension.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define OUROBOROS_HAS_TSC 1
#endif

namespace ouroboros {

enum class clock_source {
  automatic,  // TSC when it is invariant and the kernel trusts it, else realtime
  tsc,        // TSC if the processor has one at all (even if the kernel distrusts it)
  realtime,   // clock_gettime(CLOCK_REALTIME): records carry unix ns directly
};
std::string_view to_string(clock_source source) noexcept;

namespace detail {
std::uint64_t realtime_now_ns() noexcept;
}

class record_clock {
 public:
  // Measures the first calibration (about `warmup_ms` milliseconds) when the TSC is used.
  explicit record_clock(clock_source requested = clock_source::automatic, unsigned warmup_ms = 10);

  // The timestamp to put into a record.
  std::uint64_t now() const noexcept {
#ifdef OUROBOROS_HAS_TSC
    if (tsc_) [[likely]]
      return __rdtsc();
#endif
    return detail::realtime_now_ns();
  }
  // Whether now() returns ticks (set flag_ticks and publish calibration()) or unix ns.
  bool ticks() const noexcept {
    return tsc_;
  }
  clock_source source() const noexcept {
    return tsc_ ? clock_source::tsc : clock_source::realtime;
  }

  // The calibration in force (identity when not in ticks).
  const clock_calibration& calibration() const noexcept {
    return calibration_;
  }
  // Takes a fresh (ticks, realtime, monotonic) sample and returns the new calibration.
  const clock_calibration& recalibrate() noexcept;

  // Whether this machine offers an invariant TSC that the kernel uses as its clock source.
  static bool tsc_trusted() noexcept;

 private:
  struct sample {
    std::uint64_t ticks = 0;
    std::uint64_t realtime_ns = 0;
    std::uint64_t monotonic_ns = 0;
  };
  static sample take_sample() noexcept;

  bool tsc_ = false;
  sample first_;
  clock_calibration calibration_;
};

}  // namespace ouroboros
