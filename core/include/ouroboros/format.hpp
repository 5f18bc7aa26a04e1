// fmt-style formatting for log calls, parsed and checked at compile time, standard library only.
//
// Core must not depend on fmt, and fmt's runtime formatting costs more than the whole log-call
// budget (docs/performance.md). log_format<Args...> is built by a consteval constructor from the
// string literal: it checks the replacement fields against the argument types (count, index,
// spec and presentation type) and records the literal pieces and parsed specs, so that at run
// time formatting is a walk over pre-parsed pieces writing straight into a bounded buffer.
//
// Supported: "{}", "{N}", "{{", "}}", and specs [[fill]align][sign][#][0][width][.precision][type]
// with fill ASCII, width and precision literal numbers. Types: integers (d x X b B o c),
// bool (s or integer types), char (c or integer types), floating point (f F e E g G a A),
// strings (s; precision = code points), pointers (p), enums (as their underlying integer), and
// any type with a specialisation of ouroboros::log_formatter<T> (empty spec only).
//
// Thread-safety: pure functions and immutable values.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "ouroboros/detail/attributes.hpp"

namespace ouroboros {

inline bool is_ascii(const char* data, std::size_t size) noexcept;

// A bounded output buffer: writes past the end are counted, not performed.
// Thread-safety: not thread-safe; a sink lives on one call's stack.
class format_sink {
 public:
  // Copies without a library call for the short pieces log messages are made of (literals,
  // numbers, names): two overlapping fixed-size moves cover every length in a size class.
#if defined(__GNUC__) && !defined(__clang__)
// GCC's bounds warnings look into the size classes that cannot be reached for a short constant
// source after inlining; every copy below stays inside [from, from + size).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
  // Forced inline: a call costs as much as the copy, and callers on hot paths grow past the
  // inliner's budget.
  OUROBOROS_ALWAYS_INLINE
  static void copy_small(char* to, const char* from, std::size_t size) noexcept {
    if (size >= 8) {
      if (size > 32) {
        std::memcpy(to, from, size);
      } else if (size > 16) {
        std::memcpy(to, from, 16);
        std::memcpy(to + size - 16, from + size - 16, 16);
      } else {
        std::memcpy(to, from, 8);
        std::memcpy(to + size - 8, from + size - 8, 8);
      }
    } else if (size >= 4) {
      std::memcpy(to, from, 4);
      std::memcpy(to + size - 4, from + size - 4, 4);
    } else if (size > 0) {
      to[0] = from[0];
      to[size / 2] = from[size / 2];
      to[size - 1] = from[size - 1];
    }
  }
  // copy_small that also tells whether every byte was ASCII, from the same loads (a record's
  // strings must be UTF-8; almost all are ASCII).
  OUROBOROS_ALWAYS_INLINE
  static bool copy_small_ascii(char* to, const char* from, std::size_t size) noexcept {
    std::uint64_t any = 0;
    if (size >= 8) {
      if (size > 32) {
        std::memcpy(to, from, size);
        return is_ascii(from, size);
      }
      std::uint64_t w[4];
      const std::size_t half = size > 16 ? 16 : 8;
      std::memcpy(&w[0], from, 8);
      std::memcpy(&w[2], from + size - 8, 8);
      if (half == 16) {
        std::memcpy(&w[1], from + 8, 8);
        std::memcpy(&w[3], from + size - 16, 8);
        std::memcpy(to + 8, &w[1], 8);
        std::memcpy(to + size - 16, &w[3], 8);
        any = w[1] | w[3];
      }
      std::memcpy(to, &w[0], 8);
      std::memcpy(to + size - 8, &w[2], 8);
      any |= w[0] | w[2];
    } else if (size >= 4) {
      std::uint32_t head;
      std::uint32_t tail;
      std::memcpy(&head, from, 4);
      std::memcpy(&tail, from + size - 4, 4);
      std::memcpy(to, &head, 4);
      std::memcpy(to + size - 4, &tail, 4);
      any = head | tail;
    } else if (size > 0) {
      const char first = from[0];
      const char middle = from[size / 2];
      const char last = from[size - 1];
      to[0] = first;
      to[size / 2] = middle;
      to[size - 1] = last;
      any = static_cast<unsigned char>(first) | static_cast<unsigned char>(middle) |
            static_cast<unsigned char>(last);
    }
    return (any & 0x8080808080808080ULL) == 0;
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  format_sink(char* begin, std::size_t capacity) noexcept
      : begin_(begin), at_(begin), end_(begin + capacity) {}

  void append(const char* data, std::size_t size) noexcept {
    const std::size_t room = static_cast<std::size_t>(end_ - at_);
    if (size <= room) [[likely]] {
      copy_small(at_, data, size);
      at_ += size;
    } else {
      std::memcpy(at_, data, room);
      at_ = end_;
      overflow_ += size - room;
    }
  }
  void append(std::string_view text) noexcept {
    append(text.data(), text.size());
  }
  void push(char c) noexcept {
    if (at_ != end_) [[likely]]
      *at_++ = c;
    else
      ++overflow_;
  }
  void fill(char c, std::size_t count) noexcept {
    const std::size_t room = static_cast<std::size_t>(end_ - at_);
    const std::size_t n = std::min(count, room);
    std::memset(at_, c, n);
    at_ += n;
    overflow_ += count - n;
  }
  char* cursor() const noexcept {
    return at_;
  }
  std::size_t room() const noexcept {
    return static_cast<std::size_t>(end_ - at_);
  }
  void advance(std::size_t n) noexcept {
    at_ += n;
  }  // after writing n <= room() bytes at cursor()
  std::size_t size() const noexcept {
    return static_cast<std::size_t>(at_ - begin_);
  }
  bool overflowed() const noexcept {
    return overflow_ != 0;
  }
  // The length the whole output would have had without the bound.
  std::size_t wanted() const noexcept {
    return size() + overflow_;
  }
  char* begin() const noexcept {
    return begin_;
  }
  // Forgets what was written after size() was `size` (which it was, with nothing overflowed),
  // for a writer that has to start over; unchecked() stays as it is.
  void rewind(std::size_t size) noexcept {
    at_ = begin_ + size;
    overflow_ = 0;
  }
  // Set when something of unknown encoding was written (a non-ASCII string argument, a custom
  // formatter): the logger then validates the output as UTF-8. Literals (checked at compile
  // time) and numbers never need it.
  void mark_unchecked() noexcept {
    unchecked_ = true;
  }
  bool unchecked() const noexcept {
    return unchecked_;
  }

 private:
  char* begin_;
  char* at_;
  char* end_;
  std::size_t overflow_ = 0;
  bool unchecked_ = false;
};

// True when every byte is below 0x80.
// Short texts (tags, arguments) are the common case: overlapping loads cover every length of a
// size class without a byte loop.
inline bool is_ascii(const char* data, std::size_t size) noexcept {
  std::uint64_t any = 0;
  if (size >= 8) {
    std::uint64_t chunk;
    for (std::size_t i = 0; i + 8 < size; i += 8) {
      std::memcpy(&chunk, data + i, 8);
      any |= chunk;
    }
    std::memcpy(&chunk, data + size - 8, 8);
    any |= chunk;
  } else if (size >= 4) {
    std::uint32_t head;
    std::uint32_t tail;
    std::memcpy(&head, data, 4);
    std::memcpy(&tail, data + size - 4, 4);
    any = head | tail;
  } else if (size > 0) {
    any = static_cast<unsigned char>(data[0]) | static_cast<unsigned char>(data[size / 2]) |
          static_cast<unsigned char>(data[size - 1]);
  }
  return (any & 0x8080808080808080ULL) == 0;
}

// Customisation point for other types: specialise with
//   static void format(const T& value, format_sink& out) noexcept;
template <class T>
struct log_formatter;

namespace format_detail {

enum class arg_kind : std::uint8_t {
  signed_int,
  unsigned_int,
  boolean,
  character,
  floating,
  string,
  pointer,
  custom,
  any  // run-time parsing of a format whose argument types are not known yet
};

template <class T>
concept string_like = std::is_convertible_v<const T&, std::string_view>;
template <class T>
concept has_log_formatter = requires(const T& v, format_sink& s) {
  log_formatter<T>::format(v, s);
};

template <class T>
consteval arg_kind kind_of() {
  if constexpr (std::is_same_v<T, bool>)
    return arg_kind::boolean;
  else if constexpr (std::is_same_v<T, char>)
    return arg_kind::character;
  else if constexpr (std::is_enum_v<T>)
    return kind_of<std::underlying_type_t<T>>();
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
    return arg_kind::signed_int;
  else if constexpr (std::is_integral_v<T>)
    return arg_kind::unsigned_int;
  else if constexpr (std::is_floating_point_v<T>)
    return arg_kind::floating;
  else if constexpr (std::is_null_pointer_v<T>)
    return arg_kind::pointer;
  else if constexpr (string_like<T>)
    return arg_kind::string;
  else if constexpr (std::is_pointer_v<T>)
    return arg_kind::pointer;
  else if constexpr (has_log_formatter<T>)
    return arg_kind::custom;
  else {
    static_assert(has_log_formatter<T>,
                  "ouroboros: this argument type cannot be formatted; specialise "
                  "ouroboros::log_formatter<T>");
    return arg_kind::custom;
  }
}

struct spec {
  char fill = ' ';
  char align = 0;  // '<', '>', '^' or 0 (default for the type)
  char sign = 0;   // '+', ' ' or 0
  bool alternate = false;
  bool zero_pad = false;
  char type = 0;
  std::uint16_t width = 0;
  std::int16_t precision = -1;
  constexpr bool empty() const noexcept {
    return align == 0 && sign == 0 && !alternate && !zero_pad && type == 0 && width == 0 &&
           precision < 0;
  }
};

inline constexpr std::uint8_t no_arg = 0xFF;

struct piece {
  std::uint16_t literal_begin = 0;
  std::uint16_t literal_size = 0;
  std::uint8_t arg = no_arg;  // argument written after the literal, or no_arg
  bool plain = true;          // the argument's spec is empty
  spec format;
};

// Not constexpr on purpose: calling it from the consteval parser stops compilation, and the
// compiler prints the message argument.
void format_string_error(const char* message);

constexpr bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t extra = (c & 0xE0) == 0xC0   ? 1
                              : (c & 0xF0) == 0xE0 ? 2
                              : (c & 0xF8) == 0xF0 ? 3
                                                   : 0;
    if (extra == 0 || i + extra >= s.size()) return false;
    std::uint32_t cp = extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (extra == 1 && cp < 0x80) return false;
    if (extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
    if (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// Why `s` cannot format an argument of `kind`, or nullptr when it can.
constexpr const char* spec_error(const spec& s, arg_kind kind) {
  const char t = s.type;
  const bool int_type =
      t == 0 || t == 'd' || t == 'x' || t == 'X' || t == 'b' || t == 'B' || t == 'o' || t == 'c';
  switch (kind) {
    case arg_kind::signed_int:
    case arg_kind::unsigned_int:
      if (!int_type) return "invalid presentation type for an integer";
      if (s.precision >= 0) return "precision is not allowed for integers";
      break;
    case arg_kind::boolean:
    case arg_kind::character:
      if (!int_type && t != 's') return "invalid presentation type for bool/char";
      if (s.precision >= 0) return "precision is not allowed for bool/char";
      if (t == 0 || t == 's' || (kind == arg_kind::character && t == 'c')) {
        if (s.sign != 0 || s.alternate || s.zero_pad)
          return "sign, '#' and '0' need a numeric type";
      }
      break;
    case arg_kind::floating:
      if (t != 0 && t != 'f' && t != 'F' && t != 'e' && t != 'E' && t != 'g' && t != 'G' &&
          t != 'a' && t != 'A') {
        return "invalid presentation type for a floating-point value";
      }
      if (s.precision > 150) return "precision above 150 is not supported";
      break;
    case arg_kind::string:
      if (t != 0 && t != 's') return "invalid presentation type for a string";
      if (s.sign != 0 || s.alternate || s.zero_pad) return "sign, '#' and '0' need a numeric type";
      break;
    case arg_kind::pointer:
      if (t != 0 && t != 'p') return "invalid presentation type for a pointer";
      if (s.sign != 0 || s.alternate || s.precision >= 0) return "invalid spec for a pointer";
      break;
    case arg_kind::custom:
      if (!s.empty()) return "format specs are not supported for log_formatter types";
      break;
    case arg_kind::any: break;
  }
  return nullptr;
}

// The one parser of format strings: run by the consteval constructor of basic_log_format (an
// error stops compilation) and at run time by readers of deferred records (an error makes the
// record malformed), so a reader accepts exactly what a call site could have compiled.
// `out` receives add_literal(begin, end) -> bool (false: no room for another piece) and
// set_arg(index, spec) for the piece just added. Returns nullptr or the error.
// Repeats the message as a literal at the failing call, so that the compiler's diagnostic quotes
// it (a message passed in a variable would not be shown).
consteval void report_format_error(const char* error) {
  auto is = [&](std::string_view message) { return message == error; };
  if (is("argument index out of range (more fields than arguments?)"))
    format_string_error("argument index out of range (more fields than arguments?)");
  if (is("cannot mix automatic and manual argument indexing"))
    format_string_error("cannot mix automatic and manual argument indexing");
  if (is("fill must be an ASCII character")) format_string_error("fill must be an ASCII character");
  if (is("format specs are not supported for log_formatter types"))
    format_string_error("format specs are not supported for log_formatter types");
  if (is("format string is not valid UTF-8"))
    format_string_error("format string is not valid UTF-8");
  if (is("format string longer than 65535 bytes"))
    format_string_error("format string longer than 65535 bytes");
  if (is("invalid format spec or missing '}'"))
    format_string_error("invalid format spec or missing '}'");
  if (is("invalid presentation type for a floating-point value"))
    format_string_error("invalid presentation type for a floating-point value");
  if (is("invalid presentation type for a pointer"))
    format_string_error("invalid presentation type for a pointer");
  if (is("invalid presentation type for a string"))
    format_string_error("invalid presentation type for a string");
  if (is("invalid presentation type for an integer"))
    format_string_error("invalid presentation type for an integer");
  if (is("invalid presentation type for bool/char"))
    format_string_error("invalid presentation type for bool/char");
  if (is("invalid spec for a pointer")) format_string_error("invalid spec for a pointer");
  if (is("missing precision after '.'")) format_string_error("missing precision after '.'");
  if (is("number in format spec too large")) format_string_error("number in format spec too large");
  if (is("precision above 150 is not supported"))
    format_string_error("precision above 150 is not supported");
  if (is("precision is not allowed for bool/char"))
    format_string_error("precision is not allowed for bool/char");
  if (is("precision is not allowed for integers"))
    format_string_error("precision is not allowed for integers");
  if (is("sign, '#' and '0' need a numeric type"))
    format_string_error("sign, '#' and '0' need a numeric type");
  if (is("too many replacement fields or escaped braces"))
    format_string_error("too many replacement fields or escaped braces");
  if (is("unmatched '}' in format string")) format_string_error("unmatched '}' in format string");
  if (error != nullptr) format_string_error(error);
}

template <class Out>
constexpr const char* parse_format(std::string_view text, const arg_kind* kinds,
                                   std::size_t arg_count, Out& out) {
  if (text.size() > 0xFFFF) return "format string longer than 65535 bytes";
  if (!valid_utf8(text)) return "format string is not valid UTF-8";
  const char* error = nullptr;
  auto number = [&](std::size_t& i, std::size_t limit) {
    std::size_t value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + static_cast<std::size_t>(text[i] - '0');
      if (value > limit) {
        error = "number in format spec too large";
        return std::size_t{0};
      }
      ++i;
    }
    return value;
  };
  constexpr const char* too_many = "too many replacement fields or escaped braces";
  std::size_t literal_start = 0;
  std::size_t next_auto = 0;
  bool manual = false;
  bool automatic = false;
  bool any = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        if (!out.add_literal(literal_start, i + 1)) return too_many;  // keep one '}'
        any = true;
        i += 2;
        literal_start = i;
        continue;
      }
      return "unmatched '}' in format string";
    }
    if (c != '{') {
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      if (!out.add_literal(literal_start, i + 1)) return too_many;
      any = true;
      i += 2;
      literal_start = i;
      continue;
    }
    const std::size_t literal_end = i;
    ++i;
    std::size_t index = 0;
    if (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      index = number(i, 255);
      if (error != nullptr) return error;
      manual = true;
    } else {
      index = next_auto++;
      automatic = true;
    }
    if (manual && automatic) return "cannot mix automatic and manual argument indexing";
    if (index >= arg_count) return "argument index out of range (more fields than arguments?)";
    spec s;
    if (i < text.size() && text[i] == ':') {
      ++i;
      auto is_align = [](char a) { return a == '<' || a == '>' || a == '^'; };
      if (i + 1 < text.size() && is_align(text[i + 1]) && text[i] != '{' && text[i] != '}') {
        if (static_cast<unsigned char>(text[i]) >= 0x80) return "fill must be an ASCII character";
        s.fill = text[i];
        s.align = text[i + 1];
        i += 2;
      } else if (i < text.size() && is_align(text[i])) {
        s.align = text[i++];
      }
      if (i < text.size() && (text[i] == '+' || text[i] == '-' || text[i] == ' ')) {
        s.sign = text[i] == '-' ? 0 : text[i];
        ++i;
      }
      if (i < text.size() && text[i] == '#') {
        s.alternate = true;
        ++i;
      }
      if (i < text.size() && text[i] == '0') {
        s.zero_pad = true;
        ++i;
      }
      s.width = static_cast<std::uint16_t>(number(i, 4096));
      if (error != nullptr) return error;
      if (i < text.size() && text[i] == '.') {
        ++i;
        if (i >= text.size() || text[i] < '0' || text[i] > '9')
          return "missing precision after '.'";
        s.precision = static_cast<std::int16_t>(number(i, 4096));
        if (error != nullptr) return error;
      }
      if (i < text.size() && text[i] != '}') s.type = text[i++];
    }
    if (i >= text.size() || text[i] != '}') return "invalid format spec or missing '}'";
    ++i;
    if (const char* bad = spec_error(s, kinds[index])) return bad;
    if (!out.add_literal(literal_start, literal_end)) return too_many;
    any = true;
    out.set_arg(index, s);
    literal_start = i;
  }
  if (literal_start < text.size() || !any) {
    if (!out.add_literal(literal_start, text.size())) return too_many;
  }
  return nullptr;
}

}  // namespace format_detail

namespace format_detail {

// A parse_format sink that only counts, for the compile-time check.
template <std::size_t Max>
struct piece_counter {
  std::size_t count = 0;
  bool any_arg = false;
  constexpr bool add_literal(std::size_t, std::size_t) {
    if (count == Max) return false;
    ++count;
    return true;
  }
  constexpr void set_arg(std::size_t, const spec&) { any_arg = true; }
};

// What every sink that keeps pieces records: the literal [begin, end) of a new piece, and the
// argument (with its spec) written after the last one.
constexpr piece literal_piece(std::size_t begin, std::size_t end) noexcept {
  piece p;
  p.literal_begin = static_cast<std::uint16_t>(begin);
  p.literal_size = static_cast<std::uint16_t>(end - begin);
  return p;
}
constexpr void attach_argument(piece& p, std::size_t index, const spec& s) noexcept {
  p.arg = static_cast<std::uint8_t>(index);
  p.plain = s.empty();
  p.format = s;
}

// A parse_format sink that keeps the pieces in place (no allocation).
template <std::size_t Max>
struct piece_array {
  std::array<piece, Max> pieces{};
  std::size_t count = 0;
  constexpr bool add_literal(std::size_t begin, std::size_t end) {
    if (count == Max) return false;
    pieces[count++] = literal_piece(begin, end);
    return true;
  }
  constexpr void set_arg(std::size_t index, const spec& s) {
    attach_argument(pieces[count - 1], index, s);
  }
};

// The pieces of format strings whose call sites compiled, parsed once per literal at run time
// and kept for the life of the process, keyed by the literal's address and size (a log_format
// is built only from literals and static arrays). The log call then passes the format string
// in two registers instead of building its pieces on the stack at every call, taken or not.
// Thread-safety: any thread; lookups never lock.
struct piece_list {
  const piece* pieces = nullptr;  // null: not cached
  std::size_t count = 0;
};
// One literal per slot; `text` is stored last (release), so a reader that sees it sees the rest.
struct piece_slot {
  std::atomic<const char*> text{nullptr};
  std::atomic<std::size_t> size{0};
  std::atomic<const piece*> pieces{nullptr};
  std::atomic<std::size_t> count{0};
};
inline constexpr std::size_t piece_cache_slots = 4096;
inline constexpr std::size_t piece_cache_probes = 8;
extern piece_slot piece_cache[piece_cache_slots];

inline std::size_t piece_cache_home(const char* text) noexcept {
  return static_cast<std::size_t>(
      (reinterpret_cast<std::uintptr_t>(text) * 0x9E3779B97F4A7C15ULL) >> 52);
}
// Parses and caches `text`; no pieces when the cache cannot take it (its probe window is full,
// or out of memory): the caller then parses into storage of its own.
piece_list cache_pieces(std::string_view text, const arg_kind* kinds, std::size_t arg_count,
                        std::size_t max_pieces) noexcept;

inline piece_list find_pieces(std::string_view text, const arg_kind* kinds, std::size_t arg_count,
                              std::size_t max_pieces) noexcept {
  std::size_t at = piece_cache_home(text.data());
  for (std::size_t i = 0; i < piece_cache_probes; ++i, at = (at + 1) % piece_cache_slots) {
    const piece_slot& slot = piece_cache[at];
    const char* key = slot.text.load(std::memory_order_acquire);
    if (key == text.data() && slot.size.load(std::memory_order_relaxed) == text.size()) [[likely]] {
      return {slot.pieces.load(std::memory_order_relaxed),
              slot.count.load(std::memory_order_relaxed)};
    }
    if (key == nullptr) break;
  }
  return cache_pieces(text, kinds, arg_count, max_pieces);
}

}  // namespace format_detail

// A format string checked against Args at compile time. Build it only from a string literal
// (implicitly, in a log call); the consteval constructor rejects mismatches with a compile error.
// Holds only the text and one flag (16 bytes, passed in registers); the parsed pieces of the
// text path live in format_detail's cache. Thread-safety: plain value type.
template <class... Args>
class basic_log_format {
 public:
  static constexpr std::size_t arg_count = sizeof...(Args);
  static constexpr std::size_t max_pieces = 2 * arg_count + 8;

  template <std::size_t N>
  consteval basic_log_format(const char (&literal)[N])
      : text_(literal), size_(static_cast<std::uint32_t>(N - 1)) {  // NOLINT: implicit on purpose
    constexpr auto arg_kinds = kinds();
    format_detail::piece_counter<max_pieces> check;
    const char* error =
        format_detail::parse_format({literal, N - 1}, arg_kinds.data(), arg_count, check);
    if (error != nullptr) format_detail::report_format_error(error);
    verbatim_ = check.count == 1 && !check.any_arg;
  }

  std::string_view text() const noexcept { return {text_, size_}; }
  // True when the output is the text itself (no field, no escape).
  bool verbatim() const noexcept { return verbatim_; }

  static constexpr std::array<format_detail::arg_kind, arg_count == 0 ? 1 : arg_count> kinds() {
    if constexpr (arg_count == 0)
      return {format_detail::arg_kind::custom};
    else
      return {format_detail::kind_of<Args>()...};
  }

 private:
  const char* text_;
  std::uint32_t size_;  // parse_format refuses more than 65535 bytes
  bool verbatim_ = false;
};

// The parameter type of log calls: Args are deduced from the arguments, never from the string.
template <class... Args>
using log_format = basic_log_format<std::remove_cvref_t<Args>...>;

namespace format_detail {

// Writes `text` padded to the spec's width (counted in code points).
void write_padded(format_sink& out, const spec& s, std::string_view text,
                  char default_align) noexcept;
void write_integer(format_sink& out, const spec& s, std::uint64_t magnitude,
                   bool negative) noexcept;
// `single`: the value came from a float, so the shortest digits are a float's.
void write_floating(format_sink& out, const spec& s, double value, bool single = false) noexcept;
void write_string(format_sink& out, const spec& s, std::string_view text) noexcept;
void write_pointer(format_sink& out, const spec& s, const void* pointer) noexcept;

template <class T>
inline void write_plain_integer(format_sink& out, T value) noexcept {
  if (out.room() >= 24) [[likely]] {
    const auto result = std::to_chars(out.cursor(), out.cursor() + 24, value);
    out.advance(static_cast<std::size_t>(result.ptr - out.cursor()));
  } else {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, static_cast<std::size_t>(result.ptr - digits));
  }
}

template <class T>
inline void write_value(format_sink& out, const piece& p, const T& value) noexcept {
  constexpr arg_kind kind = kind_of<T>();
  if constexpr (std::is_enum_v<T>) {
    write_value(out, p, static_cast<std::underlying_type_t<T>>(value));
  } else if constexpr (kind == arg_kind::signed_int || kind == arg_kind::unsigned_int) {
    if (p.plain) [[likely]] {
      write_plain_integer(out, value);
    } else if (p.format.type == 'c') {
      const char c = static_cast<char>(value);
      if (static_cast<unsigned char>(c) >= 0x80) out.mark_unchecked();
      write_padded(out, p.format, std::string_view(&c, 1), '<');
    } else {
      const bool negative = value < 0;
      const auto magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(value)
                                      : static_cast<std::uint64_t>(value);
      write_integer(out, p.format, magnitude, negative);
    }
  } else if constexpr (kind == arg_kind::boolean) {
    const char t = p.format.type;
    if (t == 0 || t == 's')
      write_padded(out, p.format, value ? "true" : "false", '<');
    else
      write_integer(out, p.format, value ? 1 : 0, false);
  } else if constexpr (kind == arg_kind::character) {
    const char t = p.format.type;
    if (t == 0 || t == 'c' || t == 's') {
      if (static_cast<unsigned char>(value) >= 0x80) out.mark_unchecked();
      if (p.plain)
        out.push(value);
      else
        write_padded(out, p.format, std::string_view(&value, 1), '<');
    } else {
      write_integer(out, p.format, static_cast<unsigned char>(value), false);
    }
  } else if constexpr (kind == arg_kind::floating) {
    // Shortest text that round-trips in the argument's own type, laid out as fmt does.
    write_floating(out, p.format, static_cast<double>(value), std::is_same_v<T, float>);
  } else if constexpr (kind == arg_kind::string) {
    std::string_view text;
    if constexpr (std::is_pointer_v<T>)
      text = value != nullptr ? std::string_view(value) : std::string_view("(null)");
    else
      text = std::string_view(value);
    if (!is_ascii(text.data(), text.size())) out.mark_unchecked();
    if (p.plain) [[likely]]
      out.append(text);
    else
      write_string(out, p.format, text);
  } else if constexpr (kind == arg_kind::pointer) {
    write_pointer(out, p.format, static_cast<const void*>(value));
  } else {
    out.mark_unchecked();
    log_formatter<T>::format(value, out);
  }
}

template <class... Args, std::size_t... I>
inline void write_arg(format_sink& out, const piece& p, std::index_sequence<I...>,
                      const Args&... args) noexcept {
  // One comparison per argument; the compiler turns this into a jump table or a short chain.
  (void)((p.arg == I ? (write_value(out, p, args), true) : false) || ...);
}

}  // namespace format_detail

// Formats into `out`; output beyond its capacity is counted (out.overflowed()), never written.
template <class... Args, class... Values>
inline void format_to(format_sink& out, const basic_log_format<Args...>& format,
                      const Values&... args) noexcept {
  static_assert(sizeof...(Args) == sizeof...(Values), "format string and arguments do not match");
  using format_type = basic_log_format<Args...>;
  const std::string_view text = format.text();
  const auto write = [&](const format_detail::piece* pieces, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      const format_detail::piece& p = pieces[i];
      out.append(text.data() + p.literal_begin, p.literal_size);
      if constexpr (sizeof...(Args) > 0) {
        if (p.arg != format_detail::no_arg) {
          format_detail::write_arg(out, p, std::index_sequence_for<Values...>{}, args...);
        }
      }
    }
  };
  static constexpr auto kinds = format_type::kinds();
  const format_detail::piece_list cached = format_detail::find_pieces(
      text, kinds.data(), format_type::arg_count, format_type::max_pieces);
  if (cached.pieces != nullptr) [[likely]] {
    write(cached.pieces, cached.count);
    return;
  }
  format_detail::piece_array<format_type::max_pieces> local;
  format_detail::parse_format(text, kinds.data(), format_type::arg_count, local);
  write(local.pieces.data(), local.count);
}

// Convenience for tests and tools (allocates).
template <class... Args>
std::string format(log_format<Args...> format_string, const Args&... args) {
  std::string out(256, '\0');
  for (;;) {
    format_sink sink(out.data(), out.size());
    format_to(sink, format_string, args...);
    if (!sink.overflowed()) {
      out.resize(sink.size());
      return out;
    }
    out.resize(sink.wanted());
  }
}

}  // namespace ouroboros
