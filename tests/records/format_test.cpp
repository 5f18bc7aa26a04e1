// The std-only log formatter against fmt, the reference it imitates.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "ouroboros/format.hpp"

namespace {

using ouroboros::format;

enum class color : int { red = 1, green = 7 };

struct point {
  int x, y;
};

}  // namespace

template <>
struct ouroboros::log_formatter<point> {
  static void format(const point& p, format_sink& out) noexcept {
    out.append("(");
    ouroboros::format_to(out, ouroboros::log_format<int, int>("{}, {}"), p.x, p.y);
    out.append(")");
  }
};

namespace {

#define EXPECT_LIKE_FMT(text, ...) \
  EXPECT_EQ(format(text, __VA_ARGS__), fmt::format(text, __VA_ARGS__))

TEST(Format, PlainFieldsAndEscapes) {
  EXPECT_EQ(format("no fields"), "no fields");
  EXPECT_EQ(format("{{}} and {{{}}}", 5), "{} and {5}");
  EXPECT_LIKE_FMT("sent {} bytes to {}", 1500, std::string("10.0.0.1"));
  EXPECT_LIKE_FMT("{1} then {0} then {1}", "a", "b");
  EXPECT_LIKE_FMT("{} {} {} {}", -5, 18446744073709551615ULL, true, 'x');
  EXPECT_LIKE_FMT("{} {}", std::numeric_limits<long long>::min(), static_cast<unsigned char>(200));
  EXPECT_LIKE_FMT("{}|{}", std::string_view("view"), "literal");
  EXPECT_EQ(format("{}", static_cast<const char*>(nullptr)), "(null)");
  EXPECT_EQ(format("{} {}", color::green, color::red), "7 1");
  EXPECT_EQ(format("at {}", point{3, -4}), "at (3, -4)");
  EXPECT_EQ(format("\xE2\x9C\x93 {}", 1), "\xE2\x9C\x93 1");
}

TEST(Format, IntegerSpecs) {
  EXPECT_LIKE_FMT("[{:5}] [{:<5}] [{:^5}] [{:>5}]", 42, 42, 42, 42);
  EXPECT_LIKE_FMT("[{:*^7}] [{:+}] [{: }] [{:05}] [{:+05}]", 42, 42, 42, -42, 42);
  EXPECT_LIKE_FMT("{:x} {:X} {:#x} {:#X} {:b} {:#b} {:o} {:#o}", 255, 255, 255, 255, 5, 5, 8, 8);
  EXPECT_LIKE_FMT("{:#010x} {:08b} {:c}", 255, 5, 65);
  EXPECT_LIKE_FMT("{:d} {:x} {:s} {:>6}", true, false, true, false);
  EXPECT_LIKE_FMT("{:d} {:x} {:c} {:>3}", 'A', 'A', 'A', 'A');
}

TEST(Format, FloatingSpecs) {
  EXPECT_LIKE_FMT("{} {} {} {}", 1.5, 0.1, 1e20, -2.0);
  EXPECT_LIKE_FMT("{:.3f} {:10.2f} {:<10.1e} {:E} {:g} {:.3g}", 3.14159, 2.5, 12345.678, 0.00012,
                  1e-5, 1234.5);
  EXPECT_LIKE_FMT("{:+.1f} {: .1f} {:08.2f} {:^9.1f}", 1.25, 1.25, -3.5, 2.0);
  EXPECT_LIKE_FMT("{} {} {:F}", std::numeric_limits<double>::infinity(),
                  -std::numeric_limits<double>::infinity(),
                  std::numeric_limits<double>::infinity());
  EXPECT_LIKE_FMT("{:.150f}", 1e300);
  EXPECT_LIKE_FMT("{}", 1.0f / 3.0f);
}

// fmt's layout of the shortest round-trip digits: fixed for decimal exponents -4..15, else
// scientific with at least two exponent digits; a float's own shortest digits under a spec.
TEST(Format, ShortestFloatsAsFmt) {
  EXPECT_LIKE_FMT("{} {} {} {} {} {}", 100.0, 1e15, 1e16, 1e-5, 0.0001, 123456789012345680.0);
  EXPECT_LIKE_FMT("{} {} {} {}", 0.0, -0.0, 5e-324, 2.2250738585072014e-308);
  EXPECT_LIKE_FMT("{} {} {}", 1e300, -1.5e-7, 9007199254740993.0);
  EXPECT_LIKE_FMT("{} {:>12} {:+} {}", 0.1f, 0.1f, 1e15f, 1e-45f);
  EXPECT_LIKE_FMT("{:<10}|{:^+12}|{:012}", 1e15, 0.00012, -2.5);
}

TEST(Format, StringAndPointerSpecs) {
  EXPECT_LIKE_FMT("[{:8}] [{:>8}] [{:-^9}] [{:.2}] [{:6.3}]", "abc", "abc", "abc", "abcdef",
                  "abcdef");
  EXPECT_LIKE_FMT("[{:5}] [{:.1}]", "\xC3\xA9t\xC3\xA9", "\xC3\xA9t\xC3\xA9");
  int value = 0;
  EXPECT_LIKE_FMT("{} {:20}", static_cast<void*>(&value), static_cast<const void*>(&value));
  EXPECT_LIKE_FMT("{}", nullptr);
}

TEST(Format, BoundedOutputCountsWhatDidNotFit) {
  char buffer[8];
  ouroboros::format_sink sink(buffer, sizeof buffer);
  ouroboros::format_to(sink, ouroboros::log_format<int, const char*>("value {} and {}"), 123456,
                       "more text");
  EXPECT_TRUE(sink.overflowed());
  EXPECT_EQ(sink.size(), 8U);
  EXPECT_EQ(std::string(buffer, 8), "value 12");
  EXPECT_EQ(sink.wanted(), std::string("value 123456 and more text").size());
  // Every field type near the bound: never writes past the end.
  for (std::size_t cap = 0; cap < 40; ++cap) {
    char small[40];
    std::memset(small, 'Z', sizeof small);
    ouroboros::format_sink bounded(small, cap);
    ouroboros::format_to(bounded,
                         ouroboros::log_format<int, double, const char*, bool, char, unsigned>(
                             "{:>6}|{:.3f}|{:^8}|{}|{}|{:#x}"),
                         -42, 3.25, "str", true, 'c', 255U);
    for (std::size_t i = cap; i < sizeof small; ++i) ASSERT_EQ(small[i], 'Z') << "cap " << cap;
    EXPECT_EQ(bounded.wanted(), std::string("   -42|3.250|  str   |true|c|0xff").size());
  }
}

// The pieces of the text path are parsed once per literal at run time and cached by address
// (format_detail::find_pieces). A literal whose probe window is full is parsed on the spot, with
// the same output.
TEST(Format, ALiteralTheCacheCannotTakeFormatsTheSame) {
  namespace fd = ouroboros::format_detail;
  static constexpr char literal[] = "cache {} of {:>4}|";
  const std::size_t home = fd::piece_cache_home(literal);
  // Fill the literal's probe window (other tests' literals may hold slots of it already) with
  // one-character formats at addresses of the same home, until one finds no room.
  static std::vector<char> filler(1 << 20, 'x');
  bool full = false;
  constexpr fd::arg_kind no_kinds[1] = {fd::arg_kind::custom};
  for (std::size_t i = 0; i < filler.size() && !full; ++i) {
    if (fd::piece_cache_home(&filler[i]) != home) continue;
    full = fd::find_pieces({&filler[i], 1}, no_kinds, 0, 8).pieces == nullptr;
  }
  ASSERT_TRUE(full) << "too few addresses of that home in the filler";
  constexpr auto kinds = ouroboros::log_format<int, int>::kinds();
  EXPECT_EQ(fd::find_pieces(literal, kinds.data(), 2, 12).pieces, nullptr);
  EXPECT_EQ(format(literal, 7, 42), "cache 7 of   42|");
  EXPECT_EQ(format(literal, -1, 123456), "cache -1 of 123456|");
  // A cached literal keeps its entry: the same one every time.
  static constexpr char other[] = "kept {}";
  constexpr auto one = ouroboros::log_format<int>::kinds();
  const fd::piece_list first = fd::find_pieces(other, one.data(), 1, 10);
  ASSERT_NE(first.pieces, nullptr);
  EXPECT_EQ(fd::find_pieces(other, one.data(), 1, 10).pieces, first.pieces);
  EXPECT_EQ(first.count, 1U);
  EXPECT_EQ(format(other, 5), "kept 5");
}

// Threads that format a literal for the first time at once all see its pieces whole (run under
// TSan with the "concurrency" label).
TEST(Format, FirstUseFromManyThreadsAtOnce) {
  std::atomic<int> ready{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < 4) std::this_thread::yield();
      for (int i = 0; i < 200; ++i) {
        if (format("first {} use {:03} by {}", i, t, "thread") !=
            "first " + std::to_string(i) + " use 00" + std::to_string(t) + " by thread")
          wrong.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

// is_ascii reads short texts with overlapping loads: every length and every position of a high
// byte, against a byte-by-byte check (offset 1 makes the loads unaligned).
TEST(Format, IsAsciiSeesAHighByteAnywhere) {
  std::string buffer(80, 'a');
  for (std::size_t size = 0; size <= 70; ++size) {
    EXPECT_TRUE(ouroboros::is_ascii(buffer.data() + 1, size)) << size;
    for (std::size_t at = 0; at < size; ++at) {
      for (const char high : {'\x80', '\xC3', '\xFF'}) {
        buffer[1 + at] = high;
        EXPECT_FALSE(ouroboros::is_ascii(buffer.data() + 1, size)) << size << " at " << at;
        buffer[1 + at] = 'a';
      }
    }
    // High bytes just outside the text do not count.
    buffer[0] = '\xFF';
    buffer[1 + size] = '\xFF';
    EXPECT_TRUE(ouroboros::is_ascii(buffer.data() + 1, size)) << size;
    buffer[0] = 'a';
    buffer[1 + size] = 'a';
  }
}

// copy_small_ascii copies like copy_small and tells whether every byte was ASCII.
TEST(Format, CopySmallAsciiCopiesAndSeesAHighByteAnywhere) {
  std::string source(80, 'a');
  for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<char>('!' + i % 90);
  for (std::size_t size = 0; size <= 70; ++size) {
    std::string to(80, '#');
    EXPECT_TRUE(ouroboros::format_sink::copy_small_ascii(to.data() + 1, source.data() + 1, size));
    EXPECT_EQ(to.substr(1, size), source.substr(1, size)) << size;
    EXPECT_EQ(to[0], '#');
    EXPECT_EQ(to[1 + size], '#') << size;
    for (std::size_t at = 0; at < size; ++at) {
      std::string high = source;
      high[1 + at] = '\xC3';
      EXPECT_FALSE(ouroboros::format_sink::copy_small_ascii(to.data() + 1, high.data() + 1, size))
          << size << " at " << at;
      EXPECT_EQ(to.substr(1, size), high.substr(1, size)) << size << " at " << at;
    }
  }
}

// The log call's format argument holds the text, not its parsed pieces: it fits two registers.
static_assert(sizeof(ouroboros::log_format<int, std::string, double>) <= 16);
static_assert(std::is_trivially_copyable_v<ouroboros::log_format<int, std::string>>);

}  // namespace
