// Strict parsing of the numbers users type on the command line: whole numbers, sizes with a
// K/M/G/T suffix, decimals and octal permission modes. Negative values, values that do not fit,
// NaN, infinities and trailing garbage are refused with a message that says what was expected
// (CLI11 alone accepted "-1" for an unsigned option and wrapped it).
//
// Each parse_* returns the value or throws std::invalid_argument with a message such as
// `expected a whole number from 0 to 18446744073709551615, got "-1"`; the command-line layer
// prefixes the option's name. cli_options.hpp adapts them to CLI11.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace ouroboros::tools {

std::uint64_t parse_whole_number(std::string_view text, std::uint64_t min, std::uint64_t max);
std::int64_t parse_integer(std::string_view text, std::int64_t min, std::int64_t max);

// Bytes: a whole number with an optional 1024-based suffix K, M, G or T (also KB/KiB..., any
// case), e.g. "64", "100K", "1MiB".
std::uint64_t parse_size(std::string_view text, std::uint64_t min, std::uint64_t max);

// A finite decimal number such as "2.5", "1e3" or "0" within [min, max].
double parse_decimal(std::string_view text, double min, double max);

// Permission bits of a segment, octal ("0600", "640"). A log segment must not be writable by
// group or others (they could shrink or corrupt it under the writer) and has no use for the
// setuid, setgid or sticky bits: both are refused with the reason.
unsigned parse_segment_mode(std::string_view text);

}  // namespace ouroboros::tools
