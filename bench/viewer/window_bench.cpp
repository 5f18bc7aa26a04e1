// The whole viewer window under a real writer: what a user who keeps it open pays.
//
// Starts ouroboros-demo-writer (a separate process, so its CPU is not counted) at --rate entries/s
// (0 = as fast as it can), opens the real main window (1600x1000) attached to its segment with
// the table following, and runs the event loop for --seconds after a warm-up. Reports:
//   * viewer CPU (the whole process: GUI thread, poller thread, pool threads) as % of one core,
//     and the GUI and poller threads on their own;
//   * GUI busy time per tick period: the time the GUI thread spent handling events (timers,
//     paints, layout, input) between two ticks of the session, p50/p99/max;
//   * with --keys, key-to-paint latency: a key event is posted to the filter field every ~300 ms
//     (alternately a letter and Backspace, so the filter really changes and re-filters the
//     history) and timed until the field has painted it.
//
//   ouroboros-bench-viewer --window [--rate N] [--seconds S] [--warmup S] [--keys]
//                                   [--paint-census]   (paint events per widget)
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QKeyEvent>
#include <QLineEdit>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "data/segment_session.hpp"
#include "ui/filter_bar.hpp"
#include "ui/log_view.hpp"
#include "ui/main_window.hpp"
#include "ui/segment_tab.hpp"

using namespace ouroboros::viewer;
using namespace viewer_bench;

namespace {

// Times every event the GUI thread handles (outermost dispatch only, so nested sends count
// once) and notices when the key target has painted.
class timing_application : public QApplication {
 public:
  using QApplication::QApplication;

  bool notify(QObject* receiver, QEvent* event) override {
    if (QThread::currentThread() != thread()) return QApplication::notify(receiver, event);
    const bool outermost = depth_++ == 0;
    if (outermost) started_ = clock_.nsecsElapsed();
    QElapsedTimer paint_clock;
    const bool paint = census && event->type() == QEvent::Paint;
    if (paint) paint_clock.start();
    const bool result = QApplication::notify(receiver, event);
    if (paint) {
      auto& entry = paints[QString::fromLatin1(receiver->metaObject()->className()) +
                           QLatin1Char(' ') + receiver->objectName()];
      ++entry.first;
      entry.second += static_cast<double>(paint_clock.nsecsElapsed()) / 1e6;
    }
    if (key_posted_ns >= 0 && receiver == key_target && event->type() == QEvent::Paint) {
      key_latencies_ms.push_back(static_cast<double>(clock_.nsecsElapsed() - key_posted_ns) / 1e6);
      key_posted_ns = -1;
    }
    if (--depth_ == 0) {
      const qint64 spent = clock_.nsecsElapsed() - started_;
      busy_ns_ += spent;
      if (census && spent > 20'000'000) {
        slow.push_back(QStringLiteral("%1 ms: %2 to %3 %4")
                           .arg(static_cast<double>(spent) / 1e6, 0, 'f', 1)
                           .arg(static_cast<int>(event->type()))
                           .arg(QString::fromLatin1(receiver->metaObject()->className()),
                                receiver->objectName()));
      }
    }
    return result;
  }

  void start_clock() { clock_.start(); }
  qint64 now_ns() const { return clock_.nsecsElapsed(); }
  // GUI busy time since the previous call, including the event being handled right now.
  qint64 take_busy_ns() {
    const qint64 now = clock_.nsecsElapsed();
    qint64 busy = busy_ns_;
    if (depth_ > 0) {
      busy += now - started_;
      started_ = now;
    }
    busy_ns_ = 0;
    return busy;
  }

  bool census = false;
  std::vector<QString> slow;                                   // outermost dispatches over 20 ms
  std::map<QString, std::pair<std::uint64_t, double>> paints;  // count, ms
  QObject* key_target = nullptr;
  qint64 key_posted_ns = -1;
  std::vector<double> key_latencies_ms;

 private:
  QElapsedTimer clock_;
  int depth_ = 0;
  qint64 started_ = 0;
  qint64 busy_ns_ = 0;
};

}  // namespace

int run_window_bench(int argc, char** argv) {
  double rate = 2000;
  double seconds = 60;
  double warmup = 5;
  bool keys = false;
  bool census = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rate" && i + 1 < argc) {
      rate = std::stod(argv[++i]);
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else if (arg == "--warmup" && i + 1 < argc) {
      warmup = std::stod(argv[++i]);
    } else if (arg == "--keys") {
      keys = true;
    } else if (arg == "--paint-census") {
      census = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s --window [--rate N (0 = max)] [--seconds S] [--warmup S] [--keys] "
                   "[--paint-census]\n",
                   argv[0]);
      return 2;
    }
  }
  // The viewer's settings go to a scratch directory: a user's saved layout must not change
  // what is measured.
  QTemporaryDir config;
  qputenv("XDG_CONFIG_HOME", config.path().toUtf8());
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY")) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
  }
  timing_application app(argc, argv);
  app.start_clock();
  app.census = census;

  const QString name = QStringLiteral("ouroboros-bench-window-%1").arg(::getpid());
  QProcess writer;
  // The writer dies with the benchmark, however the benchmark ends (a timeout's SIGKILL too).
  writer.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
  writer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  writer.setStandardOutputFile(QProcess::nullDevice());
  writer.start(QDir(QCoreApplication::applicationDirPath())
                   .filePath(QStringLiteral("ouroboros-demo-writer")),
               {QStringLiteral("--segment"), name, QStringLiteral("--rate"),
                QString::number(rate, 'f', 0), QStringLiteral("--quiet")});
  if (!writer.waitForStarted(5000)) {
    std::fprintf(stderr, "cannot start ouroboros-demo-writer next to this program\n");
    return 1;
  }

  main_window window;
  window.resize(1600, 1000);
  window.show();
  segment_tab* tab = window.attach(name);
  if (tab == nullptr) return 1;
  QLineEdit* filter_field = tab->filters()->findChildren<QLineEdit*>().value(0);

  std::vector<double> frames_ms;
  bool measuring = false;
  QObject::connect(&tab->session(), &segment_session::ticked, &app, [&] {
    const qint64 busy = app.take_busy_ns();
    if (measuring) frames_ms.push_back(static_cast<double>(busy) / 1e6);
  });

  std::uint64_t paints_start = 0;
  std::uint64_t rows_start = 0;
  double cpu_start = 0;
  double gui_start = 0;
  double poller_start = 0;
  qint64 measure_start_ns = 0;
  const std::string gui_tid = std::to_string(::getpid());
  QTimer::singleShot(static_cast<int>(warmup * 1000), &app, [&] {
    measuring = true;
    app.take_busy_ns();
    cpu_start = process_cpu_seconds();
    gui_start = task_cpu_seconds(gui_tid);
    poller_start = thread_cpu_seconds("ouro-poller");
    measure_start_ns = app.now_ns();
    paints_start = tab->view()->paints();
    rows_start = tab->view()->painted_rows();
  });

  QTimer key_timer;
  int typed = 0;
  if (keys && filter_field != nullptr) {
    app.key_target = filter_field;
    key_timer.setInterval(300);
    QObject::connect(&key_timer, &QTimer::timeout, &app, [&] {
      if (!measuring || app.key_posted_ns >= 0) return;
      const bool letter = (typed++ % 2) == 0;
      const int key = letter ? Qt::Key_X : Qt::Key_Backspace;
      const QString text = letter ? QStringLiteral("x") : QString();
      // Jitter so the keys do not lock onto the tick phase.
      QTimer::singleShot(
          static_cast<int>(QRandomGenerator::global()->bounded(25)), &app,
          [&app, filter_field, key, text] {
            app.key_posted_ns = app.now_ns();
            QCoreApplication::postEvent(filter_field,
                                        new QKeyEvent(QEvent::KeyPress, key, Qt::NoModifier, text));
            QCoreApplication::postEvent(
                filter_field, new QKeyEvent(QEvent::KeyRelease, key, Qt::NoModifier, text));
          });
    });
    key_timer.start();
  }

  QTimer::singleShot(static_cast<int>((warmup + seconds) * 1000), &app, &QApplication::quit);
  QApplication::exec();

  const double measured_s = static_cast<double>(app.now_ns() - measure_start_ns) / 1e9;
  const double cpu = process_cpu_seconds() - cpu_start;
  const double gui = task_cpu_seconds(gui_tid) - gui_start;
  const double poller = thread_cpu_seconds("ouro-poller") - poller_start;
  const session_stats& stats = tab->session().stats();

  std::printf(
      "viewer window, writer at %s, %.1f s measured after %.1f s warm-up, platform %s\n",
      rate > 0 ? (QString::number(rate, 'f', 0) + QStringLiteral(" entries/s")).toUtf8().constData()
               : "maximum rate",
      measured_s, warmup, QGuiApplication::platformName().toUtf8().constData());
  std::printf("  machine load        %12s (1-min load average; 2 cores)\n", load_average().c_str());
  std::printf("  ingest              %12.0f entries/s read, %llu lost, %llu rows kept\n",
              stats.ingest_per_second, static_cast<unsigned long long>(stats.poller.entries_lost),
              static_cast<unsigned long long>(stats.retained));
  std::printf("  viewer CPU          %12.2f %% of one core (whole process)\n",
              100.0 * cpu / measured_s);
  std::printf("  GUI thread CPU      %12.2f %% of one core\n", 100.0 * gui / measured_s);
  std::printf("  poller thread CPU   %12.2f %% of one core\n", 100.0 * poller / measured_s);
  std::printf("  table repaints      %12.1f /s, %.1f rows drawn/s (%d rows on screen)\n",
              static_cast<double>(tab->view()->paints() - paints_start) / measured_s,
              static_cast<double>(tab->view()->painted_rows() - rows_start) / measured_s,
              tab->view()->page_rows() + 1);
  std::printf("  GUI busy per tick   p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu ticks)\n",
              percentile(frames_ms, 0.5), percentile(frames_ms, 0.99), percentile(frames_ms, 1.0),
              frames_ms.size());
  if (keys) {
    std::printf("  key-to-paint        p50 %.1f ms  p99 %.1f ms  max %.1f ms  (%zu keys)\n",
                percentile(app.key_latencies_ms, 0.5), percentile(app.key_latencies_ms, 0.99),
                percentile(app.key_latencies_ms, 1.0), app.key_latencies_ms.size());
  }
  std::printf("  RSS                 %12.1f MiB\n", static_cast<double>(rss_bytes()) / 1048576.0);
  if (census) {
    std::printf("  paint events per second by widget (class objectName): count, ms\n");
    for (const auto& [widget, figures] : app.paints) {
      std::printf("    %-50s %8.1f/s %8.2f ms/s\n", widget.toUtf8().constData(),
                  static_cast<double>(figures.first) / (measured_s + warmup),
                  figures.second / (measured_s + warmup));
    }
    std::printf("  event dispatches over 20 ms (type numbers: QEvent::Type):\n");
    for (const QString& line : app.slow) std::printf("    %s\n", line.toUtf8().constData());
  }

  writer.terminate();
  writer.waitForFinished(3000);
  return 0;
}
