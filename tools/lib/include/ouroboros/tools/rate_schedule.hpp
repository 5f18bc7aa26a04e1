// When entries are due: a target rate shaped over time (steady, on/off bursts, or a repeating
// ramp), as a cumulative count and its inverse, so a writer can sleep until the next deadline
// instead of spinning, and catch up by batching when it wakes late. Counting from the run's
// start (not from the last wake-up) keeps the long-run rate exact whatever the sleep jitter.
//
// Thread-safety: immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <string>

namespace ouroboros::tools {

enum class rate_shape {
  steady,  // `rate` entries/s
  burst,   // `rate` for on_seconds, then nothing for off_seconds, repeating
  ramp,    // linear from ramp_from to `rate` over ramp_seconds, then again from ramp_from
};

struct rate_plan {
  double rate = 1000;  // entries per second; 0 = as fast as possible
  rate_shape shape = rate_shape::steady;
  double on_seconds = 1;
  double off_seconds = 1;
  double ramp_from = 0;
  double ramp_seconds = 10;
};

// Why a plan is unusable, or empty when it is fine.
std::string validate(const rate_plan& plan);

class rate_schedule {
 public:
  explicit rate_schedule(const rate_plan& plan);

  bool unlimited() const noexcept { return plan_.rate <= 0; }
  // Entries due in [0, seconds]: floor of the integral of the rate.
  std::uint64_t due(double seconds) const noexcept;
  // The earliest time at which `count` entries are due (0 for count 0).
  double time_of(std::uint64_t count) const noexcept;
  // The instantaneous target rate.
  double rate_at(double seconds) const noexcept;
  const rate_plan& plan() const noexcept { return plan_; }

 private:
  long double cumulative(long double seconds) const noexcept;
  rate_plan plan_;
};

}  // namespace ouroboros::tools
