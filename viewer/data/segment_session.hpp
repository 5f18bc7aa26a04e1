// One open segment: its poller, bounded store and table model, advanced by a GUI-thread timer.
//
// Each tick (40 Hz while rows flow, 5 Hz while the segment is quiet) takes what the poller
// published, appends it to the store, evicts to the limits, counts what came and went in the
// timeline and brings the model up to date (one remove, one insert). The work a tick does on the
// GUI thread is timed; the last few hundred durations give the p50/p99 the status bar and the
// benchmark report. Rates (ingest, loss) are measured over a sliding second.
//
// Thread-safety: a QObject of the GUI thread; not thread-safe.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <deque>
#include <memory>
#include <vector>

#include "data/entry_store.hpp"
#include "data/log_model.hpp"
#include "data/segment_poller.hpp"
#include "data/timeline.hpp"

namespace ouroboros::viewer {

// Appends a span to a store / evicts its `count` oldest rows, keeping `counts` in step.
void append_counted(entry_store& store, timeline& counts, const row_span& span);
void evict_counted(entry_store& store, timeline& counts, std::uint64_t count);

struct session_options {
  poller_options poller;
  history_limits limits;
  int tick_ms = 25;        // 40 Hz while rows flow
  int idle_tick_ms = 200;  // 5 Hz while the segment is quiet
};

struct session_stats {
  poll_status poller;
  std::uint64_t retained = 0;
  std::uint64_t retained_bytes = 0;   // rows and formatted-message caches
  std::uint64_t formatted_bytes = 0;  // of which the caches (entry_store::formatted_bytes)
  std::uint64_t evicted = 0;  // evicted from the history (plus rows dropped before the store)
  double ingest_per_second = 0;
  double lost_per_second = 0;
  double tick_p50_ms = 0;
  double tick_p99_ms = 0;
  double tick_max_ms = 0;
  std::uint64_t ticks = 0;
};

class segment_session : public QObject {
  Q_OBJECT

 public:
  explicit segment_session(session_options options, QObject* parent = nullptr);
  ~segment_session() override;

  void start();  // starts the poller and the tick timer
  void stop();
  // One tick by hand (tests and benchmarks drive sessions without a running event loop).
  void tick();

  void set_filter(std::shared_ptr<const filter_spec> spec);
  void set_paused(bool paused) { model_->set_paused(paused); }
  bool paused() const { return model_->paused(); }
  void set_limits(const history_limits& limits);
  // Empties the history (reading goes on); returns how many rows it dropped.
  std::uint64_t clear();

  log_model* model() const noexcept { return model_; }
  const entry_store& store() const noexcept { return store_; }
  // Entries per time bucket of the retained history (the timeline strip draws it).
  const timeline& time_buckets() const noexcept { return timeline_; }
  segment_poller& poller() noexcept { return poller_; }
  const QString& name() const noexcept { return name_; }
  const session_stats& stats() const noexcept { return stats_; }
  // Durations of recent ticks in milliseconds (newest last).
  std::vector<double> recent_ticks() const { return {ticks_.begin(), ticks_.end()}; }

 signals:
  void ticked();
  void stateChanged(ouroboros::viewer::segment_state state);

 private:
  void update_rates();

  QString name_;
  session_options options_;
  segment_poller poller_;
  entry_store store_;
  timeline timeline_;
  log_model* model_;
  QTimer timer_;
  session_stats stats_;
  segment_state last_state_ = segment_state::waiting;
  std::deque<double> ticks_;
  struct sample {
    qint64 ms;
    std::uint64_t read;
    std::uint64_t lost;
  };
  std::deque<sample> samples_;
  QElapsedTimer clock_;
};

}  // namespace ouroboros::viewer
