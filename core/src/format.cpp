// The less common formatting paths (width, padding, bases, floating point). The common ones
// (plain integers and strings) are inline in format.hpp.
#include "ouroboros/format.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>
#include <vector>

#include "piece_vector.hpp"

namespace ouroboros::format_detail {

piece_slot piece_cache[piece_cache_slots];

namespace {
std::mutex piece_cache_mutex;  // serialises insertions
}  // namespace

piece_list cache_pieces(std::string_view text, const arg_kind* kinds, std::size_t arg_count,
                        std::size_t max_pieces) noexcept {
  try {
    std::lock_guard<std::mutex> guard(piece_cache_mutex);
    std::size_t at = piece_cache_home(text.data());
    piece_slot* free_slot = nullptr;
    for (std::size_t i = 0; i < piece_cache_probes; ++i, at = (at + 1) % piece_cache_slots) {
      piece_slot& slot = piece_cache[at];
      const char* key = slot.text.load(std::memory_order_relaxed);
      if (key == nullptr) {
        free_slot = &slot;
        break;
      }
      if (key == text.data() && slot.size.load(std::memory_order_relaxed) == text.size())
        return {slot.pieces.load(std::memory_order_relaxed),
                slot.count.load(std::memory_order_relaxed)};
    }
    if (free_slot == nullptr) return {};
    std::vector<piece> parsed;
    piece_vector sink{parsed, max_pieces};
    // The call site compiled, so this parse succeeds; a text it would refuse is not cached.
    if (parse_format(text, kinds, arg_count, sink) != nullptr || parsed.empty()) return {};
    auto pieces = std::make_unique<piece[]>(parsed.size());
    std::copy(parsed.begin(), parsed.end(), pieces.get());
    // Kept for the life of the process, as the literals they describe.
    const piece* kept = pieces.release();
    free_slot->size.store(text.size(), std::memory_order_relaxed);
    free_slot->pieces.store(kept, std::memory_order_relaxed);
    free_slot->count.store(parsed.size(), std::memory_order_relaxed);
    free_slot->text.store(text.data(), std::memory_order_release);
    return {kept, parsed.size()};
  } catch (...) {  // out of memory: the caller parses on its own
    return {};
  }
}

namespace {
std::size_t code_points(std::string_view text) noexcept {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

// Byte length of the first `limit` code points.
std::size_t prefix_of_code_points(std::string_view text, std::size_t limit) noexcept {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (seen == limit) return i;
      ++seen;
    }
  }
  return text.size();
}

void pad(format_sink& out, const spec& s, std::size_t used, char default_align,
         std::string_view prefix, std::string_view body) noexcept {
  const std::size_t width = s.width;
  if (used >= width) {
    out.append(prefix);
    out.append(body);
    return;
  }
  const std::size_t padding = width - used;
  if (s.zero_pad && s.align == 0) {  // numeric zero padding goes between sign/prefix and digits
    out.append(prefix);
    out.fill('0', padding);
    out.append(body);
    return;
  }
  const char align = s.align != 0 ? s.align : default_align;
  const std::size_t left = align == '>' ? padding : align == '^' ? padding / 2 : 0;
  out.fill(s.fill, left);
  out.append(prefix);
  out.append(body);
  out.fill(s.fill, padding - left);
}
}  // namespace

void write_padded(format_sink& out, const spec& s, std::string_view text,
                  char default_align) noexcept {
  pad(out, s, code_points(text), default_align, {}, text);
}

void write_integer(format_sink& out, const spec& s, std::uint64_t magnitude,
                   bool negative) noexcept {
  char prefix[4];
  std::size_t prefix_size = 0;
  if (negative)
    prefix[prefix_size++] = '-';
  else if (s.sign != 0)
    prefix[prefix_size++] = s.sign;
  int base = 10;
  bool upper = false;
  switch (s.type) {
    case 'x': base = 16; break;
    case 'X':
      base = 16;
      upper = true;
      break;
    case 'b': base = 2; break;
    case 'B':
      base = 2;
      upper = true;
      break;
    case 'o': base = 8; break;
    default: break;
  }
  if (s.alternate && base != 10) {
    prefix[prefix_size++] = '0';
    if (base == 16) prefix[prefix_size++] = upper ? 'X' : 'x';
    if (base == 2) prefix[prefix_size++] = upper ? 'B' : 'b';
  }
  char digits[72];
  const auto result = std::to_chars(digits, digits + sizeof digits, magnitude, base);
  const auto count = static_cast<std::size_t>(result.ptr - digits);
  if (upper) {
    for (std::size_t i = 0; i < count; ++i) {
      if (digits[i] >= 'a' && digits[i] <= 'z')
        digits[i] = static_cast<char>(digits[i] - 'a' + 'A');
    }
  }
  pad(out, s, prefix_size + count, '>', {prefix, prefix_size}, {digits, count});
}

namespace {
// The shortest digits that round-trip (as a float when `single`), laid out as fmt does:
// scientific when the decimal exponent is below -4 or at least 16 ("1e+16", "1e-05", at least
// two exponent digits), fixed otherwise without a trailing ".0" ("100", "0.0001").
std::size_t write_shortest(char* first, char* last, double value, bool single) noexcept {
  char sci[40];
  const std::to_chars_result r =
      single ? std::to_chars(sci, sci + sizeof sci, static_cast<float>(value),
                             std::chars_format::scientific)
             : std::to_chars(sci, sci + sizeof sci, value, std::chars_format::scientific);
  const auto n = static_cast<std::size_t>(r.ptr - sci);
  const std::string_view text(sci, n);
  const std::size_t e_at = text.find('e');
  if (e_at == std::string_view::npos) {  // inf, nan
    std::memcpy(first, sci, n);
    return n;
  }
  int exponent = 0;
  std::from_chars(sci + e_at + (sci[e_at + 1] == '+' ? 2 : 1), sci + n, exponent);
  char* at = first;
  std::size_t d = 0;
  if (sci[0] == '-') {
    *at++ = '-';
    d = 1;
  }
  if (exponent < -4 || exponent >= 16) {
    std::memcpy(at, sci + d, n - d);
    return static_cast<std::size_t>(at - first) + (n - d);
  }
  char digits[24];
  std::size_t count = 0;
  for (std::size_t i = d; i < e_at; ++i) {
    if (sci[i] != '.') digits[count++] = sci[i];
  }
  if (exponent < 0) {
    *at++ = '0';
    *at++ = '.';
    for (int z = -1; z > exponent; --z) *at++ = '0';
    std::memcpy(at, digits, count);
    at += count;
  } else if (static_cast<std::size_t>(exponent) + 1 >= count) {
    std::memcpy(at, digits, count);
    at += count;
    for (std::size_t z = count; z < static_cast<std::size_t>(exponent) + 1; ++z) *at++ = '0';
  } else {
    const auto whole = static_cast<std::size_t>(exponent) + 1;
    std::memcpy(at, digits, whole);
    at += whole;
    *at++ = '.';
    std::memcpy(at, digits + whole, count - whole);
    at += count - whole;
  }
  (void)last;
  return static_cast<std::size_t>(at - first);
}
}  // namespace

void write_floating(format_sink& out, const spec& s, double value, bool single) noexcept {
  // 'f' of the largest double at precision 150 needs 309 + 1 + 150 digits plus a sign.
  char digits[512];
  std::to_chars_result result{};
  char* const first = digits + 1;
  char* const last = digits + sizeof digits;
  const bool upper = s.type == 'F' || s.type == 'E' || s.type == 'G' || s.type == 'A';
  const int precision = s.precision;
  switch (s.type) {
    case 'f':
    case 'F':
      result = std::to_chars(first, last, value, std::chars_format::fixed,
                             precision < 0 ? 6 : precision);
      break;
    case 'e':
    case 'E':
      result = std::to_chars(first, last, value, std::chars_format::scientific,
                             precision < 0 ? 6 : precision);
      break;
    case 'g':
    case 'G':
      result = std::to_chars(first, last, value, std::chars_format::general,
                             precision < 0 ? 6 : precision);
      break;
    case 'a':
    case 'A':
      result = precision < 0 ? std::to_chars(first, last, value, std::chars_format::hex)
                             : std::to_chars(first, last, value, std::chars_format::hex, precision);
      break;
    default:
      if (precision < 0) {
        result.ptr = first + write_shortest(first, last, value, single);
        result.ec = std::errc{};
      } else {
        result = std::to_chars(first, last, value, std::chars_format::general, precision);
      }
      break;
  }
  if (result.ec != std::errc{}) {
    out.append("?");
    return;
  }
  char* begin = first;
  std::size_t count = static_cast<std::size_t>(result.ptr - first);
  if (upper) {
    for (std::size_t i = 0; i < count; ++i) {
      if (begin[i] >= 'a' && begin[i] <= 'z') begin[i] = static_cast<char>(begin[i] - 'a' + 'A');
    }
  }
  std::string_view prefix;
  if (*begin == '-') {
    prefix = "-";
    ++begin;
    --count;
  } else if (s.sign == '+') {
    prefix = "+";
  } else if (s.sign == ' ') {
    prefix = " ";
  }
  const bool finite = value == value && value - value == 0;  // not NaN, not infinite
  spec adjusted = s;
  if (!finite) adjusted.zero_pad = false;  // fmt pads inf/nan with spaces
  pad(out, adjusted, prefix.size() + count, '>', prefix, {begin, count});
}

void write_string(format_sink& out, const spec& s, std::string_view text) noexcept {
  if (s.precision >= 0)
    text = text.substr(0, prefix_of_code_points(text, static_cast<std::size_t>(s.precision)));
  pad(out, s, code_points(text), '<', {}, text);
}

void write_pointer(format_sink& out, const spec& s, const void* pointer) noexcept {
  char digits[24];
  const auto result =
      std::to_chars(digits, digits + sizeof digits, reinterpret_cast<std::uintptr_t>(pointer), 16);
  const auto count = static_cast<std::size_t>(result.ptr - digits);
  spec adjusted = s;
  adjusted.zero_pad = s.zero_pad;
  pad(out, adjusted, 2 + count, '>', "0x", {digits, count});
}

}  // namespace ouroboros::format_detail
