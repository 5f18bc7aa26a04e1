// Record encoding round trips, malformed records (an error, never a crash) and the entry
// interpreter that turns payloads into what the viewer and tools show.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ouroboros/layout.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/record_reader.hpp"
#include "ouroboros/ring_writer.hpp"

namespace {

using namespace ouroboros;

std::vector<std::byte> encode(const record_header& header, std::string_view message,
                              std::span<const record_field> fields = {}, std::size_t room = 4096) {
  std::vector<std::byte> out(room);
  const std::size_t size = encode_record(out, header, message, fields);
  out.resize(size);
  return out;
}

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

TEST(RecordEncoding, RoundTripsEveryField) {
  record_header header;
  header.severity = level::error;
  header.thread = 0xDEADBEEF;
  header.timestamp = 0x0123456789ABCDEFULL;
  header.tag = "net";
  const record_field fields[] = {{"peer", "10.0.0.1"}, {"bytes", "1500"}, {"", ""}};
  const auto payload = encode(header, "sent 1500 bytes \xE2\x9C\x93", fields);
  const decode_result result = decode_record(payload);
  ASSERT_EQ(result.status, decode_status::ok);
  const record_view& r = result.record;
  EXPECT_EQ(r.severity, level::error);
  EXPECT_EQ(r.thread, 0xDEADBEEFU);
  EXPECT_EQ(r.timestamp, 0x0123456789ABCDEFULL);
  EXPECT_FALSE(r.truncated());
  EXPECT_FALSE(r.timestamp_in_ticks());
  EXPECT_EQ(r.tag, "net");
  EXPECT_EQ(r.message, "sent 1500 bytes \xE2\x9C\x93");
  ASSERT_EQ(r.field_count, 3U);
  EXPECT_EQ(r.field(0).key, "peer");
  EXPECT_EQ(r.field(0).value, "10.0.0.1");
  EXPECT_EQ(r.field(1).key, "bytes");
  EXPECT_EQ(r.field(1).value, "1500");
  EXPECT_EQ(r.field(2).key, "");
  EXPECT_EQ(r.field(2).value, "");
}

TEST(RecordEncoding, GoldenBytes) {
  record_header header;
  header.severity = level::warn;
  header.flags = record_layout::flag_ticks;
  header.thread = 7;
  header.timestamp = 0x1122334455667788ULL;
  header.tag = "t";
  const record_field fields[] = {{"k", "v"}};
  const auto payload = encode(header, "hi", fields);
  const std::vector<unsigned> expected = {0x9E, 1,    3,    2,    7,    0,    0,    0,  0x88,
                                          0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 1,  1,
                                          't',  1,    'k',  1,    0,    'v',  'h',  'i'};
  ASSERT_EQ(payload.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(std::to_integer<unsigned>(payload[i]), expected[i]) << "byte " << i;
  }
}

TEST(RecordEncoding, MessageCutAtUtf8BoundaryAndFlagged) {
  record_header header;
  header.tag = "x";
  // 19 bytes of prefix; room for 5 message bytes cuts inside the 3-byte check mark.
  const auto payload = encode(header, "abcd\xE2\x9C\x93", {}, record_layout::fixed_size + 1 + 5);
  const decode_result result = decode_record(payload);
  ASSERT_EQ(result.status, decode_status::ok);
  EXPECT_TRUE(result.record.truncated());
  EXPECT_EQ(result.record.message, "abcd");
}

TEST(RecordEncoding, EncodeRefusesTooSmallOutput) {
  record_header header;
  header.tag = "tag";
  std::vector<std::byte> out(record_layout::fixed_size + 2);
  EXPECT_EQ(encode_record(out, header, "message"), 0U);
}

TEST(RecordEncoding, LongTagsKeysAndValuesAreCut) {
  record_header header;
  const std::string tag(300, 't');
  header.tag = tag;
  const std::string key(300, 'k');
  const std::string value(70000, 'v');
  const record_field fields[] = {{key, value}};
  const auto payload = encode(header, "m", fields, 100000);
  const decode_result result = decode_record(payload);
  ASSERT_EQ(result.status, decode_status::ok);
  EXPECT_EQ(result.record.tag.size(), 255U);
  EXPECT_EQ(result.record.field(0).key.size(), 255U);
  EXPECT_EQ(result.record.field(0).value.size(), 65535U);
  EXPECT_EQ(result.record.message, "m");
}

TEST(RecordDecoding, PlainTextIsNotARecord) {
  EXPECT_EQ(decode_record(bytes_of("hello")).status, decode_status::not_a_record);
  EXPECT_EQ(decode_record({}).status, decode_status::not_a_record);
}

TEST(RecordDecoding, EveryTruncationIsAnError) {
  record_header header;
  header.tag = "tag";
  const record_field fields[] = {{"key", "value"}, {"k2", "v2"}};
  const auto payload = encode(header, "", fields);  // empty message: every prefix is incomplete
  for (std::size_t n = 1; n < payload.size(); ++n) {
    const auto status = decode_record(std::span(payload).first(n)).status;
    EXPECT_EQ(status, decode_status::truncated) << "length " << n;
  }
  EXPECT_EQ(decode_record(payload).status, decode_status::ok);
}

TEST(RecordDecoding, BadLengthsVersionAndLevel) {
  record_header header;
  header.tag = "tag";
  const record_field fields[] = {{"key", "value"}};
  auto payload = encode(header, "msg", fields);
  auto bad = payload;
  bad[16] = std::byte{200};  // tag length past the end
  EXPECT_EQ(decode_record(bad).status, decode_status::truncated);
  bad = payload;
  bad[17] = std::byte{9};  // more fields than there are: the message is read as fields
  EXPECT_EQ(decode_record(bad).status, decode_status::truncated);
  bad = payload;
  bad[18 + 3 + 1 + 3] = std::byte{0xFF};  // value length 0xFF05
  bad[18 + 3 + 1 + 3 + 1] = std::byte{0xFF};
  EXPECT_EQ(decode_record(bad).status, decode_status::truncated);
  bad = payload;
  bad[1] = std::byte{4};  // 2 is the deferred record, 3 the typed-field record
  EXPECT_EQ(decode_record(bad).status, decode_status::bad_version);
  bad = payload;
  bad[2] = std::byte{6};
  EXPECT_EQ(decode_record(bad).status, decode_status::bad_level);
}

TEST(RecordDecoding, InvalidUtf8AnywhereIsAnError) {
  record_header header;
  header.tag = "tag";
  const record_field fields[] = {{"key", "value"}};
  const auto payload = encode(header, "message", fields);
  // Offsets of one byte inside the tag, the key, the value and the message.
  for (std::size_t at : {std::size_t{18}, std::size_t{22}, std::size_t{27}, payload.size() - 1}) {
    for (unsigned bad : {0x80U, 0xC0U, 0xFFU, 0xEDU}) {
      auto copy = payload;
      copy[at] = std::byte(bad);
      EXPECT_EQ(decode_record(copy).status, decode_status::invalid_utf8) << "offset " << at;
    }
  }
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(is_valid_utf8("abc\xE2\x9C"));       // cut sequence
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80 ok"));
}

std::vector<std::byte> typed_payload() {
  record_header header;
  header.tag = "db";
  const record_field fields[] = {{"rows", "12", field_type::i64},
                                 {"peer", "10.0.0.1"},
                                 {"ratio", "0.25", field_type::f64},
                                 {"ok", "true", field_type::boolean},
                                 {"big", "18446744073709551615", field_type::u64}};
  return encode(header, "query done", fields);
}

TEST(TypedFields, GoldenBytes) {
  record_header header;
  header.severity = level::warn;
  header.thread = 7;
  header.timestamp = 0x1122334455667788ULL;
  header.tag = "t";
  const record_field fields[] = {{"n", "12", field_type::i64}, {"s", "v"}};
  const auto payload = encode(header, "hi", fields);
  const std::vector<unsigned> expected = {
      0x9E, 3,   3, 0,   7, 0, 0, 0,   0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 1,
      2,    't', 1, 'n', 1, 2, 0, '1', '2',  1,    's',  7,    1,    0,    'v',  'h',  'i'};
  ASSERT_EQ(payload.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(std::to_integer<unsigned>(payload[i]), expected[i]) << "byte " << i;
  }
}

TEST(TypedFields, StringOnlyFieldsStayVersion1) {
  record_header header;
  const record_field fields[] = {{"k", "12"}};
  const auto payload = encode(header, "m", fields);
  EXPECT_EQ(std::to_integer<unsigned>(payload[1]), 1U);
  EXPECT_EQ(record_prefix_size(header, fields) + 1, payload.size());
}

TEST(TypedFields, RoundTripKeepsTextAndType) {
  const auto payload = typed_payload();
  record_header header;
  header.tag = "db";
  const record_field fields[] = {{"rows", "12", field_type::i64},
                                 {"peer", "10.0.0.1"},
                                 {"ratio", "0.25", field_type::f64},
                                 {"ok", "true", field_type::boolean},
                                 {"big", "18446744073709551615", field_type::u64}};
  EXPECT_EQ(record_prefix_size(header, fields) + std::string_view("query done").size(),
            payload.size());
  const decode_result result = decode_record(payload);
  ASSERT_EQ(result.status, decode_status::ok);
  const record_view& r = result.record;
  EXPECT_EQ(r.message, "query done");
  ASSERT_EQ(r.field_count, 5U);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r.field(i).key, fields[i].key);
    EXPECT_EQ(r.field(i).value, fields[i].value);
    EXPECT_EQ(r.field(i).type, fields[i].type);
  }
}

TEST(TypedFields, EveryTruncationIsAnError) {
  record_header header;
  header.tag = "tag";
  const record_field fields[] = {{"key", "-5", field_type::i64}, {"k2", "v2"}};
  const auto payload = encode(header, "", fields);
  for (std::size_t n = 1; n < payload.size(); ++n) {
    EXPECT_EQ(decode_record(std::span(payload).first(n)).status, decode_status::truncated)
        << "length " << n;
  }
  EXPECT_EQ(decode_record(payload).status, decode_status::ok);
}

TEST(TypedFields, HostileFieldsAreMalformedWithAReason) {
  record_header header;
  header.tag = "tag";
  const record_field fields[] = {{"key", "42", field_type::u64}};
  const auto payload = encode(header, "msg", fields);
  const std::size_t type_at = 18 + 3 + 1 + 3;
  for (unsigned type : {0U, 4U, 6U, 8U, 0xFFU}) {  // unknown, and deferred-only argument types
    auto bad = payload;
    bad[type_at] = std::byte(type);
    EXPECT_EQ(decode_record(bad).status, decode_status::bad_field) << "type " << type;
  }
  auto bad = payload;
  bad[18 + 3 + 1] = std::byte{0xC0};  // key "key" -> "\xC0ey"
  EXPECT_EQ(decode_record(bad).status, decode_status::invalid_utf8);
  bad = payload;
  bad[type_at + 1] = std::byte{0xFF};  // value length past the end
  EXPECT_EQ(decode_record(bad).status, decode_status::truncated);
  bad = payload;
  bad[type_at + 3] = std::byte{'x'};  // "x2" is no u64
  EXPECT_EQ(decode_record(bad).status, decode_status::bad_field);
  bad = payload;
  bad[type_at] = std::byte{static_cast<unsigned char>(field_type::string)};
  EXPECT_EQ(decode_record(bad).status, decode_status::ok);
  EXPECT_EQ(to_string(decode_status::bad_field), "field of an unknown type or not of its type");
}

TEST(TypedFields, ValueGrammar) {
  for (const char* ok : {"0", "7", "-7", "9223372036854775807", "-9223372036854775808"})
    EXPECT_TRUE(field_value_matches(field_type::i64, ok)) << ok;
  for (const char* bad : {"", "-", "-0", "01", "+1", "1.0", " 1", "9223372036854775808",
                          "-9223372036854775809", "1e3", "0x10"})
    EXPECT_FALSE(field_value_matches(field_type::i64, bad)) << bad;
  for (const char* ok : {"0", "18446744073709551615"})
    EXPECT_TRUE(field_value_matches(field_type::u64, ok)) << ok;
  for (const char* bad : {"", "-1", "18446744073709551616", "00", "99999999999999999999"})
    EXPECT_FALSE(field_value_matches(field_type::u64, bad)) << bad;
  for (const char* ok :
       {"0", "-0", "0.25", "1e+16", "1e-05", "-1.5E300", "5e-324", "inf", "-inf", "nan", "-nan"})
    EXPECT_TRUE(field_value_matches(field_type::f64, ok)) << ok;
  for (const char* bad : {"", "-", ".5", "1.", "1e", "1e+", "01", "+1", "NaN", "Infinity", "0x1p3"})
    EXPECT_FALSE(field_value_matches(field_type::f64, bad)) << bad;
  EXPECT_TRUE(field_value_matches(field_type::boolean, "true"));
  EXPECT_TRUE(field_value_matches(field_type::boolean, "false"));
  EXPECT_FALSE(field_value_matches(field_type::boolean, "1"));
  EXPECT_FALSE(field_value_matches(field_type::boolean, "True"));
  EXPECT_TRUE(field_value_matches(field_type::string, "anything"));
}

TEST(TypedFields, RandomBytesNeverCrash) {
  std::mt19937_64 random(7);
  const auto valid = typed_payload();
  std::size_t ok = 0;
  for (int round = 0; round < 200000; ++round) {
    std::vector<std::byte> payload = valid;
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) payload[random() % payload.size()] = std::byte(random() & 0xFF);
    payload.resize(random() % (payload.size() + 1));
    const decode_result result = decode_record(payload);
    if (result.status != decode_status::ok) continue;
    ++ok;
    const auto* end = reinterpret_cast<const char*>(payload.data()) + payload.size();
    for (std::size_t f = 0; f < result.record.field_count; ++f) {
      const auto field = result.record.field(f);
      EXPECT_TRUE(field.value.empty() || field.value.data() + field.value.size() <= end);
      EXPECT_TRUE(field_value_matches(field.type, field.value));
    }
  }
  EXPECT_GT(ok, 0U);
}

TEST(RecordDecoding, RandomBytesNeverCrash) {
  std::mt19937_64 random(42);
  record_header header;
  header.tag = "tag";
  const record_field fields[] = {{"a", "b"}, {"cc", "dd"}};
  const auto valid = encode(header, "message text", fields);
  std::size_t ok = 0;
  for (int round = 0; round < 200000; ++round) {
    std::vector<std::byte> payload = valid;
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) payload[random() % payload.size()] = std::byte(random() & 0xFF);
    payload.resize(random() % (payload.size() + 1));
    const decode_result result = decode_record(payload);
    if (result.status == decode_status::ok) {
      ++ok;
      // Every view must lie inside the payload.
      const auto* begin = reinterpret_cast<const char*>(payload.data());
      const auto* end = begin + payload.size();
      EXPECT_TRUE(result.record.message.empty() ||
                  (result.record.message.data() >= begin &&
                   result.record.message.data() + result.record.message.size() <= end));
      for (std::size_t f = 0; f < result.record.field_count; ++f) {
        const auto field = result.record.field(f);
        EXPECT_TRUE(field.value.empty() || field.value.data() + field.value.size() <= end);
      }
    }
  }
  EXPECT_GT(ok, 0U);
}

TEST(EntryInterpreter, RecordSegmentDecodesAndConvertsTicks) {
  alignas(8) std::byte buffer[8192];
  extension_info info;
  info.incarnation = 1;
  info.payload_encoding = layout::extension_layout::encoding_record;
  writer_config config;
  config.chunk_count = 4;
  config.chunk_target_size = 1024;
  config.extension = &info;
  ring_writer writer(buffer, config);
  extension_writer ext(writer.extension_block());
  clock_calibration calibration;
  calibration.tick_base = 1000;
  calibration.wall_base_ns = 1'700'000'000'000'000'000ULL;
  calibration.mult = std::uint64_t{1} << 31;  // 0.5 ns per tick
  ext.publish_clock(calibration);

  entry_interpreter interpreter(buffer);
  ASSERT_TRUE(interpreter.records());
  record_header header;
  header.severity = level::debug;
  header.flags = record_layout::flag_ticks;
  header.timestamp = 3000;
  header.thread = 12;
  header.tag = "io";
  const record_field fields[] = {{"fd", "3"}};
  const auto payload = encode(header, "read", fields);
  entry_view view = interpreter.interpret(payload);
  EXPECT_EQ(view.kind, entry_kind::record);
  EXPECT_EQ(view.severity, level::debug);
  EXPECT_EQ(view.unix_ns, calibration.wall_base_ns + 1000);
  EXPECT_EQ(view.tag, "io");
  EXPECT_EQ(view.message, "read");

  // A re-calibration is picked up without re-attaching.
  calibration.mult = std::uint64_t{1} << 32;
  ext.publish_clock(calibration);
  view = interpreter.interpret(payload);
  EXPECT_EQ(view.unix_ns, calibration.wall_base_ns + 2000);

  const log_entry owned = interpreter.to_owned(payload, 5);
  EXPECT_EQ(owned.sequence, 5U);
  ASSERT_EQ(owned.fields.size(), 1U);
  EXPECT_EQ(owned.fields[0].first, "fd");
  EXPECT_EQ(owned.fields[0].second, "3");
  ASSERT_EQ(owned.field_types.size(), 1U);
  EXPECT_EQ(owned.field_types[0], field_type::string);

  // Typed fields keep their type in the owning copy.
  const record_field typed[] = {{"fd", "3", field_type::i64}, {"ok", "false", field_type::boolean}};
  const log_entry typed_owned = interpreter.to_owned(encode(header, "read", typed), 6);
  ASSERT_EQ(typed_owned.fields.size(), 2U);
  EXPECT_EQ(typed_owned.fields[1].second, "false");
  EXPECT_EQ(typed_owned.field_types,
            (std::vector<field_type>{field_type::i64, field_type::boolean}));

  // Plain text inside a record segment: a message without level or time.
  view = interpreter.interpret(bytes_of("just text"));
  EXPECT_EQ(view.kind, entry_kind::plain);
  EXPECT_FALSE(view.severity.has_value());
  EXPECT_FALSE(view.unix_ns.has_value());
  EXPECT_EQ(view.message, "just text");

  // A broken record: reported, bytes kept.
  auto broken = payload;
  broken[2] = std::byte{9};
  view = interpreter.interpret(broken);
  EXPECT_EQ(view.kind, entry_kind::malformed);
  EXPECT_EQ(view.error(), "invalid level");
  EXPECT_EQ(interpreter.to_owned(broken, 1).error, "invalid level");
}

TEST(EntryInterpreter, RawSegmentsShowEverythingAsPlain) {
  alignas(8) std::byte buffer[4096];
  writer_config config;
  config.chunk_count = 2;
  config.chunk_target_size = 1024;
  ring_writer writer(buffer, config);  // no extension block: another v1 writer
  entry_interpreter interpreter(buffer);
  EXPECT_FALSE(interpreter.records());
  record_header header;
  const auto payload = encode(header, "looks like a record");
  EXPECT_EQ(interpreter.interpret(payload).kind, entry_kind::plain);
  interpreter.force_records(true);
  const entry_view view = interpreter.interpret(payload);
  EXPECT_EQ(view.kind, entry_kind::record);
  EXPECT_EQ(view.unix_ns, 0U);  // not in ticks: the timestamp is unix ns as written
}

TEST(Printable, ReplacesInvalidBytesAndControls) {
  EXPECT_EQ(printable("ok\ttab\nline"), "ok\ttab\nline");
  EXPECT_EQ(printable("a\x1b[31mb"), "a\xEF\xBF\xBD[31mb");
  EXPECT_EQ(printable("x\xFFy"), "x\xEF\xBF\xBDy");
  EXPECT_EQ(printable("\xE2\x9C\x93"), "\xE2\x9C\x93");
  EXPECT_EQ(printable("\xE2\x9C"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
