// Qt logging -> ouroboros::qt handler -> shared memory -> shm_reader -> records.
#include <gtest/gtest.h>
#include <unistd.h>

#include <QLoggingCategory>
#include <QtGlobal>
#include <string>
#include <vector>

#include "ouroboros/qt_message_handler.hpp"
#include "ouroboros/record_reader.hpp"

Q_LOGGING_CATEGORY(lcNetwork, "app.network")

namespace {

using namespace ouroboros;

std::string unique_name(const char* what) {
  return "ouroboros-test-qt-" + std::string(what) + "-" + std::to_string(::getpid());
}

logger_options test_options() {
  logger_options options;
  options.segment.chunk_count = 4;
  options.segment.chunk_target_size = 16 * 1024;
  options.threshold = level::trace;
  options.maintenance_thread = false;  // the fatal test forks
  return options;
}

std::vector<log_entry> read_all(shm_reader& reader) {
  entry_interpreter interpreter(reader.bytes());
  std::vector<log_entry> entries;
  for (read_result r = reader.read_next(); r.status == read_status::ok; r = reader.read_next()) {
    entries.push_back(interpreter.to_owned(r.payload, r.sequence));
  }
  return entries;
}

TEST(QtHandler, MessagesAndCategoriesArrive) {
  const std::string name = unique_name("levels");
  logger log(name, test_options());
  shm_reader reader(name);
  qt::install_message_handler(log);
  qDebug("debug %d", 1);
  qInfo() << "info" << 2;
  qWarning("warning");
  qCritical("critical \xC3\xA9");
  qCWarning(lcNetwork) << "connection lost";
  qCDebug(lcNetwork, "bytes %d", 1500);
  qt::uninstall_message_handler();
  qWarning("after uninstall: not recorded");

  const auto entries = read_all(reader);
  ASSERT_EQ(entries.size(), 6U);
  EXPECT_EQ(entries[0].severity, level::debug);
  EXPECT_EQ(entries[0].tag, "default");
  EXPECT_EQ(entries[0].message, "debug 1");
  EXPECT_EQ(entries[1].severity, level::info);
  EXPECT_EQ(entries[1].message, "info 2");
  EXPECT_EQ(entries[2].severity, level::warn);
  EXPECT_EQ(entries[3].severity, level::error);
  EXPECT_EQ(entries[3].message, "critical \xC3\xA9");
  EXPECT_EQ(entries[4].tag, "app.network");
  EXPECT_EQ(entries[4].severity, level::warn);
  EXPECT_EQ(entries[4].message, "connection lost");
  EXPECT_EQ(entries[5].tag, "app.network");
  EXPECT_EQ(entries[5].message, "bytes 1500");
  for (const auto& e : entries) {
    EXPECT_EQ(e.kind, entry_kind::record);
    EXPECT_EQ(e.thread, static_cast<std::uint32_t>(::gettid()));
  }
}

TEST(QtHandler, ThresholdApplies) {
  const std::string name = unique_name("threshold");
  logger log(name, test_options());
  log.set_threshold(level::warn);
  shm_reader reader(name);
  qt::install_message_handler(log);
  qDebug("dropped by threshold");
  qWarning("kept");
  qt::uninstall_message_handler();
  const auto entries = read_all(reader);
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].message, "kept");
}

TEST(QtHandlerDeathTest, FatalIsRecordedBeforeAbort) {
  GTEST_FLAG_SET(death_test_style, "fast");
  const std::string name = unique_name("fatal");
  logger log(name, test_options());
  shm_reader reader(name);
  // The child (fork) shares the mapping: what it writes before aborting is visible here.
  EXPECT_DEATH(
      {
        qt::install_message_handler(log);
        qFatal("fatal %d", 42);
      },
      "");
  const auto entries = read_all(reader);
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].severity, level::critical);
  EXPECT_EQ(entries[0].message, "fatal 42");
}

}  // namespace
