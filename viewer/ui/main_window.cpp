#include "ui/main_window.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCompleter>
#include <QDockWidget>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPushButton>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStringListModel>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include "data/segment_catalog.hpp"
#include "ouroboros/segment.hpp"
#include "ui/filter_bar.hpp"
#include "ui/log_view.hpp"
#include "ui/segment_tab.hpp"

namespace ouroboros::viewer {

namespace {
constexpr int max_recent = 15;
QSettings settings() {
  return QSettings(QStringLiteral("ouroboros"), QStringLiteral("viewer"));
}
}  // namespace

main_window::main_window(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("Ouroboros log viewer"));
  setWindowIcon(QIcon(QStringLiteral(":/ouroboros/ouroboros-viewer.png")));
  {
    QSettings s = settings();
    recent_ = s.value(QStringLiteral("recent")).toStringList();
    limits_.max_entries =
        s.value(QStringLiteral("history/max_entries"), qulonglong{limits_.max_entries})
            .toULongLong();
    limits_.max_bytes =
        s.value(QStringLiteral("history/max_bytes"), qulonglong{limits_.max_bytes}).toULongLong();
    header_state_ = s.value(QStringLiteral("table/header")).toByteArray();
  }
  build_actions();
  build_ui();
  {
    QSettings s = settings();
    utc_->setChecked(s.value(QStringLiteral("time/utc"), false).toBool());
    delta_->setChecked(s.value(QStringLiteral("time/delta"), false).toBool());
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray()))
      resize(1280, 800);
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
  }
  refresh_completion();
  refresh_catalog();
}

main_window::~main_window() = default;

void main_window::build_actions() {
  auto make = [this](const QString& text, const QKeySequence& key, auto slot) {
    auto* action = new QAction(text, this);
    if (!key.isEmpty()) action->setShortcut(key);
    connect(action, &QAction::triggered, this, slot);
    addAction(action);
    return action;
  };
  pause_ = make(tr("&Pause"), QKeySequence(Qt::Key_Space), [this](bool on) {
    if (auto* tab = current_tab()) tab->set_paused(on);
  });
  pause_->setCheckable(true);
  pause_->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
  pause_->setToolTip(tr("Freeze the view; reading goes on (Space)"));
  follow_ = make(tr("&Follow newest"), QKeySequence(Qt::Key_End), [this] {
    if (auto* tab = current_tab()) tab->follow();
    follow_->setChecked(true);
  });
  follow_->setCheckable(true);
  follow_->setChecked(true);
  follow_->setIcon(style()->standardIcon(QStyle::SP_ArrowDown));
  follow_->setToolTip(tr("Stick to the newest row (End)"));
  previous_gap_ = make(tr("P&revious gap"), QKeySequence(tr("Ctrl+Shift+G")), [this] {
    if (auto* tab = current_tab()) tab->next_gap(false);
  });
  previous_gap_->setIcon(style()->standardIcon(QStyle::SP_MediaSkipBackward));
  next_gap_ = make(tr("&Next gap"), QKeySequence(tr("Ctrl+G")), [this] {
    if (auto* tab = current_tab()) tab->next_gap(true);
  });
  next_gap_->setIcon(style()->standardIcon(QStyle::SP_MediaSkipForward));
  find_ = make(tr("&Find\u2026"), QKeySequence::Find, [this] {
    if (auto* tab = current_tab()) tab->show_search();
  });
  find_next_ = make(tr("Find next"), QKeySequence(Qt::Key_F3), [this] {
    if (auto* tab = current_tab()) tab->find(true);
  });
  find_previous_ = make(tr("Find previous"), QKeySequence(Qt::SHIFT | Qt::Key_F3), [this] {
    if (auto* tab = current_tab()) tab->find(false);
  });
  focus_filter_ = make(tr("Filter messages"), QKeySequence(tr("Ctrl+L")), [this] {
    if (auto* tab = current_tab()) tab->filters()->focus_text();
  });
  copy_ = make(tr("&Copy rows"), QKeySequence::Copy, [this] {
    // Text fields keep their own Ctrl+C (they take the shortcut first).
    if (auto* tab = current_tab()) tab->copy_selection();
  });
  export_ = make(tr("&Export visible rows\u2026"), QKeySequence(tr("Ctrl+E")),
                 [this] { export_current(); });
  export_->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
  close_tab_ =
      make(tr("&Close tab"), QKeySequence::Close, [this] { close_tab(tabs_->currentIndex()); });
  utc_ = make(tr("Times in &UTC"), {}, [this] {
    for (int i = 0; i < tabs_->count(); ++i) {
      static_cast<segment_tab*>(tabs_->widget(i))
          ->set_time_options(utc_->isChecked(), delta_->isChecked());
    }
  });
  utc_->setCheckable(true);
  delta_ = make(tr("&Delta times"), QKeySequence(tr("Ctrl+D")), [this] {
    for (int i = 0; i < tabs_->count(); ++i) {
      static_cast<segment_tab*>(tabs_->widget(i))
          ->set_time_options(utc_->isChecked(), delta_->isChecked());
    }
  });
  delta_->setCheckable(true);
}

void main_window::build_ui() {
  auto* file = menuBar()->addMenu(tr("&File"));
  auto* attach_action = file->addAction(tr("&Attach to segment\u2026"), this, [this] {
    attach_field_->setFocus();
    attach_field_->selectAll();
  });
  attach_action->setShortcut(QKeySequence::Open);
  file->addAction(export_);
  file->addSeparator();
  file->addAction(close_tab_);
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  auto* edit = menuBar()->addMenu(tr("&Edit"));
  edit->addAction(copy_);
  edit->addSeparator();
  edit->addAction(find_);
  edit->addAction(find_next_);
  edit->addAction(find_previous_);
  edit->addAction(focus_filter_);

  auto* view = menuBar()->addMenu(tr("&View"));
  view->addAction(pause_);
  view->addAction(follow_);
  view->addSeparator();
  view->addAction(previous_gap_);
  view->addAction(next_gap_);
  view->addSeparator();
  view->addAction(utc_);
  view->addAction(delta_);

  auto* settings_menu = menuBar()->addMenu(tr("&Settings"));
  settings_menu->addAction(tr("&History limits\u2026"), this, &main_window::edit_history_limits);

  auto* bar = addToolBar(tr("Main"));
  bar->setObjectName(QStringLiteral("main_toolbar"));
  bar->setMovable(false);
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  bar->addWidget(new QLabel(tr(" Segment: "), bar));
  attach_field_ = new QLineEdit(bar);
  attach_field_->setPlaceholderText(tr("name of a log segment"));
  attach_field_->setClearButtonEnabled(true);
  attach_field_->setMinimumWidth(260);
  attach_field_->setMaximumWidth(360);
  completion_ = new QStringListModel(this);
  auto* completer = new QCompleter(completion_, this);
  completer->setCaseSensitivity(Qt::CaseInsensitive);
  completer->setFilterMode(Qt::MatchContains);
  attach_field_->setCompleter(completer);
  connect(attach_field_, &QLineEdit::returnPressed, this, &main_window::attach_from_field);
  bar->addWidget(attach_field_);
  auto* open = new QPushButton(tr("Attach"), bar);
  connect(open, &QPushButton::clicked, this, &main_window::attach_from_field);
  bar->addWidget(open);
  bar->addSeparator();
  bar->addAction(pause_);
  bar->addAction(follow_);
  bar->addSeparator();
  bar->addAction(previous_gap_);
  bar->addAction(next_gap_);
  bar->addSeparator();
  bar->addAction(export_);

  stack_ = new QStackedWidget(this);
  auto* welcome = new QLabel(stack_);
  welcome->setAlignment(Qt::AlignCenter);
  welcome->setWordWrap(true);
  welcome->setText(
      tr("<h2>No segment open</h2><p>Type a segment name above and press Enter, or double-click a "
         "segment in the list on the left.<br>The viewer waits for a segment that does not exist "
         "yet.</p>"));
  tabs_ = new QTabWidget(stack_);
  tabs_->setTabsClosable(true);
  tabs_->setMovable(true);
  tabs_->setDocumentMode(true);
  connect(tabs_, &QTabWidget::tabCloseRequested, this, &main_window::close_tab);
  connect(tabs_, &QTabWidget::currentChanged, this, &main_window::on_current_tab_changed);
  stack_->addWidget(welcome);
  stack_->addWidget(tabs_);
  setCentralWidget(stack_);

  segments_dock_ = new QDockWidget(tr("Log segments on this machine"), this);
  segments_dock_->setObjectName(QStringLiteral("segments_dock"));
  auto* dock_body = new QWidget(segments_dock_);
  auto* dock_layout = new QVBoxLayout(dock_body);
  dock_layout->setContentsMargins(4, 4, 4, 4);
  catalog_ = new segment_catalog(this);
  segments_view_ = new QTableView(dock_body);
  segments_view_->setModel(catalog_);
  segments_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  segments_view_->setSelectionMode(QAbstractItemView::SingleSelection);
  segments_view_->verticalHeader()->hide();
  segments_view_->setShowGrid(false);
  segments_view_->horizontalHeader()->setStretchLastSection(true);
  segments_view_->setWordWrap(false);
  segments_view_->setTextElideMode(Qt::ElideMiddle);
  segments_view_->verticalHeader()->setDefaultSectionSize(segments_view_->fontMetrics().height() +
                                                          6);
  segments_view_->setColumnWidth(segment_catalog::col_name, 140);
  segments_view_->setColumnWidth(segment_catalog::col_writer, 120);
  segments_view_->setColumnWidth(segment_catalog::col_size, 64);
  segments_view_->setColumnWidth(segment_catalog::col_rate, 64);
  connect(segments_view_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    attach(catalog_->rows()[static_cast<std::size_t>(index.row())].name);
  });
  auto* refresh = new QPushButton(tr("Refresh"), dock_body);
  connect(refresh, &QPushButton::clicked, this, &main_window::refresh_catalog);
  auto* hint =
      new QLabel(tr("Double-click to open. Rates are measured between refreshes."), dock_body);
  hint->setWordWrap(true);
  dock_layout->addWidget(segments_view_, 1);
  dock_layout->addWidget(hint);
  dock_layout->addWidget(refresh);
  segments_dock_->setWidget(dock_body);
  addDockWidget(Qt::LeftDockWidgetArea, segments_dock_);
  view->addSeparator();
  view->addAction(segments_dock_->toggleViewAction());
  // Docks take their size once the window is laid out.
  QTimer::singleShot(0, this, [this] {
    if (segments_dock_->width() < 400) resizeDocks({segments_dock_}, {460}, Qt::Horizontal);
  });

  catalog_timer_ = new QTimer(this);
  catalog_timer_->setInterval(2000);
  connect(catalog_timer_, &QTimer::timeout, this, [this] {
    if (segments_dock_->isVisible()) refresh_catalog();
  });
  catalog_timer_->start();

  status_ = new QLabel(this);
  status_->setTextFormat(Qt::RichText);
  statusBar()->addPermanentWidget(status_, 1);
}

segment_tab* main_window::current_tab() const {
  return static_cast<segment_tab*>(tabs_->currentWidget());
}

segment_tab* main_window::attach(const QString& raw_name) {
  QString name = raw_name.trimmed();
  if (name.startsWith(QLatin1Char('/'))) name.remove(0, 1);
  try {
    canonical_segment_name(name.toStdString());
  } catch (const segment_error& e) {
    statusBar()->showMessage(tr("Invalid segment name: %1").arg(QString::fromUtf8(e.what())), 8000);
    return nullptr;
  }
  for (int i = 0; i < tabs_->count(); ++i) {
    auto* tab = static_cast<segment_tab*>(tabs_->widget(i));
    if (tab->name() == name) {
      tabs_->setCurrentIndex(i);
      return tab;
    }
  }
  session_options options;
  options.poller.name = name.toStdString();
  options.limits = limits_;
  auto* tab = new segment_tab(options, tabs_);
  tab->set_time_options(utc_->isChecked(), delta_->isChecked());
  if (!header_state_.isEmpty()) tab->view()->horizontalHeader()->restoreState(header_state_);
  connect(tab, &segment_tab::statusChanged, this, [this, tab] {
    update_tab_title(tab);
    if (tab == current_tab()) update_status();
  });
  connect(tab, &segment_tab::exportFinished, this,
          [this](const QString& message) { statusBar()->showMessage(message, 10000); });
  connect(tab, &segment_tab::pausedChanged, this, [this, tab](bool paused) {
    if (tab == current_tab()) pause_->setChecked(paused);
  });
  connect(tab, &segment_tab::followingChanged, this, [this, tab](bool following) {
    if (tab == current_tab()) follow_->setChecked(following);
  });
  const int index = tabs_->addTab(tab, name);
  tabs_->setCurrentIndex(index);
  stack_->setCurrentWidget(tabs_);
  remember(name);
  update_tab_title(tab);
  return tab;
}

void main_window::attach_from_field() {
  if (attach(attach_field_->text())) attach_field_->clear();
}

void main_window::remember(const QString& name) {
  recent_.removeAll(name);
  recent_.prepend(name);
  while (recent_.size() > max_recent) recent_.removeLast();
  settings().setValue(QStringLiteral("recent"), recent_);
  refresh_completion();
}

void main_window::refresh_completion() {
  QStringList names = recent_;
  for (const QString& n : catalog_ ? catalog_->names() : QStringList()) {
    if (!names.contains(n)) names << n;
  }
  if (completion_->stringList() != names) completion_->setStringList(names);
}

void main_window::refresh_catalog() {
  catalog_->refresh();
  refresh_completion();
}

void main_window::update_tab_title(segment_tab* tab) {
  const int index = tabs_->indexOf(tab);
  if (index < 0) return;
  const poll_status& s = tab->session().stats().poller;
  QString mark;
  switch (s.state) {
    case segment_state::attached: mark = QStringLiteral("\u25CF "); break;
    case segment_state::waiting: mark = QStringLiteral("\u25CB "); break;
    default: mark = QStringLiteral("\u26A0 "); break;
  }
  const QString title = mark + tab->name() + (tab->paused() ? tr(" (paused)") : QString());
  if (tabs_->tabText(index) != title) tabs_->setTabText(index, title);
  tabs_->setTabToolTip(index, tab->state_text());
}

void main_window::update_status() {
  auto* tab = current_tab();
  status_->setText(tab ? tab->status_line() : QString());
}

void main_window::on_current_tab_changed() {
  auto* tab = current_tab();
  if (!tab) {
    stack_->setCurrentIndex(0);
    status_->clear();
    return;
  }
  pause_->setChecked(tab->paused());
  follow_->setChecked(tab->view()->following());
  update_status();
}

void main_window::close_tab(int index) {
  if (index < 0) return;
  auto* tab = static_cast<segment_tab*>(tabs_->widget(index));
  header_state_ = tab->view()->horizontalHeader()->saveState();
  tabs_->removeTab(index);
  delete tab;
  if (tabs_->count() == 0) stack_->setCurrentIndex(0);
}

void main_window::export_current() {
  auto* tab = current_tab();
  if (!tab) return;
  QString selected;
  const QString file = QFileDialog::getSaveFileName(
      this, tr("Export visible rows"), tab->name() + QStringLiteral(".log"),
      tr("Text (*.log *.txt);;JSON lines (*.jsonl);;CSV (*.csv)"), &selected);
  if (file.isEmpty()) return;
  QString path = file;
  if (!path.contains(QLatin1Char('.'))) {
    path += selected.startsWith(QStringLiteral("JSON"))  ? QStringLiteral(".jsonl")
            : selected.startsWith(QStringLiteral("CSV")) ? QStringLiteral(".csv")
                                                         : QStringLiteral(".log");
  }
  statusBar()->showMessage(tr("Exporting to %1\u2026").arg(path));
  tab->export_visible(path);
}

void main_window::set_history_limits(const history_limits& limits) {
  limits_ = limits;
  for (int i = 0; i < tabs_->count(); ++i)
    static_cast<segment_tab*>(tabs_->widget(i))->session().set_limits(limits);
  QSettings s = settings();
  s.setValue(QStringLiteral("history/max_entries"), qulonglong{limits.max_entries});
  s.setValue(QStringLiteral("history/max_bytes"), qulonglong{limits.max_bytes});
}

void main_window::edit_history_limits() {
  bool ok = false;
  const int entries = QInputDialog::getInt(
      this, tr("History limits"), tr("Entries kept per segment (oldest are evicted):"),
      static_cast<int>(std::min<std::uint64_t>(limits_.max_entries, 100'000'000)), 1000,
      100'000'000, 100'000, &ok);
  if (!ok) return;
  const int mib =
      QInputDialog::getInt(this, tr("History limits"), tr("Memory cap per segment (MiB):"),
                           static_cast<int>(limits_.max_bytes >> 20), 16, 65536, 64, &ok);
  if (!ok) return;
  set_history_limits({static_cast<std::uint64_t>(entries), static_cast<std::uint64_t>(mib) << 20});
}

void main_window::closeEvent(QCloseEvent* event) {
  QSettings s = settings();
  s.setValue(QStringLiteral("window/geometry"), saveGeometry());
  s.setValue(QStringLiteral("window/state"), saveState());
  s.setValue(QStringLiteral("time/utc"), utc_->isChecked());
  s.setValue(QStringLiteral("time/delta"), delta_->isChecked());
  if (auto* tab = current_tab()) header_state_ = tab->view()->horizontalHeader()->saveState();
  if (!header_state_.isEmpty()) s.setValue(QStringLiteral("table/header"), header_state_);
  QMainWindow::closeEvent(event);
}

}  // namespace ouroboros::viewer
