// Entries per time bucket over a retained history, by level, with what was lost and restarts.
//
// The session adds every row it appends to its history and removes every row it evicts, in
// serial order, so the buckets always account for exactly the retained history: per bucket the
// entries of each level slot, the entries lost in gap rows, and restart rows. A row without a
// time counts where the row before it did (rows without any time before them count apart, in
// untimed()). Bucket i covers [origin + i * width, origin + (i + 1) * width); when the span
// needs more than max_buckets the width doubles and neighbours merge (the origin stays a
// multiple of the width, so the merge is exact). Cost: O(1) per row added or removed, O(buckets)
// per rescale; drawing reads the buckets (O(buckets)).
//
// Thread-safety: not thread-safe (the GUI thread's session owns it).
#pragma once

#include <array>
#include <cstdint>
#include <deque>

#include "data/entry.hpp"

namespace ouroboros::viewer {

struct timeline_bucket {
  std::array<std::uint64_t, level_slots> levels{};  // entries by level slot
  std::uint64_t lost = 0;                           // entries lost (gap rows of this time)
  std::uint32_t restarts = 0;                       // writer restarts (separator rows)

  std::uint64_t entries() const noexcept {
    std::uint64_t sum = 0;
    for (const std::uint64_t n : levels) sum += n;
    return sum;
  }
  bool empty() const noexcept { return entries() == 0 && lost == 0 && restarts == 0; }
};

class timeline {
 public:
  explicit timeline(std::size_t max_buckets = 1024, std::int64_t min_width_ns = 100'000'000);

  void add(const entry& row);
  void remove(const entry& row);
  void clear();

  const std::deque<timeline_bucket>& buckets() const noexcept { return buckets_; }
  std::int64_t origin_ns() const noexcept { return origin_; }
  std::int64_t width_ns() const noexcept { return width_; }
  // Rows counted without a time (none before them had one).
  const timeline_bucket& untimed() const noexcept { return untimed_; }
  // Totals over every bucket and untimed().
  std::uint64_t entries() const noexcept { return entries_; }
  std::uint64_t lost() const noexcept { return lost_; }
  std::uint64_t restarts() const noexcept { return restarts_; }
  // Bumped by every change: a strip repaints only when it moved.
  std::uint64_t version() const noexcept { return version_; }

 private:
  timeline_bucket* bucket_for(std::int64_t time_ns, bool create);
  void count(timeline_bucket& bucket, const entry& row, int sign);
  void rescale();

  std::size_t max_buckets_;
  std::int64_t min_width_;
  std::int64_t width_;
  std::int64_t origin_ = 0;
  std::deque<timeline_bucket> buckets_;
  timeline_bucket untimed_;
  std::int64_t last_added_time_ = no_time;
  std::int64_t last_removed_time_ = no_time;
  std::uint64_t entries_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t restarts_ = 0;
  std::uint64_t version_ = 0;
};

// Entries a gap row says were lost (its "lost" field; 0 when absent or unreadable).
std::uint64_t lost_in_gap(const entry& row);

}  // namespace ouroboros::viewer
