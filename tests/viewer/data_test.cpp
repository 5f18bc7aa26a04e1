// Unit tests of the viewer's data layer: storage, filters, store, model, export, catalog.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QBuffer>
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QTemporaryDir>

#include "data/bookmarks.hpp"
#include "data/bulk_job.hpp"
#include "data/entry_store.hpp"
#include "data/exporter.hpp"
#include "data/filter.hpp"
#include "data/format.hpp"
#include "data/highlight.hpp"
#include "data/log_model.hpp"
#include "data/row_selection.hpp"
#include "data/segment_catalog.hpp"
#include "data/segment_session.hpp"
#include "data/session_state.hpp"
#include "data/timeline.hpp"
#include "data/viewport_anchor.hpp"
#include "viewer_test_support.hpp"

using namespace viewer_test;

namespace {
QCoreApplication& app() {
  static int argc = 1;
  static char name[] = "viewer_data_test";
  static char* argv[] = {name, nullptr};
  static auto* instance = new QCoreApplication(argc, argv);
  return *instance;
}

std::shared_ptr<filter_spec> spec() {
  return std::make_shared<filter_spec>();
}
}  // namespace

TEST(Entry, TagTableInternsAndPublishes) {
  tag_table tags;
  EXPECT_EQ(tags.intern(""), 0);
  const auto net = tags.intern("net");
  const auto db = tags.intern("db");
  EXPECT_NE(net, db);
  EXPECT_EQ(tags.intern("net"), net);
  EXPECT_EQ(tags.name(net), "net");
  EXPECT_EQ(tags.name(db), "db");
  EXPECT_EQ(tags.name(999), "");  // not interned yet
}

TEST(Entry, TagTableOverflowsToOneId) {
  tag_table tags;
  for (int i = 1; i < 65535; ++i) ASSERT_EQ(tags.intern("t" + std::to_string(i)), i);
  EXPECT_EQ(tags.intern("one-too-many"), tag_table::overflow_id);
  EXPECT_EQ(tags.name(tag_table::overflow_id), "(other tags)");
}

TEST(Entry, FieldsRoundTrip) {
  std::string extra;
  append_field(extra, "user", "alice");
  append_field(extra, "", std::string(300, 'v'));
  const auto fields = decode_fields(extra);
  ASSERT_EQ(fields.size(), 2U);
  EXPECT_EQ(fields[0].key, "user");
  EXPECT_EQ(fields[0].value, "alice");
  EXPECT_EQ(fields[1].value.size(), 300U);
  // Truncated bytes decode to what is complete, never past the end.
  EXPECT_EQ(decode_fields(std::string_view(extra).substr(0, extra.size() - 1)).size(), 1U);
}

TEST(Format, TimesDurationsAndGapText) {
  EXPECT_EQ(format_time(1'700'000'000'123'456'789LL, true), "2023-11-14 22:13:20.123456789");
  EXPECT_EQ(format_time(no_time, true), "");
  EXPECT_EQ(format_delta(1'500'000'000LL), "+1.500000000");
  EXPECT_EQ(format_delta(-2'000LL), "-0.000002000");
  EXPECT_EQ(gap_text(10, 19, 12'300'000),
            "10 entries overwritten (seq 10\xE2\x80\x93"
            "19, \xE2\x89\x88 12.3 ms)");
  EXPECT_EQ(gap_text(5, 5, -1),
            "1 entry overwritten (seq 5\xE2\x80\x93"
            "5)");
  EXPECT_EQ(one_line("a\nb\tc"), QStringLiteral("a \u23CE b c"));
  EXPECT_EQ(one_line(std::string(1000, 'x'), 10).size(), 11);
  EXPECT_EQ(one_line("bad \xFF byte"), QStringLiteral("bad \uFFFD byte"));
}

TEST(Filter, LevelsTextTagsThreads) {
  tag_table tags;
  row_factory rows(tags);
  const entry& info_net = rows.add(row_kind::record, 1, 2, "net", 10, "Sent 42 bytes to Peer");
  const entry& error_db = rows.add(row_kind::record, 2, 4, "db", 11, "query failed: timeout");
  const entry& plain = rows.add(row_kind::plain, 3, -1, "", 0, "plain text");
  const entry& gap = rows.add(row_kind::gap, 4, -1, "", 0, "5 entries overwritten");

  auto s = spec();
  EXPECT_TRUE(s->passes_everything());
  s->level_mask = 1U << 4;  // errors only
  filter_engine errors(s, &tags);
  EXPECT_FALSE(errors.accepts(info_net));
  EXPECT_TRUE(errors.accepts(error_db));
  EXPECT_FALSE(errors.accepts(plain));
  EXPECT_TRUE(errors.accepts(gap)) << "gap rows survive every filter";

  s = spec();
  s->text = "PEER";
  filter_engine folded(s, &tags);
  EXPECT_TRUE(folded.accepts(info_net));
  EXPECT_FALSE(folded.accepts(error_db));
  s = spec();
  s->text = "PEER";
  s->case_sensitive = true;
  filter_engine exact(s, &tags);
  EXPECT_FALSE(exact.accepts(info_net));

  s = spec();
  s->text = "sent \\d+ bytes";
  s->regex = true;
  filter_engine regex(s, &tags);
  EXPECT_TRUE(regex.error().isEmpty());
  EXPECT_TRUE(regex.accepts(info_net));
  EXPECT_FALSE(regex.accepts(error_db));

  s = spec();
  s->text = "(unclosed";
  s->regex = true;
  filter_engine broken(s, &tags);
  EXPECT_FALSE(broken.error().isEmpty());
  EXPECT_TRUE(broken.accepts(info_net)) << "a bad pattern filters nothing out";

  s = spec();
  s->tags_include = {"n*"};
  filter_engine include(s, &tags);
  EXPECT_TRUE(include.accepts(info_net));
  EXPECT_FALSE(include.accepts(error_db));
  s = spec();
  s->tags_exclude = {"net"};
  filter_engine exclude(s, &tags);
  EXPECT_FALSE(exclude.accepts(info_net));
  EXPECT_TRUE(exclude.accepts(error_db));

  s = spec();
  ASSERT_TRUE(parse_thread_list("11, 0x20", s->threads));
  filter_engine threads(s, &tags);
  EXPECT_FALSE(threads.accepts(info_net));
  EXPECT_TRUE(threads.accepts(error_db));
  std::vector<std::uint32_t> bad;
  EXPECT_FALSE(parse_thread_list("12 x", bad));
  EXPECT_EQ(bad, std::vector<std::uint32_t>{12});

  s = spec();
  s->text = "\u00C9T\u00C9";  // non-ASCII, case-insensitive: through the regex engine
  filter_engine unicode(s, &tags);
  const entry& accented = rows.add(row_kind::record, 5, 2, "", 1, "l'\xC3\xA9t\xC3\xA9 est chaud");
  EXPECT_TRUE(unicode.accepts(accented));
}

TEST(Store, AppendEvictCountsAndGaps) {
  tag_table tags;
  row_factory rows(tags);
  for (int i = 1; i <= 10'000; ++i) {
    if (i == 5000) rows.add(row_kind::gap, 5000, -1, "", 0, "gap");
    rows.record(static_cast<std::uint64_t>(i), i % 6, "t", "message " + std::to_string(i));
  }
  entry_store store;
  store.set_limits({100'000, 0});
  for (const auto& span : rows.take()) store.append(span);
  EXPECT_EQ(store.retained(), 10'001U);
  EXPECT_EQ(store.gaps().size(), 1U);
  std::uint64_t total = 0;
  for (auto n : store.level_totals()) total += n;
  EXPECT_EQ(total, 10'000U);

  store.set_limits({6'000, 0});
  EXPECT_EQ(store.evict_to_limits(), 4'001U);
  EXPECT_EQ(store.retained(), 6'000U);
  EXPECT_EQ(store.evicted(), 4'001U);
  EXPECT_EQ(store.view().at(store.view().first).sequence, 4'002U);
  EXPECT_EQ(store.gaps().size(), 1U);
  EXPECT_EQ(store.view().pages.size(), 3U);
  store.set_limits({5'000, 0});
  EXPECT_EQ(store.evict_to_limits(), 1'000U);
  EXPECT_EQ(store.gaps().size(), 0U) << "the gap row (serial 5000) went with its page";
  EXPECT_EQ(store.view().at(store.view().first).sequence, 5'001U);
  EXPECT_EQ(store.view().pages.size(), 2U) << "fully evicted pages are released";
  std::uint64_t left = 0;
  for (auto n : store.level_totals()) left += n;
  EXPECT_EQ(left, 5'000U);

  // A byte cap evicts too: each row costs its struct, index slot and text.
  const std::uint64_t per_row = row_cost(store.view().at(store.view().first));
  store.set_limits({0, per_row * 1000});
  store.evict_to_limits();
  EXPECT_LE(store.retained_bytes(), per_row * 1000);
  EXPECT_GE(store.retained(), 900U);
}

TEST(Store, RowsDroppedBeforeTheStoreCountAsEvicted) {
  tag_table tags;
  row_factory rows(tags);
  for (int i = 1; i <= 10; ++i) rows.record(i, 2, "", "x");
  auto first = rows.take();
  for (int i = 11; i <= 20; ++i) rows.record(i, 2, "", "x");
  rows.take();  // never reaches the store
  for (int i = 21; i <= 30; ++i) rows.record(i, 2, "", "x");
  auto third = rows.take();
  entry_store store;
  for (const auto& s : first) store.append(s);
  for (const auto& s : third) store.append(s);
  EXPECT_EQ(store.retained(), 10U);
  EXPECT_EQ(store.evicted(), 20U);
  EXPECT_EQ(store.view().at(store.view().first).sequence, 21U);
}

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override { app(); }
  void feed(std::vector<row_span> spans) {
    for (const auto& s : spans) store.append(s);
    store.evict_to_limits();
    model.sync(spans);
  }
  std::shared_ptr<tag_table> tags = std::make_shared<tag_table>();
  row_factory rows{*tags};
  entry_store store;
  log_model model{&store, tags};
  QAbstractItemModelTester tester{&model, QAbstractItemModelTester::FailureReportingMode::Fatal};
};

TEST_F(ModelTest, AppendsEvictsAndShowsColumns) {
  std::string extra;
  append_field(extra, "user", "bob");
  rows.add(row_kind::record, 1, 3, "net", 42, "line one\nline two", extra);
  rows.add(row_kind::plain, 2, -1, "", 0, "plain payload");
  feed(rows.take());
  ASSERT_EQ(model.rowCount(), 2);
  EXPECT_EQ(model.data(model.index(0, log_model::col_sequence)).toString(), "1");
  EXPECT_EQ(model.data(model.index(0, log_model::col_level)).toString(), "WARN");
  EXPECT_EQ(model.data(model.index(0, log_model::col_tag)).toString(), "net");
  EXPECT_EQ(model.data(model.index(0, log_model::col_thread)).toString(), "42");
  EXPECT_EQ(model.data(model.index(0, log_model::col_message)).toString(),
            QStringLiteral("line one \u23CE line two  user=bob"));
  EXPECT_EQ(model.data(model.index(0, 0), log_model::full_text_role).toString(),
            "line one\nline two");
  EXPECT_EQ(model.data(model.index(1, log_model::col_level)).toString(), "");
  EXPECT_EQ(model.data(model.index(1, log_model::col_thread)).toString(), "");
  model.set_time_options(time_mode::time_of_day, true);
  EXPECT_EQ(model.data(model.index(0, log_model::col_time)).toString(),
            "2023-11-14 22:13:20.000001")
      << "the first row carries the date";
  EXPECT_EQ(model.data(model.index(1, log_model::col_time)).toString(), "22:13:20.000002")
      << "then the time of day only, until the date changes";
  EXPECT_TRUE(model.data(model.index(1, log_model::col_time), Qt::ToolTipRole)
                  .toString()
                  .contains("2023-11-14 22:13:20.000002000 UTC"))
      << "the tooltip has the full date and nanoseconds";

  model.set_time_options(time_mode::delta, true);
  EXPECT_EQ(model.data(model.index(1, log_model::col_time)).toString(), "+0.000001000");
  model.set_attach_time(1'700'000'000'000'000'000LL);
  model.set_time_options(time_mode::since_attach, true);
  EXPECT_EQ(model.data(model.index(1, log_model::col_time)).toString(), "+0.000002");
  model.set_attach_time(1'700'000'001'000'000'000LL);
  model.emit dataChanged(model.index(0, 0), model.index(1, log_model::column_count - 1));
  EXPECT_EQ(model.cell_text(1, log_model::col_time), "-0.999998");

  store.set_limits({1, 0});
  for (int i = 3; i <= 5; ++i) rows.record(i, 2, "", "more");
  feed(rows.take());
  EXPECT_EQ(model.rowCount(), 1);
  EXPECT_EQ(model.data(model.index(0, 0)).toString(), "5");
}

TEST_F(ModelTest, FilterOnArrivalAndBackgroundRefilter) {
  // More rows than the inline limit so the re-filter runs on a pool thread.
  for (int i = 1; i <= 50'000; ++i) {
    rows.record(i, i % 5 == 0 ? 4 : 2, i % 2 ? "odd" : "even", "value " + std::to_string(i));
    if (i == 25'000) rows.add(row_kind::gap, 25'001, -1, "", 0, "gap", {});
  }
  feed(rows.take());
  ASSERT_EQ(model.rowCount(), 50'001);

  auto errors_only = std::make_shared<filter_spec>();
  errors_only->level_mask = 1U << 4;
  const auto generation = model.set_filter(errors_only);
  EXPECT_TRUE(model.refiltering());
  model.wait_for_refilter();
  EXPECT_FALSE(model.refiltering());
  EXPECT_EQ(model.rowCount(), 10'000 + 1) << "errors plus the gap row";
  EXPECT_EQ(model.visible_levels()[4], 10'000U);
  EXPECT_EQ(model.visible_levels()[2], 0U);

  // Rows the poller filtered with this generation are taken as they are (flag_visible);
  // rows of an older generation are filtered on arrival.
  entry& stale = rows.record(50'001, 2, "odd", "stale generation info");
  (void)stale;
  auto old_spans = rows.take(generation - 1);
  feed(old_spans);
  EXPECT_EQ(model.rowCount(), 10'001) << "filtered again: info is hidden";
  entry& fresh = rows.record(50'002, 2, "odd", "already filtered");
  fresh.bits &= static_cast<std::uint8_t>(~flag_visible);
  feed(rows.take(generation));
  EXPECT_EQ(model.rowCount(), 10'001);

  const int gap_row = model.find_gap(-1, true);
  ASSERT_GE(gap_row, 0);
  EXPECT_EQ(model.data(model.index(gap_row, 0), log_model::kind_role).toInt(),
            static_cast<int>(row_kind::gap));
  EXPECT_EQ(model.find_gap(gap_row, true), gap_row) << "wraps around to the only gap";

  const int hit = model.find_text(-1, true, "VALUE 35", false);
  ASSERT_GE(hit, 0);
  EXPECT_TRUE(
      model.data(model.index(hit, log_model::col_message)).toString().startsWith("value 35"));
  EXPECT_EQ(model.find_text(-1, true, "VALUE 35", true), -1);
}

TEST_F(ModelTest, RefilterKeepsRowsThatArriveMeanwhile) {
  for (int i = 1; i <= 40'000; ++i) rows.record(i, 2, "", "row " + std::to_string(i));
  feed(rows.take());
  auto matching = std::make_shared<filter_spec>();
  matching->text = "row 3";
  const auto generation = model.set_filter(matching);
  // Arrivals while the job runs, filtered by the poller with the new generation.
  entry& late = rows.record(40'001, 2, "", "row 3 late");
  late.bits |= flag_visible;
  feed(rows.take(generation));
  model.wait_for_refilter();
  const int n = model.rowCount();
  // "row 3", "row 30".."row 39", "row 300".., "row 3000".., "row 30000".."row 39999": 11111, + late
  EXPECT_EQ(n, 11'111 + 1);
  EXPECT_EQ(model.data(model.index(n - 1, log_model::col_message)).toString(), "row 3 late");
}

TEST_F(ModelTest, PauseFreezesViewButNotTheStore) {
  for (int i = 1; i <= 100; ++i) rows.record(i, 2, "", "before");
  feed(rows.take());
  model.set_paused(true);
  store.set_limits({150, 0});
  for (int i = 101; i <= 300; ++i) rows.record(i, 2, "", "during");
  feed(rows.take());
  EXPECT_EQ(model.rowCount(), 100) << "the view is frozen";
  EXPECT_EQ(model.arrivals_since_pause(), 200U);
  EXPECT_EQ(store.retained(), 150U) << "reading and eviction go on";
  EXPECT_EQ(model.data(model.index(0, 0)).toString(), "1")
      << "frozen rows stay readable after eviction";
  model.set_paused(false);
  model.wait_for_refilter();
  EXPECT_EQ(model.rowCount(), 150);
  EXPECT_EQ(model.data(model.index(0, 0)).toString(), "151");
  EXPECT_EQ(model.arrivals_since_pause(), 0U);
}

TEST(Export, TextJsonCsv) {
  tag_table tags;
  row_factory rows(tags);
  std::string extra;
  append_field(extra, "k", "v,\"q\"");
  rows.add(row_kind::record, 1, 4, "net", 3, "hello, \"world\"\nsecond line", extra);
  std::string gap_extra;
  append_field(gap_extra, "first", "2");
  append_field(gap_extra, "last", "9");
  append_field(gap_extra, "lost", "8");
  rows.add(row_kind::gap, 2, -1, "", 0,
           "8 entries overwritten (seq 2\xE2\x80\x93"
           "9)",
           gap_extra);
  entry_store store;
  for (const auto& s : rows.take()) store.append(s);
  const std::vector<std::uint64_t> serials{1, 2};
  QString error;

  QBuffer json;
  json.open(QIODevice::WriteOnly);
  ASSERT_TRUE(
      export_rows(json, store.view(), serials, tags, {export_format::json_lines, true, {}}, error));
  const auto lines = json.data().split('\n');
  ASSERT_EQ(lines.size(), 3);  // two rows and the empty tail
  const QJsonObject first = QJsonDocument::fromJson(lines[0]).object();
  EXPECT_EQ(first["level"].toString(), "error");
  EXPECT_EQ(first["tag"].toString(), "net");
  EXPECT_EQ(first["message"].toString(), "hello, \"world\"\nsecond line");
  EXPECT_EQ(first["fields"].toObject()["k"].toString(), "v,\"q\"");
  EXPECT_EQ(first["unix_ns"].toString(), "1700000000000001000");
  const QJsonObject gap = QJsonDocument::fromJson(lines[1]).object();
  EXPECT_EQ(gap["kind"].toString(), "gap");
  EXPECT_EQ(gap["gap"].toObject()["lost"].toString(), "8");

  QBuffer csv;
  csv.open(QIODevice::WriteOnly);
  ASSERT_TRUE(export_rows(csv, store.view(), serials, tags, {export_format::csv, true, {}}, error));
  EXPECT_TRUE(csv.data().startsWith("kind,seq,time,level,tag,thread,message,fields\nrecord,1,"));
  EXPECT_TRUE(csv.data().contains("\"hello, \"\"world\"\"\nsecond line\""));
  EXPECT_TRUE(csv.data().contains("\ngap,2,"));

  QBuffer text;
  text.open(QIODevice::WriteOnly);
  ASSERT_TRUE(
      export_rows(text, store.view(), serials, tags, {export_format::text, true, {}}, error));
  EXPECT_TRUE(text.data().startsWith("1 2023-11-14 22:13:20.000001000 ERROR [net] 3: hello"));
  EXPECT_TRUE(text.data().contains("----- 8 entries overwritten"));

  EXPECT_EQ(format_for_file("a.JSONL"), export_format::json_lines);
  EXPECT_EQ(format_for_file("a.csv"), export_format::csv);
  EXPECT_EQ(format_for_file("a.log"), export_format::text);
}

TEST(Catalog, RowsUpdateInPlaceAndMeasureRates) {
  app();
  segment_catalog catalog;
  QAbstractItemModelTester tester(&catalog, QAbstractItemModelTester::FailureReportingMode::Fatal);
  auto row = [](const char* name, const char* writer, quint64 entries) {
    catalog_row r;
    r.name = QString::fromLatin1(name);
    r.writer = QString::fromLatin1(writer);
    r.entries = entries;
    return r;
  };
  catalog.update({row("b", "alive", 100), row("a", "gone", 5)}, 0);
  ASSERT_EQ(catalog.rowCount(), 2);
  EXPECT_EQ(catalog.data(catalog.index(0, 0)).toString(), "a");
  catalog.update({row("b", "alive", 600), row("c", "closed", 0)}, 500);
  ASSERT_EQ(catalog.rowCount(), 2);
  EXPECT_EQ(catalog.data(catalog.index(0, 0)).toString(), "b");
  EXPECT_EQ(catalog.data(catalog.index(0, segment_catalog::col_rate)).toString(), "1000/s");
  EXPECT_EQ(catalog.data(catalog.index(1, 0)).toString(), "c");
  catalog.refresh();  // the real machine: must not throw whatever /dev/shm holds
}

TEST(Format, TimeOfDayCache) {
  time_of_day_cache cache;
  const std::int64_t t = 1'700'000'000'123'456'789LL;  // 2023-11-14 22:13:20 UTC
  EXPECT_EQ(cache.text(t, true, false), "22:13:20.123456");
  EXPECT_EQ(cache.text(t, true, true), "2023-11-14 22:13:20.123456");
  EXPECT_EQ(cache.text(t + 1'000'000'000LL * 3600 * 2, true, false), "00:13:20.123456");
  EXPECT_NE(cache.day(t, true), cache.day(t + 1'000'000'000LL * 3600 * 2, true))
      << "two hours later it is another day in UTC";
  EXPECT_EQ(cache.day(t, true), cache.day(t - 1'000'000'000LL * 3600 * 20, true));
  EXPECT_EQ(cache.text(-1, true, true), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(format_offset(-1'500'000'000LL), "-1.500000");
  EXPECT_EQ(format_offset(12'000'001'000LL), "+12.000001");
}

TEST(Filter, PathologicalRegexGivesUpInsteadOfHanging) {
  auto s = std::make_shared<filter_spec>();
  s->text = QStringLiteral("(x+x+)+y");
  s->regex = true;
  filter_engine engine(s, nullptr);
  ASSERT_TRUE(engine.error().isEmpty()) << engine.error().toStdString();
  // Catastrophic backtracking on every start position: with PCRE2's default limit each of these
  // messages costs ~70 ms and this loop outlives the test's timeout; with the viewer's limit it
  // takes about a second.
  const std::string message = std::string(28, 'x') + "zy";
  for (int i = 0; i < 2000; ++i) ASSERT_FALSE(engine.text_matches(message));
  // Legitimate patterns on long messages still match.
  auto plain = std::make_shared<filter_spec>();
  plain->text = QStringLiteral(".*timeout.*");
  plain->regex = true;
  filter_engine long_engine(plain, nullptr);
  std::string long_message;
  for (int i = 0; i < 4000; ++i) long_message += "lorem ipsu ";
  EXPECT_TRUE(long_engine.text_matches(long_message + "timeout here"));
  // Users cannot raise the limit from inside the pattern.
  auto raise = std::make_shared<filter_spec>();
  raise->text = QStringLiteral("(*LIMIT_MATCH=999999999)(x+x+)+y");
  raise->regex = true;
  EXPECT_FALSE(filter_engine(raise, nullptr).error().isEmpty());
  // Error offsets are those of the user's pattern.
  auto bad = std::make_shared<filter_spec>();
  bad->text = QStringLiteral("ab(");
  bad->regex = true;
  EXPECT_TRUE(filter_engine(bad, nullptr).error().contains("offset 3"))
      << filter_engine(bad, nullptr).error().toStdString();
}

TEST_F(ModelTest, SelectionIsBySerialAndSurvivesEviction) {
  for (int i = 1; i <= 100; ++i) rows.record(i, i % 2 ? 2 : 4, "", "row " + std::to_string(i));
  feed(rows.take());
  row_selection selection;
  selection.select(20, 10);
  EXPECT_EQ(selection.count(model), 11U);
  selection.add(12, 30);  // overlaps: merged
  ASSERT_EQ(selection.ranges().size(), 1U);
  EXPECT_EQ(selection.ranges()[0], (serial_range{10, 30}));
  selection.add(31, 31);  // adjacent: merged
  EXPECT_EQ(selection.ranges().size(), 1U);
  selection.toggle(15);  // splits
  ASSERT_EQ(selection.ranges().size(), 2U);
  EXPECT_FALSE(selection.contains(15));
  EXPECT_TRUE(selection.contains(14));
  EXPECT_TRUE(selection.contains(16));
  EXPECT_EQ(selection.count(model), 21U);
  selection.add(90, 95);
  EXPECT_EQ(selection.serials(model).front(), 10U);
  EXPECT_EQ(selection.serials(model).back(), 95U);

  // Evicting rows 1..20 removes them from the count, and moves no selection onto other rows.
  store.set_limits({80, 0});
  rows.record(101, 2, "", "row 101");
  feed(rows.take());
  EXPECT_EQ(model.serial_at(0), 22U);
  EXPECT_EQ(selection.count(model), 16U);  // 22..31 minus 15 (none), + 90..95
  EXPECT_FALSE(selection.contains(101));

  // Filtering hides rows: they leave the count, and come back with the filter.
  auto errors = spec();
  errors->level_mask = 1U << 4;
  model.set_filter(errors);
  model.wait_for_refilter();
  EXPECT_EQ(selection.count(model), 8U);  // even serials of 22..31 and 90..95
  model.set_filter(spec());
  model.wait_for_refilter();
  EXPECT_EQ(selection.count(model), 16U);
}

TEST_F(ModelTest, AnchorFollowsOrHoldsAcrossAppendsEvictionsAndFilters) {
  for (int i = 1; i <= 100; ++i) rows.record(i, 2, "", "row");
  feed(rows.take());
  viewport_anchor anchor;
  const int page = 10;
  EXPECT_TRUE(anchor.following());
  EXPECT_EQ(anchor.top_row(model, page), 90);

  anchor.hold(model, 40);  // serial 41 on top
  EXPECT_FALSE(anchor.following());
  for (int i = 101; i <= 150; ++i) rows.record(i, 2, "", "more");
  feed(rows.take());
  EXPECT_EQ(anchor.top_row(model, page), 40) << "appends below do not move the view";
  EXPECT_EQ(viewport_anchor::rows_below(model, 40, page), 100);

  store.set_limits({120, 0});
  for (int i = 151; i <= 160; ++i) rows.record(i, 2, "", "more");
  feed(rows.take());  // 40 rows evicted above the anchor
  const int top = anchor.top_row(model, page);
  EXPECT_EQ(model.serial_at(top), 41U) << "the same entry stays on top";
  EXPECT_FALSE(anchor.anchor_evicted());

  store.set_limits({100, 0});
  for (int i = 161; i <= 200; ++i) rows.record(i, 2, "", "more");
  feed(rows.take());  // now the anchored entry itself is evicted
  EXPECT_EQ(anchor.top_row(model, page), 0) << "stays at the oldest retained row";
  EXPECT_TRUE(anchor.anchor_evicted());
  EXPECT_EQ(anchor.anchor(), model.serial_at(0));

  anchor.hold(model, 50);
  EXPECT_FALSE(anchor.anchor_evicted()) << "moving clears the notice";
  const std::uint64_t held = model.serial_at(50);
  auto odd_only = spec();
  odd_only->text = QStringLiteral("nothing matches this");
  model.set_filter(odd_only);
  model.wait_for_refilter();
  EXPECT_EQ(anchor.top_row(model, page), 0) << "an empty table has its top at 0";
  model.set_filter(spec());
  model.wait_for_refilter();
  EXPECT_EQ(model.serial_at(anchor.top_row(model, page)), held)
      << "the anchor survives a re-filter that hid it";

  anchor.follow();
  EXPECT_EQ(anchor.top_row(model, page), 90);
}

TEST_F(ModelTest, PausedCountsNeverShowMoreVisibleThanTotal) {
  for (int i = 1; i <= 100; ++i) rows.record(i, i % 3 == 0 ? 4 : 2, "", "row");
  feed(rows.take());
  model.set_paused(true);
  store.set_limits({50, 0});
  for (int i = 101; i <= 400; ++i) rows.record(i, 2, "", "later");
  feed(rows.take());
  const auto& visible = model.visible_levels();
  const auto& total = model.total_levels();
  for (int slot = 0; slot < level_slots; ++slot) {
    EXPECT_LE(visible[static_cast<std::size_t>(slot)], total[static_cast<std::size_t>(slot)])
        << "level slot " << slot;
  }
  EXPECT_EQ(total[4], 33U) << "the totals of the frozen history";
  model.set_paused(false);
  model.wait_for_refilter();
  EXPECT_EQ(model.total_levels()[2], 50U);
}

TEST(Catalog, FrozenListKeepsRowsInPlace) {
  app();
  segment_catalog catalog;
  QAbstractItemModelTester tester(&catalog, QAbstractItemModelTester::FailureReportingMode::Fatal);
  auto row = [](const char* name, quint64 entries) {
    catalog_row r;
    r.name = QString::fromLatin1(name);
    r.writer = QStringLiteral("alive");
    r.entries = entries;
    return r;
  };
  catalog.update({row("m", 0), row("x", 0)}, 0);
  catalog.set_frozen(true);  // the mouse is over the list
  catalog.update({row("a", 0), row("m", 10), row("x", 10)}, 1000);
  ASSERT_EQ(catalog.rowCount(), 3);
  EXPECT_EQ(catalog.rows()[0].name, "m") << "rows under the mouse do not move";
  EXPECT_EQ(catalog.rows()[1].name, "x");
  EXPECT_EQ(catalog.rows()[2].name, "a") << "a new segment is appended";
  catalog.update({row("a", 0), row("x", 20)}, 2000);
  ASSERT_EQ(catalog.rowCount(), 3);
  EXPECT_TRUE(catalog.rows()[0].vanished) << "a vanished segment stays, marked";
  EXPECT_EQ(catalog.data(catalog.index(0, segment_catalog::col_writer)).toString(), "removed");
  catalog.set_frozen(false);
  ASSERT_EQ(catalog.rowCount(), 2);
  EXPECT_EQ(catalog.rows()[0].name, "a");
  EXPECT_EQ(catalog.rows()[1].name, "x");
}

TEST(Catalog, RatesAreSmoothedAndExact) {
  app();
  segment_catalog catalog;
  catalog_row r;
  r.name = QStringLiteral("slow");
  r.writer = QStringLiteral("alive");
  // A 10/s writer observed every 2 s with exact counts.
  for (int step = 0; step <= 10; ++step) {
    r.entries = static_cast<quint64>(step) * 20;
    catalog.update({r}, step * 2000);
  }
  EXPECT_EQ(catalog.data(catalog.index(0, segment_catalog::col_rate)).toString(), "10/s");
  // A burst does not make the rate jump to the burst's value.
  r.entries += 600;
  catalog.update({r}, 22000);
  const double rate = catalog.rows()[0].rate;
  EXPECT_GT(rate, 10);
  EXPECT_LT(rate, 300) << "smoothed: " << rate;
}

TEST(BulkJob, CopyExportProgressAndCancel) {
  app();
  tag_table tags_table;
  auto tags = std::make_shared<tag_table>();
  row_factory rows(*tags);
  for (int i = 1; i <= 50'000; ++i) rows.record(i, 2, "net", "message " + std::to_string(i));
  entry_store store;
  for (const auto& s : rows.take()) store.append(s);
  std::vector<std::uint64_t> serials;
  for (std::uint64_t s = 1; s <= 50'000; ++s) serials.push_back(s);

  bool ok = false;
  QString message;
  QByteArray text;
  auto* copy = bulk_job::start_copy(true, false, store.view(), serials, tags, nullptr);
  QObject::connect(copy, &bulk_job::finished, [&](bool o, const QString& m, const QByteArray& t) {
    ok = o;
    message = m;
    text = t;
  });
  copy->wait();
  EXPECT_TRUE(ok) << message.toStdString();
  EXPECT_EQ(copy->done(), 50'000U);
  EXPECT_EQ(text.count('\n'), 50'000);
  EXPECT_TRUE(text.startsWith("1 2023-11-14")) << text.left(60).toStdString();
  EXPECT_TRUE(message.startsWith("Copied 50")) << message.toStdString();
  delete copy;

  auto* messages = bulk_job::start_copy(true, true, store.view(), {7, 8}, tags, nullptr);
  QObject::connect(messages, &bulk_job::finished,
                   [&](bool, const QString&, const QByteArray& t) { text = t; });
  messages->wait();
  EXPECT_EQ(text, "message 7\nmessage 8\n");
  delete messages;

  QTemporaryDir dir;
  const QString path = dir.filePath("rows.jsonl");
  export_options options;
  options.format = export_format::json_lines;
  auto* cancelled = bulk_job::start_export(path, options, store.view(), serials, tags, nullptr);
  cancelled->cancel();
  QObject::connect(cancelled, &bulk_job::finished,
                   [&](bool o, const QString& m, const QByteArray&) {
                     ok = o;
                     message = m;
                   });
  cancelled->wait();
  EXPECT_FALSE(ok);
  EXPECT_EQ(message, "Export cancelled");
  EXPECT_FALSE(QFile::exists(path)) << "no half-written file";
  delete cancelled;

  auto* exported = bulk_job::start_export(path, options, store.view(), serials, tags, nullptr);
  QObject::connect(exported, &bulk_job::finished, [&](bool o, const QString& m, const QByteArray&) {
    ok = o;
    message = m;
  });
  exported->wait();
  EXPECT_TRUE(ok) << message.toStdString();
  EXPECT_TRUE(message.contains(path));
  QFile file(path);
  ASSERT_TRUE(file.open(QIODevice::ReadOnly));
  EXPECT_EQ(file.readAll().count('\n'), 50'000);
  delete exported;

  auto* failed = bulk_job::start_export(dir.filePath("no/such/dir/x.log"), options, store.view(),
                                        serials, tags, nullptr);
  QObject::connect(failed, &bulk_job::finished, [&](bool o, const QString& m, const QByteArray&) {
    ok = o;
    message = m;
  });
  failed->wait();
  EXPECT_FALSE(ok);
  EXPECT_TRUE(message.startsWith("Export failed: cannot write")) << message.toStdString();
  delete failed;
}

namespace {
// The buckets a timeline must hold for the rows a store retains, counted from scratch with the
// timeline's own origin and width (rows without a time count where the row before them did).
void expect_timeline_matches(const timeline& counts, const entry_store& store) {
  const store_view& view = store.view();
  std::vector<timeline_bucket> want(counts.buckets().size());
  timeline_bucket untimed;
  std::uint64_t entries = 0;
  std::uint64_t lost = 0;
  std::int64_t previous = no_time;
  for (std::uint64_t s = view.first; s < view.end; ++s) {
    const entry& row = view.at(s);
    const std::int64_t time = row.time_ns != no_time ? row.time_ns : previous;
    previous = time;
    timeline_bucket* bucket = &untimed;
    if (time != no_time) {
      const std::int64_t index = (time - counts.origin_ns()) / counts.width_ns();
      ASSERT_GE(index, 0);
      ASSERT_LT(index, static_cast<std::int64_t>(want.size()));
      bucket = &want[static_cast<std::size_t>(index)];
    }
    switch (row.kind()) {
      case row_kind::gap:
        bucket->lost += lost_in_gap(row);
        lost += lost_in_gap(row);
        break;
      case row_kind::separator: ++bucket->restarts; break;
      case row_kind::notice: break;
      default: ++bucket->levels[static_cast<std::size_t>(row.level_slot())]; ++entries;
    }
  }
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(counts.buckets()[i].levels, want[i].levels) << "bucket " << i;
    ASSERT_EQ(counts.buckets()[i].lost, want[i].lost) << "bucket " << i;
    ASSERT_EQ(counts.buckets()[i].restarts, want[i].restarts) << "bucket " << i;
  }
  EXPECT_EQ(counts.untimed().entries(), untimed.entries());
  EXPECT_EQ(counts.entries(), entries);
  EXPECT_EQ(counts.lost(), lost);
  // Sums over the buckets equal the retained entries plus the entries lost in retained gaps.
  std::uint64_t sum = counts.untimed().entries() + counts.untimed().lost;
  for (const timeline_bucket& b : counts.buckets()) sum += b.entries() + b.lost;
  EXPECT_EQ(sum, entries + lost);
  if (!counts.buckets().empty()) {
    EXPECT_FALSE(counts.buckets().front().empty()) << "emptied buckets at the front go";
  }
}
}  // namespace

TEST(Timeline, BucketsAccountForEveryRetainedEntryAndLoss) {
  tag_table tags;
  row_factory rows(tags);
  constexpr std::int64_t base = 1'700'000'000'000'000'000LL;
  std::uint64_t sequence = 0;
  std::uint64_t expected_lost = 0;
  for (int i = 0; i < 30'000; ++i) {
    entry& row = rows.record(++sequence, i % 7 == 6 ? -1 : i % 6, "t", "m");
    if (i % 7 == 6) row.bits = static_cast<std::uint8_t>(row_kind::plain) | flag_visible;
    // 3 ms apart, a burst every 1000 rows, now and then an entry from a slower thread.
    row.time_ns = base + static_cast<std::int64_t>(i) * 3'000'000 + (i % 1000 < 50 ? 0 : 1) -
                  (i % 97 == 0 ? 40'000'000 : 0);
    if (i % 2500 == 1000) {
      std::string extra;
      append_field(extra, "lost", std::to_string(100 + i));
      entry& gap = rows.add(row_kind::gap, sequence + 1, -1, "", 0, "gap", extra);
      gap.time_ns = row.time_ns;
      sequence += 100 + static_cast<std::uint64_t>(i);
      expected_lost += 100 + static_cast<std::uint64_t>(i);
    }
    if (i == 20'000)
      rows.add(row_kind::separator, 0, -1, "", 0, "writer restarted").time_ns = row.time_ns;
    if (i % 5000 == 7) rows.add(row_kind::notice, sequence, -1, "", 0, "corrupt").time_ns = no_time;
  }
  entry_store store;
  store.set_limits({1'000'000, 0});
  timeline counts(64);  // few buckets: the span (90 s) makes it rescale several times
  for (const auto& span : rows.take()) append_counted(store, counts, span);
  EXPECT_GT(counts.width_ns(), 100'000'000) << "rescaled";
  EXPECT_LE(counts.buckets().size(), 64U);
  EXPECT_EQ(counts.entries(), 30'000U);
  EXPECT_EQ(counts.lost(), expected_lost);
  EXPECT_EQ(counts.restarts(), 1U);
  expect_timeline_matches(counts, store);

  // Evicting from the front keeps the buckets exact, a step at a time, down to nothing.
  for (const std::uint64_t keep : {20'000U, 9'999U, 1'234U, 1U}) {
    store.set_limits({keep, 0});
    evict_counted(store, counts, store.over_limits());
    ASSERT_EQ(store.retained(), keep);
    expect_timeline_matches(counts, store);
  }
  evict_counted(store, counts, store.retained());
  EXPECT_TRUE(counts.buckets().empty());
  EXPECT_EQ(counts.entries(), 0U);
  EXPECT_EQ(counts.lost(), 0U);
}

TEST(Timeline, HostileTimesNeitherOverflowNorGrowWithoutBound) {
  tag_table tags;
  row_factory rows(tags);
  const std::int64_t times[] = {std::numeric_limits<std::int64_t>::max(), 0, -5,
                                std::numeric_limits<std::int64_t>::min() + 1,
                                1'700'000'000'000'000'000LL};
  std::uint64_t sequence = 0;
  for (const std::int64_t t : times) rows.record(++sequence, 2, "t", "m").time_ns = t;
  entry_store store;
  timeline counts(128);
  for (const auto& span : rows.take()) append_counted(store, counts, span);
  EXPECT_LE(counts.buckets().size(), 128U);
  EXPECT_EQ(counts.entries(), 5U);
  evict_counted(store, counts, store.retained());
  EXPECT_EQ(counts.entries(), 0U);
  EXPECT_TRUE(counts.buckets().empty());
}

TEST(Filter, HideGapsLeavesOutGapRowsOnly) {
  tag_table tags;
  row_factory rows(tags);
  const entry& gap = rows.add(row_kind::gap, 5, -1, "", 0, "gap");
  const entry& restart = rows.add(row_kind::separator, 0, -1, "", 0, "restart");
  const entry& record = rows.record(9, 2, "net", "hello");
  auto spec = std::make_shared<filter_spec>();
  EXPECT_TRUE(spec->passes_everything());
  spec->hide_gaps = true;
  EXPECT_FALSE(spec->passes_everything());
  filter_engine engine(spec, &tags);
  EXPECT_FALSE(engine.accepts(gap));
  EXPECT_TRUE(engine.accepts(restart)) << "only gap rows are hidden";
  EXPECT_TRUE(engine.accepts(record));
  filter_engine shown(std::make_shared<filter_spec>(), &tags);
  EXPECT_TRUE(shown.accepts(gap));
}

TEST(Bookmarks, ToggleNextAndDrop) {
  bookmark_set marks;
  EXPECT_FALSE(marks.contains(3));
  EXPECT_TRUE(marks.toggle(30));
  EXPECT_TRUE(marks.toggle(10));
  EXPECT_TRUE(marks.toggle(20));
  EXPECT_EQ(marks.serials(), (std::vector<std::uint64_t>{10, 20, 30}));
  EXPECT_TRUE(marks.contains(20));
  EXPECT_FALSE(marks.toggle(20));
  EXPECT_FALSE(marks.contains(20));
  auto all = [](std::uint64_t) { return true; };
  EXPECT_EQ(marks.next(0, true, all), 10U);
  EXPECT_EQ(marks.next(10, true, all), 30U);
  EXPECT_EQ(marks.next(30, true, all), 10U) << "wraps around";
  EXPECT_EQ(marks.next(30, false, all), 10U);
  EXPECT_EQ(marks.next(10, false, all), 30U) << "wraps around backwards";
  EXPECT_EQ(marks.next(25, false, all), 10U);
  EXPECT_EQ(marks.next(0, true, [](std::uint64_t s) { return s != 10; }), 30U)
      << "bookmarks the filter hides are skipped";
  EXPECT_EQ(marks.next(0, true, [](std::uint64_t) { return false; }), 0U);
  EXPECT_EQ(marks.drop_before(30), 1U);
  EXPECT_EQ(marks.dropped(), 1U);
  EXPECT_EQ(marks.serials(), (std::vector<std::uint64_t>{30}));
}

TEST_F(ModelTest, BookmarksSurviveFilteringAndLeaveWithTheirRows) {
  for (int i = 1; i <= 100; ++i) rows.record(i, i % 2 == 0 ? 4 : 2, "", "row");
  feed(rows.take());
  int changes = 0;
  QObject::connect(&model, &log_model::bookmarksChanged, [&] { ++changes; });
  model.toggle_bookmark(model.serial_at(9));   // serial 10, an error
  model.toggle_bookmark(model.serial_at(10));  // serial 11, info
  model.toggle_bookmark(model.serial_at(59));  // serial 60, an error
  EXPECT_EQ(model.next_bookmark(0, true), 9);
  EXPECT_EQ(model.next_bookmark(10, true), 10);
  EXPECT_EQ(model.next_bookmark(11, true), 59);
  EXPECT_EQ(model.next_bookmark(60, true), 9) << "wraps";
  EXPECT_EQ(model.next_bookmark(10, false), 59) << "wraps backwards";

  auto errors = std::make_shared<filter_spec>();
  errors->level_mask = 1U << 4;
  model.set_filter(errors);
  model.wait_for_refilter();
  ASSERT_EQ(model.rowCount(), 50);
  EXPECT_EQ(model.bookmarks().size(), 3U) << "a filter hides bookmarks, it does not drop them";
  const int first = model.next_bookmark(0, true);
  ASSERT_GE(first, 0);
  EXPECT_EQ(model.serial_at(first), 10U);
  const int second = model.next_bookmark(10, true);
  ASSERT_GE(second, 0);
  EXPECT_EQ(model.serial_at(second), 60U) << "the hidden info bookmark is skipped";
  model.set_filter(std::make_shared<filter_spec>());
  model.wait_for_refilter();
  EXPECT_EQ(model.serial_at(model.next_bookmark(10, true)), 11U) << "and back with its row";

  // Eviction drops the bookmarks of evicted rows; the rest still point at their own rows.
  store.set_limits({100, 0});
  for (int i = 101; i <= 150; ++i) rows.record(i, 2, "", "more");
  feed(rows.take());
  EXPECT_EQ(model.bookmarks().serials(), (std::vector<std::uint64_t>{60}));
  EXPECT_EQ(model.bookmarks().dropped(), 2U);
  EXPECT_GT(changes, 0);
  const int row = model.next_bookmark(0, true);
  ASSERT_GE(row, 0);
  EXPECT_EQ(model.entry_at(row).sequence, 60U);
}

TEST_F(ModelTest, ClearEmptiesTheTableAndReadingGoesOn) {
  for (int i = 1; i <= 100; ++i) rows.record(i, 2, "", "old");
  feed(rows.take());
  model.toggle_bookmark(50);
  store.clear();
  model.drop_evicted();
  EXPECT_EQ(model.rowCount(), 0);
  EXPECT_TRUE(model.bookmarks().empty()) << "no bookmark points into the cleared rows";
  EXPECT_EQ(model.bookmarks().dropped(), 1U);
  for (int i = 101; i <= 110; ++i) rows.record(i, 2, "", "new");
  feed(rows.take());
  ASSERT_EQ(model.rowCount(), 10);
  EXPECT_EQ(model.entry_at(0).sequence, 101U);

  // Cleared while paused: the frozen rows go too, and resuming shows what arrived since.
  model.set_paused(true);
  for (int i = 111; i <= 120; ++i) rows.record(i, 2, "", "during");
  feed(rows.take());
  store.clear();
  model.drop_evicted();
  EXPECT_EQ(model.rowCount(), 0);
  for (int i = 121; i <= 125; ++i) rows.record(i, 2, "", "after");
  feed(rows.take());
  EXPECT_EQ(model.rowCount(), 0) << "still paused";
  model.set_paused(false);
  model.wait_for_refilter();
  ASSERT_EQ(model.rowCount(), 5);
  EXPECT_EQ(model.entry_at(0).sequence, 121U);
}

TEST(Export, BookmarkColumn) {
  tag_table tags;
  row_factory rows(tags);
  rows.record(1, 2, "net", "one");
  rows.record(2, 2, "net", "two");
  entry_store store;
  for (const auto& s : rows.take()) store.append(s);
  const std::vector<std::uint64_t> serials{1, 2};
  auto run = [&](export_format format, std::vector<std::uint64_t> marks) {
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    export_options options;
    options.format = format;
    options.utc = true;
    options.bookmarks = std::move(marks);
    QString error;
    EXPECT_TRUE(export_rows(buffer, store.view(), serials, tags, options, error));
    return QString::fromUtf8(buffer.data()).split('\n', Qt::SkipEmptyParts);
  };
  const QStringList csv = run(export_format::csv, {2});
  ASSERT_EQ(csv.size(), 3);
  EXPECT_TRUE(csv[0].endsWith(",fields,bookmark"));
  EXPECT_TRUE(csv[1].endsWith(','));
  EXPECT_TRUE(csv[2].endsWith(",1"));
  const QStringList json = run(export_format::json_lines, {2});
  ASSERT_EQ(json.size(), 2);
  EXPECT_FALSE(json[0].contains("bookmark"));
  const QJsonDocument marked = QJsonDocument::fromJson(json[1].toUtf8());
  ASSERT_TRUE(marked.isObject()) << json[1].toStdString();
  EXPECT_TRUE(marked.object().value("bookmark").toBool());
  EXPECT_EQ(marked.object().value("message").toString(), "two");
  const QStringList text = run(export_format::text, {1});
  ASSERT_EQ(text.size(), 2);
  EXPECT_TRUE(text[0].startsWith("* "));
  EXPECT_TRUE(text[1].startsWith("  "));
  const QStringList plain = run(export_format::csv, {});
  EXPECT_FALSE(plain[0].contains("bookmark")) << "no column without bookmarks";
}

TEST(Highlight, FirstMatchingRuleWinsOnMessageTagAndLevel) {
  tag_table tags;
  row_factory rows(tags);
  const entry& warn_net = rows.add(row_kind::record, 1, 3, "net.tx", 1, "retry 3 of 5");
  const entry& info_db = rows.add(row_kind::record, 2, 2, "db", 2, "Query TIMEOUT after 5 s");
  const entry& error_db = rows.add(row_kind::record, 3, 4, "db", 2, "disk full");
  const entry& plain = rows.add(row_kind::plain, 4, -1, "", 0, "timeout in a plain payload");
  const entry& gap = rows.add(row_kind::gap, 5, -1, "", 0, "timeout: 5 entries overwritten");
  const entry& quiet = rows.add(row_kind::record, 6, 2, "ui", 3, "all good");

  std::vector<highlight_rule> rules(3);
  rules[0].on = highlight_rule::field::level;
  rules[0].pattern = QStringLiteral("error");
  rules[0].rgb = 0xff0000;
  rules[1].on = highlight_rule::field::message;
  rules[1].pattern = QStringLiteral("time\\s*out");
  rules[1].rgb = 0x00ff00;
  rules[2].on = highlight_rule::field::tag;
  rules[2].pattern = QStringLiteral("net*");
  rules[2].rgb = 0x0000ff;
  for (const auto& r : rules) EXPECT_TRUE(highlight_rule_error(r).isEmpty());

  highlighter h(rules, &tags);
  EXPECT_EQ(h.match(error_db), 1);
  EXPECT_EQ(h.match(info_db), 2) << "case-insensitive unless asked";
  EXPECT_EQ(h.match(warn_net), 3) << "tag wildcard";
  EXPECT_EQ(h.match(plain), 2);
  EXPECT_EQ(h.match(gap), 0) << "gap and restart rows keep their own colours";
  EXPECT_EQ(h.match(quiet), 0);
  EXPECT_EQ(h.rgb(2), 0x00ff00U);

  // Order decides: the message rule first now takes the error row that also matches it.
  const entry& error_timeout = rows.add(row_kind::record, 7, 4, "db", 2, "timeout");
  std::vector<highlight_rule> swapped{rules[1], rules[0]};
  highlighter h2(swapped, &tags);
  EXPECT_EQ(h2.match(error_timeout), 1);
  EXPECT_EQ(h2.match(error_db), 2);

  rules[1].case_sensitive = true;
  EXPECT_EQ(highlighter(rules, &tags).match(info_db), 0);
}

TEST(Highlight, InvalidRulesAreRefusedAndNeverLoaded) {
  highlight_rule bad;
  bad.pattern = QStringLiteral("ab(");
  EXPECT_TRUE(highlight_rule_error(bad).contains("offset 3"))
      << highlight_rule_error(bad).toStdString();
  highlight_rule raise;
  raise.pattern = QStringLiteral("(*LIMIT_MATCH=999999999)(x+x+)+y");
  EXPECT_FALSE(highlight_rule_error(raise).isEmpty());
  highlight_rule empty;
  EXPECT_FALSE(highlight_rule_error(empty).isEmpty());
  highlight_rule level;
  level.on = highlight_rule::field::level;
  level.pattern = QStringLiteral("LOUD");
  EXPECT_TRUE(highlight_rule_error(level).contains("unknown level"));
  // The highlighter skips what it cannot use instead of failing.
  tag_table tags;
  row_factory rows(tags);
  const entry& row = rows.add(row_kind::record, 1, 2, "", 0, "ab(");
  EXPECT_EQ(highlighter({bad}, &tags).match(row), 0);

  // A pattern that backtracks catastrophically gives up (no highlight) instead of hanging.
  highlight_rule slow;
  slow.pattern = QStringLiteral("(x+x+)+y");
  highlighter h({slow}, &tags);
  const entry& hostile = rows.add(row_kind::record, 2, 2, "", 0, std::string(28, 'x') + "zy");
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(h.match(hostile), 0);

  QTemporaryDir dir;
  QSettings settings(dir.filePath("viewer.ini"), QSettings::IniFormat);
  highlight_rule good;
  good.on = highlight_rule::field::tag;
  good.pattern = QStringLiteral("db");
  good.case_sensitive = true;
  good.rgb = 0x123456;
  save_highlight_rules(settings, {good, bad, level});
  EXPECT_EQ(load_highlight_rules(settings), std::vector<highlight_rule>{good})
      << "hand-edited or stale settings never bring an invalid rule in";
  settings.setValue("highlight/rules/2/on", "colour of the sky");  // 1-based
  EXPECT_EQ(load_highlight_rules(settings), std::vector<highlight_rule>{good});
}

TEST_F(ModelTest, HighlightIsComputedOnArrivalAndAfterRuleChanges) {
  highlight_rule rule;
  rule.pattern = QStringLiteral("boom");
  rule.rgb = 0xabcdef;
  model.set_highlight_rules({rule});
  rows.record(1, 2, "", "quiet");
  rows.record(2, 2, "", "boom here");
  feed(rows.take());
  ASSERT_EQ(model.rowCount(), 2);
  EXPECT_EQ(model.highlight_at(0), -1);
  EXPECT_EQ(model.highlight_at(1), 0xabcdef);
  EXPECT_EQ(model.data(model.index(1, 0), log_model::highlight_role).toUInt(), 0xabcdefU);
  EXPECT_FALSE(model.data(model.index(0, 0), log_model::highlight_role).isValid());

  // Rule changes apply to rows already shown; evictions keep marks aligned with their rows.
  rule.pattern = QStringLiteral("quiet|again");
  rule.rgb = 0x010203;
  model.set_highlight_rules({rule});
  EXPECT_EQ(model.highlight_at(0), 0x010203);
  EXPECT_EQ(model.highlight_at(1), -1);
  store.set_limits({2, 0});
  rows.record(3, 2, "", "again");
  feed(rows.take());
  ASSERT_EQ(model.rowCount(), 2);
  EXPECT_EQ(model.highlight_at(0), -1) << "row 2 (boom) moved to the top";
  EXPECT_EQ(model.highlight_at(1), 0x010203);

  // A re-filter keeps the rules.
  auto s = spec();
  s->text = QStringLiteral("again");
  model.set_filter(s);
  model.wait_for_refilter();
  ASSERT_EQ(model.rowCount(), 1);
  EXPECT_EQ(model.highlight_at(0), 0x010203);
  model.set_highlight_rules({});
  EXPECT_EQ(model.highlight_at(0), -1);

  // A flood larger than one tick's marking budget: every row still gets its rule's colour.
  model.set_highlight_rules({rule});
  model.set_filter(spec());
  model.wait_for_refilter();
  store.set_limits({20'000, 0});
  for (int i = 10; i < 10'010; ++i) rows.record(i, 2, "", i % 3 ? "quiet" : "noise");
  feed(rows.take());
  ASSERT_EQ(model.rowCount(), 10'002);
  for (int r = 2; r < model.rowCount(); ++r) {
    const bool quiet = model.entry_at(r).stored_message() == "quiet";
    ASSERT_EQ(model.highlight_at(r), quiet ? 0x010203 : -1) << "row " << r;
  }
}

TEST(Session, RoundTripsViewsAndFiltersThroughSettings) {
  QTemporaryDir dir;
  QSettings settings(dir.filePath("viewer.ini"), QSettings::IniFormat);
  saved_session session;
  saved_view one;
  one.segments = QStringList{"/app-a"};
  one.filter.text = QStringLiteral("time(out)?");
  one.filter.regex = true;
  one.filter.case_sensitive = true;
  one.filter.level_mask = 0x18;
  one.filter.tags_include = QStringList{"net", "db*"};
  one.filter.tags_exclude = QStringList{"noise"};
  one.filter.threads = {7, 42};
  saved_view merged;
  merged.segments = QStringList{"/app-a", "/app-b", "/app-c"};
  merged.filter.hidden_sources = 0b010;
  session.views = {one, merged};
  session.current = 1;
  save_session(settings, session);
  EXPECT_EQ(load_session(settings), session);

  // Saving again replaces the previous session rather than mixing with it.
  saved_session smaller;
  smaller.views = {merged};
  save_session(settings, smaller);
  EXPECT_EQ(load_session(settings), smaller);

  save_session(settings, {});
  EXPECT_TRUE(load_session(settings).views.empty());
}

TEST(Session, HostileSettingsAreCleanedNotApplied) {
  QTemporaryDir dir;
  QSettings settings(dir.filePath("viewer.ini"), QSettings::IniFormat);
  settings.beginWriteArray("session/views", 5);
  settings.setArrayIndex(0);
  settings.setValue("segments", QStringList{});  // no segment: skipped
  settings.setArrayIndex(1);
  settings.setValue("segments", QStringList{" /ok ", "", QString(300, 'x')});
  settings.setValue("levels", 0xFFFF);
  settings.setValue("threads", QStringList{"12", "bogus", "0x10"});
  settings.setArrayIndex(2);
  QStringList many;
  for (int i = 0; i < 65; ++i) many << QStringLiteral("/s%1").arg(i);
  settings.setValue("segments", many);  // more than a merged view takes: skipped
  settings.setArrayIndex(3);
  settings.setValue("segments", QStringList{"/a", "/b"});
  settings.setValue("hidden_segments", "not a number");
  settings.setArrayIndex(4);
  settings.setValue("segments", QStringList{"/a", "/b", "/a"});
  settings.setValue("hidden_segments", 0xFFFFFFFFULL);
  settings.endArray();
  settings.setValue("session/current", 99);
  const saved_session s = load_session(settings);
  ASSERT_EQ(s.views.size(), 3U);
  EXPECT_EQ(s.views[0].segments, QStringList{"/ok"});
  EXPECT_FALSE(s.views[0].merged());
  EXPECT_EQ(s.views[0].filter.level_mask, 0x7F);
  EXPECT_EQ(s.views[0].filter.threads, (std::vector<std::uint32_t>{12, 16}));
  EXPECT_EQ(s.views[0].filter.hidden_sources, 0U);
  EXPECT_EQ(s.views[1].filter.hidden_sources, 0U);
  EXPECT_EQ(s.views[2].segments, (QStringList{"/a", "/b"})) << "duplicates dropped";
  EXPECT_EQ(s.views[2].filter.hidden_sources, 0b11U) << "bits past the segments dropped";
  EXPECT_EQ(s.current, 2) << "clamped to the views that exist";
}
