#include "ouroboros/deferred.hpp"

#include <array>
#include <bit>
#include <cstring>

namespace ouroboros {

namespace fd = format_detail;

namespace {
constexpr std::size_t max_arguments = 256;  // a field's index is at most 255
constexpr std::size_t max_pieces = 2 * max_arguments + 8;

struct piece_list {
  std::vector<fd::piece>& pieces;
  bool add_literal(std::size_t begin, std::size_t end) {
    if (pieces.size() == max_pieces) return false;
    fd::piece p;
    p.literal_begin = static_cast<std::uint16_t>(begin);
    p.literal_size = static_cast<std::uint16_t>(end - begin);
    pieces.push_back(p);
    return true;
  }
  void set_arg(std::size_t index, const fd::spec& s) {
    pieces.back().arg = static_cast<std::uint8_t>(index);
    pieces.back().plain = s.empty();
    pieces.back().format = s;
  }
};

// Trivial on purpose: render_deferred keeps 256 of them on the stack uninitialised and fills
// only as many as the record has.
struct argument {
  arg_type type;
  std::uint64_t bits;
  const char* text;
  std::string_view view() const noexcept { return {text, static_cast<std::size_t>(bits)}; }
};

std::uint64_t load_le(const std::byte* p, std::size_t bytes) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, bytes);
    return v;
  } else {
    std::uint64_t v = 0;
    for (std::size_t i = bytes; i-- > 0;) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
  }
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

// Splits the encoded arguments; bad_arguments when one is cut short, of an unknown type, or a
// bool other than 0/1; invalid_utf8 for a string that is not UTF-8.
decode_status split(std::span<const std::byte> bytes, std::array<argument, max_arguments>& out,
                    std::size_t& count) noexcept {
  count = 0;
  std::size_t at = 0;
  const std::size_t n = bytes.size();
  while (at < n) {
    if (count == max_arguments) return decode_status::bad_arguments;
    argument& a = out[count];
    a.type = static_cast<arg_type>(std::to_integer<std::uint8_t>(bytes[at]));
    ++at;
    std::size_t width = 0;
    switch (a.type) {
      case arg_type::i64:
      case arg_type::u64:
      case arg_type::f64:
      case arg_type::pointer: width = 8; break;
      case arg_type::f32: width = 4; break;
      case arg_type::boolean:
      case arg_type::character: width = 1; break;
      case arg_type::string: width = 4; break;
      default: return decode_status::bad_arguments;
    }
    if (n - at < width) return decode_status::bad_arguments;
    a.bits = load_le(bytes.data() + at, width);
    at += width;
    if (a.type == arg_type::boolean && a.bits > 1) return decode_status::bad_arguments;
    if (a.type == arg_type::string) {
      if (n - at < a.bits) return decode_status::bad_arguments;
      a.text = reinterpret_cast<const char*>(bytes.data() + at);
      at += static_cast<std::size_t>(a.bits);
      if (!is_valid_utf8(a.view())) return decode_status::invalid_utf8;
    }
    ++count;
  }
  return decode_status::ok;
}

void write(format_sink& out, const fd::piece& p, const argument& a) noexcept {
  switch (a.type) {
    case arg_type::i64: fd::write_value(out, p, static_cast<std::int64_t>(a.bits)); return;
    case arg_type::u64: fd::write_value(out, p, a.bits); return;
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
    case arg_type::string: fd::write_value(out, p, a.view()); return;
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
  piece_list list{format.pieces};
  if (const char* error = fd::parse_format(format.text, any_kinds.data(), max_arguments, list)) {
    format.status = decode_status::bad_format;
    format.error = error;
    format.pieces.clear();
    return format;
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

decode_status render_deferred(const deferred_format& format, std::span<const std::byte> arguments,
                              std::string& out) {
  if (format.status != decode_status::ok) return format.status;
  std::array<argument, max_arguments> args;  // NOLINT: filled by split, read below count only
  std::size_t count = 0;
  if (const decode_status s = split(arguments, args, count); s != decode_status::ok) return s;
  // Every field must name an argument whose type its spec accepts (what the compiler checked
  // at the call site).
  for (std::size_t i = 0; i < format.pieces.size(); ++i) {
    const fd::piece& p = format.pieces[i];
    if (p.arg == fd::no_arg) continue;
    if (p.arg >= count ||
        ((format.accepts[i] >> static_cast<unsigned>(kind_of(args[p.arg].type))) & 1U) == 0)
      return decode_status::argument_mismatch;
  }
  auto write_all = [&](format_sink& sink) noexcept {
    for (const fd::piece& p : format.pieces) {
      sink.append(format.text.data() + p.literal_begin, p.literal_size);
      if (p.arg != fd::no_arg) write(sink, p, args[p.arg]);
    }
  };
  const std::size_t start = out.size();
  // Most messages fit a stack buffer: one copy into `out`, no zero-filling resize.
  char stack[512];
  format_sink first(stack, sizeof stack);
  write_all(first);
  if (!first.overflowed()) [[likely]] {
    out.append(stack, first.size());
  } else {
    out.resize(start + first.wanted());
    format_sink sink(out.data() + start, first.wanted());
    write_all(sink);
  }
  // A char argument of 0x80..0xFF: the call site would have replaced it (logger.hpp).
  if (first.unchecked()) replace_invalid_utf8(out.data() + start, out.size() - start);
  return decode_status::ok;
}

}  // namespace ouroboros
