#include "data/row_selection.hpp"

#include <algorithm>
#include <utility>

#include "data/log_model.hpp"

namespace ouroboros::viewer {

void row_selection::select(std::uint64_t first, std::uint64_t last) {
  if (first > last) std::swap(first, last);
  ranges_.assign(1, serial_range{first, last});
}

void row_selection::add(std::uint64_t first, std::uint64_t last) {
  if (first > last) std::swap(first, last);
  std::vector<serial_range> merged;
  merged.reserve(ranges_.size() + 1);
  serial_range fresh{first, last};
  bool placed = false;
  for (const serial_range& r : ranges_) {
    // Ranges that overlap or touch the new one are folded into it.
    const bool before = r.last != UINT64_MAX && r.last + 1 < fresh.first;
    const bool after = fresh.last != UINT64_MAX && fresh.last + 1 < r.first;
    if (before) {
      merged.push_back(r);
    } else if (after) {
      if (!placed) merged.push_back(fresh);
      placed = true;
      merged.push_back(r);
    } else {
      fresh.first = std::min(fresh.first, r.first);
      fresh.last = std::max(fresh.last, r.last);
    }
  }
  if (!placed) merged.push_back(fresh);
  ranges_ = std::move(merged);
}

void row_selection::toggle(std::uint64_t serial) {
  const auto it = std::find_if(ranges_.begin(), ranges_.end(), [serial](const serial_range& r) {
    return serial >= r.first && serial <= r.last;
  });
  if (it == ranges_.end()) {
    add(serial, serial);
    return;
  }
  const serial_range r = *it;
  const auto at = ranges_.erase(it);
  std::vector<serial_range> pieces;
  if (r.first < serial) pieces.push_back({r.first, serial - 1});
  if (serial < r.last) pieces.push_back({serial + 1, r.last});
  ranges_.insert(at, pieces.begin(), pieces.end());
}

bool row_selection::contains(std::uint64_t serial) const noexcept {
  const auto it =
      std::upper_bound(ranges_.begin(), ranges_.end(), serial,
                       [](std::uint64_t s, const serial_range& r) { return s < r.first; });
  return it != ranges_.begin() && serial <= std::prev(it)->last;
}

std::uint64_t row_selection::count(const log_model& model) const {
  std::uint64_t total = 0;
  for (const serial_range& r : ranges_) {
    const int begin = model.row_at_or_after(r.first);
    if (begin < 0) continue;
    const int end = r.last == UINT64_MAX ? -1 : model.row_at_or_after(r.last + 1);
    total += static_cast<std::uint64_t>((end < 0 ? model.rowCount() : end) - begin);
  }
  return total;
}

std::vector<std::uint64_t> row_selection::serials(const log_model& model) const {
  std::vector<std::uint64_t> out;
  out.reserve(static_cast<std::size_t>(count(model)));
  for (const serial_range& r : ranges_) {
    const int begin = model.row_at_or_after(r.first);
    if (begin < 0) continue;
    const int end = r.last == UINT64_MAX ? -1 : model.row_at_or_after(r.last + 1);
    for (int row = begin, stop = end < 0 ? model.rowCount() : end; row < stop; ++row)
      out.push_back(model.serial_at(row));
  }
  return out;
}

}  // namespace ouroboros::viewer
