// Deferred records (record version 2): the logger stores the format's dictionary id and typed
// arguments, entry_interpreter formats them. The text must equal what the call site would have
// written as a text record, for every spec the compiler accepts; hostile bytes are malformed
// with a reason, never a crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ouroboros/deferred.hpp"
#include "ouroboros/extension.hpp"
#include "ouroboros/logger.hpp"
#include "ouroboros/record_reader.hpp"
#include "ouroboros/segment.hpp"

namespace {

using namespace ouroboros;

std::string unique_name(const char* what) {
  static std::atomic<int> counter{0};
  return "ouroboros-test-deferred-" + std::string(what) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

logger_options options(bool deferred) {
  logger_options o;
  o.segment.chunk_count = 8;
  o.segment.chunk_target_size = 64 * 1024;
  o.threshold = level::trace;
  o.deferred_format = deferred;
  o.maintenance_thread = false;
  return o;
}

struct read_back {
  std::vector<log_entry> entries;
  std::vector<int> versions;  // byte 1 of each payload
};

read_back read_all(shm_reader& reader) {
  entry_interpreter interpreter(reader.bytes());
  read_back out;
  for (;;) {
    const read_result r = reader.read_next();
    if (r.status != read_status::ok) break;
    out.versions.push_back(r.payload.size() > 1 ? std::to_integer<int>(r.payload[1]) : -1);
    out.entries.push_back(interpreter.to_owned(r.payload, r.sequence));
  }
  return out;
}

enum class color : short { red = -3, green = 7 };

// Every presentation the compiler accepts, per argument kind, and the float corner cases.
void every_spec(logger& log) {
  const std::string peer = "10.1.2.3:443";
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const int* pointer = reinterpret_cast<const int*>(std::uintptr_t{0x7ffd1234});
  log.info("net", "sent {} bytes to {}", 1500, peer);
  log.info("t", "constant message without arguments");
  log.info("t", "{{escaped}} {} }}{{", 1);
  log.info("t", "{1} {0} {1}", "a", 2);
  // integers: fill, align, sign, '#', '0', width, every type
  log.info("t", "{} {} {} {}", std::numeric_limits<std::int64_t>::min(),
           std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::uint64_t>::max(), -0);
  log.info("t", "{:d} {:x} {:X} {:b} {:B} {:o} {:c}", 42, 255, 255, 5, 5, 8, 65);
  log.info("t", "{:#x} {:#X} {:#b} {:#B} {:#o} {:#d}", 255, 255, 5, 5, 8, 9);
  log.info("t", "[{:8}] [{:<8}] [{:>8}] [{:^8}] [{:*^9}] [{:08}] [{:+08}] [{:#010x}]", -42, -42,
           -42, -42, -42, -42, 42, 255);
  log.info("t", "[{:+}] [{: }] [{:-}] [{:+x}] [{: d}] [{:+}]", 5, 5, 5, 255, -5, -5);
  log.info("t", "{} {} {} {} {}", static_cast<signed char>(-5), static_cast<unsigned char>(200),
           static_cast<short>(-300), 70000U, -9'000'000'000LL);
  log.info("t", "{} {:x} {:>5c}", color::red, color::green, 97);
  // bool and char
  log.info("t", "{} {} {:s} {:d} {:x} {:>6} {:^7} {:#b}", true, false, true, true, false, true,
           false, true);
  log.info("t", "{} {:c} {:s} {:d} {:x} {:>3} {:*<4} {:#o}", 'A', 'B', 'C', 'A', 'A', 'A', 'z',
           'A');
  // floats: default (shortest, fmt layout) and every type, precision, sign, '0', fill
  log.info("t", "{} {} {} {} {} {} {}", 0.0, -0.0, 100.0, 1e16, 1e15, 1e-5, 0.0001);
  log.info("t", "{} {} {} {} {}", inf, -inf, nan, 5e-324, 2.2250738585072014e-308);
  log.info("t", "{} {} {} {}", 1e300, -1.5e-7, 9007199254740993.0, 0.1 + 0.2);
  log.info("t", "{} {} {} {} {}", 0.1f, 1e15f, 1e-45f, 3.4028235e38f, -0.0f);
  log.info("t", "{:.3f} {:10.2f} {:<10.1e} {:E} {:g} {:.3g} {:G}", 3.14159, 2.5, 12345.678, 0.00012,
           1e-5, 1234.5, 1e-10);
  log.info("t", "{:f} {:F} {:e} {:.0f} {:.0e} {:.0g} {:.17g}", 1.5, inf, 0.0, 2.5, 2.5, 2.5, 0.1);
  log.info("t", "{:a} {:A} {:.2a} {:a} {:a} {:a}", 1.5, 255.75, 1.0 / 3, 5e-324, -0.0, 0.1f);
  log.info("t", "[{:+.1f}] [{: .1f}] [{:08.2f}] [{:^9.1f}] [{:*>12}] [{:010}] [{:+}]", 1.25, 1.25,
           -3.5, 2.0, 0.5, -inf, nan);
  log.info("t", "[{:<10}|{:^+12}|{:012}|{:>8}|{:.3}|{:.1}]", 1e15, 0.00012, -2.5, 0.1f, 1234.5678,
           0.05);
  log.info("t", "{:.150f}", 1e300);
  // strings: width and precision in code points, fill, align
  log.info("t", "[{:8}] [{:>8}] [{:-^9}] [{:.2}] [{:6.3}] [{:s}]", "abc", "abc", "abc", "abcdef",
           "abcdef", std::string_view("sv"));
  log.info("t", "[{:5}] [{:.1}] [{}] [{:>4}]", "\xC3\xA9t\xC3\xA9", "\xC3\xA9t\xC3\xA9",
           static_cast<const char*>(nullptr), "");
  log.info("t", "{} {}", std::string("bad \xFF utf8"), "\xF0\x9F\x98\x80");
  // pointers
  log.info("t", "{} {:p} {:>20} {:<20}| {}", static_cast<const void*>(pointer), pointer, pointer,
           pointer, nullptr);
}

TEST(Deferred, EveryCaseReadsAsTheTextRecordDoes) {
  const std::string text_name = unique_name("text");
  const std::string deferred_name = unique_name("deferred");
  logger text_log(text_name, options(false));
  logger deferred_log(deferred_name, options(true));
  // Twice: the second record of each format takes the path of a format whose argument types
  // are remembered (deferred_memo).
  every_spec(text_log);
  every_spec(text_log);
  every_spec(deferred_log);
  every_spec(deferred_log);
  shm_reader text_reader(text_name);
  shm_reader deferred_reader(deferred_name);
  const read_back text = read_all(text_reader);
  const read_back deferred = read_all(deferred_reader);
  ASSERT_EQ(text.entries.size(), deferred.entries.size());
  ASSERT_FALSE(text.entries.empty());
  for (std::size_t i = 0; i < text.entries.size(); ++i) {
    SCOPED_TRACE(text.entries[i].message);
    EXPECT_EQ(text.versions[i], 1);
    EXPECT_EQ(deferred.versions[i], 2);
    EXPECT_EQ(deferred.entries[i].kind, entry_kind::record) << deferred.entries[i].error;
    EXPECT_EQ(deferred.entries[i].message, text.entries[i].message);
    EXPECT_EQ(deferred.entries[i].tag, text.entries[i].tag);
    EXPECT_EQ(deferred.entries[i].severity, text.entries[i].severity);
  }
}

TEST(Deferred, FormatStringsAreInternedOncePerSegment) {
  const std::string name = unique_name("once");
  logger log(name, options(true));
  for (int i = 0; i < 100; ++i) log.info("net", "sent {} bytes to {}", i, "peer");
  for (int i = 0; i < 100; ++i) log.info("net", "sent {} bytes to {}", i, "peer");  // same text
  shm_reader reader(name);
  const auto ext = reader.extension();
  ASSERT_TRUE(ext.has_value());
  const auto entry = read_dictionary_entry(reader.bytes(), 0);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->kind, record_layout::dictionary_kind_format);
  EXPECT_EQ(entry->bytes, "sent {} bytes to {}");
  // One entry: 4 + 19 bytes, padded to 24; nothing after it.
  EXPECT_FALSE(read_dictionary_entry(reader.bytes(), 24).has_value());
  const read_back back = read_all(reader);
  ASSERT_EQ(back.entries.size(), 200U);
  EXPECT_EQ(back.entries[199].message, "sent 99 bytes to peer");
}

TEST(Deferred, FullDictionaryFallsBackToTextRecords) {
  const std::string name = unique_name("full");
  logger_options o = options(true);
  o.segment.dictionary_capacity = 24;  // room for "sent {} bytes to {}" only
  logger log(name, o);
  log.info("net", "sent {} bytes to {}", 1, "a");
  log.info("net", "received {} bytes from {}", 2, "b");  // no room: a text record
  log.info("net", "received {} bytes from {}", 3, "c");
  log.info("net", "sent {} bytes to {}", 4, "d");
  shm_reader reader(name);
  const read_back back = read_all(reader);
  ASSERT_EQ(back.entries.size(), 4U);
  EXPECT_EQ(back.versions, (std::vector<int>{2, 1, 1, 2}));
  EXPECT_EQ(back.entries[1].message, "received 2 bytes from b");
  EXPECT_EQ(back.entries[2].message, "received 3 bytes from c");
  EXPECT_EQ(back.entries[3].message, "sent 4 bytes to d");
}

struct point {
  int x, y;
};

}  // namespace

template <>
struct ouroboros::log_formatter<point> {
  static void format(const point& p, format_sink& out) noexcept {
    out.append("(");
    format_detail::write_plain_integer(out, p.x);
    out.append(",");
    format_detail::write_plain_integer(out, p.y);
    out.append(")");
  }
};

namespace {

TEST(Deferred, FieldsAndUserTypesAreFormattedAtTheCallSite) {
  const std::string name = unique_name("user");
  logger log(name, options(true));
  log.info("t", "at {}", point{1, 2});
  log.info("t", {{"rows", 12}}, "query {}", 7);
  log.info("t", "query {}", 7);
  shm_reader reader(name);
  const read_back back = read_all(reader);
  ASSERT_EQ(back.entries.size(), 3U);
  // The call with fields is formatted at the call site: a text record, version 3 because its
  // field is an integer (typed fields, docs/format.md §11.6).
  EXPECT_EQ(back.versions, (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(back.entries[1].field_types, std::vector<field_type>{field_type::i64});
  EXPECT_EQ(back.entries[0].message, "at (1,2)");
  EXPECT_EQ(back.entries[1].message, "query 7");
}

TEST(Deferred, ConcurrentCallSitesInternOnceEachAndAllRender) {
  const std::string name = unique_name("threads");
  logger_options o = options(true);
  o.segment.chunk_count = 16;
  o.segment.chunk_target_size = 256 * 1024;
  logger log(name, o);
  constexpr int threads = 4;
  constexpr int per_thread = 2000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&log, t] {
      for (int i = 0; i < per_thread; ++i) {
        switch (i % 4) {
          case 0: log.info("a", "alpha {} {}", t, i); break;
          case 1: log.info("b", "beta {:>6} {}", i, 0.5); break;
          case 2: log.info("c", "gamma {} {}", "s", t); break;
          default: log.info("d", "delta"); break;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  shm_reader reader(name);
  const read_back back = read_all(reader);
  ASSERT_EQ(back.entries.size(), static_cast<std::size_t>(threads * per_thread));
  for (const log_entry& e : back.entries) {
    ASSERT_EQ(e.kind, entry_kind::record) << e.error;
    ASSERT_FALSE(e.message.empty());
  }
  // Four format strings, each once: the fifth id is past "used".
  std::uint32_t id = 0;
  int count = 0;
  while (const auto entry = read_dictionary_entry(reader.bytes(), id)) {
    ++count;
    id += static_cast<std::uint32_t>((4 + entry->bytes.size() + 3) / 4 * 4);
  }
  EXPECT_EQ(count, 4);
}

// render_deferred with no memo: the verdict and text a record gets on its own.
struct parsed_format_check {
  explicit parsed_format_check(std::string_view text) : format(parse_deferred_format(text)) {}
  std::pair<decode_status, std::string> render(std::span<const std::byte> args) const {
    std::string out;
    const decode_status status = render_deferred(format, args, out);
    return {status, out};
  }
  deferred_format format;
};

// Hostile bytes: a segment with a dictionary whose records are crafted by hand.
// A deferred record (tag "t", level 2) with format id `id` and the argument bytes as given.
std::vector<std::byte> deferred_record(std::uint32_t id, std::vector<std::uint8_t> args) {
  std::vector<std::byte> p(record_layout::deferred_fixed_size + 1);
  p[0] = std::byte{record_layout::marker};
  p[1] = std::byte{record_layout::deferred_version};
  p[2] = std::byte{2};
  p[16] = std::byte{1};
  std::memcpy(p.data() + 18, &id, 4);
  p[22] = std::byte{'t'};
  for (auto b : args) p.push_back(std::byte{b});
  return p;
}

class DeferredHostile : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = unique_name("hostile");
    shm_writer_options o;
    o.chunk_count = 4;
    o.chunk_target_size = 4096;
    o.payload_encoding = layout::extension_layout::encoding_record;
    o.dictionary_capacity = 256;
    writer_ = std::make_unique<shm_writer>(name_, o);
    good_ = *writer_->extension().append_dictionary(record_layout::dictionary_kind_format,
                                                    "n={} s={:>4}");
    bad_text_ =
        *writer_->extension().append_dictionary(record_layout::dictionary_kind_format, "oops {");
    other_kind_ = *writer_->extension().append_dictionary(9, "n={} s={:>4}");
    reader_ = std::make_unique<shm_reader>(name_);
  }

  static std::vector<std::uint8_t> i64(std::int64_t v) {
    std::vector<std::uint8_t> out{1};
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return out;
  }
  static std::vector<std::uint8_t> str(std::string_view s) {
    std::vector<std::uint8_t> out{7, static_cast<std::uint8_t>(s.size()), 0, 0, 0};
    for (char c : s) out.push_back(static_cast<std::uint8_t>(c));
    return out;
  }
  static std::vector<std::uint8_t> cat(std::vector<std::uint8_t> a,
                                       const std::vector<std::uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  entry_view interpret(const std::vector<std::byte>& payload) {
    interpreter_.attach(reader_->bytes());
    return interpreter_.interpret(payload);
  }

  std::string name_;
  std::unique_ptr<shm_writer> writer_;
  std::unique_ptr<shm_reader> reader_;
  std::uint32_t good_ = 0, bad_text_ = 0, other_kind_ = 0;
  entry_interpreter interpreter_;
};

TEST_F(DeferredHostile, WellFormedRecordRenders) {
  const std::vector<std::byte> payload = deferred_record(good_, cat(i64(-7), str("ab")));
  const entry_view v = interpret(payload);  // views point into the payload
  ASSERT_EQ(v.kind, entry_kind::record) << v.error();
  EXPECT_EQ(v.message, "n=-7 s=  ab");
  EXPECT_EQ(v.tag, "t");
}

TEST_F(DeferredHostile, EveryDefectIsMalformedWithItsReason) {
  struct defect {
    const char* what;
    std::vector<std::byte> payload;
    decode_status status;
  };
  const auto args = cat(i64(1), str("x"));
  std::vector<defect> defects = {
      {"id past the dictionary", deferred_record(4000, args), decode_status::unknown_format},
      {"id not 4-aligned", deferred_record(good_ + 2, args), decode_status::unknown_format},
      {"id of another kind", deferred_record(other_kind_, args), decode_status::unknown_format},
      {"id 0xFFFFFFFF", deferred_record(0xFFFFFFFFU, args), decode_status::unknown_format},
      {"format does not parse", deferred_record(bad_text_, args), decode_status::bad_format},
      {"unknown type tag", deferred_record(good_, cat(i64(1), {0x42, 0})),
       decode_status::bad_arguments},
      {"type tag 0", deferred_record(good_, cat(i64(1), {0})), decode_status::bad_arguments},
      {"integer cut short", deferred_record(good_, {1, 2, 3}), decode_status::bad_arguments},
      {"string length past the end", deferred_record(good_, cat(i64(1), {7, 9, 0, 0, 0, 'a'})),
       decode_status::bad_arguments},
      {"string length field cut", deferred_record(good_, cat(i64(1), {7, 1})),
       decode_status::bad_arguments},
      {"bool other than 0/1", deferred_record(good_, cat(i64(1), {5, 2})),
       decode_status::bad_arguments},
      {"too few arguments", deferred_record(good_, i64(1)), decode_status::argument_mismatch},
      {"no arguments", deferred_record(good_, {}), decode_status::argument_mismatch},
      {"an integer where a string was logged: {:>4} takes both",
       deferred_record(good_, cat(i64(1), i64(2))), decode_status::ok},
      {"string argument not UTF-8", deferred_record(good_, cat(i64(1), {7, 1, 0, 0, 0, 0xFF})),
       decode_status::invalid_utf8},
  };
  // A spec the argument's type cannot take: "{:>4}" is fine for anything; use a dedicated
  // format for the mismatch.
  const auto hex =
      *writer_->extension().append_dictionary(record_layout::dictionary_kind_format, "{:x}");
  defects.push_back({"spec mismatch: {:x} of a string", deferred_record(hex, str("x")),
                     decode_status::argument_mismatch});
  const auto prec =
      *writer_->extension().append_dictionary(record_layout::dictionary_kind_format, "{:.2}");
  defects.push_back({"spec mismatch: precision of an integer", deferred_record(prec, i64(3)),
                     decode_status::argument_mismatch});
  for (const defect& d : defects) {
    SCOPED_TRACE(d.what);
    const entry_view v = interpret(d.payload);
    // A reader that formats later must give every record the same verdict.
    const entry_view lazy = interpreter_.interpret(d.payload, deferred_rendering::lazy);
    EXPECT_EQ(lazy.kind, v.kind);
    EXPECT_EQ(lazy.status, v.status) << to_string(lazy.status);
    EXPECT_EQ(lazy.format != nullptr, v.kind == entry_kind::record);
    if (d.status == decode_status::ok) {
      EXPECT_EQ(v.kind, entry_kind::record);
      continue;
    }
    EXPECT_EQ(v.kind, entry_kind::malformed);
    EXPECT_EQ(v.status, d.status) << to_string(v.status);
    EXPECT_FALSE(v.error().empty());
  }
  // Every prefix of a good record is malformed or a record, never a crash.
  const auto whole = deferred_record(good_, args);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    const std::vector<std::byte> cut(whole.begin(), whole.begin() + static_cast<long>(n));
    const entry_view v = interpret(cut);
    EXPECT_NE(v.kind, entry_kind::record) << n;
  }
}

// With the cache warm: an id that is not 4-aligned must not reach the cached entry of its
// 4-aligned neighbour.
TEST_F(DeferredHostile, CachedFormatsAreNotFoundByUnalignedIds) {
  interpreter_.attach(reader_->bytes());
  const std::vector<std::byte> good = deferred_record(good_, cat(i64(1), str("x")));
  ASSERT_EQ(interpreter_.interpret(good).kind, entry_kind::record);
  for (const std::uint32_t id : {good_ + 1, good_ + 2, good_ + 3}) {
    const std::vector<std::byte> payload = deferred_record(id, cat(i64(1), str("x")));
    const entry_view v = interpreter_.interpret(payload);
    EXPECT_EQ(v.kind, entry_kind::malformed) << id;
    EXPECT_EQ(v.status, decode_status::unknown_format) << id;
  }
}

TEST_F(DeferredHostile, ParsedFormatsAreForgottenOnAttach) {
  EXPECT_EQ(interpret(deferred_record(good_, cat(i64(1), str("x")))).kind, entry_kind::record);
  // Another segment whose id 0 is a different format string.
  const std::string other = unique_name("other");
  shm_writer_options o;
  o.payload_encoding = layout::extension_layout::encoding_record;
  o.dictionary_capacity = 64;
  shm_writer second(other, o);
  ASSERT_EQ(second.extension().append_dictionary(record_layout::dictionary_kind_format, "[{}|{}]"),
            0U);
  shm_reader second_reader(other);
  interpreter_.attach(second_reader.bytes());
  const std::vector<std::byte> payload = deferred_record(0, cat(i64(1), str("x")));
  const entry_view v = interpreter_.interpret(payload);
  ASSERT_EQ(v.kind, entry_kind::record) << v.error();
  EXPECT_EQ(v.message, "[1|x]");
}

// The memo of a format (the argument types it last accepted) must never change a verdict: records
// of one format with other types, fewer or more arguments, or bytes that do not decode are checked
// in full, in the order of docs/format.md §11.5, each time.
TEST_F(DeferredHostile, SameFormatWithOtherArgumentTypesIsCheckedAgain) {
  const auto id =
      *writer_->extension().append_dictionary(record_layout::dictionary_kind_format, "{:x}|{}");
  const parsed_format_check reference("{:x}|{}");
  auto u64 = [](std::uint64_t v) {
    std::vector<std::uint8_t> out{2};
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return out;
  };
  const std::vector<std::uint8_t> f64_one_half = {3, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F};
  const std::vector<std::uint8_t> bool_true = {5, 1};
  std::vector<std::uint8_t> many = cat(i64(255), str("a"));
  for (int i = 0; i < 15; ++i) many = cat(many, i64(i));  // 17 arguments: past the memo's 16
  struct step {
    const char* what;
    std::vector<std::uint8_t> args;
    decode_status status;
    const char* message;
  };
  const std::vector<step> steps = {
      {"first record", cat(i64(255), str("a")), decode_status::ok, "ff|a"},
      {"same types", cat(i64(254), str("bc")), decode_status::ok, "fe|bc"},
      {"types swapped", cat(str("a"), i64(1)), decode_status::argument_mismatch, nullptr},
      {"back to the first types", cat(i64(255), str("a")), decode_status::ok, "ff|a"},
      {"other types that fit", cat(u64(255), bool_true), decode_status::ok, "ff|true"},
      {"a float for {:x}", cat(f64_one_half, str("a")), decode_status::argument_mismatch, nullptr},
      {"too few", i64(255), decode_status::argument_mismatch, nullptr},
      {"first types again", cat(i64(16), str("z")), decode_status::ok, "10|z"},
      {"one more argument", cat(cat(i64(255), str("a")), i64(3)), decode_status::ok, "ff|a"},
      {"first types again", cat(i64(255), str("a")), decode_status::ok, "ff|a"},
      {"string not UTF-8", cat(i64(1), {7, 1, 0, 0, 0, 0xFF}), decode_status::invalid_utf8,
       nullptr},
      {"string cut", cat(i64(1), {7, 9, 0, 0, 0, 'a'}), decode_status::bad_arguments, nullptr},
      {"unknown type after the memo's", cat(cat(i64(1), str("a")), {0x42}),
       decode_status::bad_arguments, nullptr},
      {"mismatch, then bytes cut: the cut wins", cat(str("a"), {1, 2}),
       decode_status::bad_arguments, nullptr},
      {"bool other than 0/1", cat(i64(1), {5, 2}), decode_status::bad_arguments, nullptr},
      {"17 arguments", many, decode_status::ok, "ff|a"},
      {"17 arguments again", many, decode_status::ok, "ff|a"},
      {"first types again", cat(i64(255), str("a")), decode_status::ok, "ff|a"},
      {"no arguments", {}, decode_status::argument_mismatch, nullptr},
      {"first types again", cat(i64(255), str("a")), decode_status::ok, "ff|a"},
  };
  interpreter_.attach(reader_->bytes());
  for (const step& s : steps) {
    SCOPED_TRACE(s.what);
    const std::vector<std::byte> payload = deferred_record(id, s.args);
    const entry_view v = interpreter_.interpret(payload);
    EXPECT_EQ(v.status == decode_status::ok ? decode_status::ok : v.status, s.status)
        << to_string(v.status);
    EXPECT_EQ(v.kind, s.status == decode_status::ok ? entry_kind::record : entry_kind::malformed);
    if (s.message != nullptr) {
      EXPECT_EQ(v.message, s.message);
    }
    // The same verdict and text as a render with no memory of earlier records.
    const std::span<const std::byte> args(payload.data() + payload.size() - s.args.size(),
                                          s.args.size());
    const auto [status, message] = reference.render(args);
    EXPECT_EQ(status, s.status) << to_string(status);
    if (status == decode_status::ok) {
      EXPECT_EQ(v.message, message);
    }
  }
}

// A writer that restarts under the same name starts a new dictionary: the same id may name
// another format string, which accepts other types. Re-attaching must forget both the parsed
// format and the types its records had.
TEST(Deferred, DictionaryIsReadAgainAfterAWriterRestart) {
  const std::string name = unique_name("restart");
  shm_writer_options o;
  o.chunk_count = 4;
  o.chunk_target_size = 4096;
  o.payload_encoding = layout::extension_layout::encoding_record;
  o.dictionary_capacity = 256;
  // i64 1, then the string "xyz".
  const std::vector<std::uint8_t> int_string = {1, 1, 0, 0, 0, 0,   0,   0,  0,
                                                7, 3, 0, 0, 0, 'x', 'y', 'z'};
  const std::vector<std::uint8_t> string_int = {7, 3, 0, 0, 0, 'x', 'y', 'z', 1,
                                                1, 0, 0, 0, 0, 0,   0,   0};

  auto first = std::make_unique<shm_writer>(name, o);
  ASSERT_EQ(
      first->extension().append_dictionary(record_layout::dictionary_kind_format, "n={} s={}"), 0U);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(first->write(deferred_record(0, int_string)), write_status::ok);
  shm_reader reader(name);
  reader.replaced_check_interval = std::chrono::milliseconds(0);
  entry_interpreter interpreter(reader.bytes());
  for (int i = 0; i < 3; ++i) {
    const read_result r = reader.read_next();
    ASSERT_EQ(r.status, read_status::ok);
    const entry_view v = interpreter.interpret(r.payload);
    ASSERT_EQ(v.kind, entry_kind::record) << v.error();
    EXPECT_EQ(v.message, "n=1 s=xyz");
  }

  first.reset();  // unlinks the name
  shm_writer second(name, o);
  // Id 0 is now a format that cannot take an integer first.
  ASSERT_EQ(second.extension().append_dictionary(record_layout::dictionary_kind_format, "{:.2}|{}"),
            0U);
  ASSERT_EQ(second.write(deferred_record(0, int_string)), write_status::ok);
  ASSERT_EQ(second.write(deferred_record(0, string_int)), write_status::ok);
  ASSERT_EQ(second.write(deferred_record(0, int_string)), write_status::ok);
  read_result r = reader.read_next();
  for (int tries = 0; r.status == read_status::no_data && tries < 1000; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    r = reader.read_next();
  }
  ASSERT_EQ(r.status, read_status::writer_restarted);
  interpreter.attach(reader.bytes());
  const decode_status expected[] = {decode_status::argument_mismatch, decode_status::ok,
                                    decode_status::argument_mismatch};
  for (const decode_status want : expected) {
    r = reader.read_next();
    ASSERT_EQ(r.status, read_status::ok);
    const entry_view v = interpreter.interpret(r.payload);
    if (want == decode_status::ok) {
      ASSERT_EQ(v.kind, entry_kind::record) << v.error();
      EXPECT_EQ(v.message, "xy|1");
    } else {
      EXPECT_EQ(v.kind, entry_kind::malformed);
      EXPECT_EQ(v.status, want) << to_string(v.status);
    }
  }
}

// Lazy rendering: the record is checked, its message left empty, and its format handed out so
// that it can be formatted later, even after the interpreter forgot the segment.
TEST_F(DeferredHostile, LazyRecordsCarryAFormatThatOutlivesTheInterpreter) {
  const std::vector<std::byte> payload = deferred_record(good_, cat(i64(-7), str("ab")));
  interpreter_.attach(reader_->bytes());
  const entry_view v = interpreter_.interpret(payload, deferred_rendering::lazy);
  ASSERT_EQ(v.kind, entry_kind::record) << v.error();
  EXPECT_TRUE(v.message.empty());
  EXPECT_EQ(v.tag, "t");
  ASSERT_NE(v.format, nullptr);
  std::shared_ptr<const deferred_format> owner = interpreter_.format_owner(v.record.format_id);
  ASSERT_EQ(owner.get(), v.format);
  EXPECT_EQ(interpreter_.format_owner(good_ + 2), nullptr);
  EXPECT_EQ(interpreter_.format_owner(4000), nullptr);
  interpreter_.attach(reader_->bytes());  // forgets its parsed formats
  EXPECT_EQ(interpreter_.format_owner(v.record.format_id), nullptr);
  std::string text;
  ASSERT_EQ(render_deferred(*owner, v.record.arguments, text), decode_status::ok);
  EXPECT_EQ(text, "n=-7 s=  ab");
  // The eager path still renders after lazy checks warmed the memo.
  EXPECT_EQ(interpreter_.interpret(payload, deferred_rendering::lazy).format != nullptr, true);
  EXPECT_EQ(interpreter_.interpret(payload).message, "n=-7 s=  ab");
}

// Differential: long runs of records of one format with random argument lists (random types,
// counts on both sides of the memo's 16, now and then a defect) and random output room, rendered
// with one memo per format, give exactly what a render with no memo gives; check_deferred, with
// and without a memo of its own, gives the same verdict.
TEST(Deferred, RenderingWithAMemoEqualsRenderingWithout) {
  const char* const formats[] = {"{:x}|{}",      "{} {} {}",  "{1} {0} {1}", "[{:>4}] [{:.3}]",
                                 "{{}} {} }}{{", "no fields", "{:c}{}",      "{:+}{:^6}{:08}"};
  std::mt19937 random(20261130);
  auto pick = [&](std::size_t n) {
    return static_cast<std::size_t>(std::uniform_int_distribution<std::size_t>(0, n - 1)(random));
  };
  auto argument = [&](std::vector<std::byte>& out) {
    auto put = [&](std::initializer_list<int> bytes) {
      for (int b : bytes) out.push_back(static_cast<std::byte>(b));
    };
    switch (pick(9)) {
      case 0: put({1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}); break;  // i64 -1
      case 1: put({1, 0, 0, 0, 0x80, 0, 0, 0, 0}); break;                       // i64 2^31
      case 2: put({2, 0xE8, 0x03, 0, 0, 0, 0, 0, 0}); break;                    // u64 1000
      case 3: put({3, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F}); break;                    // f64 1.5
      case 4: put({4, 0, 0, 0xC0, 0x3F}); break;                                // f32 1.5
      case 5: put({5, static_cast<int>(pick(2))}); break;                       // bool
      case 6: put({6, pick(2) == 0 ? 'q' : 0xE9}); break;                       // char
      case 7: put({7, 4, 0, 0, 0, 0xC3, 0xA9, 't', 'e'}); break;                // "ète"
      default: put({8, 0x34, 0x12, 0xFD, 0x7F, 0, 0, 0, 0}); break;             // pointer
    }
  };
  for (const char* text : formats) {
    SCOPED_TRACE(text);
    const deferred_format format = parse_deferred_format(text);
    ASSERT_EQ(format.status, decode_status::ok);
    deferred_memo memo;
    deferred_memo check_memo;  // check_deferred's own, as a lazy reader keeps one
    // A few argument lists, repeated often (as a call site's records are), so the memo is hit.
    std::vector<std::vector<std::byte>> lists;
    for (int i = 0; i < 24; ++i) {
      std::vector<std::byte> args;
      const std::size_t count = pick(4) == 0 ? pick(20) : pick(4);
      for (std::size_t k = 0; k < count; ++k) argument(args);
      if (i < 3) {
        // The three most frequent lists are well-formed ones, as a call site's would be.
        std::string ignored;
        if (render_deferred(format, args, ignored) != decode_status::ok)
          --i;
        else
          lists.push_back(std::move(args));
        continue;
      }
      switch (pick(12)) {
        case 0:
          if (!args.empty()) args.pop_back();  // cut short
          break;
        case 1: args.push_back(std::byte{0x42}); break;                        // unknown type
        case 2: args.insert(args.end(), {std::byte{5}, std::byte{2}}); break;  // bool 2
        case 3:                                                                // not UTF-8
          args.insert(args.end(), {std::byte{7}, std::byte{1}, std::byte{0}, std::byte{0},
                                   std::byte{0}, std::byte{0xFF}});
          break;
        default: break;
      }
      lists.push_back(std::move(args));
    }
    int rendered = 0;
    for (int i = 0; i < 3000; ++i) {
      const std::vector<std::byte>& args = lists[pick(4) == 0 ? pick(lists.size()) : pick(3)];
      std::string expected;
      const decode_status want = render_deferred(format, args, expected);
      char buffer[512];
      const std::size_t room = pick(3) == 0 ? pick(24) : sizeof buffer;
      format_sink sink(buffer, room);
      decode_status got = render_deferred(format, args, sink, &memo);
      std::string text_got(buffer, sink.size());
      if (got == decode_status::ok && sink.overflowed()) {
        std::string bigger(sink.wanted(), '\0');
        format_sink again(bigger.data(), bigger.size());
        got = render_deferred(format, args, again, &memo);
        EXPECT_FALSE(again.overflowed());
        text_got = bigger.substr(0, again.size());
      }
      ASSERT_EQ(got, want) << "record " << i << ": " << to_string(got);
      // A reader that formats later takes its verdict from check_deferred: it must be the same.
      ASSERT_EQ(check_deferred(format, args, &check_memo), want) << "record " << i;
      ASSERT_EQ(check_deferred(format, args), want) << "record " << i;
      if (want == decode_status::ok) {
        ASSERT_EQ(text_got, expected) << "record " << i;
        ++rendered;
      } else {
        EXPECT_EQ(sink.size(), 0U) << "nothing is written for a malformed record";
      }
    }
    EXPECT_GT(rendered, 0);
  }
}

// String arguments are checked a word at a time: a byte that is not UTF-8 must be found at every
// position of strings of every length around the word sizes, with and without a warm memo.
TEST(Deferred, InvalidUtf8IsFoundAtEveryPositionOfAString) {
  const deferred_format format = parse_deferred_format("{}|{}");
  for (std::size_t size = 1; size <= 40; ++size) {
    for (std::size_t bad = 0; bad < size; ++bad) {
      SCOPED_TRACE(std::to_string(size) + " bytes, 0xFF at " + std::to_string(bad));
      std::vector<std::byte> args = {std::byte{1}, std::byte{7}, std::byte{0},
                                     std::byte{0}, std::byte{0}, std::byte{0},
                                     std::byte{0}, std::byte{0}, std::byte{0}};
      std::vector<std::byte> good = args;
      for (std::vector<std::byte>* list : {&args, &good}) {
        list->insert(list->end(), {std::byte{7}, static_cast<std::byte>(size), std::byte{0},
                                   std::byte{0}, std::byte{0}});
        for (std::size_t i = 0; i < size; ++i) list->push_back(std::byte{'a'});
      }
      args[args.size() - size + bad] = std::byte{0xFF};
      deferred_memo memo;
      char buffer[128];
      format_sink warm(buffer, sizeof buffer);
      ASSERT_EQ(render_deferred(format, good, warm, &memo), decode_status::ok);
      ASSERT_EQ(std::string_view(buffer, warm.size()), "7|" + std::string(size, 'a'));
      format_sink sink(buffer, sizeof buffer);
      EXPECT_EQ(render_deferred(format, args, sink, &memo), decode_status::invalid_utf8);
      std::string out;
      EXPECT_EQ(render_deferred(format, args, out), decode_status::invalid_utf8);
      EXPECT_EQ(check_deferred(format, args, &memo), decode_status::invalid_utf8);
    }
  }
}

}  // namespace
