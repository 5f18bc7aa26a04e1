// Turning ring entries into text: the human line format, JSON lines, gap markers and events.
//
// Shared by `ouroboros-cli tail`, `forward` and the tests. A segment's entries are log records
// only when its extension block says so (payload_encoding == encoding_record); everything else
// is shown as a plain message with no level, time, tag or thread.
//
// Thread-safety: stateless functions and plain value types; decoded_entry points into the
// payload it was decoded from and is valid only as long as that payload.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "ouroboros/record.hpp"
#include "ouroboros/record_reader.hpp"

namespace ouroboros::tools {

struct decoded_entry {
  std::uint64_t sequence = 0;
  bool is_record = false;
  level severity = level::info;  // records only
  std::uint64_t unix_ns = 0;     // records only (0 when a ticks stamp cannot be converted)
  std::uint32_t thread = 0;      // records only
  bool truncated = false;        // the writer cut the message
  std::string_view tag;          // records only
  std::string_view message;      // records: the message; plain entries: the payload bytes
  record_view record;            // records only: walk fields with record.field(i)
  // A payload that carries the record marker but does not decode: shown as plain bytes, with why.
  std::optional<decode_status> malformed;
};

// Interprets with core's entry_interpreter (segment encoding, tick clock conversion).
decoded_entry decode_entry(std::uint64_t sequence, std::span<const std::byte> payload,
                           entry_interpreter& interpreter) noexcept;

// A run of entries lost to overwriting: sequence numbers first..last (lost = last - first + 1).
struct gap_marker {
  std::uint64_t lost = 0;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};
// From a lapped read: `position` is the reader's sequence after the jump (the last lost one).
gap_marker gap_from_lapped(std::uint64_t lost, std::uint64_t position) noexcept;
// "12 entries overwritten, seq 101–112" (or "1 entry overwritten, seq 7").
std::string describe_gap(const gap_marker& gap);

// Things that happen to the segment itself, reported in the output stream.
enum class event_kind {
  attached,           // segment found (after waiting for it)
  writer_restarted,   // re-created under the same name; the reader re-attached at its oldest entry
  writer_gone,        // the writer process no longer exists (crash)
  writer_closed,      // the writer shut down cleanly
  corrupt,            // the reader skipped damaged data
  segment_truncated,  // the segment file shrank below the mapped size: that mapping is unreadable
};
std::string_view to_string(event_kind kind) noexcept;

struct segment_event {
  event_kind kind = event_kind::attached;
  std::string segment;
  std::uint64_t pid = 0;          // writer pid when known
  std::uint64_t incarnation = 0;  // segment incarnation when known
  std::string detail;             // human explanation
  std::uint64_t count = 0;        // corrupt: how many corrupt reads this event covers
};
std::string describe_event(const segment_event& event);

struct text_options {
  bool color = false;
  bool utc = false;
  bool show_sequence = false;
};

// One human-readable line (continuation lines of multi-line messages are indented), with '\n'.
void format_text(fmt::memory_buffer& out, const decoded_entry& entry, const text_options& options);
void format_text(fmt::memory_buffer& out, const gap_marker& gap, const text_options& options);
void format_text(fmt::memory_buffer& out, const segment_event& event, const text_options& options);

// One JSON object per line, with '\n'. Every line has "type": "entry", "gap" or "event".
void format_json(fmt::memory_buffer& out, const decoded_entry& entry);
void format_json(fmt::memory_buffer& out, const gap_marker& gap);
void format_json(fmt::memory_buffer& out, const segment_event& event);

// Terminal-safe text, the tail contract's rule: C0 controls (except TAB and LF), DEL, the C1
// controls U+0080..U+009F (as their code point) and bytes that start no valid UTF-8 sequence
// become \xNN (two lower-case hex digits), so no payload or name can drive the terminal.
// multi_line (messages): LF continues on an indented line, TAB stays. single_line (names, tags,
// field keys, events, error messages): LF and TAB are escaped too, so nothing fakes a line.
enum class text_escape { multi_line, single_line };
void append_terminal_safe(fmt::memory_buffer& out, std::string_view text, text_escape mode);
std::string terminal_safe(std::string_view text);  // single_line

// Appends `text` as a JSON string body (no quotes). Invalid UTF-8 bytes become U+FFFD.
void append_json_escaped(fmt::memory_buffer& out, std::string_view text);

// "2024-05-01T12:34:56.123456789Z" (UTC, nanoseconds): the JSON time format.
std::string iso8601_utc(std::uint64_t unix_ns, int fraction_digits = 9);

}  // namespace ouroboros::tools
