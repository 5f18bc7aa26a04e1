// Compact storage for the viewer's retained history.
//
// One fixed 40-byte struct per row plus the message bytes in shared text blocks: no QString and
// no heap allocation per entry. Rows live in fixed-capacity pages filled by the poller thread;
// a page is handed to the GUI thread a range at a time and is never written below the handed-out
// count again, so any thread may read the published part while the poller appends after it.
//
// Thread-safety: entry/text_block/page follow the publish rule above (a page's formatted-message
// cache is behind its own mutex); tag_table allows one interning thread and any number of
// concurrent readers.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ouroboros {
struct deferred_format;
}

namespace ouroboros::viewer {

enum class row_kind : std::uint8_t {
  record = 0,     // a decoded log record
  plain = 1,      // a payload that is not a record (message only, no level)
  malformed = 2,  // looked like a record but did not decode; level byte holds the decode status
  gap = 3,        // entries overwritten before they could be read
  separator = 4,  // the writer restarted (new incarnation)
  notice = 5,     // reader-side event worth a row (corrupt bytes skipped)
};

inline constexpr std::uint8_t kind_mask = 0x0F;
inline constexpr std::uint8_t flag_truncated = 0x10;  // the writer cut the message
inline constexpr std::uint8_t flag_visible = 0x20;    // accepted by the poller's filter
// A deferred record kept unformatted: its text is the address of its parsed format (kept alive
// by the row's page), then its encoded arguments; message_text() formats it.
inline constexpr std::uint8_t flag_deferred = 0x40;
inline constexpr std::uint8_t no_level = 0xFF;
inline constexpr std::int64_t no_time = std::numeric_limits<std::int64_t>::min();
// Level bits for filters and counts: 0..5 are ouroboros::level, 6 = rows without a level.
inline constexpr int level_slots = 7;
inline constexpr int unleveled_slot = 6;

struct entry {
  std::uint64_t sequence = 0;      // ring sequence number (gap rows: first lost sequence)
  std::int64_t time_ns = no_time;  // wall-clock unix ns
  const char* text = nullptr;      // stored message bytes, then `extra_size` bytes of fields
  std::uint32_t message_size = 0;
  std::uint32_t thread = 0;
  std::uint16_t tag = 0;  // tag_table id; 0 = no tag
  std::uint16_t extra_size = 0;
  std::uint8_t level = no_level;
  std::uint8_t bits = 0;    // row_kind | flags
  std::uint8_t source = 0;  // merged views: index of the segment the row came from

  row_kind kind() const noexcept { return static_cast<row_kind>(bits & kind_mask); }
  bool truncated() const noexcept { return (bits & flag_truncated) != 0; }
  bool always_visible() const noexcept {
    const row_kind k = kind();
    return k == row_kind::gap || k == row_kind::separator || k == row_kind::notice;
  }
  int level_slot() const noexcept { return level < 6 ? level : unleveled_slot; }
  bool deferred() const noexcept { return (bits & flag_deferred) != 0; }
  // The message bytes as stored: the message of every row but a deferred one (message_text).
  std::string_view stored_message() const noexcept { return {text, message_size}; }
  std::string_view extra() const noexcept { return {text + message_size, extra_size}; }
};
static_assert(sizeof(entry) == 40, "entry must stay compact");

// The message of a row. A deferred row is formatted into `scratch` (which the view then points
// into); any other row's view points into the store. Any thread may format any published row.
std::string_view message_text(const entry& row, std::string& scratch);
// A deferred row's format string (empty for other rows).
std::string_view deferred_format_text(const entry& row);
// Bytes a deferred row's text starts with (the format's address) before its arguments.
inline constexpr std::size_t deferred_prefix = sizeof(const deferred_format*);

// Encoded fields in `extra`: repeated (u8 key size, key, u16 value size little-endian, value).
struct field_pair {
  std::string_view key;
  std::string_view value;
};
std::vector<field_pair> decode_fields(std::string_view extra);
void append_field(std::string& out, std::string_view key, std::string_view value);

// Message bytes of many entries; shared by the pages that point into it.
struct text_block {
  explicit text_block(std::size_t size) : bytes(new char[size]), capacity(size) {}
  std::unique_ptr<char[]> bytes;
  std::size_t capacity;
};

inline constexpr std::uint32_t page_capacity = 4096;

// The formatted messages of one full page's deferred rows, made by a pass over the history that
// read them (a filter, a search) so that the next pass does not format them again. Immutable.
struct formatted_messages {
  std::vector<std::uint32_t>
      ends;  // per row: end of its message in `text` (its start: the previous end)
  std::string text;

  std::string_view message(std::uint32_t index) const noexcept {
    const std::uint32_t begin = index == 0 ? 0 : ends[index - 1];
    return std::string_view(text).substr(begin, ends[index] - begin);
  }
  // What it costs the history's byte budget.
  std::uint64_t bytes() const noexcept {
    return sizeof(formatted_messages) + ends.capacity() * sizeof(std::uint32_t) + text.capacity();
  }
};

struct page {
  explicit page(std::uint64_t first) : first_serial(first), rows(new entry[page_capacity]) {}
  std::uint64_t first_serial;  // serial of rows[0]; serials number rows of one poller from 1
  std::unique_ptr<entry[]> rows;
  // Keeps the text of this page's rows alive; touched by the poller thread only.
  std::vector<std::shared_ptr<text_block>> blocks;
  // Merged views: the segments' pages whose text this page's rows point into (kept alive after
  // a segment's own history evicted them). Touched by the merging thread only.
  std::vector<std::shared_ptr<const page>> sources;
  // The parsed formats this page's deferred rows point to (they outlive the segment and its
  // reader). Touched by the poller thread only.
  std::vector<std::shared_ptr<const deferred_format>> formats;

  // The page's formatted deferred messages, once a pass made them (full pages only); dropped by
  // the store when the history's byte budget needs the room. Any thread, under the mutex: a
  // pass takes the pointer once per page, not per row.
  std::shared_ptr<const formatted_messages> formatted() const {
    std::lock_guard lock(formatted_mutex_);
    return formatted_;
  }
  // Keeps `made` unless another pass was first; returns what the page keeps now.
  std::shared_ptr<const formatted_messages> keep_formatted(
      std::shared_ptr<const formatted_messages> made) const {
    std::lock_guard lock(formatted_mutex_);
    if (!formatted_) formatted_ = std::move(made);
    return formatted_;
  }
  // Returns the bytes it released from the budget.
  std::uint64_t drop_formatted() const {
    std::lock_guard lock(formatted_mutex_);
    const std::uint64_t bytes = formatted_ ? formatted_->bytes() : 0;
    formatted_.reset();
    return bytes;
  }
  std::uint64_t formatted_bytes() const {
    std::lock_guard lock(formatted_mutex_);
    return formatted_ ? formatted_->bytes() : 0;
  }

 private:
  // A cache, not the page's content: rows stay immutable once published.
  mutable std::mutex formatted_mutex_;
  mutable std::shared_ptr<const formatted_messages> formatted_;
};

// Interned tag strings (id 0 = empty). Append-only so readers never lock.
class tag_table {
 public:
  static constexpr std::uint32_t max_tags = 65535;
  static constexpr std::uint16_t overflow_id = 65535;  // every tag past the limit

  tag_table();
  ~tag_table();
  tag_table(const tag_table&) = delete;
  tag_table& operator=(const tag_table&) = delete;

  // Interning thread only.
  std::uint16_t intern(std::string_view tag);
  // Any thread. Ids not yet published read as empty.
  std::string_view name(std::uint16_t id) const noexcept;
  std::uint32_t size() const noexcept { return count_.load(std::memory_order_acquire); }

 private:
  static constexpr std::size_t block_size = 256;
  using block = std::array<std::string, block_size>;
  std::array<std::atomic<block*>, 256> blocks_{};
  std::atomic<std::uint32_t> count_{1};
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  // Interning thread only. Looked up by string_view: no allocation per entry.
  std::unordered_map<std::string, std::uint16_t, text_hash, std::equal_to<>> lookup_;
  std::string last_;
  std::uint16_t last_id_ = 0;
};

}  // namespace ouroboros::viewer
