// Realistic log traffic for demo_writer: levels in plausible proportions, tags, messages from
// varied templates with numbers and ids, key=value fields, occasional long lines and multi-line
// text (stack traces), and payload sizes shaped by a chosen distribution.
//
// Thread-safety: a message_generator is used by one thread (each producer has its own).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ouroboros/record.hpp"

namespace ouroboros {
class logger;
}

namespace ouroboros::demo {

// Small, fast, good-enough PRNG (xorshift64*); seeded per producer so runs are reproducible.
class random {
 public:
  explicit random(std::uint64_t seed) noexcept : state_(seed == 0 ? 0x9E3779B97F4A7C15ULL : seed) {}
  std::uint64_t next() noexcept {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  // Uniform in [0, bound) (bound > 0).
  std::uint64_t below(std::uint64_t bound) noexcept { return next() % bound; }
  // Uniform in [0, 1).
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

enum class size_distribution {
  natural,   // whatever the templates produce (records) / the template text (raw)
  fixed,     // exactly `size` bytes of payload
  uniform,   // uniform in [min, max]
  longtail,  // mostly near min, a Pareto tail up to max (alpha 1.2)
};

struct size_plan {
  size_distribution distribution = size_distribution::natural;
  std::size_t size = 128;
  std::size_t min = 32;
  std::size_t max = 1024;
};

// The payload size to aim for next (0 = natural).
std::size_t next_size(const size_plan& plan, random& rng) noexcept;

struct generated_record {
  level severity = level::info;
  std::string_view tag;
  std::string message;
  std::size_t field_count = 0;
  std::array<std::string_view, 4> keys{};
  std::array<std::string, 4> values{};
  std::array<record_field, 4> fields() const noexcept;
};

class message_generator {
 public:
  message_generator(std::uint64_t seed, std::uint32_t producer) noexcept
      : rng_(seed * 0x9E3779B97F4A7C15ULL + producer + 1), producer_(producer) {}

  // Fills `out` with the next record. `target_payload` > 0 pads or cuts the message so that the
  // encoded record is that many bytes (as far as the header and fields allow).
  void next_record(generated_record& out, std::size_t target_payload);
  // The next raw (non-record) payload: template text, or "raw <producer>:<n> ..." padded/cut to
  // `target_payload` bytes when that is > 0.
  void next_raw(std::string& out, std::size_t target_payload);
  // Logs the next record through `log` as an application's call site would, with a format
  // string and typed arguments (no fields): with deferred_format the logger stores the format's
  // id and the arguments. Returns the bytes of the deferred record it asked for.
  std::size_t log_next(logger& log);

  random& rng() noexcept { return rng_; }

 private:
  random rng_;
  std::uint32_t producer_;
  std::uint64_t count_ = 0;
};

// Appends filler text until `text` is `size` bytes, or cuts it there.
void fit_to_size(std::string& text, std::size_t size);

}  // namespace ouroboros::demo
