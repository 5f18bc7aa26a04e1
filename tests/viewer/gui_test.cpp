// GUI smoke test: the real main window, offscreen, attached to a live segment with a writer
// producing. Drives the user actions (pause, filter, gap navigation, copy, export, close) and
// checks what the widgets show.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <atomic>
#include <thread>

#include "data/segment_catalog.hpp"
#include "ui/filter_bar.hpp"
#include "ui/log_view.hpp"
#include "ui/main_window.hpp"
#include "ui/segment_tab.hpp"
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
    return new QApplication(argc, argv);
  }();
  return *instance;
}

// A writer thread producing records at a modest pace until stopped.
class live_writer {
 public:
  explicit live_writer(const std::string& name) : writer_(name, 16, 16 * 1024) {
    thread_ = std::thread([this] {
      std::uint64_t i = 0;
      while (!stop_.load()) {
        for (int k = 0; k < 20; ++k, ++i) {
          const char* tags[] = {"net", "db", "ui"};
          writer_.write(static_cast<level>(i % 6), tags[i % 3],
                        1000 + static_cast<std::uint32_t>(i % 4),
                        "live message " + std::to_string(i));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  ~live_writer() {
    stop_.store(true);
    thread_.join();
  }

 private:
  record_writer writer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};
}  // namespace

TEST(Gui, MainWindowAttachedToALiveSegment) {
  app();
  const std::string name = unique_name("gui");
  live_writer writer(name);

  main_window window;
  window.resize(1200, 800);
  window.show();
  EXPECT_EQ(window.attach(QStringLiteral("bad/name")), nullptr)
      << "invalid names are refused, not crashed on";

  segment_tab* tab = window.attach(QString::fromStdString(name));
  ASSERT_NE(tab, nullptr);
  EXPECT_EQ(window.attach(QString::fromStdString(name)), tab) << "same name: same tab";
  QAbstractItemModelTester tester(tab->session().model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  log_model& model = *tab->session().model();

  ASSERT_TRUE(wait_until([&] { return model.rowCount() > 500; }));
  EXPECT_EQ(tab->session().stats().poller.state, segment_state::attached);
  EXPECT_TRUE(tab->status_line().contains("attached"));
  EXPECT_TRUE(window.tabs()->tabText(0).contains(QString::fromStdString(name)));
  EXPECT_TRUE(window.recent().contains(QString::fromStdString(name)));
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
  tab->copy_selection();
  EXPECT_TRUE(QApplication::clipboard()->text().contains("live message"))
      << QApplication::clipboard()->text().toStdString();
  tab->follow();
  EXPECT_TRUE(tab->view()->following());

  // Export the visible rows as JSON lines.
  QTemporaryDir dir;
  const QString file = dir.filePath("out.jsonl");
  QSignalSpy done(tab, &segment_tab::exportFinished);
  tab->export_visible(file);
  ASSERT_TRUE(wait_until([&] { return done.count() == 1; }));
  EXPECT_TRUE(done.at(0).at(0).toString().startsWith("Exported"))
      << done.at(0).at(0).toString().toStdString();
  QFile exported(file);
  ASSERT_TRUE(exported.open(QIODevice::ReadOnly));
  const QByteArray first_line = exported.readLine();
  EXPECT_TRUE(first_line.contains("\"level\":\"error\"")) << first_line.toStdString();

  // The window renders.
  const QImage picture = window.grab().toImage();
  EXPECT_EQ(picture.width(), window.width());
  EXPECT_FALSE(picture.isNull());

  // Closing the tab stops its reader.
  window.tabs()->tabCloseRequested(0);
  EXPECT_EQ(window.tabs()->count(), 0);
}

TEST(Gui, WaitingTabShowsTheStateAndAttachesLater) {
  app();
  const std::string name = unique_name("gui-wait");
  main_window window;
  window.show();
  segment_tab* tab = window.attach(QString::fromStdString(name));
  ASSERT_NE(tab, nullptr);
  ASSERT_TRUE(wait_until([&] { return tab->session().stats().ticks > 8; }));
  EXPECT_EQ(tab->session().stats().poller.state, segment_state::waiting);
  EXPECT_TRUE(tab->status_line().contains("waiting"));
  record_writer writer(name, 8, 4096);
  for (int i = 0; i < 10; ++i) writer.write(level::warn, "w", 1, "hello " + std::to_string(i));
  ASSERT_TRUE(wait_until([&] { return tab->session().model()->rowCount() == 10; }));
  EXPECT_EQ(tab->session().stats().poller.state, segment_state::attached);
}

TEST(Gui, GapNavigationSelectsGapRows) {
  app();
  const std::string name = unique_name("gui-gap");
  record_writer writer(name, 8, 1024);
  main_window window;
  window.show();
  segment_tab* tab = window.attach(QString::fromStdString(name));
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
  tab->next_gap(true);
  const QModelIndex current = tab->view()->currentIndex();
  ASSERT_TRUE(current.isValid());
  EXPECT_EQ(tab->session().model()->entry_at(current.row()).kind(), row_kind::gap);
  EXPECT_TRUE(tab->status_line().contains("lost"));
}
