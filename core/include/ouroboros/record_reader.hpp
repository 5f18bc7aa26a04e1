// Turning a read entry into what a person wants to see: wall-clock time, level, tag, thread,
// message and fields, whatever the segment's payload encoding and clock.
//
// The viewer, the CLI tools and the tests all need the same interpretation of an entry:
//   - a segment with the record encoding (extension block says encoding_record): payloads are
//     decoded as records; timestamps in writer ticks are converted with the block's clock
//     calibration (re-read automatically when the writer re-calibrates);
//   - any other segment (raw encoding, or no extension block: another v1 writer): every payload
//     is plain bytes, shown as a message with no level and no time;
//   - deferred records (version 2) are formatted here from the segment's dictionary, with the
//     call site's formatter (deferred.hpp); parsed format strings are cached per id;
//   - a payload that starts like a record but does not decode is reported as malformed, with
//     the decoder's reason, and its bytes are still available as the message.
//
// Thread-safety: entry_interpreter is not thread-safe (it caches the clock, parsed formats and
// the last rendered message); use one per reader thread. interpret() allocates only to grow its
// caches; to_owned() and printable() do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ouroboros/deferred.hpp"
#include "ouroboros/extension.hpp"
#include "ouroboros/record.hpp"

namespace ouroboros {

enum class entry_kind {
  record,     // a decoded log record
  plain,      // opaque bytes (raw segment, or a payload that is not a record)
  malformed,  // starts with the record marker but does not decode: see `error`
};
std::string_view to_string(entry_kind kind) noexcept;

// A non-owning interpretation of one payload; views point into the payload.
struct entry_view {
  entry_kind kind = entry_kind::plain;
  std::optional<level> severity;         // records only
  std::optional<std::uint64_t> unix_ns;  // records only: wall-clock nanoseconds since 1970
  std::uint32_t thread = 0;              // records only
  bool truncated = false;                // the writer cut the message (records only)
  std::string_view tag;                  // records only
  // Record message, or the whole payload (plain, malformed). A deferred record's message lives
  // in the interpreter until its next interpret() call.
  std::string_view message;
  // A deferred record read with deferred_rendering::lazy: its checked format (the message is
  // empty; render record.arguments with it). Owned by the interpreter: format_owner() shares it.
  const deferred_format* format = nullptr;
  record_view record;                                  // kind == record: fields via record.field(i)
  decode_status status = decode_status::not_a_record;  // malformed: why
  std::string_view error() const noexcept {
    return kind == entry_kind::malformed ? to_string(status) : "";
  }
};

// An owning copy, for consumers that keep entries after the reader moves on.
struct log_entry {
  std::uint64_t sequence = 0;
  entry_kind kind = entry_kind::plain;
  std::optional<level> severity;
  std::optional<std::uint64_t> unix_ns;
  std::uint32_t thread = 0;
  bool truncated = false;
  std::string tag;
  std::string message;  // plain payloads: the bytes as they are (may not be UTF-8; see printable)
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<field_type> field_types;  // one per field: how to read its text
  std::string error;                    // malformed: the decoder's reason
};

// What interpret() does with a deferred record: format it into the message (eager), or only
// check it, so that a reader that keeps records and shows few of them (the viewer) formats the
// ones it shows, when it shows them (lazy). Both give the same verdict for every record.
enum class deferred_rendering { eager, lazy };

class entry_interpreter {
 public:
  entry_interpreter() = default;
  // `segment` is the whole mapped buffer (shm_reader::bytes() or ring_reader::buffer()). Reads
  // the payload encoding and the clock calibration from its extension block, if any. Call again
  // after the reader re-attached to a new segment (writer_restarted).
  explicit entry_interpreter(std::span<const std::byte> segment) noexcept { attach(segment); }
  void attach(std::span<const std::byte> segment) noexcept;

  bool records() const noexcept { return records_; }
  // Overrides what the segment says (e.g. a tool's --raw / --records switch).
  void force_records(bool on) noexcept { records_ = on; }

  entry_view interpret(std::span<const std::byte> payload) noexcept {
    return interpret(payload, deferred_rendering::eager);
  }
  entry_view interpret(std::span<const std::byte> payload, deferred_rendering mode) noexcept;
  log_entry to_owned(std::span<const std::byte> payload, std::uint64_t sequence);

  // Shared ownership of a format that interpret() returned in entry_view::format (by its
  // record's format_id), so that it outlives the segment and this interpreter; null when that id
  // is not cached (it always is right after that interpret()).
  std::shared_ptr<const deferred_format> format_owner(std::uint32_t id) const noexcept;

 private:
  struct cached_format {
    std::shared_ptr<const deferred_format> format;
    deferred_memo memo;  // the argument types its records last had
  };
  std::uint64_t to_unix_ns(std::uint64_t ticks) noexcept;
  cached_format* find_format(std::uint32_t id, decode_status& status) noexcept;
  cached_format* load_format(std::uint32_t id, decode_status& status) noexcept;
  decode_status render(const record_view& record) noexcept;
  std::span<const std::byte> segment_;
  // Parsed format strings by dictionary id / 4 (ids are 4-aligned offsets); null: not yet read.
  std::vector<std::unique_ptr<cached_format>> formats_;
  // Deferred messages are formatted straight into this buffer, which only grows (so it is
  // zeroed once, not per record); the message is its first rendered_size_ bytes.
  std::string rendered_;
  std::size_t rendered_size_ = 0;
  bool records_ = false;
  bool has_block_ = false;
  std::uint64_t clock_seq_ = ~std::uint64_t{0};
  clock_calibration clock_;
};

// Text safe to show: invalid UTF-8 sequences become U+FFFD; control characters other than tab
// and newline become U+FFFD too (so a payload cannot drive a terminal).
std::string printable(std::string_view bytes);

}  // namespace ouroboros
