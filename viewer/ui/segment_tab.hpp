// One tab: a segment session (or a merged view of several segments) with its banner, filters,
// hold indicator, search, table, detail pane and status strip. A merged tab adds a row of
// per-segment toggles in the segments' colours and a status strip with each segment's state,
// rate and loss.
//
// Only wiring: the session does the work; the tab shows its state and forwards user actions.
// Every text it shows lives in a widget of fixed size (stable_text.hpp), updated four times a
// second and only when the text changes, so nothing here relays out the window.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QElapsedTimer>
#include <QWidget>
#include <memory>
#include <vector>

#include "data/merged_session.hpp"
#include "data/segment_session.hpp"

class QLabel;
class QLineEdit;
class QCheckBox;
class QPlainTextEdit;
class QProgressBar;
class QSplitter;
class QToolButton;
class QFrame;
class QListWidget;
class QMenu;

namespace ouroboros::viewer {

class filter_bar;
class log_view;
class stable_label;
class status_strip;
class timeline_strip;

class segment_tab : public QWidget {
  Q_OBJECT

 public:
  segment_tab(session_options options, QWidget* parent = nullptr);
  // A merged view of several segments.
  segment_tab(merged_options options, QWidget* parent = nullptr);
  ~segment_tab() override;

  // The session of a one-segment tab (merged tabs have merged() instead).
  segment_session& session() noexcept { return *session_; }
  merged_session* merged() const noexcept { return merged_.get(); }
  log_model* model() const noexcept;
  void set_limits(const history_limits& limits);
  // Merged tabs: which segments are shown (bit i hides segment i).
  void set_hidden_segments(std::uint64_t mask);
  std::uint64_t hidden_segments() const noexcept { return hidden_segments_; }
  // The timeline strip, and the time range chosen on it (no_time: none).
  timeline_strip* time_strip() const noexcept { return strip_; }
  void set_time_range(std::int64_t from_ns, std::int64_t to_ns);
  std::pair<std::int64_t, std::int64_t> time_range() const { return {range_from_, range_to_}; }
  // Makes the first row at or after `time_ns` current (a click on the timeline).
  void go_to_time(std::int64_t time_ns);
  log_view* view() const noexcept { return view_; }
  // The pane under the table with the selected row's whole message, fields and details.
  const QPlainTextEdit* detail_pane() const noexcept { return detail_; }
  filter_bar* filters() const noexcept { return filters_; }
  status_strip* status() const noexcept { return status_; }
  stable_label* hold_indicator() const noexcept { return hold_; }
  QString name() const { return session_ ? session_->name() : merged_->name(); }

  // User actions (the main window's menus and shortcuts call these).
  void set_paused(bool paused);
  bool paused() const { return model()->paused(); }
  void follow();  // also resumes a paused tab
  void next_gap(bool forward);
  void show_search();
  void find(bool forward);
  void set_time_options(time_mode mode, bool utc);

  // Daily-driver conveniences.
  void toggle_bookmark();  // on the current row
  void next_bookmark(bool forward);
  void go_to_serial(std::uint64_t serial);  // a bookmark in the list; says so when filtered out
  QListWidget* bookmark_list() const noexcept { return bookmark_list_; }
  // Empties the table's history (reading goes on); returns how many rows it dropped.
  std::uint64_t clear_history();
  void set_hide_gaps(bool hide);
  bool hide_gaps() const noexcept { return hide_gaps_; }
  // Every filter off and a time range of +-seconds around the row; the row becomes current.
  void show_around(std::uint64_t serial, int seconds);
  // Adds the row-specific entries (filter to this tag/thread/level, exclude tag, show around)
  // for the current row to a context menu.
  void fill_row_menu(QMenu& menu);

  // Rows for copy and export (serials in table order).
  std::vector<std::uint64_t> selected_serials() const;
  std::vector<std::uint64_t> visible_serials() const;
  // Text of the rows (as exported), or of their messages only.
  QString rows_text(const std::vector<std::uint64_t>& serials, bool messages_only) const;

  // A short state for the tab title: a mark and whether it is a problem.
  QString state_mark() const;
  QString state_text() const;
  QByteArray splitter_state() const;
  void restore_splitter(const QByteArray& state);

 signals:
  void statusChanged();
  void pausedChanged(bool paused);
  void followingChanged(bool following);

 private:
  void build();
  void apply_filter();
  const poll_status& poller_status() const;
  void update_merged_status();
  void on_tick();
  void update_banner();
  void update_status();
  void update_hold_indicator();
  void show_detail(std::uint64_t serial);

  std::unique_ptr<segment_session> session_;
  std::unique_ptr<merged_session> merged_;
  std::vector<QToolButton*> segment_toggles_;
  timeline_strip* strip_ = nullptr;
  unsigned strip_updates_ = 0;
  QToolButton* clear_range_ = nullptr;
  std::int64_t range_from_ = no_time;
  std::int64_t range_to_ = no_time;
  void update_strip_band();
  std::uint64_t hidden_segments_ = 0;
  QFrame* banner_;
  QLabel* banner_text_;
  QToolButton* banner_close_;
  filter_bar* filters_;
  stable_label* hold_;
  QProgressBar* progress_;
  QWidget* search_bar_;
  QLineEdit* search_text_;
  QCheckBox* search_case_;
  QLabel* search_result_;
  QSplitter* splitter_;
  log_view* view_;
  QPlainTextEdit* detail_;
  status_strip* status_;
  std::uint64_t detail_serial_ = 0;
  int ticks_ = 0;
  QElapsedTimer text_clock_;
  bool shown_evicted_ = false;
  static constexpr qint64 text_interval_ms = 500;
  QString last_banner_;
  std::uint64_t dismissed_deaths_ = 0;
  void update_bookmark_list();
  QWidget* bookmark_panel_ = nullptr;
  QLabel* bookmark_note_ = nullptr;
  QListWidget* bookmark_list_ = nullptr;
  bool hide_gaps_ = false;
  QString cleared_note_;              // "cleared N rows at hh:mm:ss"
  std::uint64_t pending_serial_ = 0;  // made current once a re-filter is applied  // restarts after
                                      // a dead writer the user has dismissed
};

}  // namespace ouroboros::viewer
