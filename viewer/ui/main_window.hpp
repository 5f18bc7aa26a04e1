// The main window: attach bar (name with completion and a visible error), segment list dock,
// tabs, menus with a shortcut for every action, and a status bar that belongs to notices and
// background jobs (each tab carries its own status strip, so nothing covers a notice).
//
// Only wiring and persistence (QSettings: geometry, recent names, time display, zoom, history
// limits).
//
// Thread-safety: GUI thread only.
#pragma once

#include <QMainWindow>
#include <QPointer>

#include "data/bulk_job.hpp"
#include "data/entry_store.hpp"
#include "data/highlight.hpp"
#include "data/log_model.hpp"
#include "data/session_state.hpp"

class QAction;
class QMenu;
class QActionGroup;
class QDockWidget;
class QLabel;
class QLineEdit;
class QMenu;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QStringListModel;
class QTabWidget;
class QTableView;
class QTimer;
class QToolButton;

namespace ouroboros::viewer {

class segment_catalog;
class segment_tab;
class stable_label;

class main_window : public QMainWindow {
  Q_OBJECT

 public:
  explicit main_window(QWidget* parent = nullptr);
  ~main_window() override;

  // Opens (or switches to) a tab for `name` and gives its table the keyboard focus; returns it,
  // or nullptr for an invalid name (the reason then shows next to the name field).
  segment_tab* attach(const QString& name);
  segment_tab* current_tab() const;
  // Opens a merged view of the named segments (two or more, at most 64) in a new tab; returns
  // it, or nullptr (and says why) when a name is invalid or fewer than two are given.
  segment_tab* open_merged(const QStringList& names);
  // The names selected in the segment list.
  QStringList selected_segments() const;
  QTabWidget* tabs() const noexcept { return tabs_; }
  segment_catalog* catalog() const noexcept { return catalog_; }
  QTableView* segment_list() const noexcept { return segments_view_; }
  QDockWidget* segment_dock() const noexcept { return segments_dock_; }
  QLineEdit* attach_field() const noexcept { return attach_field_; }
  QLabel* attach_error() const noexcept { return attach_error_; }
  stable_label* notice() const noexcept { return notice_; }
  QStringList recent() const { return recent_; }
  void set_history_limits(const history_limits& limits);
  // The running copy or export, if any (tests wait for it).
  bulk_job* running_job() const { return job_; }
  // Finds an action by its objectName ("pause", "follow", "copy", ...) for tests and menus.
  QAction* action(const QString& name) const;

  // Highlight rules of every tab (Settings > Highlight rules…; saved in the settings).
  const std::vector<highlight_rule>& highlight_rules() const noexcept { return highlight_rules_; }
  void set_highlight_rules(std::vector<highlight_rule> rules);
  // View > Theme: "system" (the platform's style and palette), "light" or "dark" (Fusion with
  // a light or dark palette). Applies to the whole application; saved in the settings.
  void set_theme(const QString& theme);
  QString theme() const { return theme_; }
  // Session restore: the open tabs and merged views with their filters. The session is saved
  // when the window closes; restore_session() reopens it (segments that do not exist yet are
  // attached when they appear) and returns how many views it opened.
  saved_session session_state() const;
  int restore_session();
  // Start-up: the saved session unless `restore` is false (--no-restore), then the segments and
  // merged views named on the command line in addition (an open one is switched to, so the last
  // named is current).
  void open_startup_views(bool restore, const QStringList& segments, const QStringList& merges);

  // The Help > About text: the project version and the byte-layout versions this viewer reads.
  static QString about_text();

  // Shows a notice in the status bar for a few seconds (errors stay longer).
  void notify(const QString& text, bool error = false);

  // Copies the selected rows (or messages) of the current tab; runs in the background (after
  // asking) beyond `bulk_copy_rows`.
  void copy_rows(bool messages_only);
  static constexpr std::uint64_t bulk_copy_rows = 10'000;
  // Exports rows of the current tab to `path` in the background; the scope is the selection
  // when `selection_only`, else every visible row.
  void export_rows_to(const QString& path, bool selection_only);

 protected:
  void closeEvent(QCloseEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void build_actions();
  // Highlight rules, theme and session: their menu entries and settings (main_window_prefs.cpp).
  void build_prefs(QMenu* view, QMenu* settings);
  void edit_highlight_rules();
  void build_ui();
  // Bookmarks, clear and hide gap rows: their actions, in `menu`.
  void build_daily_actions(QMenu* menu);
  void attach_from_field();
  void remember(const QString& name);
  void refresh_completion();
  void refresh_catalog();
  void update_tab_title(segment_tab* tab);
  void add_tab(segment_tab* tab, const QString& title);
  void merge_tabs_dialog();
  void on_current_tab_changed();
  void export_current();
  void edit_history_limits();
  void close_tab(int index);
  void apply_time_options();
  void apply_zoom();
  void start_job(bulk_job* job, const QString& what);
  void set_pause_action(bool paused);

  QLineEdit* attach_field_ = nullptr;
  QLabel* attach_error_ = nullptr;
  QAction* attach_error_action_ = nullptr;
  QStringListModel* completion_ = nullptr;
  QStackedWidget* stack_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QDockWidget* segments_dock_ = nullptr;
  QTableView* segments_view_ = nullptr;
  segment_catalog* catalog_ = nullptr;
  QTimer* catalog_timer_ = nullptr;
  stable_label* notice_ = nullptr;
  QTimer* notice_timer_ = nullptr;
  QProgressBar* job_progress_ = nullptr;
  QToolButton* job_cancel_ = nullptr;
  QTimer* job_timer_ = nullptr;
  QPointer<bulk_job> job_;
  QStringList recent_;
  history_limits limits_;
  QByteArray header_state_;
  int zoom_ = 0;
  std::vector<highlight_rule> highlight_rules_;
  QString theme_ = QStringLiteral("system");
  QActionGroup* themes_ = nullptr;

  QAction* pause_ = nullptr;
  QAction* follow_ = nullptr;
  QAction* utc_ = nullptr;
  QActionGroup* time_modes_ = nullptr;
  QAction* time_of_day_ = nullptr;
  QAction* delta_ = nullptr;
  QAction* since_attach_ = nullptr;
  QAction* next_gap_ = nullptr;
  QAction* previous_gap_ = nullptr;
  QAction* find_ = nullptr;
  QAction* find_next_ = nullptr;
  QAction* find_previous_ = nullptr;
  QAction* copy_ = nullptr;
  QAction* copy_messages_ = nullptr;
  QAction* select_all_ = nullptr;
  QAction* export_ = nullptr;
  QAction* close_tab_ = nullptr;
  QAction* next_tab_ = nullptr;
  QAction* previous_tab_ = nullptr;
  QAction* focus_filter_ = nullptr;
  QAction* focus_table_ = nullptr;
  QAction* attach_action_ = nullptr;
  QAction* open_merged_ = nullptr;
  QAction* merge_tabs_ = nullptr;
  QAction* zoom_in_ = nullptr;
  QAction* zoom_out_ = nullptr;
  QAction* zoom_reset_ = nullptr;
  QAction* toggle_bookmark_ = nullptr;
  QAction* hide_gaps_ = nullptr;
};

}  // namespace ouroboros::viewer
