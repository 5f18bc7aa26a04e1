#include "ouroboros/tools/entry_format.hpp"

#include <time.h>

#include <array>
#include <cstring>
#include <ctime>

namespace ouroboros::tools {

namespace {
// The thread-safe broken-down time: gmtime_r/localtime_r on POSIX, the _s twins (arguments
// swapped) in the Windows C runtime.
void utc_parts(std::time_t t, std::tm& parts) noexcept {
#ifdef _WIN32
  ::gmtime_s(&parts, &t);
#else
  ::gmtime_r(&t, &parts);
#endif
}
void local_parts(std::time_t t, std::tm& parts) noexcept {
#ifdef _WIN32
  ::localtime_s(&parts, &t);
#else
  ::localtime_r(&t, &parts);
#endif
}
}  // namespace

namespace {
constexpr std::string_view reset = "\x1b[0m";
constexpr std::string_view dim = "\x1b[2m";

std::string_view level_label(level value) noexcept {
  switch (value) {
    case level::trace: return "TRACE";
    case level::debug: return "DEBUG";
    case level::info: return "INFO ";
    case level::warn: return "WARN ";
    case level::error: return "ERROR";
    case level::critical: return "CRIT ";
  }
  return "?    ";
}

std::string_view level_color(level value) noexcept {
  switch (value) {
    case level::trace: return "\x1b[2m";
    case level::debug: return "\x1b[36m";
    case level::info: return "\x1b[32m";
    case level::warn: return "\x1b[33m";
    case level::error: return "\x1b[31m";
    case level::critical: return "\x1b[1;37;41m";
  }
  return "";
}

void append(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when the byte there starts none.
std::size_t utf8_sequence_at(std::string_view text, std::size_t i) noexcept {
  const auto c = static_cast<unsigned char>(text[i]);
  std::size_t length = c < 0x80             ? 1
                       : (c & 0xE0) == 0xC0 ? 2
                       : (c & 0xF0) == 0xE0 ? 3
                       : (c & 0xF8) == 0xF0 ? 4
                                            : 0;
  if (length == 0 || i + length > text.size()) return 0;
  return is_valid_utf8(text.substr(i, length)) ? length : 0;
}

// Field values with spaces or quotes are quoted so key=value pairs stay parseable.
void append_field_value(fmt::memory_buffer& out, std::string_view value) {
  const bool quote = value.empty() || value.find_first_of(" \t\n\"=") != std::string_view::npos;
  if (!quote) {
    append_terminal_safe(out, value, text_escape::single_line);
    return;
  }
  out.push_back('"');
  std::size_t done = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '"' && c != '\\' && c != '\n') continue;
    append_terminal_safe(out, value.substr(done, i - done), text_escape::single_line);
    append(out, c == '\n' ? "\\n" : c == '"' ? "\\\"" : "\\\\");
    done = i + 1;
  }
  append_terminal_safe(out, value.substr(done), text_escape::single_line);
  out.push_back('"');
}

struct time_cache {
  std::int64_t second = -1;
  bool utc = false;
  std::array<char, 32> text{};
  std::size_t size = 0;
};

// "YYYY-MM-DD HH:MM:SS.uuuuuu"; the broken-down time is cached per second because localtime_r
// costs far more than the rest of a line.
void append_local_time(fmt::memory_buffer& out, std::uint64_t unix_ns, bool utc) {
  thread_local time_cache cache;
  const auto second = static_cast<std::int64_t>(unix_ns / 1'000'000'000ULL);
  if (second != cache.second || utc != cache.utc) {
    const time_t t = static_cast<time_t>(second);
    struct tm parts {};
    if (utc) {
      utc_parts(t, parts);
    } else {
      local_parts(t, parts);
    }
    cache.size = std::strftime(cache.text.data(), cache.text.size(), "%Y-%m-%d %H:%M:%S", &parts);
    cache.second = second;
    cache.utc = utc;
  }
  out.append(cache.text.data(), cache.text.data() + cache.size);
  fmt::format_to(std::back_inserter(out), ".{:06}", (unix_ns % 1'000'000'000ULL) / 1000);
}
}  // namespace

void append_terminal_safe(fmt::memory_buffer& out, std::string_view text, text_escape mode) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      std::size_t run = i + 1;
      while (run < text.size() && static_cast<unsigned char>(text[run]) >= 0x20 &&
             static_cast<unsigned char>(text[run]) < 0x7F) {
        ++run;
      }
      append(out, text.substr(i, run - i));
      i = run;
      continue;
    }
    if (mode == text_escape::multi_line && c == '\n') {
      append(out, "\n    ");
      ++i;
      continue;
    }
    if (mode == text_escape::multi_line && c == '\t') {
      out.push_back('\t');
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const std::size_t length = utf8_sequence_at(text, i); length > 0) {
        // U+0080..U+009F (C2 80..C2 9F) are the C1 controls: CSI (U+009B) drives terminals.
        const auto next = static_cast<unsigned char>(text[i + 1]);
        if (length == 2 && c == 0xC2 && next <= 0x9F) {
          fmt::format_to(std::back_inserter(out), "\\x{:02x}", next);
        } else {
          append(out, text.substr(i, length));
        }
        i += length;
        continue;
      }
    }
    fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    ++i;
  }
}

std::string terminal_safe(std::string_view text) {
  fmt::memory_buffer out;
  append_terminal_safe(out, text, text_escape::single_line);
  return fmt::to_string(out);
}

decoded_entry decode_entry(std::uint64_t sequence, std::span<const std::byte> payload,
                           entry_interpreter& interpreter) noexcept {
  const entry_view view = interpreter.interpret(payload);
  decoded_entry entry;
  entry.sequence = sequence;
  entry.message = view.message;
  if (view.kind == entry_kind::malformed) entry.malformed = view.status;
  if (view.kind != entry_kind::record) return entry;
  entry.is_record = true;
  entry.record = view.record;
  entry.severity = view.severity.value_or(level::info);
  entry.thread = view.thread;
  entry.truncated = view.truncated;
  entry.tag = view.tag;
  entry.unix_ns = view.unix_ns.value_or(0);
  return entry;
}

gap_marker gap_from_lapped(std::uint64_t lost, std::uint64_t position) noexcept {
  gap_marker gap;
  gap.lost = lost;
  gap.last = position;
  gap.first = lost == 0 || lost > position ? position : position - lost + 1;
  return gap;
}

std::string describe_gap(const gap_marker& gap) {
  if (gap.lost == 1) return fmt::format("1 entry overwritten, seq {}", gap.first);
  return fmt::format("{} entries overwritten, seq {}\u2013{}", gap.lost, gap.first, gap.last);
}

std::string_view to_string(event_kind kind) noexcept {
  switch (kind) {
    case event_kind::attached: return "attached";
    case event_kind::writer_restarted: return "writer_restarted";
    case event_kind::writer_gone: return "writer_gone";
    case event_kind::writer_closed: return "writer_closed";
    case event_kind::corrupt: return "corrupt";
    case event_kind::segment_truncated: return "segment_truncated";
  }
  return "unknown";
}

std::string describe_event(const segment_event& event) {
  switch (event.kind) {
    case event_kind::attached:
      return fmt::format("attached to segment {}{}", event.segment,
                         event.pid != 0 ? fmt::format(" (writer pid {})", event.pid) : "");
    case event_kind::writer_restarted:
      return fmt::format(
          "writer restarted: segment {} was re-created (new incarnation {:016x}{}); "
          "re-attached at its oldest entry, sequence numbers restart",
          event.segment, event.incarnation,
          event.pid != 0 ? fmt::format(", pid {}", event.pid) : "");
    case event_kind::writer_gone:
      return fmt::format(
          "writer gone: process {} of segment {} no longer exists (it did not close "
          "the segment: crashed or killed){}",
          event.pid, event.segment, event.detail.empty() ? "" : "; " + event.detail);
    case event_kind::writer_closed:
      return fmt::format("writer closed: process {} shut segment {} down cleanly", event.pid,
                         event.segment);
    case event_kind::corrupt:
      return fmt::format("corrupt data skipped in segment {}: {}{}", event.segment, event.detail,
                         event.count > 1 ? fmt::format(" ({} corrupt reads)", event.count) : "");
    case event_kind::segment_truncated:
      return fmt::format(
          "segment {} was truncated: another process shrank it under the reader; the entries "
          "read so far stand{}",
          event.segment, event.detail.empty() ? "" : "; " + event.detail);
  }
  return event.detail;
}

void format_text(fmt::memory_buffer& out, const decoded_entry& entry, const text_options& options) {
  if (options.show_sequence) {
    if (options.color) append(out, dim);
    fmt::format_to(std::back_inserter(out), "#{} ", entry.sequence);
    if (options.color) append(out, reset);
  }
  if (entry.is_record) {
    if (options.color) append(out, dim);
    if (entry.unix_ns != 0) {
      append_local_time(out, entry.unix_ns, options.utc);
    } else {
      append(out, "(no time)                 ");
    }
    if (options.color) append(out, reset);
    out.push_back(' ');
    if (options.color) append(out, level_color(entry.severity));
    append(out, level_label(entry.severity));
    if (options.color) append(out, reset);
    out.push_back(' ');
    if (options.color) append(out, "\x1b[35m");
    append_terminal_safe(out, entry.tag, text_escape::single_line);
    for (std::size_t pad = entry.tag.size(); pad < 8; ++pad) out.push_back(' ');
    if (options.color) append(out, reset);
    fmt::format_to(std::back_inserter(out), " [{}] ", entry.thread);
    append_terminal_safe(out, entry.message, text_escape::multi_line);
    if (entry.truncated) append(out, " [truncated]");
    for (std::size_t i = 0; i < entry.record.field_count; ++i) {
      const record_field field = entry.record.field(i);
      out.push_back(' ');
      if (options.color) append(out, dim);
      append_terminal_safe(out, field.key, text_escape::single_line);
      out.push_back('=');
      if (options.color) append(out, reset);
      append_field_value(out, field.value);
    }
  } else {
    if (entry.malformed) {
      if (options.color) append(out, "\x1b[31m");
      fmt::format_to(std::back_inserter(out), "[malformed record: {}] ",
                     to_string(*entry.malformed));
      if (options.color) append(out, reset);
    }
    append_terminal_safe(out, entry.message, text_escape::multi_line);
  }
  out.push_back('\n');
}

void format_text(fmt::memory_buffer& out, const gap_marker& gap, const text_options& options) {
  if (options.color) append(out, "\x1b[1;33m");
  append(out, "--- ");
  append(out, describe_gap(gap));
  append(out, " ---");
  if (options.color) append(out, reset);
  out.push_back('\n');
}

void format_text(fmt::memory_buffer& out, const segment_event& event, const text_options& options) {
  if (options.color) append(out, "\x1b[1;36m");
  append(out, "=== ");
  append_terminal_safe(out, describe_event(event), text_escape::single_line);
  append(out, " ===");
  if (options.color) append(out, reset);
  out.push_back('\n');
}

void append_json_escaped(fmt::memory_buffer& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      std::size_t run = i + 1;
      while (run < text.size()) {
        const auto d = static_cast<unsigned char>(text[run]);
        if (d < 0x20 || d >= 0x7F || d == '"' || d == '\\') break;
        ++run;
      }
      append(out, text.substr(i, run - i));
      i = run;
      continue;
    }
    switch (c) {
      case '"':
        append(out, "\\\"");
        ++i;
        continue;
      case '\\':
        append(out, "\\\\");
        ++i;
        continue;
      case '\n':
        append(out, "\\n");
        ++i;
        continue;
      case '\r':
        append(out, "\\r");
        ++i;
        continue;
      case '\t':
        append(out, "\\t");
        ++i;
        continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
      ++i;
      continue;
    }
    if (const std::size_t length = utf8_sequence_at(text, i); length > 0) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (length == 2 && c == 0xC2 && next <= 0x9F) {
        // A C1 control: escaped, so a JSON stream shown on a terminal cannot drive it either.
        fmt::format_to(std::back_inserter(out), "\\u{:04x}", next);
      } else {
        append(out, text.substr(i, length));
      }
      i += length;
    } else {
      append(out, "\xEF\xBF\xBD");  // U+FFFD for a byte that starts no valid sequence
      ++i;
    }
  }
}

std::string iso8601_utc(std::uint64_t unix_ns, int fraction_digits) {
  const time_t t = static_cast<time_t>(unix_ns / 1'000'000'000ULL);
  struct tm parts {};
  utc_parts(t, parts);
  std::array<char, 32> text{};
  const std::size_t size = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%S", &parts);
  std::uint64_t fraction = unix_ns % 1'000'000'000ULL;
  for (int d = 9; d > fraction_digits; --d) fraction /= 10;
  if (fraction_digits <= 0) return fmt::format("{}Z", std::string_view(text.data(), size));
  return fmt::format("{}.{:0{}}Z", std::string_view(text.data(), size), fraction, fraction_digits);
}

// Numbers and bools as JSON numbers and bools; their text is already JSON (the decoder checked
// it), except the non-finite floats, which JSON cannot express and stay strings ("inf", "nan").
static void append_json_field_value(fmt::memory_buffer& out, const record_field& field) {
  const bool bare =
      field.type == field_type::i64 || field.type == field_type::u64 ||
      field.type == field_type::boolean ||
      (field.type == field_type::f64 && field.value.find_first_of("in") == std::string_view::npos);
  if (bare) {
    append(out, field.value);
    return;
  }
  out.push_back('"');
  append_json_escaped(out, field.value);
  out.push_back('"');
}

void format_json(fmt::memory_buffer& out, const decoded_entry& entry) {
  fmt::format_to(std::back_inserter(out), "{{\"type\":\"entry\",\"seq\":{}", entry.sequence);
  if (entry.is_record) {
    if (entry.unix_ns != 0) {
      fmt::format_to(std::back_inserter(out), ",\"time\":\"{}\",\"time_ns\":{}",
                     iso8601_utc(entry.unix_ns), entry.unix_ns);
    }
    fmt::format_to(std::back_inserter(out), ",\"level\":\"{}\",\"tag\":\"",
                   to_string(entry.severity));
    append_json_escaped(out, entry.tag);
    fmt::format_to(std::back_inserter(out), "\",\"thread\":{}", entry.thread);
  }
  append(out, ",\"message\":\"");
  append_json_escaped(out, entry.message);
  out.push_back('"');
  if (!entry.is_record && !is_valid_utf8(entry.message)) append(out, ",\"binary\":true");
  if (entry.malformed) {
    fmt::format_to(std::back_inserter(out), ",\"malformed\":\"{}\"", to_string(*entry.malformed));
  }
  if (entry.truncated) append(out, ",\"truncated\":true");
  if (entry.is_record && entry.record.field_count > 0) {
    append(out, ",\"fields\":{");
    for (std::size_t i = 0; i < entry.record.field_count; ++i) {
      const record_field field = entry.record.field(i);
      if (i > 0) out.push_back(',');
      out.push_back('"');
      append_json_escaped(out, field.key);
      append(out, "\":");
      append_json_field_value(out, field);
    }
    out.push_back('}');
  }
  append(out, "}\n");
}

void format_json(fmt::memory_buffer& out, const gap_marker& gap) {
  fmt::format_to(std::back_inserter(out),
                 "{{\"type\":\"gap\",\"lost\":{},\"first_seq\":{},\"last_seq\":{},\"message\":\"",
                 gap.lost, gap.first, gap.last);
  append_json_escaped(out, describe_gap(gap));
  append(out, "\"}\n");
}

void format_json(fmt::memory_buffer& out, const segment_event& event) {
  fmt::format_to(std::back_inserter(out), "{{\"type\":\"event\",\"event\":\"{}\",\"segment\":\"",
                 to_string(event.kind));
  append_json_escaped(out, event.segment);
  out.push_back('"');
  if (event.pid != 0) fmt::format_to(std::back_inserter(out), ",\"pid\":{}", event.pid);
  if (event.incarnation != 0) {
    fmt::format_to(std::back_inserter(out), ",\"incarnation\":\"{:016x}\"", event.incarnation);
  }
  if (event.count != 0) fmt::format_to(std::back_inserter(out), ",\"count\":{}", event.count);
  append(out, ",\"message\":\"");
  append_json_escaped(out, describe_event(event));
  append(out, "\"}\n");
}

}  // namespace ouroboros::tools
