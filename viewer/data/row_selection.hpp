// The rows a user selected, kept as ranges of serials rather than row numbers.
//
// Row numbers move under a live table (rows are evicted from the top, a re-filter renumbers
// everything); serials never do. So eviction and re-filtering never move a selection onto other
// entries, an evicted row simply drops out of it, and "select all" over a million rows is one
// range. A range covers every row of the model whose serial lies inside it.
//
// Thread-safety: a value type; not thread-safe (the GUI thread owns the table's selection).
#pragma once

#include <cstdint>
#include <vector>

namespace ouroboros::viewer {

class log_model;

struct serial_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  bool operator==(const serial_range&) const = default;
};

class row_selection {
 public:
  bool empty() const noexcept { return ranges_.empty(); }
  void clear() noexcept { ranges_.clear(); }
  // Replaces the selection with [first, last] (given in either order).
  void select(std::uint64_t first, std::uint64_t last);
  // Adds [first, last] to the selection, merging with what it touches.
  void add(std::uint64_t first, std::uint64_t last);
  // Selects `serial` if it was not selected, else removes it (splitting its range).
  void toggle(std::uint64_t serial);
  bool contains(std::uint64_t serial) const noexcept;
  const std::vector<serial_range>& ranges() const noexcept { return ranges_; }

  // Rows of `model` inside the selection: how many (O(ranges · log rows)), and their serials in
  // table order.
  std::uint64_t count(const log_model& model) const;
  std::vector<std::uint64_t> serials(const log_model& model) const;

 private:
  std::vector<serial_range> ranges_;  // sorted, disjoint, not adjacent
};

}  // namespace ouroboros::viewer
