#include "ouroboros/tools/numeric_options.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "ouroboros/tools/entry_format.hpp"

namespace ouroboros::tools {

namespace {
[[noreturn]] void refuse(std::string_view expected, std::string_view text) {
  throw std::invalid_argument(
      fmt::format("expected {}, got \"{}\"", expected, terminal_safe(text)));
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Digits only (no sign, no spaces): true and `value` when it fits 64 bits.
bool parse_digits(std::string_view text, std::uint64_t& value) {
  if (!all_digits(text)) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
}  // namespace

std::uint64_t parse_whole_number(std::string_view text, std::uint64_t min, std::uint64_t max) {
  std::uint64_t value = 0;
  if (!parse_digits(text, value) || value < min || value > max) {
    refuse(fmt::format("a whole number from {} to {}", min, max), text);
  }
  return value;
}

std::int64_t parse_integer(std::string_view text, std::int64_t min, std::int64_t max) {
  const bool negative = !text.empty() && text.front() == '-';
  std::uint64_t magnitude = 0;
  const bool digits = parse_digits(negative ? text.substr(1) : text, magnitude);
  constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!digits || magnitude > limit + (negative ? 1 : 0)) {
    refuse(fmt::format("a whole number from {} to {}", min, max), text);
  }
  const std::int64_t value =
      negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  if (value < min || value > max)
    refuse(fmt::format("a whole number from {} to {}", min, max), text);
  return value;
}

std::uint64_t parse_size(std::string_view text, std::uint64_t min, std::uint64_t max) {
  const auto expected = [&] {
    return fmt::format(
        "a size from {} to {} bytes (a whole number, optionally with a 1024-based K, M, G or T)",
        min, max);
  };
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::uint64_t number = 0;
  if (!parse_digits(text.substr(0, digits), number)) refuse(expected(), text);
  std::string suffix;
  for (char c : text.substr(digits)) suffix.push_back(lower(c));
  int shift = 0;
  if (!suffix.empty()) {
    const char unit = suffix.front();
    shift = unit == 'k' ? 10 : unit == 'm' ? 20 : unit == 'g' ? 30 : unit == 't' ? 40 : -1;
    const std::string_view rest = std::string_view(suffix).substr(1);
    if (shift < 0 || !(rest.empty() || rest == "b" || rest == "ib")) refuse(expected(), text);
  } else if (digits != text.size()) {
    refuse(expected(), text);
  }
  if (shift > 0 && number > (std::numeric_limits<std::uint64_t>::max() >> shift)) {
    refuse(expected(), text);
  }
  const std::uint64_t value = number << shift;
  if (value < min || value > max) refuse(expected(), text);
  return value;
}

double parse_decimal(std::string_view text, double min, double max) {
  const auto expected = [&] { return fmt::format("a number from {} to {}", min, max); };
  // Digits, one optional point and an optional exponent: no sign, "nan", "inf" or hex floats.
  std::size_t i = 0;
  std::size_t mantissa_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++mantissa_digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) refuse(expected(), text);
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (i == text.size() || !all_digits(text.substr(i))) refuse(expected(), text);
    i = text.size();
  }
  if (i != text.size()) refuse(expected(), text);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < min || value > max) {
    refuse(expected(), text);
  }
  return value;
}

unsigned parse_segment_mode(std::string_view text) {
  if (text.empty() || text.size() > 4 ||
      text.find_first_not_of("01234567") != std::string_view::npos) {
    refuse("octal permission bits such as 0600 or 0644", text);
  }
  unsigned mode = 0;
  for (char c : text) mode = mode * 8 + static_cast<unsigned>(c - '0');
  if ((mode & 0022) != 0) {
    throw std::invalid_argument(fmt::format(
        "mode {:04o} lets group or other users write the segment, so they could shrink or "
        "corrupt it under the writer and its readers; use 0600, 0640 or 0644",
        mode));
  }
  if ((mode & 07000) != 0) {
    throw std::invalid_argument(
        fmt::format("mode {:04o} sets special bits (setuid, setgid or sticky), which a log "
                    "segment has no use for; use 0600, 0640 or 0644",
                    mode));
  }
  return mode;
}

}  // namespace ouroboros::tools
