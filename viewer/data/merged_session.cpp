#include "data/merged_session.hpp"

#include <algorithm>
#include <limits>

namespace ouroboros::viewer {

namespace {
constexpr std::size_t tick_history = 512;
// Merged rows are filtered by the merged model, never by a poller's flag.
constexpr std::uint64_t merged_generation = std::numeric_limits<std::uint64_t>::max();

std::int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}
}  // namespace

struct merged_session::input {
  explicit input(const poller_options& options)
      : poller(std::make_unique<segment_poller>(options)) {}
  std::unique_ptr<segment_poller> poller;
  entry_store store;
  source_stats stats;
  std::uint64_t next = 1;  // oldest serial of the store not merged yet
  struct batch {
    std::uint64_t end;     // one past the batch's last serial
    std::int64_t arrival;  // wall-clock ns of the tick that took it
  };
  std::deque<batch> batches;           // unmerged rows by arrival
  std::int64_t last_key = no_time;     // key of the last merged row
  std::vector<std::uint16_t> tag_map;  // source tag id -> merged tag id (0 = not mapped yet)
  struct sample {
    qint64 ms;
    std::uint64_t read;
    std::uint64_t lost;
  };
  std::deque<sample> samples;

  bool has_pending() const noexcept { return next < store.view().end; }
};

merged_session::merged_session(merged_options options, QObject* parent)
    : QObject(parent), options_(std::move(options)) {
  if (options_.sources.size() > max_sources) options_.sources.resize(max_sources);
  for (const poller_options& p : options_.sources) {
    auto s = std::make_unique<input>(p);
    s->store.set_limits(options_.source_limits);
    s->stats.name = QString::fromStdString(p.name);
    names_ << s->stats.name;
    sources_.push_back(std::move(s));
  }
  merged_.set_limits(options_.limits);
  model_ = new log_model(&merged_, tags_, this);
  model_->set_sources(names_);
  timer_.setInterval(options_.tick_ms);
  timer_.setTimerType(Qt::CoarseTimer);
  connect(&timer_, &QTimer::timeout, this, &merged_session::tick);
  clock_.start();
}

merged_session::~merged_session() {
  stop();
}

const source_stats& merged_session::source(std::size_t i) const {
  return sources_[i]->stats;
}
const entry_store& merged_session::source_store(std::size_t i) const {
  return sources_[i]->store;
}
segment_poller& merged_session::poller(std::size_t i) {
  return *sources_[i]->poller;
}

void merged_session::start() {
  start_pollers();
  timer_.start();
}

void merged_session::start_pollers() {
  model_->set_attach_time(wall_now_ns());
  for (auto& s : sources_) s->poller->start();
}

void merged_session::stop() {
  timer_.stop();
  for (auto& s : sources_) s->poller->stop();
}

void merged_session::set_filter(std::shared_ptr<const filter_spec> spec) {
  model_->set_filter(std::move(spec));
}

void merged_session::set_limits(const history_limits& limits) {
  options_.source_limits = limits;
  options_.limits = limits;
  for (auto& s : sources_) s->store.set_limits(limits);
  merged_.set_limits(limits);
}

std::pair<std::size_t, std::uint64_t> merged_session::origin_of(std::uint64_t merged_serial) const {
  const origin& o = origins_[merged_serial - merged_.view().first];
  return {o.source, o.serial};
}

std::int64_t merged_session::arrival_of(const input& s, std::uint64_t serial) const {
  for (const input::batch& b : s.batches) {
    if (serial < b.end) return b.arrival;
  }
  return s.batches.empty() ? 0 : s.batches.back().arrival;
}

std::int64_t merged_session::key_of(const input& s, std::uint64_t serial) const {
  if (!s.stats.by_arrival) {
    const store_view& view = s.store.view();
    const entry& row = view.at(serial);
    if (row.kind() == row_kind::separator) {
      // Its own time is the new writer process's start, which may be long before the segment
      // was re-created: the marker goes right before the new writer's first entry (or after
      // the last row of its segment while that entry is not read yet).
      if (view.contains(serial + 1) && view.at(serial + 1).time_ns != no_time)
        return view.at(serial + 1).time_ns;
      if (s.last_key != no_time && (row.time_ns == no_time || row.time_ns < s.last_key))
        return s.last_key;
    }
    if (row.time_ns != no_time) return row.time_ns;
  }
  if (s.stats.by_arrival || s.last_key == no_time) return arrival_of(s, serial);
  return s.last_key;  // no time of its own: stays right after the row before it
}

bool merged_session::holds_back(const input& s, std::int64_t key) const {
  const poll_status& p = s.stats.poller;
  switch (p.state) {
    case segment_state::attached:
    case segment_state::writer_closed:
    case segment_state::writer_gone:
    case segment_state::waiting:
      // Rows older than its last "caught up" were all read and taken already. A closed or dead
      // writer's reader keeps polling, and a segment not there yet is looked for again and
      // again (a new writer may take the name): the same holds.
      return !(p.caught_up && p.caught_up_ns != no_time && key <= p.caught_up_ns);
    default: return false;  // an unreadable segment has nothing newer
  }
}

void merged_session::tick() {
  tick_at(wall_now_ns());
}

void merged_session::tick_at(std::int64_t now_ns) {
  QElapsedTimer work;
  work.start();
  std::uint64_t arrived = 0;
  for (auto& sp : sources_) {
    input& s = *sp;
    segment_poller::harvest harvest = s.poller->take();
    for (const row_span& span : harvest.spans) s.store.append(span);
    s.store.evict_to_limits();
    s.stats.poller = harvest.status;
    if (harvest.status.state == segment_state::attached && s.store.appended() != 0) {
      s.stats.by_arrival = !harvest.status.records;
    }
    const store_view& view = s.store.view();
    if (s.next < view.first) {
      // The segment's own history evicted rows the merge held back (only when far behind).
      s.stats.skipped += view.first - s.next;
      s.next = view.first;
    }
    while (!s.batches.empty() && s.batches.front().end <= s.next) s.batches.pop_front();
    const std::uint64_t known = s.batches.empty() ? s.next : s.batches.back().end;
    if (view.end > known) {
      s.batches.push_back({view.end, now_ns});
      arrived += view.end - known;
    }
  }
  merge(now_ns);
  evict_merged();
  model_->sync(spans_);
  spans_.clear();

  const double elapsed_ms = static_cast<double>(work.nsecsElapsed()) / 1e6;
  ticks_.push_back(elapsed_ms);
  if (ticks_.size() > tick_history) ticks_.pop_front();
  ++stats_.ticks;
  stats_.retained = merged_.retained();
  stats_.formatted_bytes = merged_.formatted_bytes();
  stats_.retained_bytes = merged_.retained_bytes() + stats_.formatted_bytes;
  stats_.evicted = merged_.evicted();
  poll_status total;
  total.state = sources_.empty() ? segment_state::waiting : sources_.front()->stats.poller.state;
  std::uint64_t held = 0;
  for (auto& sp : sources_) {
    input& s = *sp;
    const poll_status& p = s.stats.poller;
    if (p.state == segment_state::attached) total.state = segment_state::attached;
    total.records = total.records || p.records;
    total.entries_read += p.entries_read;
    total.entries_lost += p.entries_lost;
    total.gaps += p.gaps;
    total.restarts += p.restarts;
    total.corrupt_events += p.corrupt_events;
    total.lag_entries += p.lag_entries;
    total.dropped_rows += p.dropped_rows;
    total.last_entry_ns = std::max(total.last_entry_ns, p.last_entry_ns);
    s.stats.retained = s.store.retained();
    s.stats.evicted = s.store.evicted();
    s.stats.held = s.store.view().end - s.next;
    held += s.stats.held;
  }
  stats_.poller = total;
  update_rates();
  if ((stats_.ticks & 7) == 0 || ticks_.size() < 8) {
    const std::vector<double> recent(ticks_.begin(), ticks_.end());
    stats_.tick_p50_ms = percentile(recent, 0.50);
    stats_.tick_p99_ms = percentile(recent, 0.99);
    stats_.tick_max_ms = *std::max_element(recent.begin(), recent.end());
  }
  // Held rows are due within the hold-back: tick at the busy rate until they are merged.
  const bool busy =
      arrived > 1 || held != 0 || stats_.ingest_per_second > 1000.0 / options_.tick_ms;
  const int interval = busy ? options_.tick_ms : options_.idle_tick_ms;
  if (timer_.interval() != interval) timer_.setInterval(interval);
  emit ticked();
}

void merged_session::merge(std::int64_t now_ns) {
  const std::int64_t hold_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.hold_back).count();
  for (;;) {
    input* best = nullptr;
    std::size_t best_index = 0;
    std::int64_t best_key = 0;
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      input& s = *sources_[i];
      if (!s.has_pending()) continue;
      const std::int64_t key = key_of(s, s.next);
      if (best == nullptr || key < best_key) {
        best = &s;
        best_index = i;
        best_key = key;
      }
    }
    if (best == nullptr) break;
    const std::int64_t arrival = arrival_of(*best, best->next);
    bool ready = now_ns - arrival >= hold_ns;
    if (!ready) {
      ready = true;
      for (const auto& other : sources_) {
        if (other.get() == best || other->has_pending()) continue;  // its head is not older
        if (holds_back(*other, best_key)) {
          ready = false;
          break;
        }
      }
    }
    // The oldest head must wait: every other head is newer, so nothing else may go first.
    if (!ready) break;
    longest_hold_ns_ = std::max(longest_hold_ns_, now_ns - arrival);
    emit_row(*best, best_index, best_key);
  }
  if (page_ && written_ > published_) {
    const row_span span{page_, published_, written_, merged_generation};
    published_ = written_;
    append_counted(merged_, timeline_, span);
    spans_.push_back(span);
  }
}

void merged_session::emit_row(input& s, std::size_t index, std::int64_t key) {
  const store_view& view = s.store.view();
  const std::uint64_t offset = s.next - view.pages.front()->first_serial;
  const std::shared_ptr<const page>& from = view.pages[offset / page_capacity];
  const entry& row = from->rows[offset % page_capacity];
  if (!page_ || written_ == page_capacity) {
    if (page_ && written_ > published_) {
      const row_span span{page_, published_, written_, merged_generation};
      append_counted(merged_, timeline_, span);
      spans_.push_back(span);
    }
    page_ = std::make_shared<page>(next_serial_);
    written_ = published_ = 0;
  }
  if (std::find(page_->sources.begin(), page_->sources.end(), from) == page_->sources.end()) {
    page_->sources.push_back(from);
  }
  entry& out = page_->rows[written_];
  out = row;
  out.bits = static_cast<std::uint8_t>(row.bits & ~flag_visible);
  out.source = static_cast<std::uint8_t>(index);
  // A restart marker shows the time of its place in the merge (see key_of).
  if (row.kind() == row_kind::separator) out.time_ns = key;
  if (row.tag != 0) {
    if (s.tag_map.size() <= row.tag) s.tag_map.resize(row.tag + 1U, 0);
    std::uint16_t& mapped = s.tag_map[row.tag];
    if (mapped == 0) mapped = tags_->intern(s.poller->tags()->name(row.tag));
    out.tag = mapped;
  }
  ++written_;
  ++next_serial_;
  origins_.push_back({s.next, key, static_cast<std::uint8_t>(index)});
  ++s.next;
  while (!s.batches.empty() && s.batches.front().end <= s.next) s.batches.pop_front();
  s.last_key = key;
  ++s.stats.merged;
}

std::uint64_t merged_session::clear() {
  const std::uint64_t count = merged_.retained();
  evict_counted(merged_, timeline_, count);
  origins_.clear();
  model_->drop_evicted();
  return count;
}

void merged_session::evict_merged() {
  std::uint64_t count = merged_.over_limits();
  evict_counted(merged_, timeline_, count);
  origins_.erase(origins_.begin(),
                 origins_.begin() +
                     static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(count, origins_.size())));
  // The span every source still holds: rows older than the oldest row kept by a source that
  // has evicted go too.
  std::int64_t cut = no_time;
  for (const auto& sp : sources_) {
    const input& s = *sp;
    if (s.stats.by_arrival || s.store.evicted() == 0 || s.store.retained() == 0) continue;
    const store_view& view = s.store.view();
    for (std::uint64_t serial = view.first; serial < view.end && serial < view.first + 16;
         ++serial) {
      if (view.at(serial).time_ns != no_time) {
        cut = std::max(cut, view.at(serial).time_ns);
        break;
      }
    }
  }
  count = 0;
  for (const origin& o : origins_) {
    const bool gone = o.serial < sources_[o.source]->store.view().first;
    if (!gone && (cut == no_time || o.key >= cut)) break;
    ++count;
  }
  if (count == 0) return;
  origins_.erase(origins_.begin(), origins_.begin() + static_cast<std::ptrdiff_t>(count));
  evict_counted(merged_, timeline_, count);
}

void merged_session::update_rates() {
  const qint64 now = clock_.elapsed();
  double in = 0;
  double lost = 0;
  for (auto& sp : sources_) {
    input& s = *sp;
    s.samples.push_back({now, s.stats.poller.entries_read, s.stats.poller.entries_lost});
    while (s.samples.size() > 2 && now - s.samples.front().ms > 1000) s.samples.pop_front();
    const input::sample& oldest = s.samples.front();
    const double seconds = static_cast<double>(now - oldest.ms) / 1000.0;
    if (seconds > 0.05) {
      s.stats.ingest_per_second =
          static_cast<double>(s.stats.poller.entries_read - oldest.read) / seconds;
      s.stats.lost_per_second =
          static_cast<double>(s.stats.poller.entries_lost - oldest.lost) / seconds;
    }
    in += s.stats.ingest_per_second;
    lost += s.stats.lost_per_second;
  }
  stats_.ingest_per_second = in;
  stats_.lost_per_second = lost;
}

}  // namespace ouroboros::viewer
