#include "data/entry_store.hpp"

#include <limits>

namespace ouroboros::viewer {

void entry_store::set_limits(const history_limits& limits) {
  limits_ = limits;
  fit_formatted();
}

void entry_store::append(const row_span& span) {
  if (span.end <= span.begin) return;
  const std::uint64_t first = span.first_serial();
  if (first != view_.end) {
    if (first < view_.end) return;  // already have these (never happens with one poller)
    const std::uint64_t skipped = first - view_.end;
    clear();
    evicted_ += skipped;
    view_.first = view_.end = first;
  }
  if (view_.pages.empty() || view_.pages.back() != span.rows) view_.pages.push_back(span.rows);
  for (std::uint32_t i = span.begin; i < span.end; ++i) {
    const entry& row = span.rows->rows[i];
    bytes_ += row_cost(row);
    if (!row.always_visible()) ++levels_[static_cast<std::size_t>(row.level_slot())];
    if (row.kind() == row_kind::gap) gaps_.push_back(span.rows->first_serial + i);
  }
  view_.end = span.end_serial();
  appended_ += span.end - span.begin;
  fit_formatted();
}

std::uint64_t entry_store::formatted_bytes() const {
  std::uint64_t total = 0;
  for (const auto& p : view_.pages) total += p->formatted_bytes();
  return total;
}

std::uint64_t entry_store::formatted_allowance() const {
  if (limits_.max_bytes == 0) return std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t used = bytes_ + formatted_bytes();
  return used >= limits_.max_bytes ? 0 : limits_.max_bytes - used;
}

void entry_store::fit_formatted() {
  if (limits_.max_bytes == 0) return;
  std::uint64_t cached = formatted_bytes();
  for (auto it = view_.pages.begin();
       it != view_.pages.end() && bytes_ + cached > limits_.max_bytes; ++it) {
    cached -= (*it)->drop_formatted();
  }
}

void entry_store::evict_front(std::uint64_t count) {
  count = std::min(count, view_.size());
  for (std::uint64_t k = 0; k < count; ++k) {
    const entry& row = view_.at(view_.first + k);
    bytes_ -= row_cost(row);
    if (!row.always_visible()) --levels_[static_cast<std::size_t>(row.level_slot())];
  }
  view_.first += count;
  evicted_ += count;
  while (!gaps_.empty() && gaps_.front() < view_.first) gaps_.pop_front();
  // A page leaves the budget with its last row; its cache goes with it even while a paused view
  // still reads the page.
  while (!view_.pages.empty() && view_.pages.front()->first_serial + page_capacity <= view_.first) {
    view_.pages.front()->drop_formatted();
    view_.pages.pop_front();
  }
  if (view_.first == view_.end) {
    for (const auto& p : view_.pages) p->drop_formatted();
    view_.pages.clear();
  }
}

std::uint64_t entry_store::evict_to_limits() {
  const std::uint64_t count = over_limits();
  if (count != 0) evict_front(count);
  return count;
}

std::uint64_t entry_store::over_limits() const {
  std::uint64_t count = 0;
  if (limits_.max_entries != 0 && view_.size() > limits_.max_entries) {
    count = view_.size() - limits_.max_entries;
  }
  if (limits_.max_bytes != 0) {
    // Walk forward from the oldest until the bytes fit; rows are not all the same size.
    std::uint64_t bytes = bytes_;
    for (std::uint64_t k = 0; k < count; ++k) bytes -= row_cost(view_.at(view_.first + k));
    while (bytes > limits_.max_bytes && count < view_.size()) {
      bytes -= row_cost(view_.at(view_.first + count));
      ++count;
    }
  }
  return count;
}

void entry_store::clear() {
  evict_front(view_.size());
}

}  // namespace ouroboros::viewer
