// The merged view's data layer with real writers on real shared memory and the real poller
// threads: time order across segments, the bounded hold-back, a silent source that does not
// stall the others, a restarted one, an overrunning one whose gap rows sit at their place in time,
// raw payloads merged by arrival, the per-segment toggle and the merged history's bounds.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QCoreApplication>
#include <QThread>
#include <atomic>
#include <thread>

#include "data/merged_session.hpp"
#include "ouroboros/logger.hpp"
#include "viewer_test_support.hpp"

using namespace viewer_test;

namespace {
QCoreApplication& app() {
  static int argc = 1;
  static char name[] = "viewer_merge_test";
  static char* argv[] = {name, nullptr};
  static auto* instance = new QCoreApplication(argc, argv);
  return *instance;
}

// A generous hold-back by default: what a test checks must not depend on how fast this machine
// schedules the pollers (the hold-back test sets the viewer's 100 ms and drives time itself).
merged_options options_for(const std::vector<std::string>& names,
                           std::chrono::milliseconds hold_back = std::chrono::milliseconds(3000)) {
  merged_options options;
  for (const std::string& name : names) {
    poller_options p;
    p.name = name;
    p.retry_interval = std::chrono::milliseconds(20);
    p.liveness_interval = std::chrono::milliseconds(20);
    options.sources.push_back(p);
  }
  options.hold_back = hold_back;
  return options;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool run_until(merged_session& session, const std::function<bool()>& done, int timeout_ms = 10000) {
  return wait_until(done, timeout_ms, [&] { session.tick(); });
}

// Every merged row's time is at least that of the row before it (rows without a time excepted).
void expect_time_ordered(const log_model& model) {
  std::int64_t previous = no_time;
  for (int r = 0; r < model.rowCount(); ++r) {
    const entry& row = model.entry_at(r);
    if (row.time_ns == no_time) continue;
    ASSERT_GE(row.time_ns, previous) << "row " << r << " of " << model.rowCount();
    previous = row.time_ns;
  }
}

// The text of the second writer's deferred call for i (as the call site would format it).
std::string fmt_b(int i) {
  char text[64];
  std::snprintf(text, sizeof text, "b took %.1f ms on users", i / 2.0);
  return text;
}

class Merge : public ::testing::Test {
 protected:
  void SetUp() override { app(); }
};
}  // namespace

TEST_F(Merge, EntriesAlreadyWrittenComeOutInExactTimeOrder) {
  const std::string a = unique_name("merge-a");
  const std::string b = unique_name("merge-b");
  record_writer wa(a, 16, 64 * 1024);
  record_writer wb(b, 16, 64 * 1024);
  // Interleaved in time: a0 b0 a1 b1 ... (one thread, so every time is later than the last).
  for (int i = 0; i < 500; ++i) {
    wa.write(level::info, "net", 1, "a " + std::to_string(i));
    wb.write(level::warn, "db", 2, "b " + std::to_string(i));
  }
  merged_session session(options_for({a, b}));
  QAbstractItemModelTester tester(session.model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  session.start_pollers();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 1000; }));
  const log_model& model = *session.model();
  for (int r = 0; r < 1000; ++r) {
    const entry& row = model.entry_at(r);
    ASSERT_EQ(row.source, r % 2) << "row " << r;
    ASSERT_EQ(row.stored_message(), (r % 2 ? "b " : "a ") + std::to_string(r / 2)) << "row " << r;
  }
  // The Segment column names the source; tags come through the merged tag table.
  EXPECT_EQ(model.columnCount(), log_model::column_count + 1);
  EXPECT_EQ(model.data(model.index(0, log_model::col_segment)).toString(),
            QString::fromStdString(a));
  EXPECT_EQ(model.data(model.index(1, log_model::col_segment)).toString(),
            QString::fromStdString(b));
  EXPECT_EQ(model.data(model.index(0, log_model::col_tag)).toString(), "net");
  EXPECT_EQ(model.data(model.index(1, log_model::col_tag)).toString(), "db");
  EXPECT_EQ(session.source(0).merged, 500U);
  EXPECT_EQ(session.source(1).merged, 500U);
  EXPECT_EQ(session.stats().poller.entries_read, 1000U);
  EXPECT_TRUE(model.row_text(1).startsWith(QLatin1Char('[') + QString::fromStdString(b)));
}

TEST_F(Merge, LiveWritersStayInTimeOrder) {
  const std::string a = unique_name("live-a");
  const std::string b = unique_name("live-b");
  const std::string c = unique_name("live-c");
  record_writer wa(a, 16, 64 * 1024);
  record_writer wb(b, 16, 64 * 1024);
  record_writer wc(c, 16, 64 * 1024);
  merged_session session(options_for({a, b, c}));
  session.start_pollers();
  std::atomic<bool> done{false};
  std::thread writers([&] {
    for (int i = 0; i < 3000; ++i) {
      wa.write(level::info, "a", 1, "a " + std::to_string(i));
      if (i % 3 == 0) wb.write(level::debug, "b", 2, "b " + std::to_string(i));
      if (i % 100 == 0) wc.write(level::error, "c", 3, "c " + std::to_string(i));
      if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    done = true;
  });
  const bool all = run_until(session, [&] { return done && session.model()->rowCount() == 4030; });
  writers.join();
  ASSERT_TRUE(all) << session.model()->rowCount();
  expect_time_ordered(*session.model());
  // Each source keeps its own order within the merge.
  std::uint64_t last_sequence[3] = {0, 0, 0};
  for (int r = 0; r < session.model()->rowCount(); ++r) {
    const entry& row = session.model()->entry_at(r);
    ASSERT_GT(row.sequence, last_sequence[row.source]);
    last_sequence[row.source] = row.sequence;
  }
}

TEST_F(Merge, HoldBackIsBoundedWhenASourceCannotSayItIsCaughtUp) {
  const std::string a = unique_name("hold-a");
  const std::string b = unique_name("hold-b");
  record_writer wa(a, 16, 64 * 1024);
  record_writer wb(b, 16, 64 * 1024);
  wb.write(level::info, "b", 1, "b first");
  merged_session session(options_for({a, b}, std::chrono::milliseconds(100)));
  session.start_pollers();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 1; }));
  // B's reader stops (its last word stays "caught up" as of now); A's rows are newer than that.
  session.poller(1).hold(true);
  QThread::msleep(30);
  wb.write(level::info, "b", 1, "b unread");  // written, not read: B lags
  for (int i = 0; i < 10; ++i) wa.write(level::info, "a", 1, "a " + std::to_string(i));
  // Ticks at explicit times: A's rows are held until the hold-back has passed, not longer.
  const std::int64_t t0 = now_ns();
  ASSERT_TRUE(wait_until(
      [&] {
        session.tick_at(t0);
        return session.source(0).held == 10;
      },
      5000));
  EXPECT_EQ(session.model()->rowCount(), 1) << "held back while B may still have older rows";
  session.tick_at(t0 + 99'000'000);
  EXPECT_EQ(session.model()->rowCount(), 1);
  session.tick_at(t0 + 100'000'000);
  EXPECT_EQ(session.model()->rowCount(), 11) << "merged once held for the hold-back";
  EXPECT_LE(session.longest_hold_ns(), 100'000'000);
  // B's late row is appended after the shown ones, never inserted before them.
  session.poller(1).hold(false);
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 12; }));
  EXPECT_EQ(session.model()->entry_at(11).stored_message(), "b unread");
  EXPECT_EQ(session.model()->entry_at(10).stored_message(), "a 9");
}

TEST_F(Merge, SilentSourceDoesNotStallTheOthers) {
  const std::string a = unique_name("busy");
  const std::string b = unique_name("silent");
  const std::string c = unique_name("absent");  // no writer at all
  record_writer wa(a, 16, 64 * 1024);
  record_writer wb(b, 16, 64 * 1024);
  wb.write(level::info, "b", 1, "the only entry of b");
  // A hold-back far beyond the test's wait: rows merged in time were not merely timed out.
  merged_session session(options_for({a, b, c}, std::chrono::milliseconds(20'000)));
  session.start_pollers();
  ASSERT_TRUE(run_until(
      session, [&] { return session.model()->rowCount() == 1; }, 5000));
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 20; ++i) wa.write(level::info, "a", 1, "a " + std::to_string(i));
    const int want = 1 + 20 * (round + 1);
    ASSERT_TRUE(run_until(
        session, [&] { return session.model()->rowCount() == want; }, 5000))
        << "round " << round << ": " << session.model()->rowCount();
    QThread::msleep(50);
  }
  EXPECT_LT(session.longest_hold_ns(), 5'000'000'000LL);
  EXPECT_EQ(session.source(2).poller.state, segment_state::waiting);
  expect_time_ordered(*session.model());
}

TEST_F(Merge, RestartMarkerSitsAtItsPlaceInTime) {
  const std::string a = unique_name("restart-a");
  const std::string b = unique_name("steady-b");
  record_writer wb(b, 16, 64 * 1024);
  auto wa = std::make_unique<record_writer>(a, 16, 4096);
  for (int i = 0; i < 5; ++i) {
    wa->write(level::info, "a", 1, "first " + std::to_string(i));
    wb.write(level::info, "b", 2, "b before " + std::to_string(i));
  }
  merged_session session(options_for({a, b}));
  session.start_pollers();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 10; }));
  wa.reset();
  ASSERT_TRUE(run_until(
      session, [&] { return session.source(0).poller.state == segment_state::writer_closed; }));
  QThread::msleep(5);
  wb.write(level::info, "b", 2, "b between");
  QThread::msleep(5);
  record_writer second(a, 16, 4096);
  for (int i = 0; i < 3; ++i) second.write(level::warn, "a", 1, "second " + std::to_string(i));
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 15; }));
  for (int i = 0; i < 3; ++i) wb.write(level::info, "b", 2, "b after " + std::to_string(i));
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 18; }));
  const log_model& model = *session.model();
  int separator = -1;
  for (int r = 0; r < model.rowCount(); ++r) {
    if (model.entry_at(r).kind() == row_kind::separator) separator = r;
  }
  ASSERT_GE(separator, 0);
  EXPECT_EQ(model.entry_at(separator).source, 0);
  EXPECT_EQ(model.data(model.index(separator, log_model::col_segment)).toString(),
            QString::fromStdString(a));
  EXPECT_EQ(model.entry_at(separator - 1).stored_message(), "b between")
      << "after what came before it";
  EXPECT_EQ(model.entry_at(separator + 1).stored_message(), "second 0");
  EXPECT_EQ(session.source(0).poller.restarts, 1U);
  expect_time_ordered(model);
}

TEST_F(Merge, OverrunningSourceHasItsGapRowsInPlace) {
  const std::string a = unique_name("overrun");
  const std::string b = unique_name("calm");
  record_writer wa(a, 8, 1024);  // a tiny ring
  record_writer wb(b, 16, 64 * 1024);
  wa.write(level::info, "a", 1, "a warm-up");
  merged_session session(options_for({a, b}));
  QAbstractItemModelTester tester(session.model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  session.start_pollers();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 1; }));
  session.poller(0).hold(true);
  QThread::msleep(20);
  for (int i = 0; i < 3000; ++i) {
    wa.write(level::debug, "a", 1, "flood " + std::to_string(i));
    if (i % 1000 == 0) wb.write(level::info, "b", 2, "b during " + std::to_string(i));
  }
  session.poller(0).hold(false);
  ASSERT_TRUE(run_until(session, [&] {
    const poll_status& s = session.source(0).poller;
    return s.entries_read + s.entries_lost == wa.written() && session.source(0).held == 0 &&
           session.source(1).merged == 3;
  }));
  const log_model& model = *session.model();
  std::uint64_t lost_in_rows = 0;
  int gaps = 0;
  for (int r = 0; r < model.rowCount(); ++r) {
    const entry& row = model.entry_at(r);
    if (row.kind() != row_kind::gap) continue;
    ++gaps;
    EXPECT_EQ(row.source, 0) << "labelled with its segment";
    for (const auto& f : decode_fields(row.extra())) {
      if (f.key == "lost") lost_in_rows += std::stoull(std::string(f.value));
    }
  }
  EXPECT_GE(gaps, 1);
  EXPECT_EQ(lost_in_rows, session.source(0).poller.entries_lost);
  EXPECT_GT(lost_in_rows, 1000U);
  EXPECT_EQ(session.time_buckets().lost(), lost_in_rows) << "the merged timeline counts them";
  expect_time_ordered(model);  // gap rows carry the time of the entry before them

  // The per-segment toggle hides a segment's rows, its gap rows too.
  auto only_b = std::make_shared<filter_spec>();
  only_b->hidden_sources = 1;
  session.set_filter(only_b);
  session.model()->wait_for_refilter();
  ASSERT_EQ(session.model()->rowCount(), 3);
  for (int r = 0; r < 3; ++r) EXPECT_EQ(session.model()->entry_at(r).source, 1);
}

TEST_F(Merge, RawPayloadsAreMergedByArrival) {
  const std::string a = unique_name("raw");
  const std::string b = unique_name("records");
  record_writer wa(a, 8, 4096, layout::extension_layout::encoding_raw);
  record_writer wb(b, 16, 64 * 1024);
  merged_session session(options_for({a, b}));
  session.start_pollers();
  wa.write_plain("raw one");
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 1; }));
  wb.write(level::info, "b", 1, "record");
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 2; }));
  wa.write_plain("raw two");
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 3; }));
  EXPECT_TRUE(session.source(0).by_arrival);
  EXPECT_FALSE(session.source(1).by_arrival);
  EXPECT_EQ(session.model()->entry_at(0).stored_message(), "raw one");
  EXPECT_EQ(session.model()->entry_at(1).stored_message(), "record");
  EXPECT_EQ(session.model()->entry_at(2).stored_message(), "raw two");
}

TEST_F(Merge, MergedHistoryKeepsTheSpanEverySourceStillHolds) {
  const std::string a = unique_name("bounded-a");
  const std::string b = unique_name("bounded-b");
  record_writer wa(a, 16, 64 * 1024);
  record_writer wb(b, 16, 64 * 1024);
  wb.write(level::info, "b", 1, "b old");
  QThread::msleep(2);
  for (int i = 0; i < 2000; ++i) wa.write(level::info, "a", 1, "a " + std::to_string(i));
  merged_options options = options_for({a, b});
  options.source_limits.max_entries = 500;  // each segment's own history
  merged_session session(std::move(options));
  QAbstractItemModelTester tester(session.model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  session.start_pollers();
  ASSERT_TRUE(run_until(session, [&] {
    return session.source(0).poller.entries_read == 2000 && session.source(0).held == 0 &&
           session.source(1).merged == 1;
  }));
  // A kept its newest 500; B's older row is older than anything A still holds, so it left too.
  const log_model& model = *session.model();
  EXPECT_EQ(session.source_store(0).retained(), 500U);
  EXPECT_LE(model.rowCount(), 500);
  EXPECT_GE(model.rowCount(), 1);
  EXPECT_EQ(model.entry_at(model.rowCount() - 1).stored_message(), "a 1999");
  for (int r = 0; r < model.rowCount(); ++r) EXPECT_EQ(model.entry_at(r).source, 0);
  expect_time_ordered(model);
}

// Deferred records from two segments merge like text records and read as formatted text, from
// the merged rows, after one writer is gone and under a text filter set afterwards.
TEST_F(Merge, DeferredRecordsOfTwoSegmentsReadAsText) {
  const std::string a = unique_name("merge-deferred-a");
  const std::string b = unique_name("merge-deferred-b");
  logger_options o;
  o.deferred_format = true;
  o.maintenance_thread = false;
  auto la = std::make_unique<logger>(a, o);
  logger lb(b, o);
  for (int i = 0; i < 200; ++i) {
    la->info("net", "a sent {} bytes", i);
    lb.warn("db", "b took {:.1f} ms on {}", i / 2.0, "users");
  }
  merged_session session(options_for({a, b}));
  session.start_pollers();
  ASSERT_TRUE(run_until(session, [&] { return session.model()->rowCount() == 400; }));
  la.reset();  // the first writer exits: its rows keep their formats
  ASSERT_TRUE(run_until(
      session, [&] { return session.source(0).poller.state == segment_state::writer_closed; }));
  const log_model& model = *session.model();
  expect_time_ordered(model);
  // Each logger converts its own TSC readings with its own calibration, so two calls made a few
  // nanoseconds apart in different segments may merge in either order; each segment's rows keep
  // theirs, and every row reads as its own call's text.
  std::string scratch;
  int next[2] = {0, 0};
  for (int r = 0; r < 400; ++r) {
    const entry& row = model.entry_at(r);
    ASSERT_TRUE(row.deferred()) << "row " << r;
    ASSERT_LT(row.source, 2) << "row " << r;
    const int i = next[row.source]++;
    const std::string want = row.source == 0 ? "a sent " + std::to_string(i) + " bytes" : fmt_b(i);
    ASSERT_EQ(message_text(row, scratch), want) << "row " << r;
  }
  EXPECT_EQ(next[0], 200);
  EXPECT_EQ(next[1], 200);
  auto spec = std::make_shared<filter_spec>();
  spec->text = QStringLiteral("took 9.5 ms");
  session.set_filter(spec);
  session.model()->wait_for_refilter();
  ASSERT_EQ(session.model()->rowCount(), 1);
  EXPECT_EQ(session.model()->data(session.model()->index(0, log_model::col_message)).toString(),
            QStringLiteral("b took 9.5 ms on users"));
}
