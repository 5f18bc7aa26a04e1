// Unit tests of the viewer's data layer: storage, filters, store, model, export, catalog.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QBuffer>
#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>

#include "data/entry_store.hpp"
#include "data/exporter.hpp"
#include "data/filter.hpp"
#include "data/format.hpp"
#include "data/log_model.hpp"
#include "data/segment_catalog.hpp"
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
  EXPECT_TRUE(model.data(model.index(1, log_model::col_time)).toString().startsWith("2023-11-14"));

  model.set_time_options(true, true);
  EXPECT_EQ(model.data(model.index(1, log_model::col_time)).toString(), "+0.000001000");

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
      export_rows(json, store.view(), serials, tags, {export_format::json_lines, true}, error));
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
  ASSERT_TRUE(export_rows(csv, store.view(), serials, tags, {export_format::csv, true}, error));
  EXPECT_TRUE(csv.data().startsWith("kind,seq,time,level,tag,thread,message,fields\nrecord,1,"));
  EXPECT_TRUE(csv.data().contains("\"hello, \"\"world\"\"\nsecond line\""));
  EXPECT_TRUE(csv.data().contains("\ngap,2,"));

  QBuffer text;
  text.open(QIODevice::WriteOnly);
  ASSERT_TRUE(export_rows(text, store.view(), serials, tags, {export_format::text, true}, error));
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
  catalog.update({{"b", "alive (pid 1)", true, 4096, 8, 100, -1, true},
                  {"a", "gone", false, 1024, 4, 5, -1, false}},
                 0);
  ASSERT_EQ(catalog.rowCount(), 2);
  EXPECT_EQ(catalog.data(catalog.index(0, 0)).toString(), "a");
  catalog.update({{"b", "alive (pid 1)", true, 4096, 8, 600, -1, true},
                  {"c", "closed", false, 1, 1, 0, -1, false}},
                 500);
  ASSERT_EQ(catalog.rowCount(), 2);
  EXPECT_EQ(catalog.data(catalog.index(0, 0)).toString(), "b");
  EXPECT_EQ(catalog.data(catalog.index(0, segment_catalog::col_rate)).toString(), "1000/s");
  EXPECT_EQ(catalog.data(catalog.index(1, 0)).toString(), "c");
  catalog.refresh();  // the real machine: must not throw whatever /dev/shm holds
}
