// Text for times, durations, levels and messages as the viewer shows and exports them.
//
// Thread-safety: stateless functions; safe from any thread.
#pragma once

#include <QString>
#include <cstdint>
#include <string>
#include <string_view>

#include "data/entry.hpp"

namespace ouroboros::viewer {

// "2024-05-01 12:34:56.123456789" (nanosecond precision), in UTC or local time.
QString format_time(std::int64_t unix_ns, bool utc);
// "+0.000123456" seconds since the previous row ("-" for negative deltas).
QString format_delta(std::int64_t delta_ns);
// "+83.123456" / "-2.000001": seconds relative to a reference, microsecond precision.
QString format_offset(std::int64_t offset_ns);

// Time of day for the table ("12:34:56.123456", microseconds), with the date in front where a
// row asks for it. Rows arrive in time order, so most share their second with the previous one:
// the calendar conversion (a time-zone lookup) is cached per second.
//
// Thread-safety: not thread-safe (one per thread; the table's model owns one).
class time_of_day_cache {
 public:
  QString text(std::int64_t unix_ns, bool utc, bool with_date);
  // Days since 1970-01-01 in the chosen zone: rows on different days differ here.
  std::int64_t day(std::int64_t unix_ns, bool utc);

 private:
  void convert(std::int64_t seconds, bool utc);
  std::int64_t seconds_ = INT64_MIN;
  bool utc_ = false;
  std::int64_t day_ = 0;
  char date_[40] = {};  // room for any int fields, so hostile times cannot truncate
  char clock_[40] = {};
};
// A short human duration: "850 ns", "12.3 µs", "4.5 ms", "2.1 s", "3 min 5 s".
std::string format_duration(std::uint64_t ns);
// "TRACE" ... "CRITICAL"; empty for rows without a level.
QString level_name(std::uint8_t level);
// The gap row's text: "N entries overwritten (seq A–B, ≈ 12 ms)".
std::string gap_text(std::uint64_t first, std::uint64_t last, std::int64_t duration_ns);
// A message as one table line: newlines become " ⏎ ", control bytes U+FFFD, cut at `limit`
// characters with an ellipsis.
QString one_line(std::string_view message, int limit = 600);
// The whole text, invalid UTF-8 and control bytes (except tab and newline) shown as U+FFFD.
QString full_text(std::string_view message);
// A row's message (a deferred record formatted now) as full_text and one_line give it.
QString full_message(const entry& row);
QString message_line(const entry& row, int limit = 600);

}  // namespace ouroboros::viewer
