#include "data/bookmarks.hpp"

#include <algorithm>

namespace ouroboros::viewer {

bool bookmark_set::toggle(std::uint64_t serial) {
  const auto it = std::lower_bound(serials_.begin(), serials_.end(), serial);
  if (it != serials_.end() && *it == serial) {
    serials_.erase(it);
    return false;
  }
  serials_.insert(it, serial);
  return true;
}

bool bookmark_set::contains(std::uint64_t serial) const noexcept {
  if (serials_.empty() || serial < serials_.front() || serial > serials_.back()) return false;
  return std::binary_search(serials_.begin(), serials_.end(), serial);
}

std::size_t bookmark_set::drop_before(std::uint64_t first_kept) {
  const auto cut = std::lower_bound(serials_.begin(), serials_.end(), first_kept);
  const auto count = static_cast<std::size_t>(cut - serials_.begin());
  serials_.erase(serials_.begin(), cut);
  dropped_ += count;
  return count;
}

}  // namespace ouroboros::viewer
