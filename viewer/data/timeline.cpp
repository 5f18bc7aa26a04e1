#include "data/timeline.hpp"

#include <algorithm>
#include <charconv>

namespace ouroboros::viewer {

namespace {
// Times are writer-supplied: anything before 1970 or after 2116 is clamped, so bucket arithmetic
// cannot overflow.
constexpr std::int64_t max_time = std::int64_t{1} << 62;

std::int64_t clamp_time(std::int64_t t) {
  return std::clamp<std::int64_t>(t, 0, max_time);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

void adjust(std::uint64_t& value, std::uint64_t amount, int sign) {
  if (sign > 0) {
    value += amount;
  } else {
    value -= std::min(value, amount);
  }
}
}  // namespace

std::uint64_t lost_in_gap(const entry& row) {
  for (const field_pair& f : decode_fields(row.extra())) {
    if (f.key != "lost") continue;
    std::uint64_t value = 0;
    const auto [end, error] =
        std::from_chars(f.value.data(), f.value.data() + f.value.size(), value);
    return error == std::errc{} && end == f.value.data() + f.value.size() ? value : 0;
  }
  return 0;
}

timeline::timeline(std::size_t max_buckets, std::int64_t min_width_ns)
    : max_buckets_(std::max<std::size_t>(max_buckets, 2)),
      min_width_(std::max<std::int64_t>(min_width_ns, 1)),
      width_(min_width_) {}

void timeline::clear() {
  buckets_.clear();
  untimed_ = {};
  width_ = min_width_;
  origin_ = 0;
  last_added_time_ = last_removed_time_ = no_time;
  entries_ = lost_ = restarts_ = 0;
  ++version_;
}

void timeline::rescale() {
  const std::int64_t width = width_ * 2;
  const std::int64_t origin = floor_div(origin_, width) * width;
  std::deque<timeline_bucket> merged;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    const auto index = static_cast<std::size_t>(
        (origin_ + static_cast<std::int64_t>(i) * width_ - origin) / width);
    if (merged.size() <= index) merged.resize(index + 1);
    timeline_bucket& to = merged[index];
    const timeline_bucket& from = buckets_[i];
    for (int l = 0; l < level_slots; ++l) to.levels[l] += from.levels[l];
    to.lost += from.lost;
    to.restarts += from.restarts;
  }
  buckets_ = std::move(merged);
  width_ = width;
  origin_ = origin;
}

timeline_bucket* timeline::bucket_for(std::int64_t time_ns, bool create) {
  const std::int64_t t = clamp_time(time_ns);
  if (buckets_.empty()) {
    if (!create) return nullptr;
    origin_ = floor_div(t, width_) * width_;
    buckets_.emplace_back();
    return &buckets_.front();
  }
  for (;;) {
    const std::int64_t index = floor_div(t - origin_, width_);
    const auto size = static_cast<std::int64_t>(buckets_.size());
    if (index >= 0 && index < size) return &buckets_[static_cast<std::size_t>(index)];
    if (!create) return nullptr;
    const std::int64_t needed = index < 0 ? size - index : index + 1;
    if (needed > static_cast<std::int64_t>(max_buckets_)) {
      rescale();
      continue;
    }
    if (index < 0) {
      for (std::int64_t k = 0; k < -index; ++k) buckets_.emplace_front();
      origin_ += index * width_;
      return &buckets_.front();
    }
    buckets_.resize(static_cast<std::size_t>(index + 1));
    return &buckets_.back();
  }
}

void timeline::count(timeline_bucket& bucket, const entry& row, int sign) {
  switch (row.kind()) {
    case row_kind::record:
    case row_kind::plain:
    case row_kind::malformed:
      adjust(bucket.levels[static_cast<std::size_t>(row.level_slot())], 1, sign);
      adjust(entries_, 1, sign);
      break;
    case row_kind::gap: {
      const std::uint64_t lost = lost_in_gap(row);
      adjust(bucket.lost, lost, sign);
      adjust(lost_, lost, sign);
      break;
    }
    case row_kind::separator: {
      std::uint64_t restarts = bucket.restarts;
      adjust(restarts, 1, sign);
      bucket.restarts = static_cast<std::uint32_t>(restarts);
      adjust(restarts_, 1, sign);
      break;
    }
    case row_kind::notice: break;
  }
  ++version_;
}

void timeline::add(const entry& row) {
  const std::int64_t time = row.time_ns != no_time ? row.time_ns : last_added_time_;
  last_added_time_ = time;
  if (time == no_time) {
    count(untimed_, row, +1);
    return;
  }
  count(*bucket_for(time, true), row, +1);
}

void timeline::remove(const entry& row) {
  const std::int64_t time = row.time_ns != no_time ? row.time_ns : last_removed_time_;
  last_removed_time_ = time;
  timeline_bucket* bucket = time == no_time ? &untimed_ : bucket_for(time, false);
  if (bucket == nullptr) return;  // never added (cannot happen when fed in serial order)
  count(*bucket, row, -1);
  while (!buckets_.empty() && buckets_.front().empty()) {
    buckets_.pop_front();
    origin_ += width_;
  }
}

}  // namespace ouroboros::viewer
