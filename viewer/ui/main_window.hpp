// The main window: attach bar (name with completion), segment list, tabs, menus, status bar.
//
// Only wiring and persistence (QSettings: geometry, recent names, time display, history limits).
//
// Thread-safety: GUI thread only.
#pragma once

#include <QMainWindow>

#include "data/entry_store.hpp"

class QAction;
class QDockWidget;
class QLabel;
class QLineEdit;
class QStackedWidget;
class QStringListModel;
class QTabWidget;
class QTableView;
class QTimer;

namespace ouroboros::viewer {

class segment_catalog;
class segment_tab;

class main_window : public QMainWindow {
  Q_OBJECT

 public:
  explicit main_window(QWidget* parent = nullptr);
  ~main_window() override;

  // Opens (or switches to) a tab for `name`; returns it, or nullptr for an invalid name.
  segment_tab* attach(const QString& name);
  segment_tab* current_tab() const;
  QTabWidget* tabs() const noexcept { return tabs_; }
  segment_catalog* catalog() const noexcept { return catalog_; }
  QStringList recent() const { return recent_; }
  void set_history_limits(const history_limits& limits);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void build_actions();
  void build_ui();
  void attach_from_field();
  void remember(const QString& name);
  void refresh_completion();
  void refresh_catalog();
  void update_status();
  void update_tab_title(segment_tab* tab);
  void on_current_tab_changed();
  void export_current();
  void edit_history_limits();
  void close_tab(int index);

  QLineEdit* attach_field_ = nullptr;
  QStringListModel* completion_ = nullptr;
  QStackedWidget* stack_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QDockWidget* segments_dock_ = nullptr;
  QTableView* segments_view_ = nullptr;
  segment_catalog* catalog_ = nullptr;
  QTimer* catalog_timer_ = nullptr;
  QLabel* status_ = nullptr;
  QStringList recent_;
  history_limits limits_;
  QByteArray header_state_;

  QAction* pause_ = nullptr;
  QAction* follow_ = nullptr;
  QAction* utc_ = nullptr;
  QAction* delta_ = nullptr;
  QAction* next_gap_ = nullptr;
  QAction* previous_gap_ = nullptr;
  QAction* find_ = nullptr;
  QAction* find_next_ = nullptr;
  QAction* find_previous_ = nullptr;
  QAction* copy_ = nullptr;
  QAction* export_ = nullptr;
  QAction* close_tab_ = nullptr;
  QAction* focus_filter_ = nullptr;
};

}  // namespace ouroboros::viewer
