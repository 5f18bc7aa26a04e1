// One tab: a segment session with its state banner, filters, search, table and detail pane.
//
// Only wiring: the session does the work; the tab shows its state and forwards user actions.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QWidget>
#include <memory>

#include "data/segment_session.hpp"

class QLabel;
class QLineEdit;
class QCheckBox;
class QPlainTextEdit;
class QProgressBar;
class QSplitter;

namespace ouroboros::viewer {

class filter_bar;
class log_view;

class segment_tab : public QWidget {
  Q_OBJECT

 public:
  segment_tab(session_options options, QWidget* parent = nullptr);
  ~segment_tab() override;

  segment_session& session() noexcept { return *session_; }
  log_view* view() const noexcept { return view_; }
  filter_bar* filters() const noexcept { return filters_; }
  QString name() const { return session_->name(); }

  // User actions (the main window's menus and shortcuts call these).
  void set_paused(bool paused);
  bool paused() const { return session_->paused(); }
  void follow();
  void next_gap(bool forward);
  void show_search();
  void find(bool forward);
  void copy_selection();
  void set_time_options(bool utc, bool delta);
  // Writes the visible rows to `file_name` on a pool thread; `done` reports the outcome.
  void export_visible(const QString& file_name);

  // One line for the status bar, and a short state for the tab title.
  QString status_line() const;
  QString state_text() const;
  QByteArray splitter_state() const;
  void restore_splitter(const QByteArray& state);

 signals:
  void statusChanged();
  void exportFinished(const QString& message);
  void pausedChanged(bool paused);
  void followingChanged(bool following);

 private:
  void on_tick();
  void update_banner();
  void show_detail(int row);

  std::unique_ptr<segment_session> session_;
  QLabel* banner_;
  filter_bar* filters_;
  QLabel* pause_badge_;
  QProgressBar* progress_;
  QWidget* search_bar_;
  QLineEdit* search_text_;
  QCheckBox* search_case_;
  QLabel* search_result_;
  QSplitter* splitter_;
  log_view* view_;
  QPlainTextEdit* detail_;
  std::uint64_t detail_serial_ = 0;
  int ticks_ = 0;
  QString last_banner_;
};

}  // namespace ouroboros::viewer
