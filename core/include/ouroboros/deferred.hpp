// Formatting deferred records (record version 2) on the reader's side, with the formatter the
// call site would have used (format.hpp), so the text is the same as a text record's.
//
// Thread-safety: deferred_format is an immutable value once parsed; a deferred_memo belongs to
// one format and one thread; the functions keep no other state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ouroboros/format.hpp"
#include "ouroboros/record.hpp"

namespace ouroboros {

// A format string from the dictionary, parsed once by the parser the compiler runs on log calls.
struct deferred_format {
  std::string text;
  std::vector<format_detail::piece> pieces;
  // Per piece: bit k set when its spec can format an argument of arg_kind k (checked once here,
  // so the full check of a record only tests a bit per field).
  std::vector<std::uint8_t> accepts;
  // The fields name arguments 0, 1, 2, ... in this order, each once (every format with
  // automatic indexing): its records can be decoded and formatted in one pass.
  bool in_order = true;
  decode_status status = decode_status::ok;  // bad_format when the text does not parse
  std::string_view error;                    // the parser's reason then
};
deferred_format parse_deferred_format(std::string_view text);

// The argument types a format last accepted. The records of one call site all carry the same
// types, so with a memo the spec check of a record is one comparison; records with other types
// are checked in full (and, when they pass, become the memo's). Use one memo per format.
struct deferred_memo {
  // Four bits per argument (its arg_type, never 0 or 15) for up to 16 arguments: the count is
  // part of the value. all_ones: nothing accepted yet, or more than 16 arguments.
  static constexpr std::uint64_t none = ~std::uint64_t{0};
  std::uint64_t signature = none;
};

// Formats the message of a record with `format` and the encoded `arguments` into `out`. Returns
// ok, or why the record is malformed (bad_format, bad_arguments, argument_mismatch,
// invalid_utf8); every check comes before the first byte is written, so nothing is written
// then. When the message does not fit, ok is returned with out.overflowed(): render again into a
// sink of out.wanted() bytes (only a complete message is repaired as §11.5 says for chars
// 0x80..0xFF). `memo` may be null (full check).
decode_status render_deferred(const deferred_format& format, std::span<const std::byte> arguments,
                              format_sink& out, deferred_memo* memo = nullptr) noexcept;

// The verdict render_deferred would give (ok or why the record is malformed), without
// formatting: a reader that formats later (the viewer, for the rows it shows) checks each
// record once on arrival. `memo` may be null (full check).
decode_status check_deferred(const deferred_format& format, std::span<const std::byte> arguments,
                             deferred_memo* memo = nullptr) noexcept;

// The same, appended to `out` (which is left as it was when the record is malformed).
decode_status render_deferred(const deferred_format& format, std::span<const std::byte> arguments,
                              std::string& out);

}  // namespace ouroboros
