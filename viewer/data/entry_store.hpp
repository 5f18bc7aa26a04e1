// The bounded history of one segment: rows in serial order, oldest evicted first.
//
// Rows are numbered by serial (1, 2, ... per poller, gap and separator rows included); the store
// keeps the serial range [first, end) and the pages that hold it. A store_view is a cheap copy
// (a few hundred page pointers) that keeps its pages alive: a paused model or a background
// re-filter job reads one while the store moves on.
//
// Thread-safety: entry_store is owned by one thread (the GUI thread). A store_view may be read
// from any thread; the rows it covers are immutable.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>

#include "data/entry.hpp"
#include "data/segment_poller.hpp"

namespace ouroboros::viewer {

struct store_view {
  std::deque<std::shared_ptr<const page>> pages;
  std::uint64_t first = 1;  // oldest retained serial
  std::uint64_t end = 1;    // one past the newest

  std::uint64_t size() const noexcept { return end - first; }
  bool contains(std::uint64_t serial) const noexcept { return serial >= first && serial < end; }
  // serial must be contained.
  const entry& at(std::uint64_t serial) const noexcept {
    const std::uint64_t offset = serial - pages.front()->first_serial;
    return pages[offset / page_capacity]->rows[offset % page_capacity];
  }
  const page& page_of(std::uint64_t serial) const noexcept {
    return *pages[(serial - pages.front()->first_serial) / page_capacity];
  }
  // Every row of `p` is published (only the newest page of a view can be filling).
  bool full(const page& p) const noexcept { return end - p.first_serial >= page_capacity; }
};

struct history_limits {
  std::uint64_t max_entries = 1'000'000;
  // Rows + their text + index, and the pages' formatted-message caches, which only ever take
  // what the rows leave free: they are dropped before any row is evicted.
  std::uint64_t max_bytes = 512ULL << 20;
};

// Bytes a retained row costs the store: its struct, its text and one index slot in the model.
inline std::uint64_t row_cost(const entry& row) noexcept {
  return sizeof(entry) + sizeof(std::uint64_t) + row.message_size + row.extra_size;
}

class entry_store {
 public:
  void set_limits(const history_limits& limits);
  const history_limits& limits() const noexcept { return limits_; }

  // Appends published rows. Spans follow on from each other; if rows were dropped before they
  // reached the store, everything older is evicted and the dropped rows count as evicted.
  void append(const row_span& span);
  // Evicts the oldest rows until within the limits; returns how many it evicted now.
  std::uint64_t evict_to_limits();
  // How many of the oldest rows evict_to_limits() would evict now.
  std::uint64_t over_limits() const;
  // Drops every row (counted as evicted).
  void clear();
  // Evicts the `count` oldest rows (a merged view evicts by its segments' histories).
  void evict_oldest(std::uint64_t count) { evict_front(count); }

  const store_view& view() const noexcept { return view_; }
  std::uint64_t retained() const noexcept { return view_.size(); }
  std::uint64_t retained_bytes() const noexcept { return bytes_; }
  // Bytes held by the retained pages' formatted-message caches (a walk over the pages).
  std::uint64_t formatted_bytes() const;
  // Bytes of new formatted-message caches the byte budget has room for now (all, without a
  // byte limit).
  std::uint64_t formatted_allowance() const;
  std::uint64_t evicted() const noexcept { return evicted_; }
  std::uint64_t appended() const noexcept { return appended_; }
  const std::array<std::uint64_t, level_slots>& level_totals() const noexcept { return levels_; }
  // Serials of retained gap rows, oldest first.
  const std::deque<std::uint64_t>& gaps() const noexcept { return gaps_; }

 private:
  void evict_front(std::uint64_t count);
  // Drops formatted-message caches, oldest page first, while rows and caches exceed max_bytes.
  void fit_formatted();

  history_limits limits_;
  store_view view_;
  std::uint64_t bytes_ = 0;
  std::uint64_t evicted_ = 0;
  std::uint64_t appended_ = 0;
  std::array<std::uint64_t, level_slots> levels_{};
  std::deque<std::uint64_t> gaps_;
};

}  // namespace ouroboros::viewer
