// Several segments in one table, ordered by entry time: a k-way merge over live sources.
//
// Each source keeps what a tab has: its own poller thread, its own bounded history (entry_store)
// with its gap rows and restart separators, its own counters and rates. Every tick takes what
// each poller published, then merges: the source whose oldest unmerged row has the smallest key
// goes first, as long as no other source could still deliver an older row. A row's key is its
// entry time; rows without one (gap rows carry the time of the entry before them) take the key of
// the row before them in their source, and sources of raw (non-record) payloads are merged by
// arrival time (the tick that took them), which the source's stats say.
//
// Bounded hold-back: a source with nothing unmerged holds back a row of time t only while its
// poller cannot say it has nothing older: its last poll did not find the reader caught up, or
// caught up before t. A silent source is caught up at every poll (a few times a second at least),
// so it holds rows back by a poller nap at most (so does a closed or dead writer's, which keeps
// polling for a new writer, and a segment not there yet, looked for every retry interval); an
// unreadable segment holds nothing back. And no row waits longer than `hold_back` after it
// arrived: past that it is merged whatever the other sources might still say. Merged rows are
// only ever appended, so rows on screen are never reordered; a row that arrives later than the
// hold-back with an older time is placed after newer rows (never before shown ones).
//
// The merged rows live in an entry_store of their own (40-byte copies whose text stays in the
// sources' pages, which the merged pages keep alive), shown by an ordinary log_model: filters,
// pause, selection and search work as in a tab. Each row carries its source index in
// entry::source and a tag id of the merged tag table. The merged history keeps the time span its
// sources still hold: a row leaves it when its source's own history evicted it, or when it is
// older than the oldest row a source that has evicted still keeps (so one quiet source cannot pin
// a busy source's evicted rows); besides, the merged history has limits of its own.
//
// Thread-safety: a QObject of the GUI thread; not thread-safe.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>
#include <QTimer>
#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include "data/entry_store.hpp"
#include "data/log_model.hpp"
#include "data/segment_poller.hpp"
#include "data/segment_session.hpp"

namespace ouroboros::viewer {

struct merged_options {
  std::vector<poller_options> sources;  // at most max_sources
  history_limits source_limits;         // each segment's own history
  history_limits limits;                // the merged history
  std::chrono::milliseconds hold_back{100};
  int tick_ms = 25;
  int idle_tick_ms = 200;
};

struct source_stats {
  QString name;
  poll_status poller;
  std::uint64_t retained = 0;  // rows in the segment's own history
  std::uint64_t evicted = 0;
  std::uint64_t merged = 0;   // rows merged so far
  std::uint64_t skipped = 0;  // rows its history evicted before they could be merged
  std::uint64_t held = 0;     // rows read but not merged yet
  bool by_arrival = false;    // raw payloads: merged by arrival time
  double ingest_per_second = 0;
  double lost_per_second = 0;
};

class merged_session : public QObject {
  Q_OBJECT

 public:
  static constexpr std::size_t max_sources = 64;

  explicit merged_session(merged_options options, QObject* parent = nullptr);
  ~merged_session() override;

  void start();  // starts the pollers and the tick timer
  // Starts the pollers only (tests and benchmarks drive ticks by hand).
  void start_pollers();
  void stop();
  // One tick now; tick_at() with an explicit wall-clock time (tests of the hold-back).
  void tick();
  void tick_at(std::int64_t now_ns);

  void set_filter(std::shared_ptr<const filter_spec> spec);
  void set_paused(bool paused) { model_->set_paused(paused); }
  bool paused() const { return model_->paused(); }
  void set_limits(const history_limits& limits);
  // Empties the merged history (the segments' own histories and reading go on); returns how
  // many rows it dropped.
  std::uint64_t clear();

  log_model* model() const noexcept { return model_; }
  const entry_store& store() const noexcept { return merged_; }
  const timeline& time_buckets() const noexcept { return timeline_; }
  QString name() const { return names_.join(QStringLiteral(" + ")); }
  const QStringList& source_names() const noexcept { return names_; }
  std::size_t source_count() const noexcept { return sources_.size(); }
  const source_stats& source(std::size_t i) const;
  const entry_store& source_store(std::size_t i) const;
  segment_poller& poller(std::size_t i);
  // Merged stats: ticks and their cost, the merged history; poller sums the sources' counters
  // (state: attached while any source is).
  const session_stats& stats() const noexcept { return stats_; }
  // The longest any merged row waited between its arrival and its merge (ns).
  std::int64_t longest_hold_ns() const noexcept { return longest_hold_ns_; }
  // Segment and serial in that segment's history of a merged row (serial must be retained).
  std::pair<std::size_t, std::uint64_t> origin_of(std::uint64_t merged_serial) const;
  const merged_options& options() const noexcept { return options_; }

 signals:
  void ticked();

 private:
  struct input;
  std::int64_t key_of(const input& s, std::uint64_t serial) const;
  std::int64_t arrival_of(const input& s, std::uint64_t serial) const;
  bool holds_back(const input& s, std::int64_t key) const;
  void merge(std::int64_t now_ns);
  void emit_row(input& s, std::size_t index, std::int64_t key);
  void evict_merged();
  void update_rates();

  merged_options options_;
  QStringList names_;
  std::vector<std::unique_ptr<input>> sources_;
  std::shared_ptr<tag_table> tags_ = std::make_shared<tag_table>();
  entry_store merged_;
  timeline timeline_;
  log_model* model_;
  QTimer timer_;
  session_stats stats_;

  // The merged page being filled (GUI thread only; published rows are never written again).
  std::shared_ptr<page> page_;
  std::uint32_t written_ = 0;
  std::uint32_t published_ = 0;
  std::uint64_t next_serial_ = 1;
  std::vector<row_span> spans_;
  struct origin {
    std::uint64_t serial;
    std::int64_t key;
    std::uint8_t source;
  };
  std::deque<origin> origins_;  // one per retained merged row, oldest first

  std::int64_t longest_hold_ns_ = 0;
  std::deque<double> ticks_;
  QElapsedTimer clock_;
};

}  // namespace ouroboros::viewer
