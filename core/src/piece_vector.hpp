// The parse_format sink of the run-time parses (deferred records' format strings, the text
// path's piece cache): pieces in a vector, at most `max` of them.
// Thread-safety: one parse at a time.
#pragma once

#include <cstddef>
#include <vector>

#include "ouroboros/format.hpp"

namespace ouroboros::format_detail {

struct piece_vector {
  std::vector<piece>& pieces;
  std::size_t max;
  bool add_literal(std::size_t begin, std::size_t end) {
    if (pieces.size() == max) return false;
    pieces.push_back(literal_piece(begin, end));
    return true;
  }
  void set_arg(std::size_t index, const spec& s) { attach_argument(pieces.back(), index, s); }
};

}  // namespace ouroboros::format_detail
