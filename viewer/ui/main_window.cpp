#include "ui/main_window.hpp"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QCompleter>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
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
#include <QToolButton>
#include <QVBoxLayout>

#include "data/bulk_job.hpp"
#include "data/memory.hpp"
#include "data/segment_catalog.hpp"
#include "ouroboros/layout.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/segment.hpp"
#include "ouroboros/version.hpp"
#include "ui/filter_bar.hpp"
#include "ui/log_view.hpp"
#include "ui/segment_tab.hpp"
#include "ui/stable_text.hpp"

namespace ouroboros::viewer {

namespace {
constexpr int max_recent = 15;
constexpr int default_dock_width = 250;

QSettings settings() {
  return QSettings(QStringLiteral("ouroboros"), QStringLiteral("viewer"));
}

// "Pause (Space)": every action says its shortcuts where it is shown.
void describe(QAction* action, const QString& what) {
  QStringList keys;
  for (const QKeySequence& key : action->shortcuts())
    keys << key.toString(QKeySequence::NativeText);
  action->setToolTip(
      keys.isEmpty() ? what : QStringLiteral("%1 (%2)").arg(what, keys.join(QStringLiteral(", "))));
  action->setStatusTip(what);
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
    header_state_ = s.value(QStringLiteral("table/header2")).toByteArray();
    zoom_ = s.value(QStringLiteral("table/zoom"), 0).toInt();
  }
  build_actions();
  build_ui();
  {
    QSettings s = settings();
    utc_->setChecked(s.value(QStringLiteral("time/utc"), false).toBool());
    const int mode = s.value(QStringLiteral("time/mode"), 0).toInt();
    (mode == 1 ? delta_ : (mode == 2 ? since_attach_ : time_of_day_))->setChecked(true);
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray()))
      resize(1280, 800);
    if (!restoreState(s.value(QStringLiteral("window/state")).toByteArray())) {
      // First start: the dock starts narrow (docks take their size once the window is laid
      // out); later the user's width is kept with the window state.
      QTimer::singleShot(
          0, this, [this] { resizeDocks({segments_dock_}, {default_dock_width}, Qt::Horizontal); });
    }
  }
  refresh_completion();
  refresh_catalog();
}

main_window::~main_window() {
  if (job_) job_->cancel();
}

QString main_window::about_text() {
  return tr("<p><b>ouroboros-viewer %1</b></p>"
            "<p>Live viewer for Ouroboros shared-memory log segments.</p>"
            "<p>Reads ring format version %2, extension block version %3 and record encoding "
            "version %4.</p><p>Licence: MIT.</p>")
      .arg(
          QString::fromUtf8(project_version.data(), static_cast<qsizetype>(project_version.size())))
      .arg(layout::format_version)
      .arg(layout::extension_layout::version)
      .arg(static_cast<unsigned>(record_layout::version));
}

QAction* main_window::action(const QString& name) const {
  return findChild<QAction*>(name);
}

void main_window::build_actions() {
  auto make = [this](const char* name, const QString& text, const QList<QKeySequence>& keys,
                     const QString& what, auto slot) {
    auto* action = new QAction(text, this);
    action->setObjectName(QLatin1String(name));
    action->setShortcuts(keys);
    connect(action, &QAction::triggered, this, slot);
    addAction(action);
    describe(action, what);
    return action;
  };
  pause_ = make("pause", tr("&Pause"), {QKeySequence(Qt::Key_Space)},
                tr("Freeze the table; reading goes on"), [this](bool on) {
                  if (auto* tab = current_tab()) tab->set_paused(on);
                  set_pause_action(on);
                });
  pause_->setCheckable(true);
  set_pause_action(false);
  follow_ = make("follow", tr("&Follow newest"),
                 {QKeySequence(Qt::Key_End), QKeySequence(Qt::CTRL | Qt::Key_End)},
                 tr("Stick to the newest row (also resumes a paused tab)"), [this] {
                   if (auto* tab = current_tab()) tab->follow();
                   follow_->setChecked(true);
                 });
  follow_->setCheckable(true);
  follow_->setChecked(true);
  follow_->setIcon(style()->standardIcon(QStyle::SP_ArrowDown));
  previous_gap_ = make("previous_gap", tr("P&revious gap"), {QKeySequence(tr("Ctrl+Shift+G"))},
                       tr("Select the previous gap row"), [this] {
                         if (auto* tab = current_tab()) tab->next_gap(false);
                       });
  previous_gap_->setIcon(style()->standardIcon(QStyle::SP_MediaSkipBackward));
  next_gap_ = make("next_gap", tr("&Next gap"), {QKeySequence(tr("Ctrl+G"))},
                   tr("Select the next gap row"), [this] {
                     if (auto* tab = current_tab()) tab->next_gap(true);
                   });
  next_gap_->setIcon(style()->standardIcon(QStyle::SP_MediaSkipForward));
  find_ = make("find", tr("&Find\u2026"), QKeySequence::keyBindings(QKeySequence::Find),
               tr("Find text in the visible rows"), [this] {
                 if (auto* tab = current_tab()) tab->show_search();
               });
  find_next_ =
      make("find_next", tr("Find next"), {QKeySequence(Qt::Key_F3)}, tr("Next match"), [this] {
        if (auto* tab = current_tab()) tab->find(true);
      });
  find_previous_ = make("find_previous", tr("Find previous"),
                        {QKeySequence(Qt::SHIFT | Qt::Key_F3)}, tr("Previous match"), [this] {
                          if (auto* tab = current_tab()) tab->find(false);
                        });
  focus_filter_ = make("focus_filter", tr("Filter messages"), {QKeySequence(tr("Ctrl+Shift+L"))},
                       tr("Type a message filter"), [this] {
                         if (auto* tab = current_tab()) tab->filters()->focus_text();
                       });
  focus_table_ = make("focus_table", tr("Go to the table"), {QKeySequence(Qt::Key_F6)},
                      tr("Move the keyboard focus to the table"), [this] {
                        if (auto* tab = current_tab()) tab->view()->setFocus();
                      });
  // Text fields keep their own Ctrl+C and Ctrl+A (they take those shortcuts first).
  copy_ = make("copy", tr("&Copy rows"), QKeySequence::keyBindings(QKeySequence::Copy),
               tr("Copy the selected rows"), [this] { copy_rows(false); });
  copy_messages_ =
      make("copy_messages", tr("Copy &messages only"), {QKeySequence(tr("Ctrl+Shift+C"))},
           tr("Copy the messages of the selected rows"), [this] { copy_rows(true); });
  select_all_ =
      make("select_all", tr("Select &all rows"), QKeySequence::keyBindings(QKeySequence::SelectAll),
           tr("Select every visible row"), [this] {
             if (auto* tab = current_tab()) tab->view()->select_all();
           });
  export_ = make("export", tr("&Export rows\u2026"), {QKeySequence(tr("Ctrl+E"))},
                 tr("Write the visible or selected rows to a file"), [this] { export_current(); });
  export_->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
  close_tab_ =
      make("close_tab", tr("&Close tab"), {QKeySequence(tr("Ctrl+W")), QKeySequence(tr("Ctrl+F4"))},
           tr("Close this tab and free its history"), [this] { close_tab(tabs_->currentIndex()); });
  next_tab_ = make("next_tab", tr("Next tab"),
                   {QKeySequence(tr("Ctrl+Tab")), QKeySequence(tr("Ctrl+PgDown"))},
                   tr("Switch to the next tab"), [this] {
                     if (tabs_->count() > 1)
                       tabs_->setCurrentIndex((tabs_->currentIndex() + 1) % tabs_->count());
                   });
  previous_tab_ = make(
      "previous_tab", tr("Previous tab"),
      {QKeySequence(tr("Ctrl+Shift+Tab")), QKeySequence(tr("Ctrl+PgUp"))},
      tr("Switch to the previous tab"), [this] {
        if (tabs_->count() > 1)
          tabs_->setCurrentIndex((tabs_->currentIndex() + tabs_->count() - 1) % tabs_->count());
      });
  attach_action_ =
      make("attach", tr("&Attach to segment\u2026"), QKeySequence::keyBindings(QKeySequence::Open),
           tr("Type the name of a segment to open"), [this] {
             attach_field_->setFocus();
             attach_field_->selectAll();
           });
  open_merged_ = make("open_merged", tr("Open &merged view"), {QKeySequence(tr("Ctrl+Shift+M"))},
                      tr("Open the segments selected in the list as one time-ordered table"),
                      [this] { open_merged(selected_segments()); });
  merge_tabs_ = make("merge_tabs", tr("Merge &tabs\u2026"), {},
                     tr("Choose open tabs to show as one time-ordered table"),
                     [this] { merge_tabs_dialog(); });
  time_modes_ = new QActionGroup(this);
  time_of_day_ = make("time_of_day", tr("Time of &day"), {QKeySequence(tr("Ctrl+1"))},
                      tr("Show the time of day (the date where it changes)"),
                      [this] { apply_time_options(); });
  delta_ = make("time_delta", tr("&Delta to previous row"),
                {QKeySequence(tr("Ctrl+2")), QKeySequence(tr("Ctrl+D"))},
                tr("Show the time since the previous row"), [this] { apply_time_options(); });
  since_attach_ =
      make("time_since_attach", tr("Time since &attach"), {QKeySequence(tr("Ctrl+3"))},
           tr("Show the time since the tab attached"), [this] { apply_time_options(); });
  for (QAction* a : {time_of_day_, delta_, since_attach_}) {
    a->setCheckable(true);
    time_modes_->addAction(a);
  }
  time_of_day_->setChecked(true);
  utc_ = make("utc", tr("Times in &UTC"), {}, tr("Show times in UTC instead of local time"),
              [this] { apply_time_options(); });
  utc_->setCheckable(true);
  zoom_in_ = make("zoom_in", tr("Zoom &in"),
                  {QKeySequence(QKeySequence::ZoomIn), QKeySequence(tr("Ctrl+="))},
                  tr("Larger table text"), [this] {
                    zoom_ = std::min(zoom_ + 1, 24);
                    apply_zoom();
                  });
  zoom_out_ = make("zoom_out", tr("Zoom &out"), {QKeySequence(QKeySequence::ZoomOut)},
                   tr("Smaller table text"), [this] {
                     zoom_ = std::max(zoom_ - 1, -4);
                     apply_zoom();
                   });
  zoom_reset_ = make("zoom_reset", tr("&Reset zoom"), {QKeySequence(tr("Ctrl+0"))},
                     tr("Default table text size"), [this] {
                       zoom_ = 0;
                       apply_zoom();
                     });
}

void main_window::build_daily_actions(QMenu* menu) {
  auto make = [this, menu](const char* name, const QString& text, const QList<QKeySequence>& keys,
                           const QString& what, auto slot) {
    auto* action = new QAction(text, this);
    action->setObjectName(QLatin1String(name));
    action->setShortcuts(keys);
    connect(action, &QAction::triggered, this, slot);
    addAction(action);
    describe(action, what);
    menu->addAction(action);
    return action;
  };
  menu->addSeparator();
  toggle_bookmark_ = make("toggle_bookmark", tr("&Bookmark row"), {QKeySequence(tr("Ctrl+B"))},
                          tr("Bookmark the current row, or remove its bookmark"), [this] {
                            if (auto* tab = current_tab()) tab->toggle_bookmark();
                          });
  make("next_bookmark", tr("Next bookmark"), {QKeySequence(Qt::Key_F2)},
       tr("Go to the next bookmark the filter shows"), [this] {
         if (auto* tab = current_tab()) tab->next_bookmark(true);
       });
  make("previous_bookmark", tr("Previous bookmark"), {QKeySequence(Qt::SHIFT | Qt::Key_F2)},
       tr("Go to the previous bookmark the filter shows"), [this] {
         if (auto* tab = current_tab()) tab->next_bookmark(false);
       });
  make("clear", tr("C&lear table"), {QKeySequence(tr("Ctrl+L"))},
       tr("Empty the table's history; reading goes on"), [this] {
         if (auto* tab = current_tab()) tab->clear_history();
       });
  hide_gaps_ = make("hide_gaps", tr("&Hide gap rows"), {},
                    tr("Leave gap rows out of the table (the lost totals stay in the status bar)"),
                    [this](bool on) {
                      if (auto* tab = current_tab()) tab->set_hide_gaps(on);
                    });
  hide_gaps_->setCheckable(true);
}

void main_window::set_pause_action(bool paused) {
  pause_->setChecked(paused);
  pause_->setText(paused ? tr("&Resume") : tr("&Pause"));
  pause_->setIcon(style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
  describe(pause_, paused ? tr("Resume the live table") : tr("Freeze the table; reading goes on"));
}

void main_window::build_ui() {
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addAction(attach_action_);
  file->addAction(open_merged_);
  file->addAction(merge_tabs_);
  file->addAction(export_);
  file->addSeparator();
  file->addAction(close_tab_);
  auto* quit = file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
  quit->setObjectName(QStringLiteral("quit"));

  auto* edit = menuBar()->addMenu(tr("&Edit"));
  edit->addAction(copy_);
  edit->addAction(copy_messages_);
  edit->addAction(select_all_);
  edit->addSeparator();
  edit->addAction(find_);
  edit->addAction(find_next_);
  edit->addAction(find_previous_);
  edit->addAction(focus_filter_);
  edit->addAction(focus_table_);

  auto* view = menuBar()->addMenu(tr("&View"));
  view->addAction(pause_);
  view->addAction(follow_);
  view->addSeparator();
  view->addAction(previous_gap_);
  view->addAction(next_gap_);
  build_daily_actions(view);
  view->addSeparator();
  view->addAction(time_of_day_);
  view->addAction(delta_);
  view->addAction(since_attach_);
  view->addAction(utc_);
  view->addSeparator();
  view->addAction(zoom_in_);
  view->addAction(zoom_out_);
  view->addAction(zoom_reset_);
  view->addSeparator();
  view->addAction(next_tab_);
  view->addAction(previous_tab_);

  auto* settings_menu = menuBar()->addMenu(tr("&Settings"));
  settings_menu->addAction(tr("&History limits\u2026"), this, &main_window::edit_history_limits);
  build_prefs(view, settings_menu);

  auto* help = menuBar()->addMenu(tr("&Help"));
  auto* about = help->addAction(tr("&About Ouroboros"), this, [this] {
    QMessageBox::about(this, tr("About Ouroboros"), about_text());
  });
  about->setObjectName(QStringLiteral("about"));

  auto* bar = addToolBar(tr("Main"));
  bar->setObjectName(QStringLiteral("main_toolbar"));
  bar->setMovable(false);
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  bar->addWidget(new QLabel(tr(" Segment: "), bar));
  attach_field_ = new QLineEdit(bar);
  attach_field_->setPlaceholderText(tr("name of a log segment"));
  attach_field_->setClearButtonEnabled(true);
  attach_field_->setMinimumWidth(200);
  attach_field_->setMaximumWidth(320);
  attach_field_->setToolTip(tr("Type a segment name and press Enter (Ctrl+O)"));
  completion_ = new QStringListModel(this);
  auto* completer = new QCompleter(completion_, this);
  completer->setCaseSensitivity(Qt::CaseInsensitive);
  completer->setFilterMode(Qt::MatchContains);
  attach_field_->setCompleter(completer);
  connect(attach_field_, &QLineEdit::returnPressed, this, &main_window::attach_from_field);
  connect(attach_field_, &QLineEdit::textEdited, this, [this] {
    attach_error_->clear();
    attach_error_action_->setVisible(false);
    attach_field_->setStyleSheet({});
  });
  bar->addWidget(attach_field_);
  auto* open = new QPushButton(tr("Attach"), bar);
  open->setToolTip(tr("Open the segment in a tab (Enter)"));
  connect(open, &QPushButton::clicked, this, &main_window::attach_from_field);
  bar->addWidget(open);
  attach_error_ = new QLabel(bar);
  attach_error_->setObjectName(QStringLiteral("attach_error"));
  attach_error_->setStyleSheet(QStringLiteral("QLabel { color: #d32f2f; padding: 0 6px; }"));
  attach_error_->setMaximumWidth(420);
  // A widget in a tool bar is shown and hidden through its action.
  attach_error_action_ = bar->addWidget(attach_error_);
  attach_error_action_->setVisible(false);
  bar->addSeparator();
  bar->addAction(pause_);
  bar->addAction(follow_);
  // Pause and Resume take the same room: the buttons after it never move.
  if (QWidget* button = bar->widgetForAction(pause_)) {
    const QString text = pause_->text();
    int widest = 0;
    for (const QString& label : {tr("&Pause"), tr("&Resume")}) {
      pause_->setText(label);
      widest = std::max(widest, button->sizeHint().width());
    }
    pause_->setText(text);
    button->setMinimumWidth(widest);
  }
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
         "segment in the list on the left (F9 shows or hides it).<br>The viewer waits for a "
         "segment that does not exist yet.</p>"));
  tabs_ = new QTabWidget(stack_);
  tabs_->setTabsClosable(true);
  tabs_->setMovable(true);
  tabs_->setDocumentMode(true);
  tabs_->setElideMode(Qt::ElideRight);
  connect(tabs_, &QTabWidget::tabCloseRequested, this, &main_window::close_tab);
  connect(tabs_, &QTabWidget::currentChanged, this, &main_window::on_current_tab_changed);
  stack_->addWidget(welcome);
  stack_->addWidget(tabs_);
  setCentralWidget(stack_);

  segments_dock_ = new QDockWidget(tr("Log segments"), this);
  segments_dock_->setObjectName(QStringLiteral("segments_dock"));
  auto* dock_body = new QWidget(segments_dock_);
  auto* dock_layout = new QVBoxLayout(dock_body);
  dock_layout->setContentsMargins(4, 4, 4, 4);
  catalog_ = new segment_catalog(this);
  connect(catalog_, &QAbstractItemModel::rowsInserted, this, [this] { refresh_completion(); });
  connect(catalog_, &QAbstractItemModel::rowsRemoved, this, [this] { refresh_completion(); });
  segments_view_ = new QTableView(dock_body);
  segments_view_->setModel(catalog_);
  segments_view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  segments_view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  segments_view_->verticalHeader()->hide();
  segments_view_->setShowGrid(false);
  segments_view_->setWordWrap(false);
  segments_view_->setTextElideMode(Qt::ElideMiddle);
  segments_view_->verticalHeader()->setDefaultSectionSize(segments_view_->fontMetrics().height() +
                                                          6);
  segments_view_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  segments_view_->horizontalHeader()->setStretchLastSection(true);
  segments_view_->horizontalHeader()->setMinimumSectionSize(36);
  segments_view_->setColumnWidth(segment_catalog::col_name, 110);
  segments_view_->setColumnWidth(segment_catalog::col_writer, 52);
  segments_view_->setColumnWidth(segment_catalog::col_rate, 64);
  segments_view_->setColumnWidth(segment_catalog::col_size, 64);
  segments_view_->setMinimumWidth(120);
  // Rows stay where they are while the mouse is over the list (see segment_catalog).
  segments_view_->viewport()->installEventFilter(this);
  connect(segments_view_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    if (index.row() < catalog_->rowCount())
      attach(catalog_->rows()[static_cast<std::size_t>(index.row())].name);
  });
  connect(segments_view_, &QTableView::activated, this, [this](const QModelIndex& index) {
    if (index.row() < catalog_->rowCount())
      attach(catalog_->rows()[static_cast<std::size_t>(index.row())].name);
  });
  auto* refresh = new QPushButton(tr("Refresh"), dock_body);
  connect(refresh, &QPushButton::clicked, this, &main_window::refresh_catalog);
  auto* hint =
      new QLabel(tr("Double-click to open. Select several (Ctrl/Shift+click) to open them merged."),
                 dock_body);
  hint->setWordWrap(true);
  auto* merged = new QPushButton(tr("Open merged"), dock_body);
  merged->setObjectName(QStringLiteral("open_merged_button"));
  merged->setToolTip(open_merged_->toolTip());
  merged->setEnabled(false);
  connect(merged, &QPushButton::clicked, open_merged_, &QAction::trigger);
  connect(segments_view_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          [this, merged] { merged->setEnabled(selected_segments().size() >= 2); });
  dock_layout->addWidget(segments_view_, 1);
  dock_layout->addWidget(hint);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(merged);
  buttons->addWidget(refresh);
  dock_layout->addLayout(buttons);
  segments_dock_->setWidget(dock_body);
  addDockWidget(Qt::LeftDockWidgetArea, segments_dock_);
  QAction* toggle_dock = segments_dock_->toggleViewAction();
  toggle_dock->setObjectName(QStringLiteral("toggle_segments"));
  toggle_dock->setShortcut(QKeySequence(Qt::Key_F9));
  describe(toggle_dock, tr("Show or hide the list of segments"));
  view->addSeparator();
  view->addAction(toggle_dock);

  catalog_timer_ = new QTimer(this);
  catalog_timer_->setInterval(2000);
  connect(catalog_timer_, &QTimer::timeout, this, [this] {
    if (segments_dock_->isVisible()) refresh_catalog();
  });
  catalog_timer_->start();

  // The status bar is for notices and background jobs only.
  notice_ = new stable_label({}, this);
  notice_->setObjectName(QStringLiteral("notice"));
  statusBar()->addWidget(notice_, 1);
  notice_timer_ = new QTimer(this);
  notice_timer_->setSingleShot(true);
  connect(notice_timer_, &QTimer::timeout, this, [this] { notice_->set_text({}); });
  job_progress_ = new QProgressBar(this);
  job_progress_->setFixedWidth(220);
  job_progress_->setRange(0, 1000);
  job_progress_->hide();
  job_cancel_ = new QToolButton(this);
  job_cancel_->setText(tr("Cancel"));
  job_cancel_->setToolTip(tr("Stop the copy or export"));
  job_cancel_->hide();
  connect(job_cancel_, &QToolButton::clicked, this, [this] {
    if (job_) job_->cancel();
  });
  statusBar()->addPermanentWidget(job_progress_);
  statusBar()->addPermanentWidget(job_cancel_);
  job_timer_ = new QTimer(this);
  job_timer_->setInterval(100);
  connect(job_timer_, &QTimer::timeout, this, [this] {
    if (!job_ || job_->total() == 0) return;
    job_progress_->setValue(static_cast<int>(1000.0 * static_cast<double>(job_->done()) /
                                             static_cast<double>(job_->total())));
  });
}

bool main_window::eventFilter(QObject* watched, QEvent* event) {
  if (watched == segments_view_->viewport()) {
    if (event->type() == QEvent::Enter) catalog_->set_frozen(true);
    if (event->type() == QEvent::Leave) catalog_->set_frozen(false);
  }
  return QMainWindow::eventFilter(watched, event);
}

void main_window::notify(const QString& text, bool error) {
  notice_->set_text(text, error ? QColor(0xd3, 0x2f, 0x2f) : QColor());
  notice_timer_->start(error ? 15000 : 8000);
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
    const QString why = QString::fromUtf8(e.what());
    attach_error_->setText(tr("\u2716 %1").arg(why));
    attach_error_->setToolTip(why);
    attach_error_action_->setVisible(true);
    attach_field_->setStyleSheet(QStringLiteral("QLineEdit { border: 1px solid #d32f2f; }"));
    notify(tr("Cannot attach: %1").arg(why), true);
    return nullptr;
  }
  attach_error_action_->setVisible(false);
  attach_field_->setStyleSheet({});
  for (int i = 0; i < tabs_->count(); ++i) {
    auto* tab = static_cast<segment_tab*>(tabs_->widget(i));
    if (tab->name() == name) {
      tabs_->setCurrentIndex(i);
      tab->view()->setFocus();
      return tab;
    }
  }
  session_options options;
  options.poller.name = name.toStdString();
  options.limits = limits_;
  auto* tab = new segment_tab(options, tabs_);
  if (!header_state_.isEmpty()) tab->view()->header()->restoreState(header_state_);
  add_tab(tab, name);
  remember(name);
  return tab;
}

QStringList main_window::selected_segments() const {
  QStringList names;
  const auto& rows = catalog_->rows();
  for (const QModelIndex& index : segments_view_->selectionModel()->selectedRows()) {
    if (index.row() < static_cast<int>(rows.size()))
      names << rows[static_cast<std::size_t>(index.row())].name;
  }
  return names;
}

segment_tab* main_window::open_merged(const QStringList& raw_names) {
  QStringList names;
  for (QString name : raw_names) {
    name = name.trimmed();
    if (name.startsWith(QLatin1Char('/'))) name.remove(0, 1);
    if (name.isEmpty() || names.contains(name)) continue;
    try {
      canonical_segment_name(name.toStdString());
    } catch (const segment_error& e) {
      notify(tr("Cannot merge %1: %2").arg(name, QString::fromUtf8(e.what())), true);
      return nullptr;
    }
    names << name;
  }
  if (names.size() < 2) {
    notify(tr("Select two or more segments to merge."), true);
    return nullptr;
  }
  if (names.size() > static_cast<int>(merged_session::max_sources)) {
    notify(tr("A merged view takes at most %1 segments.").arg(merged_session::max_sources), true);
    return nullptr;
  }
  merged_options options;
  for (const QString& name : names) {
    poller_options p;
    p.name = name.toStdString();
    options.sources.push_back(p);
  }
  options.source_limits = limits_;
  options.limits = limits_;
  auto* tab = new segment_tab(std::move(options), tabs_);
  add_tab(tab, tab->name());
  return tab;
}

void main_window::merge_tabs_dialog() {
  QStringList open;
  for (int i = 0; i < tabs_->count(); ++i) {
    auto* tab = static_cast<segment_tab*>(tabs_->widget(i));
    if (!tab->merged()) open << tab->name();
  }
  if (open.size() < 2) {
    notify(tr("Open two or more segment tabs to merge them."), true);
    return;
  }
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Merge tabs"));
  auto* layout = new QVBoxLayout(&dialog);
  layout->addWidget(new QLabel(tr("Show these segments as one table, ordered by time:"), &dialog));
  auto* list = new QListWidget(&dialog);
  list->setObjectName(QStringLiteral("merge_list"));
  for (const QString& name : open) {
    auto* item = new QListWidgetItem(name, list);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Checked);
  }
  layout->addWidget(list);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
  connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  layout->addWidget(buttons);
  if (dialog.exec() != QDialog::Accepted) return;
  QStringList chosen;
  for (int i = 0; i < list->count(); ++i) {
    if (list->item(i)->checkState() == Qt::Checked) chosen << list->item(i)->text();
  }
  open_merged(chosen);
}

void main_window::add_tab(segment_tab* tab, const QString& title) {
  tab->set_time_options(time_of_day_->isChecked() ? time_mode::time_of_day
                        : delta_->isChecked()     ? time_mode::delta
                                                  : time_mode::since_attach,
                        utc_->isChecked());
  tab->view()->zoom(zoom_);
  tab->model()->set_highlight_rules(highlight_rules_);
  tab->view()->set_context_actions({copy_, copy_messages_, toggle_bookmark_, select_all_, nullptr,
                                    follow_, previous_gap_, next_gap_, nullptr, export_});
  connect(tab, &segment_tab::statusChanged, this, [this, tab] { update_tab_title(tab); });
  connect(tab, &segment_tab::pausedChanged, this, [this, tab](bool paused) {
    update_tab_title(tab);
    if (tab == current_tab()) set_pause_action(paused);
  });
  connect(tab, &segment_tab::followingChanged, this, [this, tab](bool following) {
    if (tab == current_tab()) follow_->setChecked(following);
  });
  const int index = tabs_->addTab(tab, title);
  tabs_->setCurrentIndex(index);
  stack_->setCurrentWidget(tabs_);
  update_tab_title(tab);
  tab->view()->setFocus();
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
  catalog_->refresh_async();
}

void main_window::update_tab_title(segment_tab* tab) {
  const int index = tabs_->indexOf(tab);
  if (index < 0) return;
  const QString title = tab->state_mark() + QLatin1Char(' ') + tab->name() +
                        (tab->paused() ? tr(" (paused)") : QString());
  if (tabs_->tabText(index) != title) tabs_->setTabText(index, title);
  const QString tip = tab->name() + QStringLiteral(": ") + tab->state_text();
  if (tabs_->tabToolTip(index) != tip) tabs_->setTabToolTip(index, tip);
}

void main_window::on_current_tab_changed() {
  auto* tab = current_tab();
  if (!tab) {
    stack_->setCurrentIndex(0);
    setWindowTitle(tr("Ouroboros log viewer"));
    return;
  }
  set_pause_action(tab->paused());
  follow_->setChecked(tab->view()->following());
  hide_gaps_->setChecked(tab->hide_gaps());
  setWindowTitle(tr("%1 \u2014 Ouroboros").arg(tab->name()));
}

void main_window::close_tab(int index) {
  if (index < 0) return;
  auto* tab = static_cast<segment_tab*>(tabs_->widget(index));
  // A merged view's header has the Segment column: it is not the tabs' layout.
  if (!tab->merged()) header_state_ = tab->view()->header()->saveState();
  tabs_->removeTab(index);
  delete tab;
  if (tabs_->count() == 0) stack_->setCurrentIndex(0);
  if (auto* next = current_tab()) next->view()->setFocus();
  // The history's blocks are unmapped as they are freed; the heap keeps the rest until trimmed.
  // A background re-filter of the closed tab may still hold pages for a moment: trim again.
  return_memory_to_system();
  QTimer::singleShot(1000, this, [] { return_memory_to_system(); });
}

void main_window::apply_time_options() {
  const time_mode mode = time_of_day_->isChecked() ? time_mode::time_of_day
                         : delta_->isChecked()     ? time_mode::delta
                                                   : time_mode::since_attach;
  for (int i = 0; i < tabs_->count(); ++i)
    static_cast<segment_tab*>(tabs_->widget(i))->set_time_options(mode, utc_->isChecked());
}

void main_window::apply_zoom() {
  for (int i = 0; i < tabs_->count(); ++i) {
    log_view* view = static_cast<segment_tab*>(tabs_->widget(i))->view();
    view->zoom(zoom_ - view->zoom_steps());
  }
}

void main_window::copy_rows(bool messages_only) {
  auto* tab = current_tab();
  if (!tab) return;
  if (job_) {
    notify(tr("A copy or export is still running; cancel it first."), true);
    return;
  }
  std::vector<std::uint64_t> serials = tab->selected_serials();
  if (serials.empty()) {
    notify(tr("Nothing selected to copy."));
    return;
  }
  const std::uint64_t count = serials.size();
  const QString rows = QLocale().toString(static_cast<qulonglong>(count));
  if (count <= bulk_copy_rows) {
    QApplication::clipboard()->setText(tab->rows_text(serials, messages_only));
    notify(count == 1 ? tr("Copied 1 row") : tr("Copied %1 rows").arg(rows));
    return;
  }
  // About 100 bytes a row: say what the clipboard is about to hold.
  const double megabytes = static_cast<double>(count) * 100.0 / 1e6;
  const auto answer = QMessageBox::question(
      this, tr("Copy %1 rows").arg(rows),
      tr("Copy %1 rows (about %2 MB of text) to the clipboard? It runs in the background; you "
         "can cancel it from the status bar.")
          .arg(rows)
          .arg(megabytes, 0, 'f', megabytes < 10 ? 1 : 0),
      QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Yes);
  if (answer != QMessageBox::Yes) return;
  const log_model& model = *tab->model();
  start_job(bulk_job::start_copy(model.utc(), messages_only, model.view(), std::move(serials),
                                 model.tags(), this),
            tr("Copying %1 rows\u2026").arg(rows));
}

void main_window::start_job(bulk_job* job, const QString& what) {
  job_ = job;
  job_progress_->setValue(0);
  job_progress_->setFormat(what + QStringLiteral(" %p%"));
  job_progress_->show();
  job_cancel_->show();
  job_timer_->start();
  notify(what);
  connect(job, &bulk_job::finished, this,
          [this, job](bool ok, const QString& message, const QByteArray& text) {
            job_timer_->stop();
            job_progress_->hide();
            job_cancel_->hide();
            if (ok && !text.isNull()) {
              auto* data = new QMimeData;
              data->setData(QStringLiteral("text/plain;charset=utf-8"), text);
              data->setData(QStringLiteral("text/plain"), text);
              QApplication::clipboard()->setMimeData(data);
            }
            notify(message, !ok && !message.contains(tr("cancelled")));
            job->deleteLater();
            return_memory_to_system();
          });
}

void main_window::export_rows_to(const QString& path, bool selection_only) {
  auto* tab = current_tab();
  if (!tab) return;
  if (job_) {
    notify(tr("A copy or export is still running; cancel it first."), true);
    return;
  }
  std::vector<std::uint64_t> serials =
      selection_only ? tab->selected_serials() : tab->visible_serials();
  const log_model& model = *tab->model();
  export_options options;
  options.format = format_for_file(path);
  options.utc = model.utc();
  options.bookmarks = model.bookmarks().serials();
  const QString rows = QLocale().toString(static_cast<qulonglong>(serials.size()));
  start_job(
      bulk_job::start_export(path, options, model.view(), std::move(serials), model.tags(), this),
      tr("Exporting %1 rows to %2\u2026").arg(rows, path));
}

void main_window::export_current() {
  auto* tab = current_tab();
  if (!tab) return;
  bool selection_only = false;
  const std::uint64_t selected = tab->view()->selected_count();
  if (selected > 1) {
    QMessageBox ask(QMessageBox::Question, tr("Export rows"),
                    tr("Which rows do you want to export?"), QMessageBox::NoButton, this);
    QPushButton* selection = ask.addButton(
        tr("Selected rows (%1)").arg(QLocale().toString(static_cast<qulonglong>(selected))),
        QMessageBox::AcceptRole);
    QPushButton* all =
        ask.addButton(tr("All visible rows (%1)").arg(QLocale().toString(tab->model()->rowCount())),
                      QMessageBox::AcceptRole);
    ask.addButton(QMessageBox::Cancel);
    ask.setDefaultButton(selection);
    ask.exec();
    if (ask.clickedButton() != selection && ask.clickedButton() != all) return;
    selection_only = ask.clickedButton() == selection;
  }
  QString selected_filter;
  const QString file = QFileDialog::getSaveFileName(
      this, selection_only ? tr("Export selected rows") : tr("Export visible rows"),
      tab->name() + QStringLiteral(".log"),
      tr("Text (*.log *.txt);;JSON lines (*.jsonl);;CSV (*.csv)"), &selected_filter);
  if (file.isEmpty()) return;
  QString path = file;
  if (!QFileInfo(path).fileName().contains(QLatin1Char('.'))) {
    path += selected_filter.startsWith(QStringLiteral("JSON"))  ? QStringLiteral(".jsonl")
            : selected_filter.startsWith(QStringLiteral("CSV")) ? QStringLiteral(".csv")
                                                                : QStringLiteral(".log");
  }
  export_rows_to(path, selection_only);
}

void main_window::set_history_limits(const history_limits& limits) {
  limits_ = limits;
  for (int i = 0; i < tabs_->count(); ++i)
    static_cast<segment_tab*>(tabs_->widget(i))->set_limits(limits);
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
  s.setValue(QStringLiteral("time/mode"),
             time_of_day_->isChecked() ? 0 : (delta_->isChecked() ? 1 : 2));
  s.setValue(QStringLiteral("table/zoom"), zoom_);
  if (auto* tab = current_tab(); tab && !tab->merged())
    header_state_ = tab->view()->header()->saveState();
  if (!header_state_.isEmpty()) s.setValue(QStringLiteral("table/header2"), header_state_);
  save_session(s, session_state());
  QMainWindow::closeEvent(event);
}

}  // namespace ouroboros::viewer
