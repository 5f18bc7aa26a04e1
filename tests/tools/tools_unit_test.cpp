// Unit tests of the tools library (formatting, syslog, rate schedules, filters, segment facts,
// the follower's gap accounting) and of demo_writer's message generator.
#include <gtest/gtest.h>

#ifndef _WIN32
#include <unistd.h>
#endif

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <regex>

#include "generator.hpp"
#include "ouroboros/layout.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/segment.hpp"
#include "ouroboros/tools/entry_format.hpp"
#include "ouroboros/tools/follower.hpp"
#include "ouroboros/tools/numeric_options.hpp"
#include "ouroboros/tools/rate_schedule.hpp"
#include "ouroboros/tools/segment_stats.hpp"
#include "ouroboros/tools/syslog.hpp"
#include "tool_support.hpp"

namespace {

using namespace ouroboros;
using namespace ouroboros::tools;
using test_tools::parse_json;

std::vector<std::byte> encode(level severity, std::string_view tag, std::string_view message,
                              std::vector<record_field> fields = {}, std::uint64_t time = 0) {
  std::vector<std::byte> out(4096);
  record_header header;
  header.severity = severity;
  header.tag = tag;
  header.thread = 42;
  header.timestamp = time;
  out.resize(encode_record(out, header, message, fields));
  return out;
}

[[maybe_unused]] std::vector<std::byte> encode_large(level severity, std::string_view tag,
                                                     std::string_view message) {
  std::vector<std::byte> out(message.size() + 1024);
  record_header header;
  header.severity = severity;
  header.tag = tag;
  header.timestamp = 1;
  out.resize(encode_record(out, header, message));
  return out;
}

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::string to_string(const fmt::memory_buffer& b) {
  return std::string(b.data(), b.size());
}

entry_interpreter record_interpreter() {
  entry_interpreter interpreter;
  interpreter.force_records(true);
  return interpreter;
}

// --- text and JSON ---------------------------------------------------------------------------

TEST(EntryFormat, TextLineHasTimeLevelTagThreadMessageAndFields) {
  auto interpreter = record_interpreter();
  const std::uint64_t t = 1'700'000'000'123'456'789ULL;
  const auto payload =
      encode(level::warn, "net", "slow peer", {{"peer", "10.0.0.1"}, {"note", "two words"}}, t);
  const decoded_entry entry = decode_entry(7, payload, interpreter);
  ASSERT_TRUE(entry.is_record);
  fmt::memory_buffer out;
  text_options options;
  options.utc = true;
  options.show_sequence = true;
  format_text(out, entry, options);
  EXPECT_EQ(to_string(out),
            "#7 2023-11-14 22:13:20.123456 WARN  net      [42] slow peer peer=10.0.0.1 note=\"two "
            "words\"\n");
}

TEST(EntryFormat, TextEscapesControlCharactersAndIndentsContinuationLines) {
  auto interpreter = record_interpreter();
  const auto payload = encode(level::error, "x", "line one\nline two \x1b[31mred", {}, 1);
  fmt::memory_buffer out;
  format_text(out, decode_entry(1, payload, interpreter), {});
  const std::string text = to_string(out);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "a payload must not drive the terminal";
  EXPECT_NE(text.find("line one\n    line two \\x1b[31mred"), std::string::npos) << text;
}

TEST(EntryFormat, TerminalSafeTextFollowsTheTailContract) {
  // C0 controls but TAB/LF, DEL, C1 controls (as code points) and invalid UTF-8 bytes: \xNN.
  const std::string hostile =
      "a\x01\x1b[2J\x7f \xc2\x80\xc2\x9b\xc2\x9f \xc2\xa0\xc3\xa9 \xff\xc3 \xe2\x82\xac\tz\n";
  fmt::memory_buffer multi;
  append_terminal_safe(multi, hostile, text_escape::multi_line);
  EXPECT_EQ(
      to_string(multi),
      "a\\x01\\x1b[2J\\x7f \\x80\\x9b\\x9f \xc2\xa0\xc3\xa9 \\xff\\xc3 \xe2\x82\xac\tz\n    ");
  EXPECT_EQ(terminal_safe("name\n\x1b]0;x\x07\tend"), "name\\x0a\\x1b]0;x\\x07\\x09end")
      << "one-line contexts (names, tags, keys, errors) escape LF and TAB too";
  EXPECT_EQ(terminal_safe("caf\xc3\xa9 \xe2\x80\x93 ok"), "caf\xc3\xa9 \xe2\x80\x93 ok");
}

TEST(EntryFormat, FieldValuesAndTagsAreTerminalSafe) {
  auto interpreter = record_interpreter();
  const auto payload = encode(level::info, "t\x1b[1m\nx", "m",
                              {{"k\x1b", "a b \xc2\x9b\x7f"}, {"plain", "\xc2\x85"}}, 1);
  fmt::memory_buffer out;
  format_text(out, decode_entry(1, payload, interpreter), {});
  const std::string text = to_string(out);
  EXPECT_NE(text.find("t\\x1b[1m\\x0ax"), std::string::npos) << text;
  EXPECT_NE(text.find("k\\x1b=\"a b \\x9b\\x7f\""), std::string::npos) << text;
  EXPECT_NE(text.find("plain=\\x85"), std::string::npos) << text;
}

TEST(EntryFormat, EventTextIsOneTerminalSafeLine) {
  segment_event event;
  event.kind = event_kind::writer_closed;
  event.segment = "/evil\x1b[2J\nFAKE";
  event.pid = 5;
  fmt::memory_buffer out;
  format_text(out, event, {});
  EXPECT_EQ(to_string(out),
            "=== writer closed: process 5 shut segment /evil\\x1b[2J\\x0aFAKE down "
            "cleanly ===\n");
}

TEST(EntryFormat, ColourOnlyWhenAsked) {
  auto interpreter = record_interpreter();
  const auto payload = encode(level::error, "x", "boom", {}, 1);
  fmt::memory_buffer plain;
  fmt::memory_buffer coloured;
  text_options options;
  format_text(plain, decode_entry(1, payload, interpreter), options);
  options.color = true;
  format_text(coloured, decode_entry(1, payload, interpreter), options);
  EXPECT_EQ(to_string(plain).find('\x1b'), std::string::npos);
  EXPECT_NE(to_string(coloured).find("\x1b[31mERROR"), std::string::npos);
}

TEST(EntryFormat, PlainPayloadsHaveNoLevelInTextOrJson) {
  entry_interpreter raw;  // no segment: raw encoding
  const decoded_entry entry = decode_entry(3, bytes_of("just bytes"), raw);
  EXPECT_FALSE(entry.is_record);
  fmt::memory_buffer text;
  format_text(text, entry, {});
  EXPECT_EQ(to_string(text), "just bytes\n");
  fmt::memory_buffer json;
  format_json(json, entry);
  const auto parsed = parse_json(to_string(json));
  EXPECT_EQ(parsed["type"].str(), "entry");
  EXPECT_EQ(parsed["seq"].u64(), 3u);
  EXPECT_EQ(parsed["message"].str(), "just bytes");
  EXPECT_FALSE(parsed.has("level"));
  EXPECT_FALSE(parsed.has("time"));
}

TEST(EntryFormat, JsonRoundTripsEveryAwkwardCharacter) {
  auto interpreter = record_interpreter();
  const std::string message =
      "quote \" backslash \\ newline \n tab \t bell \x07 del \x7f utf8 \xC3\xA9\xE2\x82\xAC";
  const auto payload = encode(level::info, "t\"ag", message, {{"k\\", "v\n"}}, 1'000'000'000);
  fmt::memory_buffer out;
  format_json(out, decode_entry(9, payload, interpreter));
  const std::string line = to_string(out);
  ASSERT_EQ(line.back(), '\n');
  ASSERT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << "one object per line";
  const auto parsed = parse_json(line.substr(0, line.size() - 1));
  EXPECT_EQ(parsed["message"].str(), message);
  EXPECT_EQ(parsed["tag"].str(), "t\"ag");
  EXPECT_EQ(parsed["level"].str(), "info");
  EXPECT_EQ(parsed["thread"].u64(), 42u);
  EXPECT_EQ(parsed["time"].str(), "1970-01-01T00:00:01.000000000Z");
  EXPECT_EQ(parsed["fields"]["k\\"].str(), "v\n");
}

TEST(EntryFormat, TypedFieldsAreJsonNumbersAndBools) {
  auto interpreter = record_interpreter();
  record_header header;
  header.tag = "db";
  const record_field fields[] = {{"rows", "12", field_type::i64},
                                 {"max", "18446744073709551615", field_type::u64},
                                 {"ratio", "1e-05", field_type::f64},
                                 {"ok", "true", field_type::boolean},
                                 {"big", "-inf", field_type::f64},
                                 {"none", "nan", field_type::f64},
                                 {"id", "12"}};
  std::vector<std::byte> payload(512);
  payload.resize(encode_record(payload, header, "done", fields));
  const decoded_entry entry = decode_entry(1, payload, interpreter);
  ASSERT_TRUE(entry.is_record);
  fmt::memory_buffer json;
  format_json(json, entry);
  const std::string line = to_string(json);
  EXPECT_NE(line.find(R"("fields":{"rows":12,"max":18446744073709551615,"ratio":1e-05,"ok":true,)"
                      R"("big":"-inf","none":"nan","id":"12"})"),
            std::string::npos)
      << line;
  // The text rendering is what a version 1 record with the same text shows.
  fmt::memory_buffer text;
  format_text(text, entry, {});
  EXPECT_NE(to_string(text).find("rows=12 max=18446744073709551615 ratio=1e-05 ok=true big=-inf "
                                 "none=nan id=12"),
            std::string::npos)
      << to_string(text);
}

TEST(EntryFormat, JsonReplacesInvalidUtf8AndFlagsBinary) {
  entry_interpreter raw;
  const std::string bad = "ok \xFF\xFE end";
  fmt::memory_buffer out;
  format_json(out, decode_entry(1, bytes_of(bad), raw));
  const auto parsed = parse_json(to_string(out));
  EXPECT_EQ(parsed["message"].str(), "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_TRUE(parsed["binary"].boolean());
}

TEST(EntryFormat, MalformedRecordIsShownAsBytesWithTheReason) {
  auto interpreter = record_interpreter();
  auto payload = encode(level::info, "tag", "message", {}, 1);
  payload.resize(10);  // cut inside the fixed part
  const decoded_entry entry = decode_entry(1, payload, interpreter);
  EXPECT_FALSE(entry.is_record);
  ASSERT_TRUE(entry.malformed.has_value());
  fmt::memory_buffer out;
  format_json(out, entry);
  EXPECT_EQ(parse_json(to_string(out))["malformed"].str(), "record truncated");
}

TEST(EntryFormat, GapMarkersInBothFormats) {
  const gap_marker gap = gap_from_lapped(12, 112);
  EXPECT_EQ(gap.first, 101u);
  EXPECT_EQ(gap.last, 112u);
  EXPECT_EQ(describe_gap(gap), "12 entries overwritten, seq 101\u2013112");
  EXPECT_EQ(describe_gap(gap_from_lapped(1, 7)), "1 entry overwritten, seq 7");
  fmt::memory_buffer text;
  format_text(text, gap, {});
  EXPECT_EQ(to_string(text), "--- 12 entries overwritten, seq 101\u2013112 ---\n");
  fmt::memory_buffer json;
  format_json(json, gap);
  const auto parsed = parse_json(to_string(json));
  EXPECT_EQ(parsed["type"].str(), "gap");
  EXPECT_EQ(parsed["lost"].u64(), 12u);
  EXPECT_EQ(parsed["first_seq"].u64(), 101u);
  EXPECT_EQ(parsed["last_seq"].u64(), 112u);
}

TEST(EntryFormat, EventsInBothFormats) {
  segment_event event;
  event.kind = event_kind::writer_restarted;
  event.segment = "/demo";
  event.pid = 123;
  event.incarnation = 0xABCDEF;
  fmt::memory_buffer text;
  format_text(text, event, {});
  EXPECT_NE(to_string(text).find("=== writer restarted"), std::string::npos);
  fmt::memory_buffer json;
  format_json(json, event);
  const auto parsed = parse_json(to_string(json));
  EXPECT_EQ(parsed["event"].str(), "writer_restarted");
  EXPECT_EQ(parsed["pid"].u64(), 123u);
  EXPECT_EQ(parsed["incarnation"].str(), "0000000000abcdef");
}

// --- syslog ----------------------------------------------------------------------------------

syslog_context test_context() {
  syslog_context c;
  c.facility = 16;  // local0
  c.hostname = "host";
  c.app_name = "demo";
  c.writer_pid = 4242;
  c.segment = "demo";
  return c;
}

TEST(Syslog, Rfc5424RecordIsExact) {
  auto interpreter = record_interpreter();
  const auto payload = encode(level::error, "db", "write failed", {{"table", "a]b\"c\\"}},
                              1'700'000'000'123'456'789ULL);
  fmt::memory_buffer out;
  format_syslog(out, test_context(), decode_entry(5, payload, interpreter), 0);
  // PRI = 16 * 8 + 3; time cut to microseconds; SD values escape ] " and backslash.
  EXPECT_EQ(
      to_string(out),
      "<131>1 2023-11-14T22:13:20.123456Z host demo 4242 db [ouroboros@32473 segment=\"demo\" "
      "seq=\"5\" thread=\"42\"][fields@32473 table=\"a\\]b\\\"c\\\\\"] \xEF\xBB\xBFwrite failed");
}

TEST(Syslog, SeverityMappingAndTokens) {
  EXPECT_EQ(syslog_severity(level::trace), 7);
  EXPECT_EQ(syslog_severity(level::debug), 7);
  EXPECT_EQ(syslog_severity(level::info), 6);
  EXPECT_EQ(syslog_severity(level::warn), 4);
  EXPECT_EQ(syslog_severity(level::error), 3);
  EXPECT_EQ(syslog_severity(level::critical), 2);
  EXPECT_EQ(syslog_token("a b\tc", 32), "a_b_c");
  EXPECT_EQ(syslog_token("", 32), "-");
  EXPECT_EQ(syslog_token("abcdef", 3), "abc");
  EXPECT_EQ(parse_facility("local7"), 23);
  EXPECT_EQ(parse_facility("user"), 1);
  EXPECT_EQ(parse_facility("5"), 5);
  EXPECT_EQ(parse_facility("24"), -1);
  EXPECT_EQ(parse_facility("bogus"), -1);
}

TEST(Syslog, GapMarkerAndPlainEntries) {
  fmt::memory_buffer gap;
  format_syslog(gap, test_context(), gap_from_lapped(3, 10), 1'000'000);
  EXPECT_EQ(
      to_string(gap),
      "<132>1 1970-01-01T00:00:00.001000Z host demo 4242 gap [ouroboros@32473 segment=\"demo\" "
      "lost=\"3\" first_seq=\"8\" last_seq=\"10\"] \xEF\xBB\xBF"
      "3 entries overwritten, seq 8\u201310");
  entry_interpreter raw;
  fmt::memory_buffer binary;
  format_syslog(binary, test_context(), decode_entry(1, bytes_of("\xFF raw"), raw), 1'000'000);
  const std::string text = to_string(binary);
  EXPECT_EQ(text.find("\xEF\xBB\xBF"), std::string::npos)
      << "no BOM before bytes that are not UTF-8";
  EXPECT_EQ(text.substr(0, 7), "<133>1 ") << "plain entries are notices";
}

TEST(Syslog, LongMessagesAreCutAtUtf8Boundaries) {
  auto interpreter = record_interpreter();
  std::string message;
  for (int i = 0; i < 400; ++i) message += "\xE2\x82\xAC";  // 3-byte euro signs
  const auto payload = encode(level::info, "t", message, {}, 1);
  auto context = test_context();
  context.max_message_size = 500;
  fmt::memory_buffer out;
  format_syslog(out, context, decode_entry(1, payload, interpreter), 0);
  EXPECT_LE(out.size(), 500u);
  EXPECT_GT(out.size(), 490u);
  EXPECT_TRUE(is_valid_utf8(to_string(out)));
}

TEST(Syslog, TargetsAreValidated) {
  const auto tcp = parse_syslog_target("tcp://127.0.0.1:514");
  EXPECT_EQ(tcp.protocol, transport::tcp);
  EXPECT_EQ(tcp.host, "127.0.0.1");
  EXPECT_EQ(tcp.port, "514");
  const auto v6 = parse_syslog_target("udp://[::1]:5514");
  EXPECT_EQ(v6.protocol, transport::udp);
  EXPECT_EQ(v6.host, "::1");
  EXPECT_THROW(parse_syslog_target("http://x:1"), std::invalid_argument);
  EXPECT_THROW(parse_syslog_target("tcp://host"), std::invalid_argument);
  EXPECT_THROW(parse_syslog_target("tcp://host:0"), std::invalid_argument);
  EXPECT_THROW(parse_syslog_target("tcp://host:70000"), std::invalid_argument);
  EXPECT_THROW(parse_syslog_target("tcp://:514"), std::invalid_argument);
}

// --- rate schedules --------------------------------------------------------------------------

void expect_consistent(const rate_schedule& s, std::uint64_t up_to) {
  for (std::uint64_t n = 1; n <= up_to; n += 1 + n / 7) {
    const double t = s.time_of(n);
    EXPECT_GE(s.due(t), n) << "entry " << n << " is due at its own time";
    EXPECT_LT(s.due(t - 1e-6), n) << "entry " << n << " is not due before its time";
  }
}

TEST(RateSchedule, SteadyCountsExactly) {
  rate_plan plan;
  plan.rate = 5000;
  const rate_schedule s(plan);
  EXPECT_EQ(s.due(0), 0u);
  EXPECT_EQ(s.due(1.0), 5000u);
  EXPECT_EQ(s.due(3600.0), 18'000'000u);
  EXPECT_DOUBLE_EQ(s.time_of(5000), 1.0);
  expect_consistent(s, 100000);
}

TEST(RateSchedule, BurstsAreSilentWhenOff) {
  rate_plan plan;
  plan.rate = 1000;
  plan.shape = rate_shape::burst;
  plan.on_seconds = 2;
  plan.off_seconds = 3;
  const rate_schedule s(plan);
  EXPECT_EQ(s.due(2.0), 2000u);
  EXPECT_EQ(s.due(4.9), 2000u) << "nothing during the off period";
  EXPECT_EQ(s.due(6.0), 3000u);
  EXPECT_EQ(s.rate_at(1), 1000);
  EXPECT_EQ(s.rate_at(3), 0);
  EXPECT_NEAR(s.time_of(2001), 5.001, 1e-9) << "the next burst starts after the off period";
  expect_consistent(s, 20000);
}

TEST(RateSchedule, RampsIntegrateLinearly) {
  rate_plan plan;
  plan.rate = 2000;
  plan.shape = rate_shape::ramp;
  plan.ramp_from = 0;
  plan.ramp_seconds = 4;
  const rate_schedule s(plan);
  EXPECT_EQ(s.due(4.0), 4000u) << "(0 + 2000) / 2 * 4 s";
  EXPECT_EQ(s.due(2.0), 1000u) << "a quarter of the cycle's entries in the first half";
  EXPECT_EQ(s.due(8.0), 8000u);
  EXPECT_DOUBLE_EQ(s.rate_at(1), 500);
  expect_consistent(s, 20000);
  plan.ramp_from = 3000;  // a ramp down
  expect_consistent(rate_schedule(plan), 20000);
}

TEST(RateSchedule, InvalidPlansAreExplained) {
  rate_plan plan;
  plan.rate = -1;
  EXPECT_NE(validate(plan), "");
  plan.rate = 0;
  EXPECT_EQ(validate(plan), "");
  plan.shape = rate_shape::burst;
  EXPECT_NE(validate(plan).find("finite"), std::string::npos);
  plan.rate = 10;
  plan.on_seconds = 0;
  EXPECT_NE(validate(plan), "");
  plan.shape = rate_shape::ramp;
  plan.ramp_seconds = 0;
  EXPECT_NE(validate(plan), "");
}

// --- numeric options -------------------------------------------------------------------------

TEST(NumericOptions, WholeNumbersAndIntegersAreStrict) {
  constexpr auto u64_max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(parse_whole_number("0", 0, u64_max), 0u);
  EXPECT_EQ(parse_whole_number("18446744073709551615", 0, u64_max), u64_max);
  for (const char* bad :
       {"-1", "18446744073709551616", "", " 1", "1 ", "+1", "1e3", "0x10", "1.0"}) {
    EXPECT_THROW(parse_whole_number(bad, 0, u64_max), std::invalid_argument) << bad;
  }
  try {
    parse_whole_number("-1", 0, u64_max);
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "expected a whole number from 0 to 18446744073709551615, got \"-1\"");
  }
  EXPECT_THROW(parse_whole_number("65", 1, 64), std::invalid_argument);
  EXPECT_EQ(parse_integer("-1", -1, 100), -1);
  EXPECT_EQ(parse_integer("100", -1, 100), 100);
  EXPECT_THROW(parse_integer("-2", -1, 100), std::invalid_argument);
  EXPECT_THROW(parse_integer("-9223372036854775809", std::numeric_limits<std::int64_t>::min(), 0),
               std::invalid_argument);
  EXPECT_EQ(parse_integer("-9223372036854775808", std::numeric_limits<std::int64_t>::min(), 0),
            std::numeric_limits<std::int64_t>::min());
}

TEST(NumericOptions, SizesTakeBinarySuffixesAndNeverWrap) {
  const std::uint64_t big = std::uint64_t{1} << 62;
  EXPECT_EQ(parse_size("64", 0, big), 64u);
  EXPECT_EQ(parse_size("100K", 0, big), 102400u);
  EXPECT_EQ(parse_size("2kib", 0, big), 2048u);
  EXPECT_EQ(parse_size("1MB", 0, big), 1048576u);
  EXPECT_EQ(parse_size("3G", 0, big), 3ULL << 30);
  EXPECT_EQ(parse_size("1T", 0, big), 1ULL << 40);
  for (const char* bad :
       {"-1K", "K", "1.5K", "1X", "1KX", "16777216T", "99999999999999999999", ""}) {
    EXPECT_THROW(parse_size(bad, 0, big), std::invalid_argument) << bad;
  }
  EXPECT_THROW(parse_size("2K", 0, 1024), std::invalid_argument);
}

TEST(NumericOptions, DecimalsAreFiniteAndInRange) {
  EXPECT_EQ(parse_decimal("2.5", 0, 10), 2.5);
  EXPECT_EQ(parse_decimal("1e3", 0, 1e9), 1000.0);
  EXPECT_EQ(parse_decimal(".5", 0, 1), 0.5);
  for (const char* bad : {"-1", "nan", "inf", "1e400", "1e", "e3", "1.2.3", "10/s", "", "0x1p3"}) {
    EXPECT_THROW(parse_decimal(bad, 0, 1e300), std::invalid_argument) << bad;
  }
  EXPECT_THROW(parse_decimal("11", 0, 10), std::invalid_argument);
}

TEST(NumericOptions, SegmentModesRefuseWritersOtherThanTheOwner) {
  EXPECT_EQ(parse_segment_mode("0600"), 0600u);
  EXPECT_EQ(parse_segment_mode("644"), 0644u);
  EXPECT_EQ(parse_segment_mode("0400"), 0400u);
  for (const char* bad :
       {"0666", "0620", "0602", "7777", "4600", "2600", "1600", "08", "00600", ""}) {
    EXPECT_THROW(parse_segment_mode(bad), std::invalid_argument) << bad;
  }
}

// --- filters ---------------------------------------------------------------------------------

TEST(EntryFilter, LevelTagAndRegex) {
#ifdef _WIN32
  GTEST_SKIP() << "--grep needs RE2, which the Windows cross build does not have (docs/windows.md)";
#else
  auto interpreter = record_interpreter();
  const auto warn_net = encode(level::warn, "net", "connection reset", {}, 1);
  const auto info_db = encode(level::info, "db", "Query OK", {}, 1);
  entry_interpreter raw;
  const decoded_entry a = decode_entry(1, warn_net, interpreter);
  const decoded_entry b = decode_entry(2, info_db, interpreter);
  const decoded_entry plain = decode_entry(3, bytes_of("plain connection"), raw);

  entry_filter none;
  EXPECT_TRUE(none.matches(a) && none.matches(b) && none.matches(plain));

  entry_filter by_level;
  by_level.min_level = level::warn;
  EXPECT_TRUE(by_level.matches(a));
  EXPECT_FALSE(by_level.matches(b));
  EXPECT_FALSE(by_level.matches(plain));

  entry_filter by_tag;
  by_tag.tags = {"db"};
  EXPECT_FALSE(by_tag.matches(a));
  EXPECT_TRUE(by_tag.matches(b));
  entry_filter excluding;
  excluding.exclude_tags = {"db"};
  EXPECT_TRUE(excluding.matches(a));
  EXPECT_FALSE(excluding.matches(b));
  EXPECT_TRUE(excluding.matches(plain));

  entry_filter by_regex;
  by_regex.set_pattern("^conn", false);
  EXPECT_TRUE(by_regex.matches(a));
  EXPECT_FALSE(by_regex.matches(b));
  EXPECT_FALSE(by_regex.matches(plain));
  by_regex.set_pattern("query", true);
  EXPECT_TRUE(by_regex.matches(b));
  EXPECT_THROW(by_regex.set_pattern("(", false), std::invalid_argument);
#endif
}

TEST(EntryFilter, RegexIsLinearTimeOnLongAndHostileInput) {
#ifdef _WIN32
  GTEST_SKIP() << "--grep needs RE2, which the Windows cross build does not have (docs/windows.md)";
#else
  auto interpreter = record_interpreter();
  std::string long_message(100 * 1024, 'x');
  long_message.replace(50000, 7, "timeout");
  const auto big = encode_large(level::info, "t", long_message);
  const auto as = encode(level::info, "t", std::string(1024, 'a'), {}, 1);
  const auto binary = encode(level::info, "t", "\xff\xfe timeout \xc3", {}, 1);
  entry_filter filter;
  filter.set_pattern(".*timeout.*", false);
  EXPECT_TRUE(filter.matches(decode_entry(1, big, interpreter)));
  EXPECT_TRUE(filter.matches(decode_entry(2, binary, interpreter)))
      << "invalid UTF-8 in a message is no reason to fail a match";
  const auto start = std::chrono::steady_clock::now();
  filter.set_pattern("(a*)*c", false);
  EXPECT_FALSE(filter.matches(decode_entry(3, as, interpreter)));
  filter.set_pattern("(x+x+)+y", false);
  EXPECT_FALSE(filter.matches(decode_entry(4, big, interpreter)));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
  EXPECT_THROW(filter.set_pattern("(a)\\1", false), std::invalid_argument)
      << "back-references cannot be matched in linear time";
  filter.set_pattern("TIMEOUT", true);
  EXPECT_TRUE(filter.matches(decode_entry(5, big, interpreter)));
  const entry_filter copy = filter;  // tail and forward copy their filter
  EXPECT_TRUE(copy.matches(decode_entry(5, big, interpreter)));
#endif
}

// --- following a segment in process ----------------------------------------------------------

TEST(Follower, GapMarkersAccountForEveryLostEntry) {
  const std::string name = test_tools::unique_segment("follow");
  shm_writer_options options;
  options.chunk_count = 4;
  options.chunk_target_size = 1024;
  shm_writer writer(name, options);
  std::uint64_t written = 0;
  auto write_some = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::string text = "entry " + std::to_string(++written);
      writer.write(std::as_bytes(std::span(text.data(), text.size())));
    }
  };
  write_some(20);

  follow_options fo;
  fo.start = start_position::oldest;
  segment_follower follower(name, fo);
  std::uint64_t entries = 0;
  std::uint64_t lost = 0;
  std::uint64_t gaps = 0;
  std::uint64_t expected_next = 1;
  std::atomic<bool> stop{false};
  follower.run(
      entry_filter{},
      [&](const follow_item& item) {
        if (item.entry != nullptr) {
          EXPECT_EQ(item.entry->sequence, expected_next);
          EXPECT_EQ(item.entry->message, "entry " + std::to_string(item.entry->sequence));
          expected_next = item.entry->sequence + 1;
          ++entries;
          // Lap the reader several times while it is in the middle of reading. The follower
          // reads a run of entries (up to a chunk) before it hands them over, so it notices a
          // lap once per run, not once per 10 entries: write enough for several runs to be
          // lapped.
          if (entries % 10 == 0 && written < 30000) write_some(700);
        } else if (item.gap != nullptr) {
          EXPECT_EQ(item.gap->first, expected_next) << "a gap starts right after the last entry";
          EXPECT_EQ(item.gap->last - item.gap->first + 1, item.gap->lost);
          expected_next = item.gap->last + 1;
          lost += item.gap->lost;
          ++gaps;
        }
        return true;
      },
      nullptr, stop);
  EXPECT_GT(gaps, 3u);
  EXPECT_EQ(entries + lost, written) << "every entry is either delivered or reported lost";
  EXPECT_EQ(follower.entries_lost(), lost);
}

TEST(Follower, TruncatedSegmentEndsANonFollowingReadWithWhatWasRead) {
#ifdef _WIN32
  GTEST_SKIP() << "truncates the segment's file in /dev/shm; a Windows section cannot shrink";
#else
  const std::string name = test_tools::unique_segment("follow-truncated");
  shm_writer_options options;
  options.chunk_count = 8;
  options.chunk_target_size = 16 * 1024;
  options.keep_on_close = true;
  shm_writer writer(name, options);
  const std::string payload(200, 'p');
  for (int i = 0; i < 100; ++i)
    writer.write(std::as_bytes(std::span(payload.data(), payload.size())));
  follow_options fo;
  fo.start = start_position::oldest;
  segment_follower follower(name, fo);
  ASSERT_EQ(::truncate(("/dev/shm" + follower.name()).c_str(), 4096), 0);
  std::uint64_t entries = 0;
  std::vector<event_kind> events;
  std::atomic<bool> stop{false};
  const follow_end end = follower.run(
      entry_filter{},
      [&](const follow_item& item) {
        if (item.entry != nullptr) ++entries;
        if (item.event != nullptr) events.push_back(item.event->kind);
        return true;
      },
      nullptr, stop);
  EXPECT_EQ(end, follow_end::truncated);
  EXPECT_GT(entries, 5u) << "the entries in the first page were read";
  EXPECT_LT(entries, 100u);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], event_kind::segment_truncated);
  writer.close();
  ::unlink(("/dev/shm" + follower.name()).c_str());
#endif
}

TEST(Follower, CorruptReadsAreReportedAtMostOncePerInterval) {
#ifdef _WIN32
  GTEST_SKIP()
      << "damages the segment through its file in /dev/shm, which Windows sections do not have";
#else
  const std::string name = test_tools::unique_segment("follow-corrupt");
  shm_writer_options options;
  options.chunk_count = 64;
  options.chunk_target_size = 1024;
  options.keep_on_close = true;
  std::string path;
  {
    shm_writer writer(name, options);
    const std::string payload(100, 'c');
    for (int i = 0; i < 500; ++i) {
      writer.write(std::as_bytes(std::span(payload.data(), payload.size())));
    }
    path = "/dev/shm" + writer.name();
  }
  // Damage every chunk's first entry header: each chunk is a corrupt read of its own.
  {
    shm_reader probe(name, start_position::oldest);
    const auto rows = read_chunk_table(probe.bytes());
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    for (const auto& row : rows) {
      if (!row.committed) continue;
      const std::uint32_t garbage = layout::entry_committed_bit | 0x7FFFFFF1U;  // far too long
      std::fseek(f, static_cast<long>(row.offset), SEEK_SET);
      std::fwrite(&garbage, sizeof garbage, 1, f);
    }
    std::fclose(f);
  }
  auto corrupt_events = [&](std::chrono::milliseconds interval) {
    follow_options fo;
    fo.start = start_position::oldest;
    fo.corrupt_interval = interval;
    segment_follower follower(name, fo);
    std::vector<std::uint64_t> counts;
    std::atomic<bool> stop{false};
    follower.run(
        entry_filter{},
        [&](const follow_item& item) {
          if (item.event != nullptr && item.event->kind == event_kind::corrupt)
            counts.push_back(item.event->count);
          return true;
        },
        nullptr, stop);
    return counts;
  };
  const auto unlimited = corrupt_events(std::chrono::milliseconds(0));
  const auto counts = corrupt_events(std::chrono::milliseconds(1000));
  ::unlink(path.c_str());
  ASSERT_FALSE(counts.empty());
  EXPECT_LE(counts.size(), 2u) << "one event now, one covering the rest at the end";
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  EXPECT_GT(total, 10u) << "every corrupt read is counted";
  EXPECT_EQ(counts.front(), 1u);
  EXPECT_GT(unlimited.size(), 10u) << "without the limit, each corrupt read is an event";
  EXPECT_EQ(total, unlimited.size());
#endif
}

TEST(Follower, MissingSegmentIsAClearError) {
  try {
    segment_follower follower(test_tools::unique_segment("missing"), {});
    FAIL() << "expected segment_error";
  } catch (const segment_error& e) {
    EXPECT_EQ(e.code(), segment_errc::missing);
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
  }
}

TEST(SegmentStats, RangeFillAndChunkTable) {
  const std::string name = test_tools::unique_segment("stats");
  shm_writer_options options;
  options.chunk_count = 4;
  options.chunk_target_size = 4096;
  shm_writer writer(name, options);
  shm_reader reader(name);
  EXPECT_EQ(fill_fraction(reader.bytes()), 0.0);
  EXPECT_EQ(read_range(reader.bytes()).first, 0u);
  const std::string text(96, 'x');  // 100-byte entries
  for (int i = 0; i < 50; ++i) writer.write(std::as_bytes(std::span(text.data(), text.size())));
  const auto range = read_range(reader.bytes());
  EXPECT_EQ(range.first, 1u);
  EXPECT_EQ(range.last, 50u);
  const double fill = fill_fraction(reader.bytes());
  EXPECT_NEAR(fill, 5000.0 / (writer.ring().buffer_size() - writer.ring().first_entry_offset()),
              0.01);
  const auto rows = read_chunk_table(reader.bytes());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_TRUE(rows[0].committed);
  EXPECT_EQ(rows[0].token, 0u);
  EXPECT_EQ(rows[0].offset, writer.ring().first_entry_offset());
  EXPECT_TRUE(rows[1].committed);
  EXPECT_EQ(rows[1].token, 41u) << "4096-byte chunks hold 41 entries of 100 bytes";
  for (int i = 0; i < 500; ++i) writer.write(std::as_bytes(std::span(text.data(), text.size())));
  EXPECT_EQ(fill_fraction(reader.bytes()), 1.0);
  const auto wrapped = read_range(reader.bytes());
  EXPECT_EQ(wrapped.last, 550u);
  EXPECT_GT(wrapped.first, 1u);
}

TEST(SegmentStats, GarbageIsHarmless) {
  alignas(8) std::array<std::byte, 4096> garbage{};
  demo::random rng(7);
  for (int round = 0; round < 200; ++round) {
    for (auto& b : garbage) b = static_cast<std::byte>(rng.next());
    // A valid header with random tables and entries: every walk must stay in bounds.
    const std::uint64_t magic = layout::buffer_magic;
    std::memcpy(garbage.data(), &magic, 8);
    const std::uint32_t version = 1;
    const std::uint32_t count = 1 + static_cast<std::uint32_t>(rng.below(40));
    std::memcpy(garbage.data() + 8, &version, 4);
    std::memcpy(garbage.data() + 12, &count, 4);
    const double fill = fill_fraction(garbage);
    EXPECT_GE(fill, 0.0);
    EXPECT_LE(fill, 1.0);
    read_range(garbage);
    read_chunk_table(garbage);
  }
}

// --- demo_writer's generator ------------------------------------------------------------------

TEST(Generator, FixedSizesAreExactForRawAndRecords) {
  demo::message_generator generator(1, 0);
  std::string raw;
  demo::generated_record record;
  for (std::size_t size : {1u, 16u, 100u, 1000u, 5000u}) {
    generator.next_raw(raw, size);
    EXPECT_EQ(raw.size(), size);
  }
  for (std::size_t size : {64u, 100u, 1000u, 5000u}) {
    for (int i = 0; i < 50; ++i) {
      generator.next_record(record, size);
      std::vector<std::byte> out(size + 64);
      record_header header;
      header.tag = record.tag;
      const auto fields = record.fields();
      const std::size_t encoded =
          encode_record(out, header, record.message, std::span(fields.data(), record.field_count));
      EXPECT_EQ(encoded, size);
    }
  }
}

TEST(Generator, DistributionsStayInRangeWithTheirShape) {
  demo::random rng(3);
  demo::size_plan uniform{demo::size_distribution::uniform, 0, 100, 300};
  demo::size_plan tail{demo::size_distribution::longtail, 0, 100, 10000};
  std::vector<std::size_t> u;
  std::vector<std::size_t> t;
  for (int i = 0; i < 20000; ++i) {
    u.push_back(demo::next_size(uniform, rng));
    t.push_back(demo::next_size(tail, rng));
  }
  EXPECT_EQ(*std::min_element(u.begin(), u.end()), 100u);
  EXPECT_EQ(*std::max_element(u.begin(), u.end()), 300u);
  std::sort(t.begin(), t.end());
  EXPECT_GE(t.front(), 100u);
  EXPECT_LE(t.back(), 10000u);
  EXPECT_LT(t[t.size() / 2], 200u) << "the median stays near the minimum";
  EXPECT_GT(t[t.size() * 99 / 100], 1000u) << "but the tail is long";
}

TEST(Generator, NaturalTrafficIsVaried) {
  demo::message_generator generator(5, 1);
  demo::generated_record record;
  std::array<int, level_count> levels{};
  std::set<std::string> tags;
  int multi_line = 0;
  int long_lines = 0;
  int with_fields = 0;
  for (int i = 0; i < 20000; ++i) {
    generator.next_record(record, 0);
    ++levels[static_cast<std::size_t>(record.severity)];
    tags.insert(std::string(record.tag));
    multi_line += record.message.find('\n') != std::string::npos;
    long_lines += record.message.size() > 500;
    with_fields += record.field_count > 0;
    EXPECT_TRUE(is_valid_utf8(record.message));
  }
  for (int count : levels) EXPECT_GT(count, 50) << "every level occurs";
  EXPECT_GT(levels[2], levels[3]) << "info is commoner than warn";
  EXPECT_GE(tags.size(), 8u);
  EXPECT_GT(multi_line, 20);
  EXPECT_GT(long_lines, 20);
  EXPECT_GT(with_fields, 10000);
}

// Issue 15: a message saying "attempt 4/5" carried the field attempt=2 (the template drew a
// second random number for the field). Every number or name a message states must be the one its
// fields carry; each template's fields are checked on the decoded record, natural size and padded.
std::string_view text_between(std::string_view text, std::string_view before,
                              std::string_view after) {
  const auto start = text.find(before);
  if (start == std::string_view::npos) return {};
  text.remove_prefix(start + before.size());
  return text.substr(0, text.find(after));
}

std::string_view errno_of(std::string_view error) {
  if (error.starts_with("connection reset by peer")) return "104";
  if (error.starts_with("timed out")) return "110";
  if (error.starts_with("no space left on device")) return "28";
  if (error.starts_with("permission denied")) return "13";
  if (error.starts_with("broken pipe")) return "32";
  return "?";
}

TEST(Generator, MessagesAgreeWithTheirFields) {
  std::map<std::string, int> checked;
  std::vector<std::byte> out(1 << 16);
  for (std::uint32_t producer = 0; producer < 3; ++producer) {
    demo::message_generator generator(7, producer);
    demo::generated_record generated;
    for (int i = 0; i < 20000; ++i) {
      const std::size_t target = i % 4 == 3 ? 4000 : 0;  // padding appends after the template
      generator.next_record(generated, target);
      record_header header;
      header.severity = generated.severity;
      header.tag = generated.tag;
      const auto array = generated.fields();
      const std::size_t size = encode_record(out, header, generated.message,
                                             std::span(array.data(), generated.field_count));
      ASSERT_GT(size, 0u);
      const decode_result decoded = decode_record(std::span(out.data(), size));
      ASSERT_EQ(decoded.status, decode_status::ok);
      const record_view& r = decoded.record;
      std::map<std::string, std::string, std::less<>> fields;
      for (std::size_t f = 0; f < r.field_count; ++f) {
        fields[std::string(r.field(f).key)] = std::string(r.field(f).value);
      }
      const auto field = [&](std::string_view key) -> std::string {
        const auto it = fields.find(key);
        return it == fields.end() ? "<no field " + std::string(key) + ">" : it->second;
      };
      // Padding appends filler text straight after the template's text.
      const std::string_view m = r.message.substr(0, r.message.find("lorem ipsum"));
      SCOPED_TRACE(std::string(m.substr(0, 200)));
      std::string rule;
      if (m.starts_with("retrying request ")) {
        rule = "retry";
        EXPECT_EQ(field("attempt"), text_between(m, "(attempt ", "/"));
      } else if (m.starts_with("connected to ")) {
        rule = "connect";
        const std::string_view address = text_between(m, "connected to ", " (session");
        EXPECT_EQ(field("peer"), address.substr(0, address.rfind(':')));
      } else if (r.tag == "http" && m.find(" -> ") != std::string_view::npos) {
        rule = "request";
        EXPECT_EQ(field("method"), m.substr(0, m.find(' ')));
        EXPECT_EQ(field("status"), text_between(m, " -> ", " "));
        EXPECT_EQ(field("duration_ms"), text_between(text_between(m, " -> ", "\n"), " in ", " ms"));
      } else if (m.starts_with("query on ")) {
        rule = "query";
        EXPECT_EQ(field("table"), text_between(m, "query on ", " "));
        EXPECT_EQ(field("table"), text_between(m, "FROM ", " "));
      } else if (m.starts_with("worker ") && m.find(" picked job ") != std::string_view::npos) {
        rule = "job";
        EXPECT_EQ(field("worker"), text_between(m, "worker ", " "));
      } else if (m.starts_with("disk usage at ")) {
        rule = "disk";
        EXPECT_EQ(field("mount"), text_between(m, "% on ", " "));
      } else if (m.starts_with("failed to write block ")) {
        rule = "write";
        EXPECT_EQ(field("table"), text_between(text_between(m, "block ", ":"), " to ", ":"));
        EXPECT_EQ(field("errno"), errno_of(text_between(m, ": ", "\n")));
      } else if (m.starts_with("out of memory allocating ")) {
        rule = "oom";
        EXPECT_EQ(field("worker"), text_between(m, "shutting down worker ", " "));
      } else if (m.starts_with("cache ")) {
        rule = "cache";  // the shard is not in the message
        EXPECT_EQ(r.field_count, 1u);
      } else {
        // Every template with fields has a rule above.
        EXPECT_EQ(r.field_count, 0u);
      }
      if (!rule.empty()) ++checked[rule];
    }
  }
  for (const char* rule :
       {"retry", "connect", "request", "query", "job", "disk", "write", "oom", "cache"}) {
    EXPECT_GT(checked[rule], 10) << rule;
  }
}

}  // namespace
