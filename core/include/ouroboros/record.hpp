// Structured log records carried in entry payloads (docs/format.md, "Log records").
//
//   0  u8   marker 0x9E (never the first byte of UTF-8 text)
//   1  u8   record version = 1
//   2  u8   level: 0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 critical
//   3  u8   flags: bit 0 = message truncated by the writer, bit 1 = timestamp is in writer ticks
//           (convert with the extension block's clock calibration), else unix nanoseconds
//   4  u32  thread id
//   8  u64  timestamp
//   16 u8   tag length T (0..255)
//   17 u8   field count K (0..255)
//   18      T bytes tag (UTF-8)
//           K times: u8 key length, key bytes (UTF-8), u16 value length, value bytes (UTF-8)
//           the message: every remaining byte (UTF-8)
//
// Version 2, the deferred record (docs/format.md, "Deferred records"), keeps bytes 0..17 and
// adds a u32 format id at 18 (a dictionary entry of kind format_string); the tag and fields
// follow at 22 as above, then the arguments to the end of the payload: per argument a u8 type
// (arg_type) and its value. Readers format the message from the interned format string; version
// 1 readers report it as a record of an unknown version.
//
// Version 3, the typed-field record (docs/format.md, "Typed fields"), is version 1 with one u8
// field_type between each field's key and its value length; the value stays the text a version
// 1 record would carry, so rendering is unchanged and the type says how to read it. A writer
// uses it only when a field is not a string; version 1 readers report it as an unknown version.
//
// A segment says in its extension block whether its payloads are records; entries of segments
// without the block (other v1 writers) or with the raw encoding are plain bytes.
//
// Thread-safety: stateless functions and plain value types.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ouroboros {

enum class level : std::uint8_t {
  trace = 0,
  debug = 1,
  info = 2,
  warn = 3,
  error = 4,
  critical = 5
};
inline constexpr std::size_t level_count = 6;

std::string_view to_string(level value) noexcept;
// Accepts names (case-insensitive, "warning" too) and digits; nullopt otherwise.
std::optional<level> parse_level(std::string_view text) noexcept;

namespace record_layout {
inline constexpr std::uint8_t marker = 0x9E;
inline constexpr std::uint8_t version = 1;
inline constexpr std::size_t fixed_size = 18;
inline constexpr std::uint8_t flag_truncated = 1U << 0;
inline constexpr std::uint8_t flag_ticks = 1U << 1;
inline constexpr std::size_t max_tag_size = 255;
inline constexpr std::size_t max_fields = 255;
inline constexpr std::size_t max_key_size = 255;
inline constexpr std::size_t max_value_size = 65535;
inline constexpr std::uint8_t deferred_version = 2;
inline constexpr std::size_t deferred_fixed_size = 22;
inline constexpr std::uint8_t dictionary_kind_format = 1;  // dictionary entry: a format string
inline constexpr std::uint8_t typed_fields_version = 3;
}  // namespace record_layout

// Argument types of deferred records; values little-endian.
enum class arg_type : std::uint8_t {
  i64 = 1,        // 8 bytes, two's complement
  u64 = 2,        // 8 bytes
  f64 = 3,        // 8 bytes, IEEE 754 binary64
  f32 = 4,        // 4 bytes, IEEE 754 binary32 (shortest form is a float's)
  boolean = 5,    // 1 byte, 0 or 1
  character = 6,  // 1 byte
  string = 7,     // u32 length, then that many bytes of UTF-8
  pointer = 8,    // 8 bytes, the address
};

// Types of the fields of typed-field records (numbered as the matching arg_type). The value is
// always text: decimal for i64/u64, std::to_chars' shortest round-trip form for f64 ("inf",
// "-inf", "nan", "-nan" for the non-finite), "true"/"false" for bool.
enum class field_type : std::uint8_t {
  i64 = 1,
  u64 = 2,
  f64 = 3,
  boolean = 5,
  string = 7,
};
std::string_view to_string(field_type type) noexcept;
// Whether `text` is a value the writer could have written for `type` (docs/format.md grammar).
bool field_value_matches(field_type type, std::string_view text) noexcept;

struct record_field {
  std::string_view key;
  std::string_view value;  // the value's text, whatever its type
  field_type type = field_type::string;
};

// A decoded record pointing into the payload it was decoded from (no allocation).
class record_view {
 public:
  level severity = level::info;
  std::uint8_t flags = 0;
  std::uint32_t thread = 0;
  std::uint64_t timestamp = 0;  // see timestamp_in_ticks()
  std::string_view tag;
  std::string_view message;
  std::size_t field_count = 0;
  // Deferred records (version 2): the format's dictionary id and the encoded arguments; the
  // message is empty until a reader renders it (render_deferred).
  bool deferred = false;
  std::uint32_t format_id = 0;
  std::span<const std::byte> arguments;

  bool truncated() const noexcept { return (flags & record_layout::flag_truncated) != 0; }
  bool timestamp_in_ticks() const noexcept { return (flags & record_layout::flag_ticks) != 0; }
  // The i-th key=value field (i < field_count); walks the encoded fields.
  record_field field(std::size_t index) const noexcept;

 private:
  friend struct record_decoder;
  std::span<const std::byte> fields_bytes_;
  bool typed_fields_ = false;  // version 3: a type byte after each key
};

enum class decode_status {
  ok,
  not_a_record,  // does not start with the record marker: a plain payload
  bad_version,   // a record of a version this reader does not know
  truncated,     // the payload ends inside the fixed part, the tag or a field
  bad_level,
  invalid_utf8,  // tag, key, value or message is not valid UTF-8
  // Deferred records, found while rendering:
  unknown_format,     // the format id names no format string in the dictionary
  bad_format,         // the format string does not parse
  bad_arguments,      // an argument is truncated, has an unknown type or an invalid value
  argument_mismatch,  // too few arguments, or one whose type the field's spec cannot format
  bad_field,  // typed-field records: a field of an unknown type, or text its type cannot have
};
std::string_view to_string(decode_status status) noexcept;

struct decode_result {
  decode_status status = decode_status::not_a_record;
  record_view record;  // valid when status == ok
};

decode_result decode_record(std::span<const std::byte> payload) noexcept;

bool is_valid_utf8(std::string_view text) noexcept;
// Replaces every byte that is not part of a valid UTF-8 sequence by '?', in place (what the
// logger does to text of unknown encoding).
void replace_invalid_utf8(char* text, std::size_t size) noexcept;
// Longest prefix of `text` of at most `limit` bytes that does not split a UTF-8 sequence.
std::size_t utf8_prefix(std::string_view text, std::size_t limit) noexcept;

struct record_header {
  level severity = level::info;
  std::uint8_t flags = 0;
  std::uint32_t thread = 0;
  std::uint64_t timestamp = 0;
  std::string_view tag;  // cut to 255 bytes (at a UTF-8 boundary)
};

// Bytes the record needs with this header, fields and an empty message.
std::size_t record_prefix_size(const record_header& header,
                               std::span<const record_field> fields = {}) noexcept;

// Encodes the header and fields into `out` (which must hold record_prefix_size bytes) and
// returns the number of bytes written; the message follows at that offset. The record is a
// version 3 (typed fields) record when a field's type is not string, else version 1. A typed
// field's value must satisfy field_value_matches (not checked here). Keys and values
// longer than their limits are cut at a UTF-8 boundary; more than 255 fields are dropped.
std::size_t encode_record_prefix(std::span<std::byte> out, const record_header& header,
                                 std::span<const record_field> fields = {}) noexcept;

// Encodes a whole record; the message is cut (at a UTF-8 boundary, flag set) to fit `out`.
// Returns bytes written, or 0 when `out` cannot hold even the prefix.
std::size_t encode_record(std::span<std::byte> out, const record_header& header,
                          std::string_view message,
                          std::span<const record_field> fields = {}) noexcept;

}  // namespace ouroboros
