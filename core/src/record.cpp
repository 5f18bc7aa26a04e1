#include "ouroboros/record.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace ouroboros {

namespace rl = record_layout;

namespace {
std::uint16_t load_u16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) |
                                    (std::to_integer<unsigned>(p[1]) << 8));
}
std::uint32_t load_u32(const std::byte* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
  return v;
}
std::uint64_t load_u64(const std::byte* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}
void copy_bytes(std::byte* to, std::string_view from) noexcept {
  if (!from.empty()) std::memcpy(to, from.data(), from.size());  // data() may be null when empty
}
void store_le(std::byte* p, std::uint64_t v, int bytes) noexcept {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFU);
}
std::string_view view(const std::byte* p, std::size_t n) noexcept {
  return {reinterpret_cast<const char*>(p), n};
}
std::string_view cut(std::string_view text, std::size_t limit) noexcept {
  return text.substr(0, utf8_prefix(text, limit));
}
}  // namespace

std::string_view to_string(level value) noexcept {
  static constexpr std::array<std::string_view, level_count> names = {"trace", "debug", "info",
                                                                      "warn",  "error", "critical"};
  const auto index = static_cast<std::size_t>(value);
  return index < names.size() ? names[index] : std::string_view("?");
}

std::optional<level> parse_level(std::string_view text) noexcept {
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '5')
    return static_cast<level>(text[0] - '0');
  std::array<char, 16> lower{};
  if (text.size() >= lower.size()) return std::nullopt;
  std::transform(text.begin(), text.end(), lower.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  const std::string_view name(lower.data(), text.size());
  if (name == "warning") return level::warn;
  if (name == "err") return level::error;
  if (name == "crit" || name == "fatal") return level::critical;
  for (std::size_t i = 0; i < level_count; ++i) {
    if (name == to_string(static_cast<level>(i))) return static_cast<level>(i);
  }
  return std::nullopt;
}

std::string_view to_string(decode_status status) noexcept {
  switch (status) {
    case decode_status::ok: return "ok";
    case decode_status::not_a_record: return "not a record";
    case decode_status::bad_version: return "unknown record version";
    case decode_status::truncated: return "record truncated";
    case decode_status::bad_level: return "invalid level";
    case decode_status::invalid_utf8: return "invalid UTF-8";
    case decode_status::unknown_format: return "format id not in the dictionary";
    case decode_status::bad_format: return "format string does not parse";
    case decode_status::bad_arguments: return "arguments truncated or of an unknown type";
    case decode_status::argument_mismatch: return "arguments do not match the format string";
    case decode_status::bad_field: return "field of an unknown type or not of its type";
  }
  return "unknown decode status";
}

std::string_view to_string(field_type type) noexcept {
  switch (type) {
    case field_type::i64: return "i64";
    case field_type::u64: return "u64";
    case field_type::f64: return "f64";
    case field_type::boolean: return "bool";
    case field_type::string: return "string";
  }
  return "?";
}

namespace {
bool known_field_type(std::uint8_t type) noexcept {
  switch (static_cast<field_type>(type)) {
    case field_type::i64:
    case field_type::u64:
    case field_type::f64:
    case field_type::boolean:
    case field_type::string: return true;
  }
  return false;
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
// Decimal digits without a leading zero (other than "0" itself) whose value is <= limit.
bool decimal_at_most(std::string_view digits, std::uint64_t limit) noexcept {
  if (digits.empty() || digits.size() > 20) return false;
  if (digits.size() > 1 && digits[0] == '0') return false;
  std::uint64_t value = 0;
  for (const char c : digits) {
    if (!is_digit(c)) return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (value > (limit - d) / 10) return false;
    value = value * 10 + d;
  }
  return true;
}
// The JSON number grammar (RFC 8259), which std::to_chars' shortest form always satisfies.
bool json_number(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || !is_digit(s[i])) return false;
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !is_digit(s[i])) return false;
    while (i < n && is_digit(s[i])) ++i;
  }
  return i == n;
}
}  // namespace

bool field_value_matches(field_type type, std::string_view text) noexcept {
  switch (type) {
    case field_type::string: return true;
    case field_type::boolean: return text == "true" || text == "false";
    case field_type::u64: return decimal_at_most(text, std::numeric_limits<std::uint64_t>::max());
    case field_type::i64:
      if (!text.empty() && text[0] == '-')
        return text != "-0" && decimal_at_most(text.substr(1), std::uint64_t{1} << 63);
      return decimal_at_most(text, std::numeric_limits<std::int64_t>::max());
    case field_type::f64:
      return text == "inf" || text == "-inf" || text == "nan" || text == "-nan" ||
             json_number(text);
  }
  return false;
}

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // Fast path for ASCII runs, which are most log text.
    while (i + 8 <= n) {
      std::uint64_t chunk;
      std::memcpy(&chunk, s + i, 8);
      if ((chunk & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    std::uint32_t min = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      min = 0x80;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      min = 0x800;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else
      return false;
    if (n - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

void replace_invalid_utf8(char* text, std::size_t size) noexcept {
  std::size_t i = 0;
  while (i < size) {
    while (i + 8 <= size) {
      std::uint64_t chunk;
      std::memcpy(&chunk, text + i, 8);
      if ((chunk & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= size) return;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t length = (c & 0xE0) == 0xC0   ? 2
                               : (c & 0xF0) == 0xE0 ? 3
                               : (c & 0xF8) == 0xF0 ? 4
                                                    : 0;
    if (length != 0 && i + length <= size && is_valid_utf8({text + i, length})) {
      i += length;
    } else {
      text[i++] = '?';
    }
  }
}

std::size_t utf8_prefix(std::string_view text, std::size_t limit) noexcept {
  if (text.size() <= limit) return text.size();
  std::size_t end = limit;
  // Step back over continuation bytes so the cut lands on a sequence start.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return end;
}

record_field record_view::field(std::size_t index) const noexcept {
  const std::byte* p = fields_bytes_.data();
  record_field f;
  const std::size_t type_size = typed_fields_ ? 1 : 0;
  for (std::size_t i = 0; i <= index && i < field_count; ++i) {
    const std::size_t key_size = std::to_integer<std::size_t>(p[0]);
    f.key = view(p + 1, key_size);
    f.type = typed_fields_ ? static_cast<field_type>(p[1 + key_size]) : field_type::string;
    const std::size_t value_size = load_u16(p + 1 + key_size + type_size);
    f.value = view(p + 3 + key_size + type_size, value_size);
    p += 3 + key_size + type_size + value_size;
  }
  return f;
}

struct record_decoder {
  static decode_result decode(std::span<const std::byte> payload) noexcept {
    decode_result result;
    if (payload.empty() || std::to_integer<std::uint8_t>(payload[0]) != rl::marker) return result;
    if (payload.size() < 2) {
      result.status = decode_status::truncated;
      return result;
    }
    const auto version = std::to_integer<std::uint8_t>(payload[1]);
    if (version != rl::version && version != rl::deferred_version &&
        version != rl::typed_fields_version) {
      result.status = decode_status::bad_version;
      return result;
    }
    const bool deferred = version == rl::deferred_version;
    const std::size_t fixed = deferred ? rl::deferred_fixed_size : rl::fixed_size;
    if (payload.size() < fixed) {
      result.status = decode_status::truncated;
      return result;
    }
    const std::byte* p = payload.data();
    const std::size_t n = payload.size();
    record_view& r = result.record;
    const auto level_byte = std::to_integer<std::uint8_t>(p[2]);
    if (level_byte >= level_count) {
      result.status = decode_status::bad_level;
      return result;
    }
    r.severity = static_cast<level>(level_byte);
    r.flags = std::to_integer<std::uint8_t>(p[3]);
    r.thread = load_u32(p + 4);
    r.timestamp = load_u64(p + 8);
    const std::size_t tag_size = std::to_integer<std::size_t>(p[16]);
    r.field_count = std::to_integer<std::size_t>(p[17]);
    if (deferred) {
      r.deferred = true;
      r.format_id = load_u32(p + 18);
    }
    std::size_t at = fixed;
    if (n - at < tag_size) {
      result.status = decode_status::truncated;
      return result;
    }
    r.tag = view(p + at, tag_size);
    at += tag_size;
    const std::size_t fields_start = at;
    const bool typed = version == rl::typed_fields_version;
    r.typed_fields_ = typed;
    const std::size_t type_size = typed ? 1 : 0;
    for (std::size_t i = 0; i < r.field_count; ++i) {
      if (n - at < 1) {
        result.status = decode_status::truncated;
        return result;
      }
      const std::size_t key_size = std::to_integer<std::size_t>(p[at]);
      if (n - at - 1 < key_size + type_size + 2) {
        result.status = decode_status::truncated;
        return result;
      }
      const std::size_t value_at = at + 3 + key_size + type_size;
      const std::size_t value_size = load_u16(p + value_at - 2);
      if (n - value_at < value_size) {
        result.status = decode_status::truncated;
        return result;
      }
      const auto type = typed ? std::to_integer<std::uint8_t>(p[at + 1 + key_size])
                              : static_cast<std::uint8_t>(field_type::string);
      if (!known_field_type(type)) {
        result.status = decode_status::bad_field;
        return result;
      }
      const std::string_view value = view(p + value_at, value_size);
      if (!is_valid_utf8(view(p + at + 1, key_size)) || !is_valid_utf8(value)) {
        result.status = decode_status::invalid_utf8;
        return result;
      }
      if (!field_value_matches(static_cast<field_type>(type), value)) {
        result.status = decode_status::bad_field;
        return result;
      }
      at = value_at + value_size;
    }
    r.fields_bytes_ = payload.subspan(fields_start, at - fields_start);
    if (deferred) {
      r.arguments = payload.subspan(at);
      if (!is_valid_utf8(r.tag)) {
        result.status = decode_status::invalid_utf8;
        return result;
      }
      result.status = decode_status::ok;
      return result;
    }
    r.message = view(p + at, n - at);
    if (!is_valid_utf8(r.tag) || !is_valid_utf8(r.message)) {
      result.status = decode_status::invalid_utf8;
      return result;
    }
    result.status = decode_status::ok;
    return result;
  }
};

decode_result decode_record(std::span<const std::byte> payload) noexcept {
  return record_decoder::decode(payload);
}

namespace {
bool has_typed_field(std::span<const record_field> fields) noexcept {
  return std::any_of(fields.begin(), fields.end(),
                     [](const record_field& f) { return f.type != field_type::string; });
}
}  // namespace

std::size_t record_prefix_size(const record_header& header,
                               std::span<const record_field> fields) noexcept {
  std::size_t size = rl::fixed_size + cut(header.tag, rl::max_tag_size).size();
  const std::size_t count = std::min(fields.size(), rl::max_fields);
  const std::size_t type_size = has_typed_field(fields.first(count)) ? 1 : 0;
  for (std::size_t i = 0; i < count; ++i) {
    size += 3 + type_size + cut(fields[i].key, rl::max_key_size).size() +
            cut(fields[i].value, rl::max_value_size).size();
  }
  return size;
}

std::size_t encode_record_prefix(std::span<std::byte> out, const record_header& header,
                                 std::span<const record_field> fields) noexcept {
  if (out.size() < record_prefix_size(header, fields)) return 0;
  std::byte* p = out.data();
  const std::string_view tag = cut(header.tag, rl::max_tag_size);
  const std::size_t count = std::min(fields.size(), rl::max_fields);
  const bool typed = has_typed_field(fields.first(count));
  p[0] = std::byte{rl::marker};
  p[1] = std::byte{typed ? rl::typed_fields_version : rl::version};
  p[2] = static_cast<std::byte>(header.severity);
  p[3] = std::byte{header.flags};
  store_le(p + 4, header.thread, 4);
  store_le(p + 8, header.timestamp, 8);
  p[16] = static_cast<std::byte>(tag.size());
  p[17] = static_cast<std::byte>(count);
  std::size_t at = rl::fixed_size;
  copy_bytes(p + at, tag);
  at += tag.size();
  for (std::size_t i = 0; i < count; ++i) {
    const std::string_view key = cut(fields[i].key, rl::max_key_size);
    const std::string_view value = cut(fields[i].value, rl::max_value_size);
    p[at] = static_cast<std::byte>(key.size());
    copy_bytes(p + at + 1, key);
    at += 1 + key.size();
    if (typed) p[at++] = static_cast<std::byte>(fields[i].type);
    store_le(p + at, value.size(), 2);
    copy_bytes(p + at + 2, value);
    at += 2 + value.size();
  }
  return at;
}

std::size_t encode_record(std::span<std::byte> out, const record_header& header,
                          std::string_view message, std::span<const record_field> fields) noexcept {
  const std::size_t prefix = encode_record_prefix(out, header, fields);
  if (prefix == 0) return 0;
  const std::size_t room = out.size() - prefix;
  const std::size_t kept = utf8_prefix(message, room);
  copy_bytes(out.data() + prefix, message.substr(0, kept));
  if (kept < message.size()) out[3] |= std::byte{rl::flag_truncated};
  return prefix + kept;
}

}  // namespace ouroboros
