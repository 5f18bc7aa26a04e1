#include "ouroboros/deferred.hpp"

#include <array>
#include <bit>
#include <cstring>

#include "piece_vector.hpp"

namespace ouroboros {

namespace fd = format_detail;

namespace {
constexpr std::size_t max_arguments = 256;  // a field's index is at most 255
constexpr std::size_t max_pieces = 2 * max_arguments + 8;

// Trivial on purpose: render_deferred keeps 256 of them on the stack uninitialised and fills
// only as many as the record has.
struct argument {
  arg_type type;
  std::uint64_t bits;
  const char* text;
  std::string_view view() const noexcept { return {text, static_cast<std::size_t>(bits)}; }
};

// One fixed-size load per width: a copy of a run-time size into a zeroed u64 followed by a load
// of all 8 bytes defeats store-to-load forwarding (perf: a tenth of the render's time).
template <class T>
std::uint64_t load_le(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native != std::endian::little) {
    T swapped = 0;
    for (std::size_t i = 0; i < sizeof v; ++i) {
      swapped = static_cast<T>((swapped << 8) | ((v >> (8 * i)) & 0xFF));
    }
    v = swapped;
  }
  return v;
}

fd::arg_kind kind_of(arg_type type) noexcept {
  switch (type) {
    case arg_type::i64: return fd::arg_kind::signed_int;
    case arg_type::u64: return fd::arg_kind::unsigned_int;
    case arg_type::f64:
    case arg_type::f32: return fd::arg_kind::floating;
    case arg_type::boolean: return fd::arg_kind::boolean;
    case arg_type::character: return fd::arg_kind::character;
    case arg_type::string: return fd::arg_kind::string;
    case arg_type::pointer: return fd::arg_kind::pointer;
  }
  return fd::arg_kind::custom;
}

constexpr std::size_t signature_arguments = 16;  // four bits each in a deferred_memo

// Decodes the argument at `at` (before `end`) and moves `at` past it; bad_arguments when it is
// cut short, of an unknown type, or a bool other than 0/1; invalid_utf8 for a string that is not
// UTF-8.
inline decode_status decode_one(const std::byte*& at, const std::byte* end, argument& a) noexcept {
  a.type = static_cast<arg_type>(std::to_integer<std::uint8_t>(*at));
  ++at;
  const auto left = static_cast<std::size_t>(end - at);
  switch (a.type) {
    case arg_type::i64:
    case arg_type::u64:
    case arg_type::f64:
    case arg_type::pointer:
      if (left < 8) return decode_status::bad_arguments;
      a.bits = load_le<std::uint64_t>(at);
      at += 8;
      return decode_status::ok;
    case arg_type::f32:
      if (left < 4) return decode_status::bad_arguments;
      a.bits = load_le<std::uint32_t>(at);
      at += 4;
      return decode_status::ok;
    case arg_type::boolean:
    case arg_type::character:
      if (left < 1) return decode_status::bad_arguments;
      a.bits = std::to_integer<std::uint8_t>(*at);
      at += 1;
      if (a.type == arg_type::boolean && a.bits > 1) return decode_status::bad_arguments;
      return decode_status::ok;
    case arg_type::string:
      if (left < 4) return decode_status::bad_arguments;
      a.bits = load_le<std::uint32_t>(at);
      at += 4;
      if (left - 4 < a.bits) return decode_status::bad_arguments;
      a.text = reinterpret_cast<const char*>(at);
      at += static_cast<std::size_t>(a.bits);
      // Most strings are ASCII: the inline test spares the validator's call.
      if (!is_ascii(a.text, a.bits) && !is_valid_utf8(a.view())) return decode_status::invalid_utf8;
      return decode_status::ok;
  }
  return decode_status::bad_arguments;
}

// Splits the encoded arguments (rows 3 and 4 of §11.5, in payload order). `signature` receives
// the types as deferred_memo keeps them.
decode_status split(std::span<const std::byte> bytes, std::array<argument, max_arguments>& out,
                    std::size_t& count, std::uint64_t& signature) noexcept {
  count = 0;
  signature = 0;
  const std::byte* at = bytes.data();
  const std::byte* const end = at + bytes.size();
  while (at != end) {
    if (count == max_arguments) return decode_status::bad_arguments;
    argument& a = out[count];
    if (const decode_status s = decode_one(at, end, a); s != decode_status::ok) return s;
    if (count < signature_arguments)
      signature |= std::uint64_t{static_cast<std::uint8_t>(a.type)} << (4 * count);
    ++count;
  }
  if (count > signature_arguments) signature = deferred_memo::none;
  return decode_status::ok;
}

// Every field must name an argument whose type its spec accepts (what the compiler checked at
// the call site).
bool arguments_match(const deferred_format& format, const argument* args,
                     std::size_t count) noexcept {
  for (std::size_t i = 0; i < format.pieces.size(); ++i) {
    const fd::piece& p = format.pieces[i];
    if (p.arg == fd::no_arg) continue;
    if (p.arg >= count ||
        ((format.accepts[i] >> static_cast<unsigned>(kind_of(args[p.arg].type))) & 1U) == 0)
      return false;
  }
  return true;
}

// Plain values that fit 32 bits (most) are written as such: to_chars divides by 100 with a
// 32-bit multiplication then, as it does for the int of a call site; the text is the same.
[[gnu::always_inline]] inline void write_signed(format_sink& out, const fd::piece& p,
                                                std::int64_t v) noexcept {
  if (!p.plain) [[unlikely]]
    fd::write_value(out, p, v);
  else if (v == static_cast<std::int32_t>(v))
    fd::write_plain_integer(out, static_cast<std::int32_t>(v));
  else
    fd::write_plain_integer(out, v);
}
[[gnu::always_inline]] inline void write_unsigned(format_sink& out, const fd::piece& p,
                                                  std::uint64_t v) noexcept {
  if (!p.plain) [[unlikely]]
    fd::write_value(out, p, v);
  else if (v <= 0xFFFFFFFFU)
    fd::write_plain_integer(out, static_cast<std::uint32_t>(v));
  else
    fd::write_plain_integer(out, v);
}

// Inlined into both loops: a call per field costs a third of the render (perf).
[[gnu::always_inline]] inline void write(format_sink& out, const fd::piece& p,
                                         const argument& a) noexcept {
  switch (a.type) {
    case arg_type::i64: write_signed(out, p, static_cast<std::int64_t>(a.bits)); return;
    case arg_type::u64: write_unsigned(out, p, a.bits); return;
    case arg_type::f64: {
      double v;
      std::memcpy(&v, &a.bits, sizeof v);
      fd::write_value(out, p, v);
      return;
    }
    case arg_type::f32: {
      const auto bits = static_cast<std::uint32_t>(a.bits);
      float v;
      std::memcpy(&v, &bits, sizeof v);
      fd::write_value(out, p, v);
      return;
    }
    case arg_type::boolean: fd::write_value(out, p, a.bits != 0); return;
    case arg_type::character: fd::write_value(out, p, static_cast<char>(a.bits)); return;
    case arg_type::string:
      // Validated by split, so not marked unchecked: the output is valid UTF-8 unless a char
      // marks it, and then the repair covers the whole message anyway.
      if (p.plain) [[likely]]
        out.append(a.text, static_cast<std::size_t>(a.bits));
      else
        fd::write_string(out, p.format, a.view());
      return;
    case arg_type::pointer:
      fd::write_value(out, p, reinterpret_cast<const void*>(static_cast<std::uintptr_t>(a.bits)));
      return;
  }
}
}  // namespace

deferred_format parse_deferred_format(std::string_view text) {
  deferred_format format;
  format.text = std::string(text);
  static constexpr auto any_kinds = [] {
    std::array<fd::arg_kind, max_arguments> kinds{};
    kinds.fill(fd::arg_kind::any);
    return kinds;
  }();
  fd::piece_vector list{format.pieces, max_pieces};
  if (const char* error = fd::parse_format(format.text, any_kinds.data(), max_arguments, list)) {
    format.status = decode_status::bad_format;
    format.error = error;
    format.pieces.clear();
    return format;
  }
  std::size_t next = 0;
  for (const fd::piece& p : format.pieces) {
    if (p.arg == fd::no_arg) continue;
    if (p.arg != next) format.in_order = false;
    ++next;
  }
  format.accepts.reserve(format.pieces.size());
  for (const fd::piece& p : format.pieces) {
    std::uint8_t mask = 0;
    for (const fd::arg_kind kind :
         {fd::arg_kind::signed_int, fd::arg_kind::unsigned_int, fd::arg_kind::boolean,
          fd::arg_kind::character, fd::arg_kind::floating, fd::arg_kind::string,
          fd::arg_kind::pointer}) {
      if (fd::spec_error(p.format, kind) == nullptr) mask |= std::uint8_t(1U << unsigned(kind));
    }
    format.accepts.push_back(mask);
  }
  return format;
}

namespace {
// The records of a call site whose format names its arguments in order, with the types the memo
// holds: decoded and formatted in one pass, no argument array and no spec check (the memo's
// types passed it). False, with `out` as it was, at the first surprise (another type, fewer or
// more arguments, bytes that do not decode): the caller then takes the full path, which finds
// the verdict in the order §11.5 gives.
bool render_in_order(const deferred_format& format, std::span<const std::byte> arguments,
                     std::uint64_t signature, format_sink& out) noexcept {
  const std::size_t start = out.size();
  const std::byte* at = arguments.data();
  const std::byte* const end = at + arguments.size();
  const char* const text = format.text.data();
  argument a{};
  auto next = [&]() noexcept {
    if (at == end || std::to_integer<std::uint64_t>(*at) != (signature & 0xF)) return false;
    signature >>= 4;
    return decode_one(at, end, a) == decode_status::ok;
  };
  for (const fd::piece& p : format.pieces) {
    out.append(text + p.literal_begin, p.literal_size);
    if (p.arg == fd::no_arg) continue;
    if (at == end || std::to_integer<std::uint64_t>(*at) != (signature & 0xF)) [[unlikely]] {
      out.rewind(start);
      return false;
    }
    signature >>= 4;
    // The integer and string cases decoded and written under one branch on the type; the rest
    // as in the full path.
    const auto left = static_cast<std::size_t>(end - at - 1);
    switch (static_cast<arg_type>(std::to_integer<std::uint8_t>(*at))) {
      case arg_type::i64:
        if (left < 8) [[unlikely]]
          break;
        write_signed(out, p, static_cast<std::int64_t>(load_le<std::uint64_t>(at + 1)));
        at += 9;
        continue;
      case arg_type::u64:
        if (left < 8) [[unlikely]]
          break;
        write_unsigned(out, p, load_le<std::uint64_t>(at + 1));
        at += 9;
        continue;
      case arg_type::string: {
        if (left < 4) [[unlikely]]
          break;
        const auto size = static_cast<std::size_t>(load_le<std::uint32_t>(at + 1));
        if (left - 4 < size) [[unlikely]]
          break;
        const char* chars = reinterpret_cast<const char*>(at + 5);
        if (!is_ascii(chars, size) && !is_valid_utf8({chars, size})) [[unlikely]]
          break;
        // Not marked unchecked: see write().
        if (p.plain) [[likely]]
          out.append(chars, size);
        else
          fd::write_string(out, p.format, {chars, size});
        at += 5 + size;
        continue;
      }
      default:
        if (decode_one(at, end, a) != decode_status::ok) [[unlikely]]
          break;
        write(out, p, a);
        continue;
    }
    out.rewind(start);  // a defect: the full path says which
    return false;
  }
  // Arguments no field names still have to decode, and the count must be the memo's.
  while (signature != 0) {
    if (!next()) {
      out.rewind(start);
      return false;
    }
  }
  if (at != end) {
    out.rewind(start);
    return false;
  }
  return true;
}
}  // namespace

namespace {
// Every check, then the text (the fast path's fallback, and the path without a memo). Kept out
// of line so that the fast path does not pay for its 6 KiB frame.
// Splits the arguments and checks them against the format's specs (spared when the memo holds
// their types), as both the full render and the full check do.
inline decode_status split_checked(const deferred_format& format,
                                   std::span<const std::byte> arguments,
                                   std::array<argument, max_arguments>& args, deferred_memo* memo) {
  std::size_t count = 0;
  std::uint64_t signature = 0;
  if (const decode_status s = split(arguments, args, count, signature); s != decode_status::ok)
    return s;
  if (memo == nullptr || signature == deferred_memo::none || signature != memo->signature) {
    if (!arguments_match(format, args.data(), count)) return decode_status::argument_mismatch;
    if (memo != nullptr) memo->signature = signature;
  }
  return decode_status::ok;
}

[[gnu::noinline]] decode_status render_checked(const deferred_format& format,
                                               std::span<const std::byte> arguments,
                                               format_sink& out, deferred_memo* memo) noexcept {
  std::array<argument, max_arguments> args;  // NOLINT: filled by split, read below count only
  if (const decode_status s = split_checked(format, arguments, args, memo); s != decode_status::ok)
    return s;
  const char* const text = format.text.data();
  for (const fd::piece& p : format.pieces) {
    out.append(text + p.literal_begin, p.literal_size);
    if (p.arg != fd::no_arg) write(out, p, args[p.arg]);
  }
  return decode_status::ok;
}
}  // namespace

namespace {
// The records of a call site carry the memo's types: each argument is decoded in turn against
// the next type of the signature, with no argument array. False at the first surprise; the full
// check then gives the verdict.
bool matches_memo(std::span<const std::byte> arguments, std::uint64_t signature) noexcept {
  const std::byte* at = arguments.data();
  const std::byte* const end = at + arguments.size();
  argument a{};
  while (signature != 0) {
    if (at == end || std::to_integer<std::uint64_t>(*at) != (signature & 0xF)) return false;
    signature >>= 4;
    if (decode_one(at, end, a) != decode_status::ok) return false;
  }
  return at == end;
}

// Every check, as render_checked makes them. Out of line: its argument array is 6 KiB of frame.
[[gnu::noinline]] decode_status check_checked(const deferred_format& format,
                                              std::span<const std::byte> arguments,
                                              deferred_memo* memo) noexcept {
  std::array<argument, max_arguments> args;  // NOLINT: filled by split, read below count only
  return split_checked(format, arguments, args, memo);
}
}  // namespace

decode_status check_deferred(const deferred_format& format, std::span<const std::byte> arguments,
                             deferred_memo* memo) noexcept {
  if (format.status != decode_status::ok) return format.status;
  if (memo != nullptr && memo->signature != deferred_memo::none &&
      matches_memo(arguments, memo->signature)) [[likely]]
    return decode_status::ok;
  return check_checked(format, arguments, memo);
}

decode_status render_deferred(const deferred_format& format, std::span<const std::byte> arguments,
                              format_sink& out, deferred_memo* memo) noexcept {
  if (format.status != decode_status::ok) return format.status;
  const std::size_t start = out.size();
  const bool fast = memo != nullptr && memo->signature != deferred_memo::none && format.in_order &&
                    !out.overflowed() && render_in_order(format, arguments, memo->signature, out);
  if (!fast) {
    if (const decode_status s = render_checked(format, arguments, out, memo);
        s != decode_status::ok)
      return s;
  }
  // A char argument of 0x80..0xFF: the call site would have replaced it (logger.hpp).
  if (out.unchecked() && !out.overflowed())
    replace_invalid_utf8(out.begin() + start, out.size() - start);
  return decode_status::ok;
}

decode_status render_deferred(const deferred_format& format, std::span<const std::byte> arguments,
                              std::string& out) {
  // Most messages fit a stack buffer: one copy into `out`, no zero-filling resize.
  char stack[512];
  format_sink first(stack, sizeof stack);
  if (const decode_status s = render_deferred(format, arguments, first); s != decode_status::ok)
    return s;
  if (!first.overflowed()) [[likely]] {
    out.append(stack, first.size());
    return decode_status::ok;
  }
  const std::size_t start = out.size();
  out.resize(start + first.wanted());
  format_sink sink(out.data() + start, first.wanted());
  return render_deferred(format, arguments, sink);
}

}  // namespace ouroboros
