// End to end: a real writer on a real shared-memory segment, the real poller thread, store and
// model. Checks what the data layer holds: every entry, exact gaps under overload, eviction,
// writer restart, waiting and not-a-log states, plain payloads, pause.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <QAbstractItemModelTester>
#include <QCoreApplication>
#include <QElapsedTimer>

#include "crafted_rings.hpp"
#include "data/exporter.hpp"
#include "data/format.hpp"
#include "data/highlight.hpp"
#include "data/segment_session.hpp"
#include "ouroboros/logger.hpp"
#include "viewer_test_support.hpp"

using namespace viewer_test;

namespace {
QCoreApplication& app() {
  static int argc = 1;
  static char name[] = "viewer_e2e_test";
  static char* argv[] = {name, nullptr};
  static auto* instance = new QCoreApplication(argc, argv);
  return *instance;
}

session_options options_for(const std::string& name, std::uint64_t max_entries = 1'000'000) {
  session_options options;
  options.poller.name = name;
  options.poller.retry_interval = std::chrono::milliseconds(20);
  options.poller.liveness_interval = std::chrono::milliseconds(20);
  options.limits.max_entries = max_entries;
  return options;
}

// Drives ticks by hand until `done`.
bool run_until(segment_session& session, const std::function<bool()>& done,
               int timeout_ms = 10000) {
  return wait_until(done, timeout_ms, [&] { session.tick(); });
}

std::uint64_t gap_rows(const segment_session& session, std::uint64_t* lost_sum = nullptr) {
  std::uint64_t gaps = 0;
  const store_view& view = session.store().view();
  for (std::uint64_t s = view.first; s < view.end; ++s) {
    const entry& row = view.at(s);
    if (row.kind() != row_kind::gap) continue;
    ++gaps;
    if (lost_sum) {
      for (const auto& f : decode_fields(row.extra())) {
        if (f.key == "lost") *lost_sum += std::stoull(std::string(f.value));
      }
    }
  }
  return gaps;
}

class E2E : public ::testing::Test {
 protected:
  void SetUp() override { app(); }
};
}  // namespace

TEST_F(E2E, EveryEntryArrivesDecoded) {
  const std::string name = unique_name("all");
  record_writer writer(name, 16, 64 * 1024);
  const record_field fields[] = {{"user", "alice"}, {"bytes", "42"}};
  for (int i = 0; i < 3000; ++i) {
    writer.write(static_cast<level>(i % 6), i % 2 ? "net" : "db", 100 + i % 3,
                 "message " + std::to_string(i),
                 i == 7 ? std::span<const record_field>(fields) : std::span<const record_field>());
  }
  segment_session session(options_for(name));
  QAbstractItemModelTester tester(session.model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 3000; }));
  EXPECT_EQ(session.stats().poller.state, segment_state::attached);
  EXPECT_TRUE(session.stats().poller.records);
  EXPECT_EQ(session.stats().poller.entries_lost, 0U);
  const log_model& model = *session.model();
  for (int r = 0; r < 3000; ++r) {
    const entry& row = model.entry_at(r);
    ASSERT_EQ(row.sequence, static_cast<std::uint64_t>(r + 1));
    ASSERT_EQ(row.level, r % 6);
    ASSERT_EQ(row.thread, static_cast<std::uint32_t>(100 + r % 3));
    ASSERT_EQ(row.stored_message(), "message " + std::to_string(r));
    ASSERT_NE(row.time_ns, no_time);
  }
  EXPECT_EQ(model.data(model.index(1, log_model::col_tag)).toString(), "net");
  EXPECT_EQ(model.data(model.index(7, log_model::col_message)).toString(),
            "message 7  user=alice  bytes=42");
  // The poller keeps reading what arrives later.
  writer.write(level::critical, "late", 1, "after attach");
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 3001; }));
}

TEST_F(E2E, OverloadGivesExactGapRowsThatSurviveFilters) {
  const std::string name = unique_name("gaps");
  record_writer writer(name, 8, 1024);  // a tiny ring: about 8 KiB of entries
  for (int i = 0; i < 50; ++i) writer.write(level::info, "t", 1, "warm-up " + std::to_string(i));
  segment_session session(options_for(name));
  QAbstractItemModelTester tester(session.model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.stats().poller.entries_read == 50; }));

  // Hold the reader while the writer laps the ring many times, twice.
  for (int round = 0; round < 2; ++round) {
    session.poller().hold(true);
    QThread::msleep(20);
    for (int i = 0; i < 5000; ++i) writer.write(level::debug, "t", 2, "flood " + std::to_string(i));
    session.poller().hold(false);
    ASSERT_TRUE(run_until(session,
                          [&] {
                            const auto& s = session.stats().poller;
                            return s.entries_read + s.entries_lost == writer.written();
                          }))
        << "read " << session.stats().poller.entries_read << " lost "
        << session.stats().poller.entries_lost;
  }
  const poll_status& status = session.stats().poller;
  EXPECT_GT(status.entries_lost, 5000U);
  std::uint64_t lost_in_rows = 0;
  const std::uint64_t gaps = gap_rows(session, &lost_in_rows);
  EXPECT_EQ(gaps, status.gaps);
  EXPECT_GE(gaps, 2U);
  EXPECT_EQ(lost_in_rows, status.entries_lost) << "gap rows account for every lost entry";
  // The timeline's buckets account for every entry read and every entry lost.
  EXPECT_EQ(session.time_buckets().lost(), status.entries_lost);
  EXPECT_EQ(session.time_buckets().entries(), status.entries_read);

  // Each gap row sits between the entries around it, and its range is exactly what is missing.
  const store_view& view = session.store().view();
  std::uint64_t previous_sequence = 0;
  for (std::uint64_t s = view.first; s < view.end; ++s) {
    const entry& row = view.at(s);
    if (row.kind() == row_kind::gap) {
      EXPECT_EQ(row.sequence, previous_sequence + 1);
      const entry& next = view.at(s + 1);
      std::uint64_t lost = 0;
      for (const auto& f : decode_fields(row.extra())) {
        if (f.key == "lost") lost = std::stoull(std::string(f.value));
      }
      EXPECT_EQ(next.sequence, row.sequence + lost);
      EXPECT_TRUE(row.stored_message().find("entries overwritten (seq") != std::string_view::npos);
      continue;
    }
    ASSERT_GT(row.sequence, previous_sequence);
    if (previous_sequence != 0 && view.at(s - 1).kind() != row_kind::gap) {
      ASSERT_EQ(row.sequence, previous_sequence + 1) << "no silent loss";
    }
    previous_sequence = row.sequence;
  }

  // A filter that hides every entry keeps the gap rows.
  auto nothing = std::make_shared<filter_spec>();
  nothing->level_mask = 0;
  session.set_filter(nothing);
  session.model()->wait_for_refilter();
  EXPECT_EQ(static_cast<std::uint64_t>(session.model()->rowCount()), gaps);
}

TEST_F(E2E, EvictionIsCountedApartFromLoss) {
  const std::string name = unique_name("evict");
  record_writer writer(name, 32, 64 * 1024);
  for (int i = 0; i < 2000; ++i) writer.write(level::info, "e", 1, "entry " + std::to_string(i));
  segment_session session(options_for(name, 500));
  QAbstractItemModelTester tester(session.model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.stats().poller.entries_read == 2000; }));
  session.tick();
  EXPECT_EQ(session.store().retained(), 500U);
  EXPECT_EQ(session.stats().evicted, 1500U);
  EXPECT_EQ(session.stats().poller.entries_lost, 0U);
  EXPECT_EQ(session.model()->rowCount(), 500);
  EXPECT_EQ(session.model()->entry_at(0).sequence, 1501U);
  EXPECT_EQ(session.model()->entry_at(499).sequence, 2000U);
}

TEST_F(E2E, WaitingThenAttachedThenRestartedThenClosed) {
  const std::string name = unique_name("restart");
  segment_session session(options_for(name));
  QAbstractItemModelTester tester(session.model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.stats().ticks > 3; }));
  EXPECT_EQ(session.stats().poller.state, segment_state::waiting);

  auto first = std::make_unique<record_writer>(name, 16, 4096);
  for (int i = 0; i < 100; ++i) first->write(level::info, "a", 1, "first " + std::to_string(i));
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 100; }));
  EXPECT_EQ(session.stats().poller.state, segment_state::attached);
  const auto first_incarnation = session.stats().poller.incarnation;

  first.reset();  // clean shutdown: flag closed, name unlinked
  ASSERT_TRUE(run_until(
      session, [&] { return session.stats().poller.state == segment_state::writer_closed; }));

  record_writer second(name, 16, 4096);
  for (int i = 0; i < 50; ++i) second.write(level::warn, "b", 2, "second " + std::to_string(i));
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 151; }));
  EXPECT_EQ(session.stats().poller.restarts, 1U);
  EXPECT_NE(session.stats().poller.incarnation, first_incarnation);
  const log_model& model = *session.model();
  EXPECT_EQ(model.entry_at(99).stored_message(), "first 99");
  EXPECT_EQ(model.entry_at(100).kind(), row_kind::separator);
  EXPECT_TRUE(model.entry_at(100).stored_message().starts_with("writer restarted"));
  EXPECT_EQ(model.entry_at(101).sequence, 1U) << "sequence numbers start again";
  EXPECT_EQ(model.entry_at(150).stored_message(), "second 49");
  EXPECT_EQ(session.stats().poller.entries_lost, 0U);
}

TEST_F(E2E, WriterGoneIsReported) {
  const std::string name = unique_name("gone");
  // A writer that dies without closing: a child process that exits abruptly.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    {
      record_writer writer(name, 8, 4096);
      writer.shm();  // keep the segment: _exit skips destructors, as a crash would
      for (int i = 0; i < 10; ++i) writer.write(level::error, "c", 9, "before the crash");
      ::_exit(0);
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  segment_session session(options_for(name));
  session.poller().start();
  ASSERT_TRUE(run_until(
      session, [&] { return session.stats().poller.state == segment_state::writer_gone; }));
  EXPECT_EQ(session.model()->rowCount(), 10);
  EXPECT_NE(session.stats().poller.last_entry_ns, no_time);
  session.stop();
  ::shm_unlink(("/" + name).c_str());
}

TEST_F(E2E, NotALogSegmentIsAStateNotACrash) {
  const std::string name = unique_name("foreign");
  const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_RDWR | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 65536), 0);
  ASSERT_EQ(::write(fd, "this is not a log segment at all", 32), 32);
  ::close(fd);
  segment_session session(options_for(name));
  session.poller().start();
  ASSERT_TRUE(run_until(
      session, [&] { return session.stats().poller.state == segment_state::not_a_log; }, 5000));
  EXPECT_FALSE(session.stats().poller.detail.isEmpty());
  EXPECT_EQ(session.model()->rowCount(), 0);
  session.stop();
  ::shm_unlink(("/" + name).c_str());
}

TEST_F(E2E, PlainPayloadsAreMessageOnlyRows) {
  const std::string name = unique_name("plain");
  record_writer writer(name, 8, 4096, layout::extension_layout::encoding_raw);
  writer.write_plain("just bytes");
  writer.write_plain("bad \xFF utf8");
  segment_session session(options_for(name));
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 2; }));
  const log_model& model = *session.model();
  EXPECT_EQ(model.entry_at(0).kind(), row_kind::plain);
  EXPECT_EQ(model.data(model.index(0, log_model::col_level)).toString(), "");
  EXPECT_EQ(model.data(model.index(0, log_model::col_message)).toString(), "just bytes");
  EXPECT_EQ(model.data(model.index(1, log_model::col_message)).toString(),
            QStringLiteral("bad \uFFFD utf8"));
}

TEST_F(E2E, PauseKeepsReading) {
  const std::string name = unique_name("pause");
  record_writer writer(name, 16, 64 * 1024);
  for (int i = 0; i < 10; ++i) writer.write(level::info, "p", 1, "before");
  segment_session session(options_for(name));
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 10; }));
  session.set_paused(true);
  for (int i = 0; i < 30; ++i) writer.write(level::info, "p", 1, "during");
  ASSERT_TRUE(run_until(session, [&] { return session.stats().poller.entries_read == 40; }));
  session.tick();
  EXPECT_EQ(session.model()->rowCount(), 10);
  EXPECT_EQ(session.model()->arrivals_since_pause(), 30U);
  EXPECT_EQ(session.store().retained(), 40U);
  session.set_paused(false);
  session.model()->wait_for_refilter();
  EXPECT_EQ(session.model()->rowCount(), 40);
}

namespace {
// A writer in a child process (so a truncation or a crash cannot take the test down with it):
// writes `count` records, then waits until killed.
pid_t spawn_writer(const std::string& name, int count, std::uint32_t chunks = 16,
                   std::size_t chunk_size = 4096) {
  const pid_t child = ::fork();
  if (child == 0) {
    record_writer writer(name, chunks, chunk_size);
    for (int i = 0; i < count; ++i)
      writer.write(level::info, "child", 3, "entry " + std::to_string(i));
    for (;;) ::pause();
  }
  return child;
}

void reap(pid_t child) {
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}
}  // namespace

// Issue "Reliability" item 1: another process shrinks the segment under the viewer. The viewer
// must survive (no SIGBUS), keep what it read, say "segment truncated", and attach again when
// a valid segment is back under the name.
TEST_F(E2E, ShrunkSegmentKeepsItsRowsAndAttachesAgainLater) {
  const std::string name = unique_name("shrink");
  const pid_t child = spawn_writer(name, 200, 16, 64 * 1024);
  ASSERT_GT(child, 0);
  segment_session session(options_for(name));
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 200; }));

  const int fd = ::shm_open(("/" + name).c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096), 0);
  ::close(fd);
  ASSERT_TRUE(run_until(
      session, [&] { return session.stats().poller.state == segment_state::segment_truncated; }))
      << "state " << to_display(session.stats().poller.state).toStdString();
  EXPECT_FALSE(session.stats().poller.detail.isEmpty());
  EXPECT_EQ(session.store().view().at(200).stored_message(), "entry 199") << "what was read stays";
  const store_view& view = session.store().view();
  bool noticed = false;
  for (std::uint64_t s = view.first; s < view.end; ++s) {
    if (view.at(s).kind() == row_kind::notice &&
        view.at(s).stored_message().starts_with("segment truncated"))
      noticed = true;
  }
  EXPECT_TRUE(noticed) << "a row says where the segment was truncated";

  // The writer is gone for good; a new one creates the name again.
  reap(child);
  ::shm_unlink(("/" + name).c_str());
  record_writer second(name, 8, 4096);
  for (int i = 0; i < 10; ++i) second.write(level::warn, "again", 1, "new " + std::to_string(i));
  ASSERT_TRUE(run_until(session, [&] {
    return session.stats().poller.state == segment_state::attached &&
           session.model()->entry_at(session.model()->rowCount() - 1).stored_message() == "new 9";
  }));
  EXPECT_EQ(session.stats().poller.restarts, 1U);
}

// Issue "Reliability" item 5: entries of a new incarnation that were overwritten before the
// viewer re-attached count as lost, so read + lost == written across restarts.
TEST_F(E2E, RestartsAreCountedAcrossIncarnations) {
  const std::string name = unique_name("incarnations");
  auto writer = std::make_unique<record_writer>(name, 8, 1024);
  std::uint64_t written = 0;
  for (int i = 0; i < 50; ++i, ++written) writer->write(level::info, "w", 1, "first");
  segment_session session(options_for(name));
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.stats().poller.entries_read == 50; }));
  for (int incarnation = 2; incarnation <= 5; ++incarnation) {
    session.poller().hold(true);
    QThread::msleep(20);
    writer.reset();
    writer = std::make_unique<record_writer>(name, 8, 1024);
    // Far more than the ring holds: the new incarnation's first entries are overwritten before
    // the viewer gets to them.
    for (int i = 0; i < 3000; ++i, ++written)
      writer->write(level::info, "w", 1, "incarnation " + std::to_string(incarnation));
    session.poller().hold(false);
    ASSERT_TRUE(run_until(session,
                          [&] {
                            const auto& s = session.stats().poller;
                            return s.restarts == static_cast<std::uint64_t>(incarnation - 1) &&
                                   s.entries_read + s.entries_lost == written;
                          }))
        << "incarnation " << incarnation << ": read " << session.stats().poller.entries_read
        << " + lost " << session.stats().poller.entries_lost << " != written " << written;
  }
  std::uint64_t lost_in_rows = 0;
  gap_rows(session, &lost_in_rows);
  EXPECT_EQ(lost_in_rows, session.stats().poller.entries_lost) << "every loss is a gap row";
  // Each restart row comes before the gap row of its incarnation's lost entries.
  const store_view& view = session.store().view();
  for (std::uint64_t s = view.first; s + 1 < view.end; ++s) {
    if (view.at(s).kind() != row_kind::separator) continue;
    EXPECT_EQ(view.at(s + 1).kind(), row_kind::gap) << "serial " << s;
    EXPECT_EQ(view.at(s + 1).sequence, 1U) << "the gap starts at the incarnation's first entry";
  }
}

// Issue "Reliability" item 3: a forged table (every row at a corrupt entry) must neither take
// the reader quadratic time nor keep the viewer from stopping.
TEST_F(E2E, ForgedTableIsReadInBoundedTimeAndStopsPromptly) {
  const std::string name = unique_name("forged");
  const auto ring =
      ouroboros::test::make_crafted_ring(65536, ouroboros::test::crafted_entry::corrupt);
  const int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  const auto bytes = ring.bytes();
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
  {
    segment_session session(options_for(name));
    session.poller().start();
    ASSERT_TRUE(run_until(
        session, [&] { return session.stats().poller.corrupt_events > 1000; }, 20000))
        << "corrupt reads " << session.stats().poller.corrupt_events;
    const auto ticks = session.stats().ticks;
    ASSERT_TRUE(run_until(session, [&] { return session.stats().ticks > ticks + 10; }))
        << "the GUI side keeps ticking";
    QElapsedTimer stopping;
    stopping.start();
    session.stop();
    // A hang detector, not a speed goal: the unbounded reader did not stop in 30 s.
    EXPECT_LT(stopping.elapsed(), 5000);
  }
  ::shm_unlink(("/" + name).c_str());
}

// Issue "Reliability" item 10: a segment owned by another user is flagged.
TEST_F(E2E, ForeignOwnerIsFlagged) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a segment to another user";
  const std::string name = unique_name("owner");
  record_writer writer(name, 8, 4096);
  writer.write(level::info, "o", 1, "owned");
  ASSERT_EQ(::chown(("/dev/shm/" + name).c_str(), 65534, 65534), 0);
  segment_session session(options_for(name));
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 1; }));
  EXPECT_EQ(session.stats().poller.owner_uid, 65534U);
  EXPECT_TRUE(session.stats().poller.foreign_owner);
}

namespace {
logger_options deferred_logger() {
  logger_options o;
  o.deferred_format = true;
  o.maintenance_thread = false;
  o.segment.chunk_count = 16;
  o.segment.chunk_target_size = 64 * 1024;
  return o;
}
std::string message_of(const entry& row) {
  std::string scratch;
  return std::string(message_text(row, scratch));
}
}  // namespace

// Deferred records are kept unformatted (format + arguments) and formatted where they are
// shown: the table, its tooltip and full text, search, highlights, export and a filter applied
// later all read the same text the call site would have written.
TEST_F(E2E, DeferredRecordsAreFormattedWhereTheyAreShown) {
  const std::string name = unique_name("deferred");
  logger log(name, deferred_logger());
  const std::string peer = "10.1.2.3:443";
  for (int i = 0; i < 300; ++i) log.info("net", "sent {} bytes to {}", i, peer);
  log.warn("calc", "ratio {:>8.3f} ok={}", 2.5, true);
  segment_session session(options_for(name));
  QAbstractItemModelTester tester(session.model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  session.poller().start();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 301; }));
  log_model& model = *session.model();
  for (int r = 0; r < 300; ++r) {
    const entry& row = model.entry_at(r);
    ASSERT_EQ(row.kind(), row_kind::record);
    ASSERT_TRUE(row.deferred()) << "no filter reads messages: formatted when shown";
    ASSERT_EQ(message_of(row), "sent " + std::to_string(r) + " bytes to " + peer) << r;
  }
  EXPECT_EQ(message_of(model.entry_at(300)), "ratio    2.500 ok=true");
  const QModelIndex cell = model.index(42, log_model::col_message);
  EXPECT_EQ(model.data(cell).toString(), QStringLiteral("sent 42 bytes to 10.1.2.3:443"));
  EXPECT_EQ(model.data(cell).toString(), QStringLiteral("sent 42 bytes to 10.1.2.3:443"))
      << "again, from the cache";
  EXPECT_EQ(model.data(model.index(43, log_model::col_message)).toString(),
            QStringLiteral("sent 43 bytes to 10.1.2.3:443"));
  EXPECT_EQ(model.data(cell, Qt::ToolTipRole).toString(),
            QStringLiteral("sent 42 bytes to 10.1.2.3:443"));
  EXPECT_EQ(model.data(cell, log_model::full_text_role).toString(),
            QStringLiteral("sent 42 bytes to 10.1.2.3:443"));
  EXPECT_EQ(model.find_text(0, true, QStringLiteral("sent 250 bytes"), false), 250);
  EXPECT_TRUE(text_line(model.entry_at(7), *model.tags(), true)
                  .endsWith(QStringLiteral(": sent 7 bytes to 10.1.2.3:443")));
  EXPECT_TRUE(QString::fromUtf8(json_line(model.entry_at(7), *model.tags()))
                  .contains(QStringLiteral("\"message\":\"sent 7 bytes to 10.1.2.3:443\"")));
  highlight_rule rule;
  rule.on = highlight_rule::field::message;
  rule.pattern = QStringLiteral("^sent 1\\d bytes");
  highlighter marks({rule}, model.tags().get());
  int marked = 0;
  for (int r = 0; r < 301; ++r) marked += marks.match(model.entry_at(r)) != 0 ? 1 : 0;
  EXPECT_EQ(marked, 10);
  // A text filter set afterwards formats the retained rows in its background pass.
  auto spec = std::make_shared<filter_spec>();
  spec->text = QStringLiteral("bytes to 10\\.1\\.2\\.3:443$");
  spec->regex = true;
  session.set_filter(spec);
  model.wait_for_refilter();
  EXPECT_EQ(model.rowCount(), 300);
  spec = std::make_shared<filter_spec>(*spec);
  spec->text = QStringLiteral("ratio");
  spec->regex = false;
  session.set_filter(spec);
  model.wait_for_refilter();
  ASSERT_EQ(model.rowCount(), 1);
  EXPECT_EQ(model.data(model.index(0, log_model::col_message)).toString(),
            QStringLiteral("ratio    2.500 ok=true"));
}

// While a text filter is set, the poller matches every message as it arrives: it formats each
// deferred record once then and keeps the text.
TEST_F(E2E, DeferredRecordsArriveFormattedWhileATextFilterIsSet) {
  const std::string name = unique_name("deferred-filtered");
  logger log(name, deferred_logger());
  segment_session session(options_for(name));
  auto spec = std::make_shared<filter_spec>();
  spec->text = QStringLiteral("odd");
  session.set_filter(spec);
  session.poller().start();
  for (int i = 0; i < 200; ++i) log.info("n", "{} is {}", i, i % 2 ? "odd" : "even");
  ASSERT_TRUE(run_until(session, [&] { return session.stats().poller.entries_read == 200; }));
  session.tick();
  const log_model& model = *session.model();
  ASSERT_EQ(model.rowCount(), 100);
  for (int r = 0; r < 100; ++r) {
    EXPECT_FALSE(model.entry_at(r).deferred());
    EXPECT_EQ(model.entry_at(r).stored_message(), std::to_string(2 * r + 1) + " is odd");
  }
}

namespace {
// A session over `count` deferred records, all read, and helpers to filter it and to say what a
// filter must find (from the rows themselves, formatted one by one).
struct deferred_history {
  explicit deferred_history(int count) : name(unique_name("deferred-passes")) {
    session = std::make_unique<segment_session>(options_for(name));
    session->poller().start();
    log = std::make_unique<logger>(name, deferred_logger());
    for (int i = 0; i < count; ++i) {
      log->info("jobs", "job {} took {} ms on {}", i, i % 97, i % 3 != 0 ? "eu" : "us");
    }
    ok = run_until(*session, [&] { return session->model()->rowCount() == count; });
  }
  void filter(const QString& text, bool regex) {
    auto spec = std::make_shared<filter_spec>();
    spec->text = text;
    spec->regex = regex;
    session->set_filter(spec);
    session->model()->wait_for_refilter();
  }
  std::vector<std::uint64_t> shown() const {
    std::vector<std::uint64_t> out;
    for (int r = 0; r < session->model()->rowCount(); ++r)
      out.push_back(session->model()->serial_at(r));
    return out;
  }
  std::vector<std::uint64_t> expected(const QString& text, bool regex) const {
    auto spec = std::make_shared<filter_spec>();
    spec->text = text;
    spec->regex = regex;
    filter_engine engine(spec, session->model()->tags().get());
    std::vector<std::uint64_t> out;
    const store_view& view = session->store().view();
    for (std::uint64_t s = view.first; s < view.end; ++s) {
      if (engine.accepts(view.at(s))) out.push_back(s);
    }
    return out;
  }
  std::string name;
  std::unique_ptr<segment_session> session;
  std::unique_ptr<logger> log;
  bool ok = false;
};
}  // namespace

// A filter pass formats the deferred rows of each full page once and leaves the text with the
// page: the next pass (a filter, a search) reads it instead of formatting again, and finds the
// same rows as formatting each row would.
TEST_F(E2E, AFilterPassKeepsDeferredTextForTheNextPass) {
  const int count = 2 * static_cast<int>(page_capacity) + 100;
  deferred_history h(count);
  ASSERT_TRUE(h.ok);
  const entry_store& store = h.session->store();
  EXPECT_EQ(store.formatted_bytes(), 0U) << "nothing is formatted before a pass reads messages";

  h.filter(QStringLiteral("took 5 ms"), false);
  ASSERT_FALSE(h.shown().empty());
  EXPECT_EQ(h.shown(), h.expected(QStringLiteral("took 5 ms"), false));
  const store_view& view = store.view();
  ASSERT_EQ(view.pages.size(), 3U);
  for (const auto& p : view.pages) {
    const auto kept = p->formatted();
    if (!view.full(*p)) {
      EXPECT_EQ(kept, nullptr) << "a page still filling is formatted row by row";
      continue;
    }
    ASSERT_NE(kept, nullptr);
    for (std::uint32_t i = 0; i < page_capacity; ++i) {
      ASSERT_EQ(kept->message(i), message_of(p->rows[i])) << p->first_serial + i;
    }
  }
  h.session->tick();
  const session_stats& stats = h.session->stats();
  EXPECT_GT(stats.formatted_bytes, 2U * page_capacity * 20) << "two pages of about 24 characters";
  EXPECT_EQ(stats.formatted_bytes, store.formatted_bytes());
  EXPECT_EQ(stats.retained_bytes, store.retained_bytes() + stats.formatted_bytes);

  const auto first_page = view.pages.front()->formatted();
  const QString pattern = QStringLiteral("^job \\d*7 took 1\\d ms on us$");
  h.filter(pattern, true);
  ASSERT_FALSE(h.shown().empty());
  EXPECT_EQ(h.shown(), h.expected(pattern, true));
  EXPECT_EQ(view.pages.front()->formatted(), first_page) << "read, not made again";
  h.filter(QString(), false);
  ASSERT_EQ(h.session->model()->rowCount(), count);
  EXPECT_EQ(h.session->model()->find_text(0, true, QStringLiteral("JOB 8190 took"), false), 8190);
  EXPECT_EQ(h.session->model()->find_text(8190, false, QStringLiteral("job 8291 took"), true),
            8291);
}

// Kept text only ever takes the byte budget the rows leave free: a pass without room keeps
// nothing, a smaller budget or new rows drop kept text before any row is evicted.
TEST_F(E2E, KeptFormattedTextOnlyTakesTheHistorysSpareBytes) {
  const int count = 2 * static_cast<int>(page_capacity) + 100;
  deferred_history h(count);
  ASSERT_TRUE(h.ok);
  segment_session& session = *h.session;
  const entry_store& store = session.store();
  const std::uint64_t rows = store.retained_bytes();
  history_limits limits;
  limits.max_bytes = rows + 1000;
  session.set_limits(limits);
  h.filter(QStringLiteral("took 5 ms"), false);
  EXPECT_EQ(h.shown(), h.expected(QStringLiteral("took 5 ms"), false));
  EXPECT_EQ(store.formatted_bytes(), 0U) << "no room: formatted row by row, nothing kept";

  limits.max_bytes = rows * 10;
  session.set_limits(limits);
  h.filter(QStringLiteral("took 6 ms"), false);
  EXPECT_EQ(h.shown(), h.expected(QStringLiteral("took 6 ms"), false));
  const std::uint64_t kept = store.formatted_bytes();
  ASSERT_GT(kept, 0U);
  const std::uint64_t evicted = store.evicted();

  limits.max_bytes = rows + kept / 2;
  session.set_limits(limits);
  session.tick();
  EXPECT_LT(store.formatted_bytes(), kept);
  EXPECT_LE(store.retained_bytes() + store.formatted_bytes(), limits.max_bytes);
  EXPECT_EQ(store.evicted(), evicted) << "the text went, no row";
  EXPECT_EQ(store.retained(), static_cast<std::uint64_t>(count));

  limits.max_bytes = rows * 10;
  session.set_limits(limits);
  h.filter(QStringLiteral("took 7 ms"), false);
  const std::uint64_t kept_again = store.formatted_bytes();
  ASSERT_GT(kept_again, kept / 2);
  // New rows that need the room take it from the kept text, not from the oldest rows.
  limits.max_bytes = store.retained_bytes() + kept_again + 2000;
  session.set_limits(limits);
  for (int i = 0; i < 200; ++i) h.log->info("jobs", "late job {} took {} ms", i, 7);
  ASSERT_TRUE(run_until(session, [&] { return store.retained() >= count + 200U; }));
  session.tick();
  EXPECT_EQ(store.evicted(), evicted);
  EXPECT_LT(store.formatted_bytes(), kept_again);
  EXPECT_LE(store.retained_bytes() + store.formatted_bytes(), limits.max_bytes);
}

// Rows keep their formats after the writer is gone and a new writer reuses the dictionary ids
// for other format strings: old rows read as they were written, new rows as theirs.
TEST_F(E2E, DeferredRowsOutliveTheirSegmentAndItsDictionary) {
  const std::string name = unique_name("deferred-restart");
  segment_session session(options_for(name));
  session.poller().start();
  {
    logger first(name, deferred_logger());
    for (int i = 0; i < 50; ++i) first.info("a", "first {} of {}", i, 50);
    for (int i = 0; i < 50; ++i) first.info("a", "first again {}", i);
    ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 100; }));
  }
  ASSERT_TRUE(run_until(
      session, [&] { return session.stats().poller.state == segment_state::writer_closed; }));
  {
    logger second(name, deferred_logger());
    for (int i = 0; i < 50; ++i) second.info("b", "{}: second {}", "x", i);
    ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 151; }));
  }
  const log_model& model = *session.model();
  ASSERT_TRUE(model.entry_at(0).deferred());
  ASSERT_TRUE(model.entry_at(150).deferred());
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(message_of(model.entry_at(i)), "first " + std::to_string(i) + " of 50");
    EXPECT_EQ(message_of(model.entry_at(50 + i)), "first again " + std::to_string(i));
    EXPECT_EQ(message_of(model.entry_at(101 + i)), "x: second " + std::to_string(i));
  }
  EXPECT_EQ(model.entry_at(100).kind(), row_kind::separator);
}
