// The table the user sees: the rows of a store that pass the filter, in serial order.
//
// The model holds only an index of visible serials (8 bytes a row) over a store_view. Each tick
// it evicts from the front with one beginRemoveRows and appends the tick's visible rows with one
// beginInsertRows; rows are filtered once, by the poller as they arrive. Changing the filter (or
// resuming after a pause) re-filters the retained history on a pool thread over a store_view
// snapshot, with progress, and swaps the result in with one model reset. Paused, the model keeps
// its own view, so the rows on screen stay readable even after the store evicted them.
//
// Colours are the UI's business (the table reads level_role/kind_role, or entry_at() directly):
// this layer links Qt Core only. cell_text() is the table's fast path: the text of one cell
// without a QVariant round trip.
//
// Thread-safety: a QObject of the GUI thread; not thread-safe. Background jobs touch only
// snapshots and report back through queued calls.
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "data/bookmarks.hpp"
#include "data/entry_store.hpp"
#include "data/filter.hpp"
#include "data/format.hpp"
#include "data/highlight.hpp"

namespace ouroboros::viewer {

struct refilter_job;

// How the time column reads: time of day (the date only on rows where it changes), the time
// since the previous row, or the time since the tab attached.
enum class time_mode { time_of_day, delta, since_attach };

class log_model : public QAbstractTableModel {
  Q_OBJECT

 public:
  // col_segment exists only in merged views (set_sources): a tab has column_count columns.
  enum column {
    col_sequence,
    col_time,
    col_level,
    col_tag,
    col_thread,
    col_message,
    column_count,
    col_segment = column_count
  };
  enum role {
    serial_role = Qt::UserRole + 1,  // quint64 serial of the row
    kind_role,                       // int row_kind
    level_role,                      // int level (255 = none)
    full_text_role,                  // QString: the whole message, printable
    highlight_role,                  // uint 0xRRGGBB of the row's highlight rule, or invalid
  };

  log_model(const entry_store* store, std::shared_ptr<const tag_table> tags,
            QObject* parent = nullptr);
  ~log_model() override;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  // Brings the model up to date with the store after it appended `spans` and evicted.
  void sync(const std::vector<row_span>& spans);

  // Filter. Returns the new generation, which the poller must tag its filtered rows with.
  std::uint64_t set_filter(std::shared_ptr<const filter_spec> spec);
  std::shared_ptr<const filter_spec> filter() const { return spec_; }
  std::uint64_t filter_generation() const noexcept { return generation_; }
  QString filter_error() const { return engine_.error(); }
  bool refiltering() const noexcept { return job_ != nullptr; }
  double refilter_progress() const;  // 0..1 while refiltering, 1 otherwise
  // Test and shutdown helper: blocks until a running re-filter job has been applied.
  void wait_for_refilter();

  void set_paused(bool paused);
  bool paused() const noexcept { return paused_; }
  std::uint64_t arrivals_since_pause() const noexcept { return arrivals_since_pause_; }

  // Merged views: the names of the segments entry::source numbers; adds the Segment column.
  void set_sources(QStringList names);
  const QStringList& sources() const noexcept { return sources_; }
  bool merged() const noexcept { return !sources_.isEmpty(); }

  // Highlight rules (first match wins). Arriving rows are marked once in sync() (the newest
  // 4096 of a tick; older rows of a flood, and the retained rows after a rule change or a
  // re-filter, are marked once each when first asked): never per repaint.
  void set_highlight_rules(const std::vector<highlight_rule>& rules);
  // The 0xRRGGBB background of `row`'s winning rule, or -1 when no rule matches it.
  std::int64_t highlight_at(int row) const;

  // Display options.
  void set_time_options(time_mode mode, bool utc);
  time_mode time_display() const noexcept { return time_mode_; }
  bool utc() const noexcept { return utc_; }
  // The reference of time_mode::since_attach (wall-clock unix ns).
  void set_attach_time(std::int64_t unix_ns) noexcept { attach_ns_ = unix_ns; }

  // The text of one cell, as the table shows it (display role).
  QString cell_text(int row, int column) const;
  // Whether `row` starts a new day (the time column then shows the date too).
  bool date_changes_at(int row) const;
  // Rows removed from the top since the last reset: row + removed_rows() numbers a row the same
  // way for as long as it stays (stable stripes while rows are evicted above it).
  std::uint64_t removed_rows() const noexcept { return removed_rows_; }
  // Per-level totals of the history the table shows (while paused: the frozen history, so a
  // visible count never exceeds its total).
  const std::array<std::uint64_t, level_slots>& total_levels() const noexcept;

  // Lookups.
  const store_view& view() const noexcept { return view_; }
  std::uint64_t serial_at(int row) const { return rows_[static_cast<std::size_t>(row)]; }
  const entry& entry_at(int row) const { return view_.at(serial_at(row)); }
  int row_of(std::uint64_t serial) const;  // exact row, or -1
  int row_at_or_after(std::uint64_t serial) const;
  std::vector<std::uint64_t> visible_serials() const { return {rows_.begin(), rows_.end()}; }
  const std::array<std::uint64_t, level_slots>& visible_levels() const noexcept {
    return visible_levels_;
  }
  std::shared_ptr<const tag_table> tags() const { return tags_; }

  // Navigation: the next/previous gap row or row whose message contains `text`, starting after
  // (before) `from_row` and wrapping around; -1 when there is none.
  int find_gap(int from_row, bool forward) const;
  int find_text(int from_row, bool forward, const QString& text, bool case_sensitive) const;

  // Text of one row as "time level [tag] thread message" (for copying).
  QString row_text(int row) const;

  // Bookmarks of this table (by serial; kept while their rows stay in the history).
  const bookmark_set& bookmarks() const noexcept { return bookmarks_; }
  // Returns whether `serial` is bookmarked now.
  bool toggle_bookmark(std::uint64_t serial);
  // The row of the next (previous) bookmark the filter shows, wrapping; -1 when none.
  int next_bookmark(std::uint64_t from_serial, bool forward) const;
  // After the store evicted rows outside a tick (clear): drops their rows and bookmarks, even
  // while paused.
  void drop_evicted();

 signals:
  void refilterStarted();
  void refilterFinished();
  // Bookmarks were added, removed or dropped with their rows.
  void bookmarksChanged();

 private:
  friend struct refilter_job;
  void start_job(std::uint64_t from, std::uint64_t to);
  void apply_job();
  // Bytes of formatted-message caches a pass over the history may leave with the pages.
  std::uint64_t formatted_allowance() const;
  void remove_front(std::uint64_t first_kept);
  void drop_old_bookmarks(std::uint64_t first_kept);
  void count_row(const entry& row, int sign);
  QVariant display(const entry& row, std::uint64_t serial, int row_index, int column) const;
  // The message column's line for a row; deferred rows are formatted once and cached.
  QString cached_line(const entry& row, std::uint64_t serial) const;

  const entry_store* store_;
  std::shared_ptr<const tag_table> tags_;
  store_view view_;
  std::deque<std::uint64_t> rows_;
  // One mark per row of rows_: 0 = no rule, i = rule i (1-based), unmarked = not computed yet.
  static constexpr std::uint8_t unmarked = 0xFF;
  mutable std::deque<std::uint8_t> marks_;
  mutable highlighter highlighter_;
  std::array<std::uint64_t, level_slots> visible_levels_{};

  std::shared_ptr<const filter_spec> spec_;
  std::uint64_t generation_ = 0;
  filter_engine engine_;
  std::shared_ptr<refilter_job> job_;

  bool paused_ = false;
  std::uint64_t arrivals_since_pause_ = 0;
  std::array<std::uint64_t, level_slots> frozen_totals_{};
  std::uint64_t removed_rows_ = 0;
  time_mode time_mode_ = time_mode::time_of_day;
  bool utc_ = false;
  std::int64_t attach_ns_ = 0;
  mutable time_of_day_cache clock_text_;
  // The lines of recently shown deferred rows (the rows on screen, repainted every tick),
  // direct-mapped by serial; a slot is valid while its key (serial and text) matches.
  struct line_slot {
    std::uint64_t serial = 0;
    const char* text = nullptr;
    QString line;
  };
  static constexpr std::size_t line_slots = 512;
  mutable std::vector<line_slot> lines_;
  mutable std::string line_scratch_;
  QStringList sources_;
  bookmark_set bookmarks_;
};

}  // namespace ouroboros::viewer
