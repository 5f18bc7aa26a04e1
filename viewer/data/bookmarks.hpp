// The rows a user marked in one table, by serial.
//
// Serials outlive filtering (a bookmark hidden by a filter comes back with its row) and never
// point at another row: a serial is never reused, and a bookmark whose row left the history
// (evicted or cleared) is dropped and counted, so the list can say so instead of jumping to a
// wrong row.
//
// Thread-safety: not thread-safe; owned by the log_model of the GUI thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ouroboros::viewer {

class bookmark_set {
 public:
  // Adds or removes `serial`; returns whether it is bookmarked now.
  bool toggle(std::uint64_t serial);
  // The paint path asks this for every row on screen: O(1) while there are no bookmarks.
  bool contains(std::uint64_t serial) const noexcept;
  bool empty() const noexcept { return serials_.empty(); }
  std::size_t size() const noexcept { return serials_.size(); }
  // Oldest first.
  const std::vector<std::uint64_t>& serials() const noexcept { return serials_; }
  // Drops the bookmarks of rows older than `first_kept`; returns how many it dropped.
  std::size_t drop_before(std::uint64_t first_kept);
  // Bookmarks dropped so far because their rows left the history.
  std::uint64_t dropped() const noexcept { return dropped_; }
  // The nearest bookmark after (before) `from`, wrapping around, among the serials `shown`
  // accepts; 0 when there is none.
  template <typename Shown>
  std::uint64_t next(std::uint64_t from, bool forward, Shown shown) const;

 private:
  std::vector<std::uint64_t> serials_;  // sorted
  std::uint64_t dropped_ = 0;
};

template <typename Shown>
std::uint64_t bookmark_set::next(std::uint64_t from, bool forward, Shown shown) const {
  const std::size_t n = serials_.size();
  if (n == 0) return 0;
  // Index of the first bookmark past `from` in the wanted direction.
  std::size_t start = 0;
  if (forward) {
    while (start < n && serials_[start] <= from) ++start;
  } else {
    start = n;
    while (start > 0 && serials_[start - 1] >= from) --start;
    start = start == 0 ? n - 1 : start - 1;
  }
  for (std::size_t step = 0; step < n; ++step) {
    const std::size_t i = forward ? (start + step) % n : (start + n - step) % n;
    if (shown(serials_[i])) return serials_[i];
  }
  return 0;
}

}  // namespace ouroboros::viewer
