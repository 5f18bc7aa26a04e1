#include "data/format.hpp"

#include <QDateTime>
#include <cstdio>
#include <ctime>

#include "ouroboros/record_reader.hpp"

namespace ouroboros::viewer {

QString format_time(std::int64_t unix_ns, bool utc) {
  if (unix_ns == no_time) return {};
  // Floor division so times before 1970 still print a non-negative fraction.
  std::int64_t seconds = unix_ns / 1'000'000'000;
  std::int64_t fraction = unix_ns % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    --seconds;
  }
  const QDateTime when = QDateTime::fromSecsSinceEpoch(seconds, utc ? Qt::UTC : Qt::LocalTime);
  char digits[16];
  std::snprintf(digits, sizeof digits, ".%09lld", static_cast<long long>(fraction));
  return when.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) + QLatin1String(digits);
}

namespace {
// "+S.fraction" / "-S.fraction" with `digits` (6 or 9) decimals, exact for any int64.
QString signed_seconds(std::int64_t ns, int digits) {
  const bool negative = ns < 0;
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  const std::uint64_t unit = digits == 6 ? 1000 : 1;
  char text[48];
  std::snprintf(text, sizeof text, "%c%llu.%0*llu", negative ? '-' : '+',
                static_cast<unsigned long long>(magnitude / 1'000'000'000), digits,
                static_cast<unsigned long long>(magnitude % 1'000'000'000 / unit));
  return QString::fromLatin1(text);
}
}  // namespace

QString format_delta(std::int64_t delta_ns) {
  return signed_seconds(delta_ns, 9);
}

QString format_offset(std::int64_t offset_ns) {
  return signed_seconds(offset_ns, 6);
}

void time_of_day_cache::convert(std::int64_t seconds, bool utc) {
  seconds_ = seconds;
  utc_ = utc;
  const auto when = static_cast<std::time_t>(seconds);
  std::tm parts{};
  // POSIX's reentrant conversions; the Windows C runtime's _s twins take the arguments swapped.
#ifdef _WIN32
  if (utc) {
    ::gmtime_s(&parts, &when);
  } else {
    ::localtime_s(&parts, &when);
  }
#else
  if (utc) {
    ::gmtime_r(&when, &parts);
  } else {
    ::localtime_r(&when, &parts);
  }
#endif
  std::snprintf(date_, sizeof date_, "%04d-%02d-%02d", parts.tm_year + 1900, parts.tm_mon + 1,
                parts.tm_mday);
  std::snprintf(clock_, sizeof clock_, "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec);
  // A day number that changes exactly at local midnight.
  const std::int64_t local_seconds = seconds + (utc ? 0 : parts.tm_gmtoff);
  day_ = local_seconds >= 0 ? local_seconds / 86400 : (local_seconds - 86399) / 86400;
}

QString time_of_day_cache::text(std::int64_t unix_ns, bool utc, bool with_date) {
  if (unix_ns == no_time) return {};
  std::int64_t seconds = unix_ns / 1'000'000'000;
  std::int64_t fraction = unix_ns % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    --seconds;
  }
  if (seconds != seconds_ || utc != utc_) convert(seconds, utc);
  char text[112];
  std::snprintf(text, sizeof text, "%s%s%s.%06lld", with_date ? date_ : "", with_date ? " " : "",
                clock_, static_cast<long long>(fraction / 1000));
  return QString::fromLatin1(text);
}

std::int64_t time_of_day_cache::day(std::int64_t unix_ns, bool utc) {
  std::int64_t seconds = unix_ns / 1'000'000'000;
  if (unix_ns % 1'000'000'000 < 0) --seconds;
  if (seconds != seconds_ || utc != utc_) convert(seconds, utc);
  return day_;
}

std::string format_duration(std::uint64_t ns) {
  char text[48];
  if (ns < 1'000) {
    std::snprintf(text, sizeof text, "%llu ns", static_cast<unsigned long long>(ns));
  } else if (ns < 1'000'000) {
    std::snprintf(text, sizeof text, "%.1f \xC2\xB5s", static_cast<double>(ns) / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(ns) / 1e6);
  } else if (ns < 60'000'000'000ULL) {
    std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ns) / 1e9);
  } else {
    const unsigned long long s = ns / 1'000'000'000ULL;
    std::snprintf(text, sizeof text, "%llu min %llu s", s / 60, s % 60);
  }
  return text;
}

QString level_name(std::uint8_t value) {
  switch (value) {
    case 0: return QStringLiteral("TRACE");
    case 1: return QStringLiteral("DEBUG");
    case 2: return QStringLiteral("INFO");
    case 3: return QStringLiteral("WARN");
    case 4: return QStringLiteral("ERROR");
    case 5: return QStringLiteral("CRITICAL");
    default: return {};
  }
}

std::string gap_text(std::uint64_t first, std::uint64_t last, std::int64_t duration_ns) {
  const std::uint64_t count = last - first + 1;
  std::string text = std::to_string(count) + (count == 1 ? " entry" : " entries") +
                     " overwritten (seq " + std::to_string(first) + "\xE2\x80\x93" +
                     std::to_string(last);
  if (duration_ns >= 0)
    text += ", \xE2\x89\x88 " + format_duration(static_cast<std::uint64_t>(duration_ns));
  text += ")";
  return text;
}

namespace {
bool plain_ascii(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || u < 0x20 || u == 0x7F) return false;
  }
  return true;
}
}  // namespace

QString one_line(std::string_view message, int limit) {
  // Only the displayed prefix is converted: a 1 MiB message costs no more than a short one.
  const std::size_t byte_limit = static_cast<std::size_t>(limit) * 4;
  const bool cut_bytes = message.size() > byte_limit;
  if (cut_bytes) message = message.substr(0, byte_limit);
  QString text;
  if (plain_ascii(message)) {
    text = QString::fromLatin1(message.data(), static_cast<qsizetype>(message.size()));
  } else {
    text = QString::fromStdString(printable(message));
    text.replace(QLatin1Char('\n'), QStringLiteral(" \u23CE "));
    text.replace(QLatin1Char('\t'), QLatin1Char(' '));
  }
  if (text.size() > limit || cut_bytes) {
    text.truncate(limit);
    text += QChar(0x2026);
  }
  return text;
}

QString full_text(std::string_view message) {
  return QString::fromStdString(printable(message));
}

QString full_message(const entry& row) {
  std::string scratch;
  return full_text(message_text(row, scratch));
}

QString message_line(const entry& row, int limit) {
  std::string scratch;
  return one_line(message_text(row, scratch), limit);
}

}  // namespace ouroboros::viewer
