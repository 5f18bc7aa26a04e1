// ouroboros-viewer: the Qt 6 live log viewer.
#include <QApplication>
#include <QCommandLineParser>
#include <QTabWidget>
#include <QTimer>

#include "data/memory.hpp"
#include "ouroboros/version.hpp"
#include "ui/filter_bar.hpp"
#include "ui/main_window.hpp"
#include "ui/segment_tab.hpp"

int main(int argc, char** argv) {
  ouroboros::viewer::configure_allocator();
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("ouroboros-viewer"));
  QApplication::setApplicationDisplayName(QStringLiteral("Ouroboros"));
  QApplication::setOrganizationName(QStringLiteral("ouroboros"));
  QApplication::setApplicationVersion(
      QString::fromUtf8(ouroboros::project_version.data(),
                        static_cast<qsizetype>(ouroboros::project_version.size())));
  QApplication::setDesktopFileName(QStringLiteral("ouroboros-viewer"));
  QApplication::setWindowIcon(QIcon(QStringLiteral(":/ouroboros/ouroboros-viewer.png")));

  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Live viewer for ouroboros shared-memory log segments: attach by name, "
                     "filter, follow, export."));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption segment(
      {QStringLiteral("s"), QStringLiteral("segment")},
      QStringLiteral("Open the segment NAME (repeat for several tabs)."), QStringLiteral("NAME"));
  const QCommandLineOption merge(
      {QStringLiteral("m"), QStringLiteral("merge")},
      QStringLiteral("Open the segments NAMES (comma-separated) as one merged, time-ordered tab "
                     "(repeat for several)."),
      QStringLiteral("NAMES"));
  const QCommandLineOption screenshot(
      QStringLiteral("screenshot"),
      QStringLiteral("Save a picture of the window to FILE, then quit."), QStringLiteral("FILE"));
  const QCommandLineOption delay(
      QStringLiteral("screenshot-after"),
      QStringLiteral("Milliseconds to wait before the screenshot (default 2000)."),
      QStringLiteral("MS"), QStringLiteral("2000"));
  const QCommandLineOption filter(QStringLiteral("filter"),
                                  QStringLiteral("Initial message filter (regex)."),
                                  QStringLiteral("REGEX"));
  const QCommandLineOption select_gap(
      QStringLiteral("screenshot-select-gap"),
      QStringLiteral("Before the screenshot, select the newest gap row."));
  const QCommandLineOption no_restore(
      QStringLiteral("no-restore"),
      QStringLiteral("Start empty instead of reopening the tabs and merged views (with their "
                     "filters) that were open when the viewer last closed."));
  parser.addOption(no_restore);
  parser.addOption(segment);
  parser.addOption(merge);
  parser.addOption(select_gap);
  parser.addOption(screenshot);
  parser.addOption(delay);
  parser.addOption(filter);
  parser.process(app);

  ouroboros::viewer::main_window window;
  window.open_startup_views(!parser.isSet(no_restore), parser.values(segment),
                            parser.values(merge));
  if (parser.isSet(filter)) {
    if (auto* tab = window.current_tab()) tab->filters()->set_text(parser.value(filter), true);
  }
  window.show();

  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    const bool gap = parser.isSet(select_gap);
    QTimer::singleShot(parser.value(delay).toInt(), &window, [&window, file, gap] {
      // Selecting the gap holds the view on it while rows keep arriving.
      if (auto* tab = window.current_tab(); tab && gap) tab->next_gap(false);
      if (!window.grab().save(file)) qWarning("cannot save the screenshot to %s", qPrintable(file));
      QApplication::quit();
    });
  }
  return QApplication::exec();
}
