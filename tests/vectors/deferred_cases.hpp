// deferred_render.json: formatting deferred records (docs/format.md §11.5), the same text in
// every reader. Each case is a format string and arguments encoded by the logger's own encoder
// (detail::put_deferred), with what core's renderer makes of them: the message, or the reason
// the record is malformed. Covers every spec the logger accepts at compile time for integers,
// floats, bool, char, strings and pointers, the float corner cases, and hostile bytes.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "ouroboros/deferred.hpp"
#include "ouroboros/logger.hpp"
#include "vector_reads.hpp"

namespace ouroboros::vectors {

class deferred_cases {
 public:
  template <class... A>
  void add(std::string_view format, const A&... args) {
    std::vector<std::byte> bytes((std::size_t{0} + ... + detail::deferred_size(args)));
    std::byte* at = bytes.data();
    ((at = detail::put_deferred(at, args)), ...);
    static_cast<void>(at);
    raw(format, bytes);
  }
  void raw(std::string_view format, const std::vector<std::byte>& args) {
    const deferred_format parsed = parse_deferred_format(format);
    std::string message;
    const decode_status status = render_deferred(parsed, args, message);
    json_ += std::string(json_.empty() ? "[\n" : ",\n") + "  {\"format_hex\": \"" +
             hex_of(std::as_bytes(std::span(format.data(), format.size()))) +
             "\", \"args_hex\": \"" + hex_of(args) + "\", ";
    if (status == decode_status::ok)
      json_ += "\"message\": " + json_string(message) + "}";
    else
      json_ += "\"error\": " + json_string(to_string(status)) + "}";
  }
  std::string json() const { return json_ + "\n]\n"; }

 private:
  std::string json_;
};

inline std::string deferred_render_json() {
  deferred_cases c;
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto* pointer = reinterpret_cast<const void*>(std::uintptr_t{0x7ffd1234});
  const std::string peer = "10.1.2.3:443";
  c.add("sent {} bytes to {}", 1500, peer);
  c.add("constant message without arguments");
  c.add("");
  c.add("{{escaped}} {} }}{{", 1);
  c.add("{1} {0} {1}", "a", 2);
  // integers
  c.add("{} {} {} {}", std::numeric_limits<std::int64_t>::min(),
        std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::uint64_t>::max(), 0);
  c.add("{:d} {:x} {:X} {:b} {:B} {:o} {:c}", 42, 255, 255, 5, 5, 8, 65);
  c.add("{:#x} {:#X} {:#b} {:#B} {:#o} {:#d} {:#o}", 255, 255, 5, 5, 8, 9, 0);
  c.add("[{:8}] [{:<8}] [{:>8}] [{:^8}] [{:*^9}] [{:08}] [{:+08}] [{:#010x}]", -42, -42, -42, -42,
        -42, -42, 42, 255);
  c.add("[{:+}] [{: }] [{:-}] [{:+x}] [{: d}] [{:+}] [{:^+9}]", 5, 5, 5, 255, -5, -5, 7);
  c.add("{:x} {:#X} {:b} {:o}", std::numeric_limits<std::int64_t>::min(),
        std::numeric_limits<std::uint64_t>::max(), -1, -8);
  c.add("[{:>5c}] [{:c}] [{:3c}]", 97, 200, 0xE9);
  c.add("{} {}", static_cast<signed char>(-5), static_cast<unsigned short>(65535));
  // bool and char
  c.add("{} {} {:s} {:d} {:x} {:>6} {:^7} {:#b} {:+d} {:05d}", true, false, true, true, false, true,
        false, true, true, true);
  c.add("{} {:c} {:s} {:d} {:x} {:>3} {:*<4} {:#o} {:+d} {:04x}", 'A', 'B', 'C', 'A', 'A', 'A', 'z',
        'A', 'A', 'A');
  c.add("[{}] [{:3}] [{:d}] [{}{}]", static_cast<char>(0xFF), static_cast<char>(0x80),
        static_cast<char>(0xC3), static_cast<char>(0xC3), static_cast<char>(0xA9));
  // floats: shortest in fmt's layout, and every type
  c.add("{} {} {} {} {} {} {}", 0.0, -0.0, 100.0, 1e16, 1e15, 1e-5, 0.0001);
  c.add("{} {} {} {} {}", inf, -inf, nan, -nan, 5e-324);
  c.add("{} {} {} {}", 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
        4.9406564584124654e-320);
  c.add("{} {} {} {} {}", 1e300, -1.5e-7, 9007199254740993.0, 0.1 + 0.2, 123456789012345680.0);
  c.add("{} {} {} {} {}", 1e21, 1e22, 1e23, 5e-5, 12345.678);
  c.add("{} {} {} {} {} {}", 0.1f, 1e15f, 1e-45f, 3.4028235e38f, -0.0f, 1.17549435e-38f);
  c.add("{} {} {} {}", 16777217.0f, 1e16f, 0.3f, 2.5e-5f);
  c.add("{:.3f} {:10.2f} {:<10.1e} {:E} {:g} {:.3g} {:G}", 3.14159, 2.5, 12345.678, 0.00012, 1e-5,
        1234.5, 1e-10);
  c.add("{:f} {:F} {:e} {:.0f} {:.0e} {:.0g} {:.17g}", 1.5, inf, 0.0, 2.5, 2.5, 2.5, 0.1);
  c.add("{:.0f} {:.0f} {:.1f} {:.2e} {:g} {:g} {:g}", 0.5, 1.5, 0.25, 12345.0, 100000.0, 1000000.0,
        0.0001);
  c.add("{:e} {:E} {:f} {:g} {:G} {:F}", nan, -inf, -nan, inf, nan, -0.0);
  c.add("{:a} {:A} {:.2a} {:a} {:a} {:a}", 1.5, 255.75, 1.0 / 3, 5e-324, -0.0, 0.1f);
  c.add("{:.0a} {:.1a} {:.1a} {:.1a} {:.3a} {:.20a} {:a} {:A}", 1.5, 1.03125, 1.09375,
        1.9999999999999998, 1e-310, 1.0, inf, nan);
  c.add("[{:+.1f}] [{: .1f}] [{:08.2f}] [{:^9.1f}] [{:*>12}] [{:010}] [{:+}]", 1.25, 1.25, -3.5,
        2.0, 0.5, -inf, nan);
  c.add("[{:<10}|{:^+12}|{:012}|{:>8}|{:.3}|{:.1}|{:.0}]", 1e15, 0.00012, -2.5, 0.1f, 1234.5678,
        0.05, 2.5);
  c.add("[{:+}] [{: }] [{:+}] [{:08}] [{:+08.3f}] [{:#}] [{:#g}]", 0.0, 1.5, -0.0, -1e-7, 2.0, 1.0,
        1.0);
  c.add("{:.150f}", 1e300);
  c.add("{:.40e} {:.30f}", 1.0 / 3, 1e-20);
  // strings
  c.add("[{:8}] [{:>8}] [{:-^9}] [{:.2}] [{:6.3}] [{:s}] [{:.0}]", "abc", "abc", "abc", "abcdef",
        "abcdef", std::string_view("sv"), "abc");
  c.add("[{:5}] [{:.1}] [{}] [{:>4}] [{:^6.2}]", "\xC3\xA9t\xC3\xA9", "\xC3\xA9t\xC3\xA9",
        static_cast<const char*>(nullptr), "", "\xF0\x9F\x98\x80xyz");
  c.add("{} | {}", std::string("tab\there\nnew line \"quoted\" \\"), std::string(300, 'x'));
  // pointers
  c.add("{} {:p} {:>20} {:<20}| {} {:020}", pointer, pointer, pointer, pointer, nullptr, pointer);

  // Hostile bytes: each is malformed with its reason.
  auto bytes = [](std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int b : v) out.push_back(static_cast<std::byte>(b));
    return out;
  };
  c.raw("n={}", bytes({0x42, 0}));                                 // unknown type tag
  c.raw("n={}", bytes({0}));                                       // type tag 0
  c.raw("n={}", bytes({1, 2, 3}));                                 // integer cut short
  c.raw("n={}", bytes({4, 0, 0}));                                 // float cut short
  c.raw("n={}", bytes({7, 9, 0, 0, 0, 'a'}));                      // string past the end
  c.raw("n={}", bytes({7, 1}));                                    // string length cut
  c.raw("n={}", bytes({7, 0xFF, 0xFF, 0xFF, 0xFF}));               // huge string length
  c.raw("n={}", bytes({5, 2}));                                    // bool other than 0/1
  c.raw("n={}", bytes({7, 1, 0, 0, 0, 0xFF}));                     // string not UTF-8
  c.raw("n={} {}", bytes({5, 1}));                                 // too few arguments
  c.raw("n={}", bytes({}));                                        // no arguments
  c.raw("{:x}", bytes({7, 1, 0, 0, 0, 'a'}));                      // spec mismatch: hex string
  c.raw("{:.2}", bytes({1, 1, 0, 0, 0, 0, 0, 0, 0}));              // precision of an integer
  c.raw("{:f}", bytes({5, 1}));                                    // float type for a bool
  c.raw("{:+}", bytes({7, 0, 0, 0, 0}));                           // sign for a string
  c.raw("{:+}", bytes({6, 'a'}));                                  // sign for a char
  c.raw("{:#}", bytes({8, 0, 0, 0, 0, 0, 0, 0, 0}));               // '#' for a pointer
  c.raw("{:.151f}", bytes({3, 0, 0, 0, 0, 0, 0, 0, 0}));           // precision above 150
  c.raw("{:s}", bytes({3, 0, 0, 0, 0, 0, 0, 0, 0}));               // string type for a float
  c.raw("oops {", bytes({1, 1, 0, 0, 0, 0, 0, 0, 0}));             // unterminated field
  c.raw("oops }", bytes({}));                                      // unmatched '}'
  c.raw("{0} {}", bytes({5, 1, 5, 1}));                            // manual and automatic
  c.raw("{256}", bytes({5, 1}));                                   // index too large
  c.raw("{:5000}", bytes({5, 1}));                                 // width too large
  c.raw("{:.}", bytes({3, 0, 0, 0, 0, 0, 0, 0, 0}));               // missing precision
  c.raw("{:\xC3\xA9<5}", bytes({5, 1}));                           // non-ASCII fill
  c.raw("bad \xFF format", bytes({}));                             // format not UTF-8
  c.raw("{:>5x!}", bytes({1, 1, 0, 0, 0, 0, 0, 0, 0}));            // junk after the type
  c.raw("{} {} {}", bytes({1, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 5}));  // last argument cut
  return c.json();
}

}  // namespace ouroboros::vectors
