// Formatting deferred records (record version 2) on the reader's side, with the formatter the
// call site would have used (format.hpp), so the text is the same as a text record's.
//
// Thread-safety: deferred_format is an immutable value once parsed; the functions are stateless.
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
  // so rendering a record only tests a bit per field).
  std::vector<std::uint8_t> accepts;
  decode_status status = decode_status::ok;  // bad_format when the text does not parse
  std::string_view error;                    // the parser's reason then
};
deferred_format parse_deferred_format(std::string_view text);

// Appends the message of a record with `format` and the encoded `arguments` to `out`. Returns ok,
// or why the record is malformed (bad_format, bad_arguments, argument_mismatch, invalid_utf8);
// `out` then holds what was appended so far.
decode_status render_deferred(const deferred_format& format, std::span<const std::byte> arguments,
                              std::string& out);

}  // namespace ouroboros
