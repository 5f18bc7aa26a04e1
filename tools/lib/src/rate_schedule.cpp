#include "ouroboros/tools/rate_schedule.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ouroboros::tools {

std::string validate(const rate_plan& plan) {
  if (!(plan.rate >= 0) || !std::isfinite(plan.rate)) {
    return fmt::format("rate must be a number >= 0 (0 = as fast as possible), not {}", plan.rate);
  }
  if (plan.shape == rate_shape::steady) return {};
  if (plan.rate == 0) return "burst and ramp patterns need a finite --rate (not 0)";
  if (plan.shape == rate_shape::burst) {
    if (!(plan.on_seconds > 0)) return "the burst on-period must be longer than 0 s";
    if (!(plan.off_seconds >= 0)) return "the burst off-period must be 0 s or longer";
  } else {
    if (!(plan.ramp_seconds > 0)) return "the ramp period must be longer than 0 s";
    if (!(plan.ramp_from >= 0)) return "the ramp start rate must be >= 0";
  }
  return {};
}

rate_schedule::rate_schedule(const rate_plan& plan) : plan_(plan) {}

long double rate_schedule::cumulative(long double t) const noexcept {
  const long double r = plan_.rate;
  if (t <= 0) return 0;
  switch (plan_.shape) {
    case rate_shape::steady: return r * t;
    case rate_shape::burst: {
      const long double on = plan_.on_seconds;
      const long double period = on + plan_.off_seconds;
      const long double cycles = std::floor(t / period);
      const long double within = t - cycles * period;
      return cycles * r * on + r * std::min(within, on);
    }
    case rate_shape::ramp: {
      const long double r0 = plan_.ramp_from;
      const long double period = plan_.ramp_seconds;
      const long double per_cycle = (r0 + r) / 2 * period;
      const long double cycles = std::floor(t / period);
      const long double tau = t - cycles * period;
      return cycles * per_cycle + r0 * tau + (r - r0) * tau * tau / (2 * period);
    }
  }
  return 0;
}

std::uint64_t rate_schedule::due(double seconds) const noexcept {
  if (unlimited()) return UINT64_MAX;
  const long double c = cumulative(seconds);
  // A hair of slack so that due(time_of(n)) >= n despite rounding.
  return static_cast<std::uint64_t>(std::floor(c + c * 1e-15L + 1e-9L));
}

double rate_schedule::time_of(std::uint64_t count) const noexcept {
  if (count == 0 || unlimited()) return 0;
  const long double n = static_cast<long double>(count);
  const long double r = plan_.rate;
  switch (plan_.shape) {
    case rate_shape::steady: return static_cast<double>(n / r);
    case rate_shape::burst: {
      const long double per_cycle = r * plan_.on_seconds;
      const long double cycles = std::ceil(n / per_cycle) - 1;
      const long double rest = n - cycles * per_cycle;
      return static_cast<double>(cycles * (plan_.on_seconds + plan_.off_seconds) + rest / r);
    }
    case rate_shape::ramp: {
      const long double r0 = plan_.ramp_from;
      const long double period = plan_.ramp_seconds;
      const long double per_cycle = (r0 + r) / 2 * period;
      const long double cycles = std::ceil(n / per_cycle) - 1;
      const long double rest = n - cycles * per_cycle;
      // Solve r0*tau + a*tau^2 = rest in the form that stays exact when a is 0 or negative.
      const long double a = (r - r0) / (2 * period);
      const long double discriminant = std::max(0.0L, r0 * r0 + 4 * a * rest);
      const long double denominator = r0 + std::sqrt(discriminant);
      const long double tau = denominator > 0 ? std::min(period, 2 * rest / denominator) : period;
      return static_cast<double>(cycles * period + tau);
    }
  }
  return 0;
}

double rate_schedule::rate_at(double seconds) const noexcept {
  const double r = plan_.rate;
  switch (plan_.shape) {
    case rate_shape::steady: return r;
    case rate_shape::burst: {
      const double period = plan_.on_seconds + plan_.off_seconds;
      return std::fmod(seconds, period) < plan_.on_seconds ? r : 0;
    }
    case rate_shape::ramp: {
      const double tau = std::fmod(seconds, plan_.ramp_seconds);
      return plan_.ramp_from + (r - plan_.ramp_from) * tau / plan_.ramp_seconds;
    }
  }
  return r;
}

}  // namespace ouroboros::tools
