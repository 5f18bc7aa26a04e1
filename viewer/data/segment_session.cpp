#include "data/segment_session.hpp"

#include <algorithm>
#include <chrono>

namespace ouroboros::viewer {

namespace {
constexpr std::size_t tick_history = 512;

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}
}  // namespace

void append_counted(entry_store& store, timeline& counts, const row_span& span) {
  if (span.end <= span.begin) return;
  const std::uint64_t first = span.first_serial();
  if (first < store.view().end) return;          // the store ignores rows it has
  if (first > store.view().end) counts.clear();  // rows dropped before the store: it starts over
  store.append(span);
  for (std::uint32_t i = span.begin; i < span.end; ++i) counts.add(span.rows->rows[i]);
}

void evict_counted(entry_store& store, timeline& counts, std::uint64_t count) {
  const store_view& view = store.view();
  count = std::min(count, view.size());
  for (std::uint64_t k = 0; k < count; ++k) counts.remove(view.at(view.first + k));
  store.evict_oldest(count);
}

segment_session::segment_session(session_options options, QObject* parent)
    : QObject(parent),
      name_(QString::fromStdString(options.poller.name)),
      options_(options),
      poller_(options.poller),
      model_(new log_model(&store_, poller_.tags(), this)) {
  store_.set_limits(options.limits);
  timer_.setInterval(options.tick_ms);
  timer_.setTimerType(Qt::CoarseTimer);
  connect(&timer_, &QTimer::timeout, this, &segment_session::tick);
  clock_.start();
}

segment_session::~segment_session() {
  stop();
}

void segment_session::start() {
  model_->set_attach_time(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
  poller_.start();
  timer_.start();
}

void segment_session::stop() {
  timer_.stop();
  poller_.stop();
}

void segment_session::set_filter(std::shared_ptr<const filter_spec> spec) {
  const std::uint64_t generation = model_->set_filter(spec);
  poller_.set_filter(std::move(spec), generation);
}

void segment_session::set_limits(const history_limits& limits) {
  store_.set_limits(limits);
  options_.limits = limits;
}

std::uint64_t segment_session::clear() {
  const std::uint64_t count = store_.retained();
  evict_counted(store_, timeline_, count);
  model_->drop_evicted();
  return count;
}

void segment_session::tick() {
  QElapsedTimer work;
  work.start();
  segment_poller::harvest harvest = poller_.take();
  for (const row_span& span : harvest.spans) append_counted(store_, timeline_, span);
  evict_counted(store_, timeline_, store_.over_limits());
  model_->sync(harvest.spans);
  const double elapsed_ms = static_cast<double>(work.nsecsElapsed()) / 1e6;

  ticks_.push_back(elapsed_ms);
  if (ticks_.size() > tick_history) ticks_.pop_front();
  stats_.poller = harvest.status;
  stats_.retained = store_.retained();
  stats_.formatted_bytes = store_.formatted_bytes();
  stats_.retained_bytes = store_.retained_bytes() + stats_.formatted_bytes;
  stats_.evicted = store_.evicted();
  ++stats_.ticks;
  update_rates();
  if ((stats_.ticks & 7) == 0 || ticks_.size() < 8) {
    const std::vector<double> recent(ticks_.begin(), ticks_.end());
    stats_.tick_p50_ms = percentile(recent, 0.50);
    stats_.tick_p99_ms = percentile(recent, 0.99);
    stats_.tick_max_ms = *std::max_element(recent.begin(), recent.end());
  }
  // A quiet segment needs no 40 wake-ups a second: while fewer rows arrive than ticks happen,
  // tick at the idle rate (new rows then show within 100 ms).
  std::uint64_t rows = 0;
  for (const row_span& span : harvest.spans) rows += span.end - span.begin;
  const bool busy = rows > 1 || stats_.ingest_per_second > 1000.0 / options_.tick_ms;
  const int interval = busy ? options_.tick_ms : options_.idle_tick_ms;
  if (timer_.interval() != interval) timer_.setInterval(interval);
  if (harvest.status.state != last_state_) {
    last_state_ = harvest.status.state;
    emit stateChanged(last_state_);
  }
  emit ticked();
}

void segment_session::update_rates() {
  const qint64 now = clock_.elapsed();
  samples_.push_back({now, stats_.poller.entries_read, stats_.poller.entries_lost});
  while (samples_.size() > 2 && now - samples_.front().ms > 1000) samples_.pop_front();
  const sample& oldest = samples_.front();
  const double seconds = static_cast<double>(now - oldest.ms) / 1000.0;
  if (seconds > 0.05) {
    stats_.ingest_per_second =
        static_cast<double>(stats_.poller.entries_read - oldest.read) / seconds;
    stats_.lost_per_second =
        static_cast<double>(stats_.poller.entries_lost - oldest.lost) / seconds;
  }
}

}  // namespace ouroboros::viewer
