// GUI tests: the real main window, offscreen, attached to live segments with real writers.
// Drives what users do (click, scroll, keys, pause, follow, copy, export, close) and checks
// what the widgets show and that the window holds still.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDialog>
#include <QDockWidget>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>
#include <atomic>
#include <functional>
#include <thread>

#include "data/memory.hpp"
#include "data/segment_catalog.hpp"
#include "ouroboros/logger.hpp"
#include "ouroboros/version.hpp"
#include "ui/filter_bar.hpp"
#include "ui/highlight_dialog.hpp"
#include "ui/log_view.hpp"
#include "ui/main_window.hpp"
#include "ui/segment_tab.hpp"
#include "ui/stable_text.hpp"
#include "ui/timeline_strip.hpp"
#include "viewer_test_support.hpp"

using namespace viewer_test;

namespace {
QTemporaryDir& config_dir() {
  static QTemporaryDir dir;
  return dir;
}

QApplication& app() {
  static int argc = 1;
  static char name[] = "viewer_gui_test";
  static char* argv[] = {name, nullptr};
  static QApplication* instance = [] {
    // Settings go to a scratch directory, not the user's.
    qputenv("XDG_CONFIG_HOME", config_dir().path().toUtf8());
    qputenv("QT_QPA_PLATFORM", "offscreen");
    configure_allocator();  // as the viewer's main() does
    return new QApplication(argc, argv);
  }();
  return *instance;
}

// A thread that writes `batch` records, naps, and again, until destroyed; `row` writes the
// i-th record.
class writer_thread {
 public:
  using row_writer = std::function<void(record_writer&, std::uint64_t)>;
  writer_thread(const std::string& name, std::uint32_t chunks, std::uint32_t chunk_size, int batch,
                std::chrono::milliseconds nap, row_writer row)
      : writer_(name, chunks, chunk_size) {
    thread_ = std::thread([this, batch, nap, row = std::move(row)] {
      std::uint64_t i = 0;
      while (!stop_.load()) {
        for (int k = 0; k < batch; ++k, ++i) row(writer_, i);
        std::this_thread::sleep_for(nap);
      }
    });
  }
  ~writer_thread() {
    stop_.store(true);
    thread_.join();
  }

 private:
  record_writer writer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Records at a modest pace.
class live_writer : public writer_thread {
 public:
  explicit live_writer(const std::string& name)
      : writer_thread(name, 16, 16 * 1024, 20, std::chrono::milliseconds(2),
                      [](record_writer& w, std::uint64_t i) {
                        const char* tags[] = {"net", "db", "ui"};
                        w.write(static_cast<level>(i % 6), tags[i % 3],
                                1000 + static_cast<std::uint32_t>(i % 4),
                                "live message " + std::to_string(i));
                      }) {}
};

// Records as fast as it can (with a short nap per batch so the test machine stays usable).
class fast_writer : public writer_thread {
 public:
  explicit fast_writer(const std::string& name, int message_bytes = 0)
      : writer_thread(name, 64, 64 * 1024, 500, std::chrono::milliseconds(1),
                      [padding = std::string(static_cast<std::size_t>(message_bytes), 'p')](
                          record_writer& w, std::uint64_t i) {
                        w.write(static_cast<level>(i % 6), i % 2 ? "fast" : "slow", 1,
                                "fast message " + std::to_string(i) + padding);
                      }) {}
};

void pump(int ms) {
  wait_until([] { return false; }, ms);
}

// Waits for `ticks` more ticks of the tab's session.
bool wait_ticks(segment_tab* tab, std::uint64_t ticks) {
  const auto target = tab->session().stats().ticks + ticks;
  return wait_until([&] { return tab->session().stats().ticks >= target; });
}

std::unique_ptr<main_window> open_window(int width = 1200, int height = 800) {
  auto window = std::make_unique<main_window>();
  window->set_history_limits({});  // the defaults (tests that need others set them)
  window->resize(width, height);
  window->show();
  QApplication::setActiveWindow(window.get());
  return window;
}

// With OUROBOROS_SCREENSHOT_DIR set, saves a picture of the window there (for looking at what
// the tests drove, e.g. under Xvfb).
void screenshot(QWidget* window, const char* name) {
  const QString dir = qEnvironmentVariable("OUROBOROS_SCREENSHOT_DIR");
  if (dir.isEmpty()) return;
  window->grab().save(dir + QLatin1Char('/') + QLatin1String(name) + QStringLiteral(".png"));
}

// Answers the next modal question box with `button`.
void answer_next_question(QMessageBox::StandardButton button) {
  QTimer::singleShot(50, [button] {
    if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
      box->button(button)->click();
    }
  });
}
}  // namespace

TEST(Gui, MainWindowAttachedToALiveSegment) {
  app();
  const std::string name = unique_name("gui");
  live_writer writer(name);

  auto window = open_window();
  EXPECT_EQ(window->attach(QStringLiteral("bad/name")), nullptr)
      << "invalid names are refused, not crashed on";

  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_NE(tab, nullptr);
  EXPECT_EQ(window->attach(QString::fromStdString(name)), tab) << "same name: same tab";
  QAbstractItemModelTester tester(tab->session().model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  log_model& model = *tab->session().model();

  ASSERT_TRUE(wait_until([&] { return model.rowCount() > 500; }));
  ASSERT_TRUE(wait_ticks(tab, 8));
  EXPECT_EQ(tab->session().stats().poller.state, segment_state::attached);
  EXPECT_TRUE(tab->status()->plain_text().contains("attached"))
      << tab->status()->plain_text().toStdString();
  EXPECT_TRUE(window->tabs()->tabText(0).contains(QString::fromStdString(name)));
  EXPECT_TRUE(window->recent().contains(QString::fromStdString(name)));
  EXPECT_TRUE(tab->view()->following());

  // Pause freezes the rows on screen while reading goes on.
  tab->set_paused(true);
  const int frozen = model.rowCount();
  const auto read_before = tab->session().stats().poller.entries_read;
  ASSERT_TRUE(
      wait_until([&] { return tab->session().stats().poller.entries_read > read_before + 200; }));
  EXPECT_EQ(model.rowCount(), frozen);
  EXPECT_GT(model.arrivals_since_pause(), 0U);
  tab->set_paused(false);
  ASSERT_TRUE(wait_until([&] { return !model.refiltering() && model.rowCount() > frozen; }));

  // Filter to errors only: the view holds errors (and gap rows) only.
  auto errors = std::make_shared<filter_spec>();
  errors->level_mask = 1U << 4;
  tab->session().set_filter(errors);
  ASSERT_TRUE(wait_until([&] { return !model.refiltering(); }));
  ASSERT_TRUE(wait_until([&] { return model.rowCount() > 20; }));
  for (int r = 0; r < model.rowCount(); ++r) {
    const entry& row = model.entry_at(r);
    ASSERT_TRUE(row.level == 4 || row.always_visible()) << "row " << r;
  }

  // Select a row, copy it.
  tab->view()->go_to_row(3);
  EXPECT_FALSE(tab->view()->following()) << "selecting a row leaves follow mode";
  window->copy_rows(false);
  EXPECT_TRUE(QApplication::clipboard()->text().contains("live message"))
      << QApplication::clipboard()->text().toStdString();
  EXPECT_EQ(window->notice()->text(), "Copied 1 row");
  tab->follow();
  EXPECT_TRUE(tab->view()->following());

  // Export the visible rows as JSON lines, in the background, with the result in the status bar.
  QTemporaryDir dir;
  const QString file = dir.filePath("out.jsonl");
  window->export_rows_to(file, false);
  ASSERT_NE(window->running_job(), nullptr);
  ASSERT_TRUE(wait_until([&] { return window->running_job() == nullptr; }));
  EXPECT_TRUE(window->notice()->text().startsWith("Exported"))
      << window->notice()->text().toStdString();
  EXPECT_TRUE(window->notice()->text().contains(file));
  QFile exported(file);
  ASSERT_TRUE(exported.open(QIODevice::ReadOnly));
  const QByteArray first_line = exported.readLine();
  EXPECT_TRUE(first_line.contains("\"level\":\"error\"")) << first_line.toStdString();

  // The window renders.
  const QImage picture = window->grab().toImage();
  EXPECT_EQ(picture.width(), window->width());
  EXPECT_FALSE(picture.isNull());

  // Closing the tab stops its reader.
  window->tabs()->tabCloseRequested(0);
  EXPECT_EQ(window->tabs()->count(), 0);
}

TEST(Gui, WaitingTabShowsTheStateAndAttachesLater) {
  app();
  const std::string name = unique_name("gui-wait");
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_NE(tab, nullptr);
  ASSERT_TRUE(wait_until([&] { return tab->session().stats().ticks > 8; }));
  EXPECT_EQ(tab->session().stats().poller.state, segment_state::waiting);
  EXPECT_TRUE(tab->status()->plain_text().contains("waiting"));
  record_writer writer(name, 8, 4096);
  for (int i = 0; i < 10; ++i) writer.write(level::warn, "w", 1, "hello " + std::to_string(i));
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 10; }));
  EXPECT_EQ(tab->session().stats().poller.state, segment_state::attached);
}

TEST(Gui, GapNavigationSelectsGapRows) {
  app();
  const std::string name = unique_name("gui-gap");
  record_writer writer(name, 8, 1024);
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  for (int i = 0; i < 20; ++i) writer.write(level::info, "g", 1, "before");
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 20; }));
  tab->session().poller().hold(true);
  QThread::msleep(20);
  for (int i = 0; i < 3000; ++i) writer.write(level::info, "g", 1, "flood " + std::to_string(i));
  tab->session().poller().hold(false);
  ASSERT_TRUE(wait_until([&] { return tab->session().stats().poller.gaps > 0; }));
  ASSERT_TRUE(wait_until([&] {
    const auto& s = tab->session().stats().poller;
    return s.entries_read + s.entries_lost == writer.written();
  }));
  window->action("next_gap")->trigger();
  const int current = tab->view()->current_row();
  ASSERT_GE(current, 0);
  EXPECT_EQ(tab->session().model()->entry_at(current).kind(), row_kind::gap);
  ASSERT_TRUE(wait_ticks(tab, 8));
  EXPECT_TRUE(tab->status()->plain_text().contains("lost"));
}

// Issue "viewer under load": click a row, let the history evict, press End: the view must
// follow the newest rows again, and keep following. (Before the view was replaced, the
// selection model moved the current row to the oldest row on every eviction and the table
// scrolled there: this test failed with the newest row never on screen.)
TEST(Gui, FollowingSurvivesEvictionWithASelectedRow) {
  app();
  const std::string name = unique_name("gui-evict");
  fast_writer writer(name);
  auto window = open_window();
  window->set_history_limits({50000, 0});
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_NE(tab, nullptr);
  log_view* view = tab->view();
  const segment_session& session = tab->session();
  ASSERT_TRUE(wait_until([&] { return session.store().evicted() > 1000; }));

  QTest::mouseClick(view->viewport(), Qt::LeftButton, {},
                    QPoint(60, view->viewport()->height() / 2));
  EXPECT_FALSE(view->following()) << "a click holds the view";
  EXPECT_NE(view->current_serial(), 0U);
  const auto evicted = session.store().evicted();
  // The clicked row and many more after it are evicted meanwhile.
  ASSERT_TRUE(wait_until([&] { return session.store().evicted() > evicted + 200000; }));

  QTest::keyClick(view, Qt::Key_End);
  pump(200);
  EXPECT_TRUE(view->following()) << "End resumes following";
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(wait_ticks(tab, 2));
    const int rows = session.model()->rowCount();
    EXPECT_EQ(view->bottom_visible_row(), rows - 1)
        << "the newest row is on screen (bottom row " << view->bottom_visible_row() << " of "
        << rows << ")";
    EXPECT_TRUE(view->following());
  }
}

TEST(Gui, HoldingStaysOnTheAnchoredEntryAcrossAppendsAndEvictions) {
  app();
  const std::string name = unique_name("gui-hold");
  fast_writer writer(name);
  auto window = open_window();
  window->set_history_limits({400000, 0});
  segment_tab* tab = window->attach(QString::fromStdString(name));
  log_view* view = tab->view();
  const segment_session& session = tab->session();
  const log_model& model = *session.model();
  ASSERT_TRUE(wait_until([&] { return session.store().evicted() > 1000; }));

  // Scroll up a little, as with the wheel or the scroll bar: the view holds.
  view->scroll_to(model.rowCount() - view->page_rows() - 200);
  EXPECT_FALSE(view->following());
  const std::uint64_t anchored = model.serial_at(view->top_row());
  const auto evicted = session.store().evicted();
  ASSERT_TRUE(wait_until([&] { return session.store().evicted() > evicted + 20000; }));
  pump(300);  // the indicator's count is updated four times a second
  EXPECT_EQ(model.serial_at(view->top_row()), anchored)
      << "the same entry stays on top while rows arrive below and go above";
  EXPECT_FALSE(view->anchor_evicted());
  EXPECT_TRUE(tab->hold_indicator()->text().startsWith("Holding"))
      << tab->hold_indicator()->text().toStdString();
  EXPECT_TRUE(tab->hold_indicator()->text().contains("new below"));
  EXPECT_GT(view->rows_below(), 1000);

  // Wait until the anchored entry itself is evicted: the view stays at the oldest row, says so.
  ASSERT_TRUE(
      wait_until([&] { return model.rowCount() > 0 && model.serial_at(0) > anchored + 10; }));
  ASSERT_TRUE(wait_ticks(tab, 8));
  EXPECT_TRUE(view->anchor_evicted());
  EXPECT_EQ(view->top_row(), 0);
  EXPECT_TRUE(tab->hold_indicator()->text().startsWith("Evicted"))
      << tab->hold_indicator()->text().toStdString();

  // Ctrl+End resumes following.
  QTest::keyClick(view, Qt::Key_End, Qt::ControlModifier);
  pump(100);
  EXPECT_TRUE(view->following());
  ASSERT_TRUE(wait_ticks(tab, 8));
  EXPECT_EQ(tab->hold_indicator()->text(), "Following newest");
}

TEST(Gui, FollowWhilePausedResumesAndPauseReadsResume) {
  app();
  const std::string name = unique_name("gui-pause");
  live_writer writer(name);
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() > 100; }));
  QAction* pause = window->action("pause");
  ASSERT_NE(pause, nullptr);
  EXPECT_EQ(pause->text(), "&Pause");
  pause->trigger();
  EXPECT_TRUE(tab->paused());
  EXPECT_EQ(pause->text(), "&Resume") << "the button says what it will do";
  EXPECT_TRUE(window->tabs()->tabText(0).contains("paused"));
  const int frozen = tab->session().model()->rowCount();
  ASSERT_TRUE(wait_ticks(tab, 12));
  EXPECT_TRUE(tab->hold_indicator()->text().startsWith("Paused"));
  EXPECT_EQ(tab->session().model()->rowCount(), frozen);

  window->action("follow")->trigger();
  EXPECT_FALSE(tab->paused()) << "Follow while paused resumes";
  EXPECT_TRUE(tab->view()->following());
  EXPECT_EQ(pause->text(), "&Pause");
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() > frozen; }));
}

TEST(Gui, BadSegmentNameShowsItsErrorNextToTheField) {
  app();
  auto window = open_window();
  QLineEdit* field = window->attach_field();
  field->setFocus();
  QTest::keyClicks(field, "bad/name");
  QTest::keyClick(field, Qt::Key_Return);
  pump(50);  // the tool bar lays out its widgets on the next pass
  EXPECT_EQ(window->tabs()->count(), 0);
  EXPECT_TRUE(window->attach_error()->isVisibleTo(window.get()));
  EXPECT_TRUE(window->attach_error()->text().contains("'/'"))
      << window->attach_error()->text().toStdString();
  EXPECT_TRUE(window->notice()->text().startsWith("Cannot attach"))
      << window->notice()->text().toStdString();
  QTest::keyClick(field, Qt::Key_Backspace);
  pump(50);
  EXPECT_FALSE(window->attach_error()->isVisibleTo(window.get())) << "editing clears the error";
}

TEST(Gui, AboutBoxShowsTheProjectVersion) {
  app();
  auto window = open_window();
  const QString version = QString::fromUtf8(
      ouroboros::project_version.data(), static_cast<qsizetype>(ouroboros::project_version.size()));
  const QString text = main_window::about_text();
  EXPECT_TRUE(text.contains(QStringLiteral("ouroboros-viewer ") + version)) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("ring format version 1"))) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("record encoding version 1"))) << text.toStdString();
  QAction* about = window->action(QStringLiteral("about"));
  ASSERT_NE(about, nullptr);
  // The box is modal: close it from a timer, as a user would with OK.
  bool shown = false;
  QTimer::singleShot(50, [&shown] {
    if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
      shown = box->text().contains(QStringLiteral("ouroboros-viewer"));
      box->accept();
    }
  });
  about->trigger();
  EXPECT_TRUE(shown);
}

TEST(Gui, KeyboardFirst) {
  app();
  const std::string a = unique_name("gui-keys-a");
  const std::string b = unique_name("gui-keys-b");
  live_writer writer_a(a);
  auto window = open_window();
  segment_tab* first = window->attach(QString::fromStdString(a));
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(QApplication::focusWidget(), first->view()) << "after attaching the table has focus";
  ASSERT_TRUE(wait_until([&] { return first->session().model()->rowCount() > 50; }));

  // Space pauses and resumes from the table...
  QTest::keyClick(first->view(), Qt::Key_Space);
  EXPECT_TRUE(first->paused());
  QTest::keyClick(first->view(), Qt::Key_Space);
  EXPECT_FALSE(first->paused());
  // ... but types a space in a text field.
  QLineEdit* filter = first->filters()->text_field();
  filter->setFocus();
  QTest::keyClick(filter, Qt::Key_Space);
  EXPECT_FALSE(first->paused());
  EXPECT_EQ(filter->text(), " ");
  filter->clear();

  segment_tab* second = window->attach(QString::fromStdString(b));
  EXPECT_EQ(window->tabs()->currentWidget(), second);
  QTest::keyClick(second->view(), Qt::Key_Tab, Qt::ControlModifier);
  EXPECT_EQ(window->tabs()->currentWidget(), first) << "Ctrl+Tab switches tabs";
  QTest::keyClick(first->view(), Qt::Key_PageDown, Qt::ControlModifier);
  EXPECT_EQ(window->tabs()->currentWidget(), second) << "Ctrl+PgDown switches tabs";
  QTest::keyClick(second->view(), Qt::Key_PageUp, Qt::ControlModifier);
  EXPECT_EQ(window->tabs()->currentWidget(), first);
  QTest::keyClick(first->view(), Qt::Key_W, Qt::ControlModifier);
  EXPECT_EQ(window->tabs()->count(), 1) << "Ctrl+W closes a tab";
  EXPECT_EQ(window->tabs()->currentWidget(), second);

  // Every toolbar action tells its shortcut.
  for (QAction* action : window->findChildren<QAction*>()) {
    if (action->shortcuts().isEmpty()) continue;
    EXPECT_TRUE(action->toolTip().contains(action->shortcut().toString(QKeySequence::NativeText)))
        << action->objectName().toStdString() << ": " << action->toolTip().toStdString();
  }
}

TEST(Gui, NothingIsRepaintedWhenNothingChanges) {
  app();
  const std::string name = unique_name("gui-idle");
  record_writer writer(name, 16, 16 * 1024);
  for (int i = 0; i < 200; ++i) writer.write(level::info, "idle", 1, "row " + std::to_string(i));
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 200; }));
  ASSERT_TRUE(wait_ticks(tab, 20));
  const std::uint64_t idle_paints = tab->view()->paints();
  ASSERT_TRUE(wait_ticks(tab, 40));
  EXPECT_EQ(tab->view()->paints(), idle_paints) << "a quiet segment repaints nothing";

  // Holding with a full page, rows arriving below change nothing on screen.
  tab->view()->scroll_to(0);
  EXPECT_FALSE(tab->view()->following());
  pump(100);
  const std::uint64_t held_paints = tab->view()->paints();
  for (int i = 0; i < 300; ++i) writer.write(level::info, "idle", 1, "below " + std::to_string(i));
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 500; }));
  ASSERT_TRUE(wait_ticks(tab, 20));
  EXPECT_EQ(tab->view()->paints(), held_paints) << "rows appended below are not on screen";

  // Following, new rows are painted once per tick at most.
  tab->follow();
  pump(100);
  const std::uint64_t before = tab->view()->paints();
  const auto ticks_before = tab->session().stats().ticks;
  for (int i = 0; i < 50; ++i) {
    writer.write(level::info, "idle", 1, "new " + std::to_string(i));
    pump(5);
  }
  ASSERT_TRUE(wait_ticks(tab, 4));
  EXPECT_GT(tab->view()->paints(), before);
  EXPECT_LE(tab->view()->paints() - before, tab->session().stats().ticks - ticks_before + 1);
}

TEST(Gui, ClosingATabReturnsItsMemory) {
  app();
  const std::string name = unique_name("gui-memory");
  auto window = open_window();
  pump(200);
  return_memory_to_system();
  const std::size_t before = resident_bytes();
  {
    fast_writer writer(name, 120);
    segment_tab* tab = window->attach(QString::fromStdString(name));
    ASSERT_TRUE(wait_until([&] { return tab->session().store().retained() >= 600'000; }, 60000));
    tab->set_paused(true);  // a paused model holds its own view of the history too
  }
  const std::size_t full = resident_bytes();
  // 600 000 rows of 120-byte messages need at least 600 000 * 120 bytes; how much more depends
  // on the allocator's growth pattern, so the floor is the payload alone.
  ASSERT_GT(full, before + (60u << 20)) << "the history took memory (else this test says nothing)";
  window->action("close_tab")->trigger();
  ASSERT_EQ(window->tabs()->count(), 0);
  pump(1500);
  const std::size_t after = resident_bytes();
  EXPECT_LT(after, before + (20u << 20))
      << "RSS before " << (before >> 20) << " MiB, with the tab " << (full >> 20)
      << " MiB, after closing it " << (after >> 20) << " MiB";
}

TEST(Gui, BulkCopyRunsInTheBackgroundAndCanBeCancelled) {
  app();
  const std::string name = unique_name("gui-copy");
  record_writer writer(name, 64, 256 * 1024);
  for (int i = 0; i < 30'000; ++i)
    writer.write(level::info, "bulk", 1, "bulk row " + std::to_string(i));
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 30'000; }));
  window->action("select_all")->trigger();
  EXPECT_EQ(tab->view()->selected_count(), 30'000U);

  QApplication::clipboard()->clear();
  answer_next_question(QMessageBox::Yes);
  window->copy_rows(false);
  ASSERT_NE(window->running_job(), nullptr) << "more than 10 000 rows: copied in the background";
  ASSERT_TRUE(wait_until([&] { return window->running_job() == nullptr; }));
  EXPECT_EQ(window->notice()->text(), "Copied 30,000 rows");
  const QString text = QApplication::clipboard()->text();
  EXPECT_EQ(text.count(QLatin1Char('\n')), 30'000);
  EXPECT_TRUE(text.contains("bulk row 29999"));

  answer_next_question(QMessageBox::Cancel);
  window->copy_rows(false);
  EXPECT_EQ(window->running_job(), nullptr) << "the question can be declined";

  answer_next_question(QMessageBox::Yes);
  window->copy_rows(false);
  ASSERT_NE(window->running_job(), nullptr);
  window->running_job()->cancel();
  ASSERT_TRUE(wait_until([&] { return window->running_job() == nullptr; }));
  EXPECT_EQ(window->notice()->text(), "Copy cancelled");
}

// Deferred records (format id + arguments, formatted by the viewer when shown) read in the
// window as the call site would have written them: table cells, the copied row, the export.
TEST(Gui, DeferredRecordsReadAsTextInTheWindow) {
  app();
  const std::string name = unique_name("gui-deferred");
  logger_options options;
  options.deferred_format = true;
  options.maintenance_thread = false;
  logger log(name, options);
  const std::string city = "Zürich";
  for (int i = 0; i < 100; ++i)
    log.info("orders", "order {} shipped to {} ({:.1f} kg)", i, city, 2.5);
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_NE(tab, nullptr);
  log_model& model = *tab->session().model();
  ASSERT_TRUE(wait_until([&] { return model.rowCount() == 100; }));
  ASSERT_TRUE(model.entry_at(0).deferred()) << "kept unformatted until shown";
  tab->view()->scroll_to(0);
  pump(50);
  EXPECT_EQ(model.cell_text(5, log_model::col_message),
            QStringLiteral("order 5 shipped to Zürich (2.5 kg)"));
  tab->view()->go_to_row(2);
  pump(50);
  const QString details = tab->detail_pane()->toPlainText();
  EXPECT_TRUE(details.contains(QStringLiteral("order 2 shipped to Zürich (2.5 kg)")))
      << details.toStdString();
  EXPECT_TRUE(
      details.contains(QStringLiteral("format string (deferred record): order {} shipped "
                                      "to {} ({:.1f} kg)")))
      << details.toStdString();
  window->copy_rows(false);
  EXPECT_TRUE(QApplication::clipboard()->text().contains("order 2 shipped to Zürich (2.5 kg)"))
      << QApplication::clipboard()->text().toStdString();
  QTemporaryDir dir;
  const QString path = dir.filePath("all.log");
  window->export_rows_to(path, false);
  ASSERT_TRUE(wait_until([&] { return window->running_job() == nullptr; }));
  QFile file(path);
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  const QString content = QString::fromUtf8(file.readAll());
  EXPECT_EQ(content.count(QLatin1Char('\n')), 100);
  EXPECT_TRUE(content.contains(QStringLiteral("order 99 shipped to Zürich (2.5 kg)\n")));
  screenshot(window.get(), "deferred");
}

TEST(Gui, ExportOffersTheSelection) {
  app();
  const std::string name = unique_name("gui-export");
  record_writer writer(name, 16, 16 * 1024);
  for (int i = 0; i < 100; ++i)
    writer.write(level::info, "x", 1, "export row " + std::to_string(i));
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 100; }));
  log_view* view = tab->view();
  view->scroll_to(0);
  pump(50);
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, QPoint(40, view->row_height() * 2 + 3));
  QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ShiftModifier,
                    QPoint(40, view->row_height() * 11 + 3));
  EXPECT_EQ(view->selected_count(), 10U);
  QTemporaryDir dir;
  const QString path = dir.filePath("selected.log");
  window->export_rows_to(path, true);
  ASSERT_TRUE(wait_until([&] { return window->running_job() == nullptr; }));
  QFile file(path);
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  const QByteArray content = file.readAll();
  EXPECT_EQ(content.count('\n'), 10);
  EXPECT_TRUE(content.contains("export row 2\n"));
  EXPECT_TRUE(content.contains("export row 11\n"));
  EXPECT_FALSE(content.contains("export row 12\n"));
}

TEST(Gui, CleanExitIsNeutralDeathIsAWarningAndIsRememberedAfterARestart) {
  app();
  auto window = open_window();
  {
    const std::string name = unique_name("gui-close");
    auto writer = std::make_unique<record_writer>(name, 8, 4096);
    writer->write(level::info, "x", 1, "hello");
    segment_tab* tab = window->attach(QString::fromStdString(name));
    ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 1; }));
    writer.reset();  // a clean close
    ASSERT_TRUE(wait_until(
        [&] { return tab->session().stats().poller.state == segment_state::writer_closed; }));
    ASSERT_TRUE(wait_ticks(tab, 8));
    EXPECT_EQ(tab->state_mark(), QStringLiteral("\u25A0")) << "closed is neutral, not a warning";
    EXPECT_FALSE(
        window->tabs()->tabText(window->tabs()->indexOf(tab)).contains(QStringLiteral("\u26A0")));
  }
  const std::string name = unique_name("gui-death");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    record_writer writer(name, 8, 4096);
    for (int i = 0; i < 10; ++i) writer.write(level::info, "c", 9, "before the crash");
    ::usleep(1500 * 1000);
    ::_exit(0);  // no close: as a crash
  }
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 10; }));
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(wait_until(
      [&] { return tab->session().stats().poller.state == segment_state::writer_gone; }));
  ASSERT_TRUE(wait_ticks(tab, 8));
  EXPECT_EQ(tab->state_mark(), QStringLiteral("\u26A0")) << "a dead writer is a warning";

  // A new writer takes the name over: the restart row is timed no later than its first entry,
  // and the tab keeps saying that the previous writer died.
  record_writer second(name, 8, 4096);
  second.write(level::info, "c", 9, "after the restart");
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 12; }));
  const log_model& model = *tab->session().model();
  ASSERT_EQ(model.entry_at(10).kind(), row_kind::separator);
  EXPECT_LE(model.entry_at(10).time_ns, model.entry_at(11).time_ns);
  EXPECT_EQ(tab->session().stats().poller.writer_deaths, 1U);
  ASSERT_TRUE(wait_ticks(tab, 8));
  auto* banner = tab->findChild<QLabel*>();
  ASSERT_NE(banner, nullptr);
  EXPECT_TRUE(banner->isVisibleTo(tab));
  EXPECT_TRUE(banner->text().contains("died")) << banner->text().toStdString();
  QToolButton* dismiss = nullptr;
  for (auto* button : tab->findChildren<QToolButton*>()) {
    if (button->toolTip() == "Dismiss") dismiss = button;
  }
  ASSERT_NE(dismiss, nullptr);
  dismiss->click();
  ASSERT_TRUE(wait_ticks(tab, 8));
  EXPECT_FALSE(banner->parentWidget()->isVisibleTo(tab)) << "dismissed";
}

TEST(Gui, LayoutHoldsStillUnderMaximumIngest) {
  app();
  const std::string name = unique_name("gui-layout");
  fast_writer writer(name, 40);
  auto window = open_window(1280, 800);
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() > 1000; }));
  ASSERT_TRUE(wait_ticks(tab, 8));
  auto geometry = [&] {
    std::vector<QRect> rects;
    rects.push_back(window->segment_dock()->geometry());
    rects.push_back(tab->view()->geometry());
    rects.push_back(tab->hold_indicator()->geometry());
    rects.push_back(tab->status()->geometry());
    rects.push_back(tab->filters()->text_field()->geometry());
    for (auto* button : tab->filters()->findChildren<QAbstractButton*>())
      rects.push_back(button->geometry());
    for (int c = 0; c < log_model::column_count; ++c)
      rects.push_back(QRect(tab->view()->header()->sectionPosition(c), 0,
                            tab->view()->header()->sectionSize(c), 1));
    return rects;
  };
  const auto initial = geometry();
  EXPECT_LT(window->segment_dock()->width(), 320) << "the dock starts narrow";
  // A minute of maximum ingest (OUROBOROS_LAYOUT_SECONDS shortens it when debugging): counters
  // grow to millions, the table holds, pauses and follows again; nothing moves.
  const int seconds = qEnvironmentVariableIntValue("OUROBOROS_LAYOUT_SECONDS") > 0
                          ? qEnvironmentVariableIntValue("OUROBOROS_LAYOUT_SECONDS")
                          : 60;
  for (int second = 0; second < seconds; ++second) {
    if (second == seconds / 4) {
      screenshot(window.get(), "layout-following");
      tab->view()->scroll_to(10);  // hold
    }
    if (second == seconds / 2) {
      screenshot(window.get(), "layout-holding");
      window->action("pause")->trigger();
    }
    if (second == 3 * seconds / 4) {
      screenshot(window.get(), "layout-paused");
      window->action("follow")->trigger();
    }
    pump(1000);
    ASSERT_EQ(geometry(), initial) << "after " << second + 1 << " s";
  }
  EXPECT_GT(tab->session().stats().poller.entries_read, 1'000'000U)
      << "the counters reached seven digits";
}

TEST(Gui, MergedViewOfSelectedSegments) {
  app();
  const std::string a = unique_name("gui-merge-a");
  const std::string b = unique_name("gui-merge-b");
  live_writer wa(a);
  live_writer wb(b);
  auto window = open_window(1400, 800);
  EXPECT_EQ(window->open_merged({QString::fromStdString(a)}), nullptr) << "one is not a merge";
  EXPECT_EQ(window->open_merged({QString::fromStdString(a), QStringLiteral("bad/name")}), nullptr);

  // Selecting both in the segment list enables "Open merged".
  ASSERT_TRUE(wait_until([&] {
    window->catalog()->refresh();
    return window->catalog()->names().contains(QString::fromStdString(a)) &&
           window->catalog()->names().contains(QString::fromStdString(b));
  }));
  auto* button = window->findChild<QPushButton*>(QStringLiteral("open_merged_button"));
  ASSERT_NE(button, nullptr);
  EXPECT_FALSE(button->isEnabled());
  window->segment_list()->clearSelection();
  const auto& rows = window->catalog()->rows();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].name == QString::fromStdString(a) || rows[i].name == QString::fromStdString(b)) {
      window->segment_list()->selectionModel()->select(
          window->catalog()->index(static_cast<int>(i), 0),
          QItemSelectionModel::Select | QItemSelectionModel::Rows);
    }
  }
  EXPECT_EQ(window->selected_segments().size(), 2);
  EXPECT_TRUE(button->isEnabled());
  button->click();
  segment_tab* tab = window->current_tab();
  ASSERT_NE(tab, nullptr);
  ASSERT_NE(tab->merged(), nullptr);
  EXPECT_TRUE(tab->name().contains(QStringLiteral(" + ")));
  log_model& model = *tab->model();
  QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
  ASSERT_TRUE(wait_until([&] {
    return tab->merged()->source(0).merged > 50 && tab->merged()->source(1).merged > 50;
  }));
  // The Segment column is there, right after the time, and names each row's segment.
  EXPECT_EQ(model.columnCount(), log_model::column_count + 1);
  EXPECT_EQ(tab->view()->header()->visualIndex(log_model::col_segment), 2);
  const QStringList names = tab->merged()->source_names();
  for (int r = 0; r < std::min(model.rowCount(), 200); ++r) {
    ASSERT_EQ(model.cell_text(r, log_model::col_segment), names[model.entry_at(r).source]);
  }
  // The per-segment toggle hides one segment's rows.
  auto* toggle = tab->findChild<QToolButton*>(QStringLiteral("segment_toggle_0"));
  ASSERT_NE(toggle, nullptr);
  toggle->click();
  EXPECT_EQ(tab->hidden_segments(), 1U);
  model.wait_for_refilter();
  pump(100);
  ASSERT_GT(model.rowCount(), 0);
  for (int r = 0; r < model.rowCount(); ++r) ASSERT_EQ(model.entry_at(r).source, 1);
  toggle->click();
  model.wait_for_refilter();
  // The status strip has each segment's rate.
  pump(700);
  const QString status = tab->status()->plain_text();
  EXPECT_TRUE(status.contains(names[0])) << status.toStdString();
  EXPECT_TRUE(status.contains(names[1])) << status.toStdString();
  screenshot(window.get(), "merged");

  // "Merge tabs…" with the two segments open as tabs.
  window->attach(QString::fromStdString(a));
  window->attach(QString::fromStdString(b));
  const int before = window->tabs()->count();
  QTimer::singleShot(100, [] {
    if (auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget())) dialog->accept();
  });
  window->action(QStringLiteral("merge_tabs"))->trigger();
  EXPECT_EQ(window->tabs()->count(), before + 1);
  ASSERT_NE(window->current_tab()->merged(), nullptr);
  EXPECT_EQ(window->current_tab()->merged()->source_count(), 2U);
}

TEST(Gui, TimelineStripJumpsAndFiltersByTime) {
  app();
  const std::string name = unique_name("gui-timeline");
  auto writer = std::make_unique<record_writer>(name, 16, 64 * 1024);
  // Two seconds of history: 100 entries every 20 ms of writer time.
  for (int i = 0; i < 2000; ++i) {
    writer->write(static_cast<level>(i % 6), "t", 1, "entry " + std::to_string(i));
    if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto window = open_window(1400, 800);
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_NE(tab, nullptr);
  log_model& model = *tab->model();
  ASSERT_TRUE(wait_until([&] { return model.rowCount() == 2000; }));
  pump(600);
  timeline_strip* strip = tab->time_strip();
  ASSERT_NE(strip, nullptr);
  ASSERT_GT(strip->width(), 100);
  EXPECT_EQ(tab->session().time_buckets().entries(), 2000U);
  EXPECT_LT(strip->start_ns(), model.entry_at(0).time_ns + 1);
  EXPECT_GT(strip->end_ns(), model.entry_at(1999).time_ns);

  // A click in the middle makes the first row at or after that time current.
  const int middle = strip->width() / 2;
  const std::int64_t clicked = strip->time_at(middle);
  QTest::mouseClick(strip, Qt::LeftButton, {}, QPoint(middle, strip->height() / 2));
  const int current = tab->view()->current_row();
  ASSERT_GE(current, 0);
  EXPECT_GE(model.entry_at(current).time_ns, clicked);
  if (current > 0) {
    EXPECT_LT(model.entry_at(current - 1).time_ns, clicked);
  }
  EXPECT_FALSE(tab->view()->following());

  // A drag chooses a time range: the table shows only rows within it; the button clears it.
  const int from_x = strip->width() / 4;
  const int to_x = strip->width() / 2;
  // (The strip narrows once the clear button shows: the times are those under the mouse.)
  const std::int64_t want_from = strip->time_at(from_x);
  const std::int64_t want_to = strip->time_at(to_x);
  QTest::mousePress(strip, Qt::LeftButton, {}, QPoint(from_x, 10));
  QTest::mouseMove(strip, QPoint(from_x + 20, 10));
  QTest::mouseMove(strip, QPoint(to_x, 10));
  QTest::mouseRelease(strip, Qt::LeftButton, {}, QPoint(to_x, 10));
  const auto [from, to] = tab->time_range();
  ASSERT_NE(from, no_time);
  EXPECT_EQ(from, want_from);
  EXPECT_EQ(to, want_to);
  model.wait_for_refilter();
  ASSERT_GT(model.rowCount(), 0);
  ASSERT_LT(model.rowCount(), 2000);
  for (int r = 0; r < model.rowCount(); ++r) {
    ASSERT_GE(model.entry_at(r).time_ns, from);
    ASSERT_LE(model.entry_at(r).time_ns, to);
  }
  auto* clear = tab->findChild<QToolButton*>(QStringLiteral("clear_time_range"));
  ASSERT_NE(clear, nullptr);
  EXPECT_TRUE(clear->isVisible());
  clear->click();
  model.wait_for_refilter();
  EXPECT_EQ(model.rowCount(), 2000);
  EXPECT_FALSE(clear->isVisible());
  EXPECT_EQ(tab->time_range().first, no_time);
  screenshot(window.get(), "timeline");
}

// Issue 11, daily-driver conveniences: the row context menu's filters and "show around".
TEST(Gui, RowContextMenuFiltersAndShowsAroundATime) {
  app();
  const std::string name = unique_name("gui-menu");
  record_writer writer(name, 16, 16 * 1024);
  const char* tags[] = {"net", "db", "ui"};
  for (int i = 0; i < 300; ++i) {
    writer.write(static_cast<level>(i % 6), tags[i % 3], 1000 + static_cast<std::uint32_t>(i % 4),
                 "menu row " + std::to_string(i));
  }
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  log_model& model = *tab->model();
  ASSERT_TRUE(wait_until([&] { return model.rowCount() == 300; }));
  auto menu_action = [&](const QString& object_name) -> QAction* {
    auto* menu = new QMenu(window.get());
    tab->view()->fill_context_menu(*menu);
    for (QAction* a : menu->findChildren<QAction*>()) {
      if (a->objectName() == object_name) return a;
    }
    for (QAction* a : menu->actions()) {
      if (a->objectName() == object_name) return a;
    }
    return nullptr;
  };
  tab->view()->go_to_row(7);  // "menu row 7": level 1 (debug), tag db, thread 1003
  ASSERT_NE(menu_action("copy"), nullptr);
  ASSERT_NE(menu_action("copy_messages"), nullptr);
  ASSERT_NE(menu_action("toggle_bookmark"), nullptr);

  QAction* only_tag = menu_action("only_tag");
  ASSERT_NE(only_tag, nullptr);
  EXPECT_TRUE(only_tag->text().contains("db"));
  only_tag->trigger();
  model.wait_for_refilter();
  ASSERT_EQ(model.rowCount(), 100);
  for (int r = 0; r < model.rowCount(); ++r)
    ASSERT_EQ(model.cell_text(r, log_model::col_tag), "db");

  tab->view()->go_to_row(0);
  QAction* only_thread = menu_action("only_thread");
  ASSERT_NE(only_thread, nullptr);
  const QString thread = model.cell_text(0, log_model::col_thread);
  only_thread->trigger();
  model.wait_for_refilter();
  ASSERT_GT(model.rowCount(), 0);
  ASSERT_LT(model.rowCount(), 100);
  for (int r = 0; r < model.rowCount(); ++r)
    ASSERT_EQ(model.cell_text(r, log_model::col_thread), thread);

  tab->view()->go_to_row(0);
  QAction* only_level = menu_action("only_level");
  ASSERT_NE(only_level, nullptr);
  const QString level_text = model.cell_text(0, log_model::col_level);
  only_level->trigger();
  model.wait_for_refilter();
  ASSERT_GT(model.rowCount(), 0);
  for (int r = 0; r < model.rowCount(); ++r)
    ASSERT_EQ(model.cell_text(r, log_model::col_level), level_text);

  // "Show around" turns every filter off and keeps a time range around the row.
  const std::uint64_t serial = model.serial_at(0);
  QAction* around = menu_action("around_1");
  ASSERT_NE(around, nullptr);
  around->trigger();
  model.wait_for_refilter();
  pump(50);
  EXPECT_EQ(model.rowCount(), 300) << "all rows were written within a second";
  EXPECT_EQ(tab->view()->current_serial(), serial) << "the row stays current";
  const auto range = tab->time_range();
  EXPECT_NE(range.first, no_time);
  const filter_spec& spec = *model.filter();
  EXPECT_TRUE(spec.text.isEmpty() && spec.tags_include.isEmpty() && spec.threads.empty() &&
              spec.level_mask == 0x7F);

  tab->view()->go_to_row(2);  // tag "ui"
  QAction* exclude = menu_action("exclude_tag");
  ASSERT_NE(exclude, nullptr);
  exclude->trigger();
  model.wait_for_refilter();
  ASSERT_EQ(model.rowCount(), 200);
  for (int r = 0; r < model.rowCount(); ++r)
    ASSERT_NE(model.cell_text(r, log_model::col_tag), "ui");
}

TEST(Gui, BookmarksNavigateSurviveFilteringExportAndLeaveWithEvictedRows) {
  app();
  const std::string name = unique_name("gui-marks");
  record_writer writer(name, 16, 16 * 1024);
  for (int i = 0; i < 100; ++i)
    writer.write(i % 2 ? level::info : level::error, "m", 1, "mark row " + std::to_string(i));
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  log_model& model = *tab->model();
  ASSERT_TRUE(wait_until([&] { return model.rowCount() == 100; }));
  log_view* view = tab->view();
  const std::uint64_t seq10 = model.entry_at(10).sequence;
  const std::uint64_t seq41 = model.entry_at(41).sequence;
  view->go_to_row(10);
  QTest::keyClick(view, Qt::Key_B, Qt::ControlModifier);
  view->go_to_row(41);
  window->action("toggle_bookmark")->trigger();
  ASSERT_EQ(model.bookmarks().size(), 2U);
  EXPECT_EQ(tab->bookmark_list()->count(), 2);
  EXPECT_TRUE(tab->bookmark_list()->isVisible());

  view->go_to_row(0);
  QTest::keyClick(view, Qt::Key_F2);
  EXPECT_EQ(view->current_row(), 10);
  window->action("next_bookmark")->trigger();
  EXPECT_EQ(view->current_row(), 41);
  window->action("next_bookmark")->trigger();
  EXPECT_EQ(view->current_row(), 10) << "wraps";
  QTest::keyClick(view, Qt::Key_F2, Qt::ShiftModifier);
  EXPECT_EQ(view->current_row(), 41);

  // A click in the list jumps to the row.
  view->go_to_row(0);
  QListWidgetItem* second = tab->bookmark_list()->item(1);
  tab->bookmark_list()->itemClicked(second);
  EXPECT_EQ(model.entry_at(view->current_row()).sequence, seq41);

  // Filtering hides the info bookmark (row 41) but keeps it.
  view->go_to_row(10);
  auto* menu = new QMenu(window.get());
  view->fill_context_menu(*menu);
  for (QAction* a : menu->actions()) {
    if (a->objectName() == "only_level") a->trigger();
  }
  model.wait_for_refilter();
  ASSERT_EQ(model.rowCount(), 50);
  EXPECT_EQ(model.bookmarks().size(), 2U);
  window->action("next_bookmark")->trigger();
  EXPECT_EQ(model.entry_at(view->current_row()).sequence, seq10) << "the hidden one is skipped";

  // Exported as a column.
  QTemporaryDir dir;
  const QString path = dir.filePath("marks.csv");
  window->export_rows_to(path, false);
  ASSERT_TRUE(wait_until([&] { return window->running_job() == nullptr; }));
  QFile file(path);
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  const QList<QByteArray> lines = file.readAll().split('\n');
  ASSERT_GE(lines.size(), 51);
  EXPECT_TRUE(lines[0].endsWith(",bookmark"));
  int marked = 0;
  for (const QByteArray& line : lines) {
    if (line.endsWith(",1")) {
      ++marked;
      EXPECT_TRUE(line.contains("mark row 10")) << line.toStdString();
    }
  }
  EXPECT_EQ(marked, 1) << "one bookmark is visible and exported";

  // Rows evicted from the history take their bookmarks with them, and the panel says so.
  window->set_history_limits({50, 0});
  for (int i = 100; i < 200; ++i) writer.write(level::error, "m", 1, "later " + std::to_string(i));
  ASSERT_TRUE(wait_until([&] { return model.view().first > 43; }));
  pump(50);
  EXPECT_TRUE(model.bookmarks().empty());
  EXPECT_EQ(tab->bookmark_list()->count(), 0);
  window->action("next_bookmark")->trigger();  // nothing to go to: no wrong row
  const QLabel* note = nullptr;
  for (QLabel* label : tab->findChildren<QLabel*>()) {
    if (label->text().contains("2 bookmarks went with their rows")) note = label;
  }
  EXPECT_NE(note, nullptr) << "the panel tells why the bookmarks went";
  screenshot(window.get(), "bookmarks");
}

TEST(Gui, ClearEmptiesTheTableWhileReadingGoesOn) {
  app();
  const std::string name = unique_name("gui-clear");
  record_writer writer(name, 16, 16 * 1024);
  for (int i = 0; i < 100; ++i) writer.write(level::info, "c", 1, "old " + std::to_string(i));
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  log_model& model = *tab->model();
  ASSERT_TRUE(wait_until([&] { return model.rowCount() == 100; }));
  const std::uint64_t last_before = model.entry_at(99).sequence;
  EXPECT_EQ(window->action("clear")->shortcut(), QKeySequence(QStringLiteral("Ctrl+L")));
  EXPECT_EQ(window->action("focus_filter")->shortcut(),
            QKeySequence(QStringLiteral("Ctrl+Shift+L")));
  QTest::keyClick(tab->view(), Qt::Key_L, Qt::ControlModifier);
  EXPECT_EQ(model.rowCount(), 0);
  EXPECT_EQ(tab->session().store().retained(), 0U) << "the history is freed, not only hidden";
  EXPECT_TRUE(tab->status()->plain_text().contains("cleared 100 rows at"))
      << tab->status()->plain_text().toStdString();
  for (int i = 100; i < 110; ++i) writer.write(level::info, "c", 1, "new " + std::to_string(i));
  ASSERT_TRUE(wait_until([&] { return model.rowCount() == 10; }));
  EXPECT_EQ(model.entry_at(0).sequence, last_before + 1) << "reading went on where it was";

  // Ctrl+Shift+L still goes to the message filter.
  QTest::keyClick(tab->view(), Qt::Key_L, Qt::ControlModifier | Qt::ShiftModifier);
  EXPECT_EQ(QApplication::focusWidget(), tab->filters()->text_field());
}

TEST(Gui, ClearAndHideGapsInAMergedView) {
  app();
  const std::string a = unique_name("gui-clear-a");
  const std::string b = unique_name("gui-clear-b");
  live_writer wa(a);
  live_writer wb(b);
  auto window = open_window(1400, 800);
  segment_tab* tab = window->open_merged({QString::fromStdString(a), QString::fromStdString(b)});
  ASSERT_NE(tab, nullptr);
  log_model& model = *tab->model();
  ASSERT_TRUE(wait_until([&] { return model.rowCount() > 100; }));
  window->action("clear")->trigger();
  EXPECT_EQ(model.rowCount(), 0);
  EXPECT_EQ(tab->merged()->store().retained(), 0U);
  EXPECT_TRUE(tab->status()->plain_text().contains("cleared"));
  ASSERT_TRUE(wait_until([&] { return model.rowCount() > 20; })) << "reading goes on";
  window->action("hide_gaps")->trigger();
  EXPECT_TRUE(tab->hide_gaps());
  EXPECT_TRUE(model.filter()->hide_gaps);
  window->action("hide_gaps")->trigger();
  EXPECT_FALSE(tab->hide_gaps());

  // The header's "choose columns" menu lists the Segment column of a merged view and hides it.
  QHeaderView* header = tab->view()->header();
  QStringList columns;
  QTimer::singleShot(100, [&] {
    auto* popup = qobject_cast<QMenu*>(QApplication::activePopupWidget());
    if (!popup) return;
    for (QAction* a : popup->actions()) {
      columns << a->text();
      if (a->text() == "Segment") a->setChecked(false);
    }
    popup->close();
  });
  emit header->customContextMenuRequested(QPoint(10, 5));
  EXPECT_TRUE(columns.contains("Segment")) << columns.join(',').toStdString();
  EXPECT_EQ(columns.size(), log_model::column_count + 1);
  EXPECT_TRUE(header->isSectionHidden(log_model::col_segment));
}

TEST(Gui, HideGapRowsKeepsTheLostTotals) {
  app();
  const std::string name = unique_name("gui-hide-gaps");
  record_writer writer(name, 8, 1024);
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  for (int i = 0; i < 20; ++i) writer.write(level::info, "g", 1, "before");
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 20; }));
  tab->session().poller().hold(true);
  QThread::msleep(20);
  for (int i = 0; i < 3000; ++i) writer.write(level::info, "g", 1, "flood " + std::to_string(i));
  tab->session().poller().hold(false);
  ASSERT_TRUE(wait_until([&] {
    const auto& s = tab->session().stats().poller;
    return s.gaps > 0 && s.entries_read + s.entries_lost == writer.written();
  }));
  log_model& model = *tab->model();
  ASSERT_GE(model.find_gap(-1, true), 0);
  const int with_gaps = model.rowCount();
  QAction* hide = window->action("hide_gaps");
  ASSERT_TRUE(hide->isCheckable());
  hide->trigger();
  EXPECT_TRUE(hide->isChecked());
  model.wait_for_refilter();
  EXPECT_EQ(model.find_gap(-1, true), -1) << "no gap row left in the table";
  EXPECT_LT(model.rowCount(), with_gaps);
  ASSERT_TRUE(wait_ticks(tab, 8));
  const QString status = tab->status()->plain_text();
  EXPECT_TRUE(status.contains("lost")) << status.toStdString();
  EXPECT_FALSE(status.contains("lost 0")) << status.toStdString();
  EXPECT_TRUE(status.contains("gap rows hidden")) << status.toStdString();
  hide->trigger();
  model.wait_for_refilter();
  EXPECT_GE(model.find_gap(-1, true), 0) << "and back";
  EXPECT_EQ(model.rowCount(), with_gaps);
}

TEST(Gui, HighlightRulesColourArrivingRowsInTabsAndMergedViews) {
  app();
  const std::string a = unique_name("gui-hl-a");
  const std::string b = unique_name("gui-hl-b");
  live_writer wa(a);
  live_writer wb(b);
  auto window = open_window();

  // The dialog names an invalid rule and refuses OK; nothing is saved.
  bool dialog_checked = false;
  QTimer::singleShot(100, [&] {
    auto* dialog = qobject_cast<highlight_dialog*>(QApplication::activeModalWidget());
    if (dialog == nullptr) return;
    highlight_rule bad;
    bad.pattern = QStringLiteral("message (");
    dialog->add_rule(bad);
    dialog->accept();
    EXPECT_TRUE(dialog->isVisible()) << "OK refused while a rule is invalid";
    EXPECT_TRUE(dialog->error_label()->text().contains("rule 1: invalid regular expression"))
        << dialog->error_label()->text().toStdString();
    dialog->table()->item(0, 1)->setText(QStringLiteral("message \\d*7$"));
    EXPECT_TRUE(dialog->error_label()->text().isEmpty());
    dialog->table()->removeRow(0);
    dialog_checked = true;
    dialog->reject();
  });
  window->action(QStringLiteral("highlight_rules"))->trigger();
  EXPECT_TRUE(dialog_checked);
  EXPECT_TRUE(window->highlight_rules().empty());

  highlight_rule sevens;
  sevens.pattern = QStringLiteral("message \\d*7$");
  sevens.rgb = 0x2e7d32;
  highlight_rule db;
  db.on = highlight_rule::field::tag;
  db.pattern = QStringLiteral("db");
  db.rgb = 0xffd54f;
  window->set_highlight_rules({sevens, db});

  segment_tab* tab = window->attach(QString::fromStdString(a));
  ASSERT_NE(tab, nullptr);
  log_model& model = *tab->model();
  ASSERT_TRUE(wait_until([&] { return model.rowCount() > 300; }));
  int marked = 0;
  for (int r = 0; r < model.rowCount(); ++r) {
    const entry& e = model.entry_at(r);
    if (e.always_visible()) continue;
    const std::string_view m = e.stored_message();
    const std::int64_t want =
        m.back() == '7'
            ? 0x2e7d32
            : (e.tag != 0 && model.cell_text(r, log_model::col_tag) == "db" ? 0xffd54f : -1);
    ASSERT_EQ(model.highlight_at(r), want) << "row " << r << ": " << m;
    marked += want >= 0;
  }
  EXPECT_GT(marked, 50);
  // The rows are painted in their rule's colour.
  tab->view()->go_to_row(model.rowCount() - 1);
  pump(100);
  const QImage picture = tab->view()->viewport()->grab().toImage();
  bool seen = false;
  for (int y = 0; y < picture.height() && !seen; y += 2) {
    seen = (picture.pixel(picture.width() - 5, y) & 0xFFFFFFU) == 0xffd54fU;
  }
  EXPECT_TRUE(seen) << "a db row is painted with its rule's background";
  screenshot(window.get(), "highlight");

  // Merged views get the same rules; a rule change re-marks the rows already shown.
  segment_tab* merged = window->open_merged({QString::fromStdString(a), QString::fromStdString(b)});
  ASSERT_NE(merged, nullptr);
  log_model& mm = *merged->model();
  ASSERT_TRUE(wait_until([&] { return mm.rowCount() > 100; }));
  bool merged_marked = false;
  for (int r = 0; r < mm.rowCount() && !merged_marked; ++r)
    merged_marked = mm.highlight_at(r) == 0x2e7d32;
  EXPECT_TRUE(merged_marked);
  window->set_highlight_rules({db});
  for (int r = 0; r < model.rowCount(); ++r) ASSERT_NE(model.highlight_at(r), 0x2e7d32);

  // Saved: a new window starts with them.
  auto second = open_window();
  EXPECT_EQ(second->highlight_rules(), std::vector<highlight_rule>{db});
  second->set_highlight_rules({});
  auto third = open_window();
  EXPECT_TRUE(third->highlight_rules().empty());
}

TEST(Gui, SessionIsSavedOnCloseAndRestoredInANewWindow) {
  app();
  const std::string a = unique_name("gui-ses-a");
  const std::string b = unique_name("gui-ses-b");
  const std::string later = unique_name("gui-ses-later");
  live_writer wa(a);
  live_writer wb(b);
  const QString qa = QString::fromStdString(a);
  const QString qb = QString::fromStdString(b);
  const QString ql = QString::fromStdString(later);
  {
    auto window = open_window();
    segment_tab* one = window->attach(qa);
    ASSERT_NE(one, nullptr);
    filter_spec f;
    f.text = QStringLiteral("message \\d+");
    f.regex = true;
    f.case_sensitive = true;
    f.level_mask = 0x1C;
    f.tags_include = QStringList{QStringLiteral("net"), QStringLiteral("d*")};
    f.tags_exclude = QStringList{QStringLiteral("ui")};
    f.threads = {1000, 1002};
    one->filters()->set_spec(f);
    EXPECT_EQ(*one->filters()->spec(), f);
    ASSERT_NE(window->attach(ql), nullptr) << "a segment that does not exist yet";
    segment_tab* merged = window->open_merged({qa, qb});
    ASSERT_NE(merged, nullptr);
    merged->set_hidden_segments(2);
    window->tabs()->setCurrentIndex(1);
    window->close();
  }
  auto restored = open_window();
  EXPECT_EQ(restored->tabs()->count(), 0) << "a window opens empty until asked to restore";
  restored->open_startup_views(true, {}, {});
  ASSERT_EQ(restored->tabs()->count(), 3);
  auto* one = qobject_cast<segment_tab*>(restored->tabs()->widget(0));
  auto* waiting = qobject_cast<segment_tab*>(restored->tabs()->widget(1));
  auto* merged = qobject_cast<segment_tab*>(restored->tabs()->widget(2));
  ASSERT_TRUE(one && waiting && merged);
  EXPECT_TRUE(one->name().endsWith(qa)) << one->name().toStdString();
  EXPECT_TRUE(one->filters()->spec()->regex);
  EXPECT_EQ(one->filters()->spec()->text, QStringLiteral("message \\d+"));
  EXPECT_TRUE(one->filters()->spec()->case_sensitive);
  EXPECT_EQ(one->filters()->spec()->level_mask, 0x1C);
  EXPECT_EQ(one->filters()->spec()->tags_include, (QStringList{"net", "d*"}));
  EXPECT_EQ(one->filters()->spec()->tags_exclude, QStringList{"ui"});
  EXPECT_EQ(one->filters()->spec()->threads, (std::vector<std::uint32_t>{1000, 1002}));
  EXPECT_EQ(one->model()->filter()->level_mask, 0x1C) << "the filter is applied, not only shown";
  ASSERT_NE(merged->merged(), nullptr);
  EXPECT_EQ(merged->merged()->source_count(), 2U);
  EXPECT_EQ(merged->hidden_segments(), 2U);
  EXPECT_EQ(restored->tabs()->currentIndex(), 1);
  // Rows that pass the restored filter arrive; the segment that did not exist attaches later.
  ASSERT_TRUE(wait_until([&] { return one->model()->rowCount() > 20; }));
  for (int r = 0; r < one->model()->rowCount(); ++r) {
    const entry& e = one->model()->entry_at(r);
    if (e.always_visible()) continue;
    ASSERT_TRUE(e.level >= 2 && e.level <= 4) << "row " << r;
  }
  record_writer writer(later, 8, 4096);
  writer.write(level::info, "t", 1, "hello later");
  ASSERT_TRUE(wait_until([&] { return waiting->model()->rowCount() == 1; }));

  // Command-line segments open in addition to the restored ones; --no-restore starts with them
  // only.
  restored->close();
  auto both = open_window();
  both->open_startup_views(true, {qb}, {});
  EXPECT_EQ(both->tabs()->count(), 4);
  EXPECT_TRUE(both->current_tab()->name().endsWith(qb));
  auto only = open_window();
  only->open_startup_views(false, {qb}, {});
  EXPECT_EQ(only->tabs()->count(), 1);
  auto empty = open_window();
  empty->open_startup_views(false, {}, {});
  EXPECT_EQ(empty->tabs()->count(), 0);
  // Closing an empty window leaves an empty session behind.
  empty->close();
  auto after = open_window();
  after->open_startup_views(true, {}, {});
  EXPECT_EQ(after->tabs()->count(), 0);
}

TEST(Gui, ThemeSwitchAppliesAPaletteAndIsSaved) {
  app();
  const QString startup_style = QApplication::style()->name();
  const std::string name = unique_name("gui-theme");
  live_writer writer(name);
  auto window = open_window();
  segment_tab* tab = window->attach(QString::fromStdString(name));
  ASSERT_NE(tab, nullptr);
  ASSERT_TRUE(wait_until([&] { return tab->model()->rowCount() > 50; }));
  EXPECT_TRUE(window->action(QStringLiteral("theme_system"))->isChecked());

  window->action(QStringLiteral("theme_dark"))->trigger();
  pump(50);
  EXPECT_EQ(window->theme(), "dark");
  EXPECT_EQ(QApplication::style()->name().toLower(), "fusion");
  EXPECT_LT(QApplication::palette().color(QPalette::Base).lightness(), 128);
  EXPECT_LT(tab->view()->palette().color(QPalette::Base).lightness(), 128);
  const QImage dark = tab->view()->viewport()->grab().toImage();
  EXPECT_LT(QColor(dark.pixel(dark.width() - 3, dark.height() - 3)).lightness(), 128)
      << "the table paints dark";
  screenshot(window.get(), "theme-dark");
  {
    QSettings s(QStringLiteral("ouroboros"), QStringLiteral("viewer"));
    EXPECT_EQ(s.value("view/theme").toString(), "dark");
  }
  auto second = open_window();
  EXPECT_TRUE(second->action(QStringLiteral("theme_dark"))->isChecked()) << "saved";
  second.reset();

  window->action(QStringLiteral("theme_light"))->trigger();
  pump(50);
  EXPECT_GT(QApplication::palette().color(QPalette::Base).lightness(), 128);
  const QImage light = tab->view()->viewport()->grab().toImage();
  EXPECT_GT(QColor(light.pixel(light.width() - 3, light.height() - 3)).lightness(), 128);

  window->action(QStringLiteral("theme_system"))->trigger();
  EXPECT_EQ(window->theme(), "system");
  EXPECT_EQ(QApplication::style()->name(), startup_style);
}
