// End-to-end tests of the tools on a hostile machine (issue 10): pathological regexes and long
// messages, numeric options out of range, control characters in names and payloads, the tail
// contract's event streams, foreign owners, shrunk segments and non-regular files under a name.
// Real binaries, real segments in /dev/shm; every run has a timeout.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "ouroboros/record.hpp"
#include "ouroboros/segment.hpp"
#include "tool_support.hpp"

namespace {

using namespace ouroboros;
using namespace ouroboros::test_tools;
using namespace std::chrono_literals;

// A record segment written directly, so the test controls every byte of tags and messages (the
// logger would sanitise them; a hostile writer does not).
class record_segment {
 public:
  explicit record_segment(const std::string& name, std::size_t chunk_size = 256 * 1024) {
    shm_writer_options options;
    options.chunk_count = 8;
    options.chunk_target_size = chunk_size;
    options.payload_encoding = layout::extension_layout::encoding_record;
    options.keep_on_close = true;
    writer_ = std::make_unique<shm_writer>(name, options);
  }
  void write(level severity, std::string_view tag, std::string_view message,
             std::vector<record_field> fields = {}) {
    std::vector<std::byte> out(message.size() + 4096);
    record_header header;
    header.severity = severity;
    header.tag = tag;
    header.thread = 7;
    header.timestamp = 1'700'000'000'000'000'000ULL;
    out.resize(encode_record(out, header, message, fields));
    ASSERT_EQ(writer_->write(out), write_status::ok);
  }
  void close() { writer_.reset(); }

 private:
  std::unique_ptr<shm_writer> writer_;
};

// A UDP socket on the loopback that swallows whatever forward sends it.
class udp_sink {
 public:
  udp_sink() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~udp_sink() { ::close(fd_); }
  std::string url() const { return "udp://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  unsigned port_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// --- item 2: the regex engine meets long and pathological input ------------------------------

TEST(Grep, LongMessagesAndPathologicalPatternsNeitherCrashNorHang) {
  const std::string name = unique_segment("grep");
  const segment_cleanup cleanup(name);
  {
    record_segment segment(name);
    std::string long_message(40 * 1024, 'x');
    long_message.replace(20000, 7, "timeout");
    segment.write(level::error, "net", long_message);
    segment.write(level::info, "net", std::string(1024, 'a'));
    segment.write(level::info, "net", "short timeout");
    segment.close();
  }
  struct grep_case {
    std::string pattern;
    std::size_t matches;
  };
  for (const grep_case& c : std::vector<grep_case>{
           {".*timeout.*", 2}, {"(a*)*c", 0}, {"(x+x+)+y", 0}, {"^(a|aa)*$", 1}}) {
    for (const std::string command : {"tail", "forward"}) {
      const auto start = std::chrono::steady_clock::now();
      const auto r = run({cli_bin, command, name, "--from", "oldest", "--grep", c.pattern,
                          command == "tail" ? "--json" : "--to=-"},
                         20s);
      EXPECT_EQ(r.code, 0) << command << " --grep " << c.pattern << ": " << r.err;
      EXPECT_LT(seconds_since(start), 5.0) << command << " --grep " << c.pattern;
      std::size_t entries = 0;
      for (const json& line : parse_json_lines(r.out)) entries += line["type"].str() == "entry";
      EXPECT_EQ(entries, c.matches) << command << " --grep " << c.pattern;
    }
  }
}

TEST(Grep, HundredKilobytePayloadsFromTheDemoWriter) {
  for (const bool raw : {true, false}) {
    const std::string name = unique_segment("grep100k");
    const segment_cleanup cleanup(name);
    std::vector<std::string> args = {
        writer_bin, "-s",       name, "--size-dist", "fixed", "--payload-size",
        "100K",     "--count",  "5",  "--rate",      "0",     "--chunk-size",
        "1M",       "--chunks", "4",  "--keep",      "-q"};
    if (raw) args.push_back("--raw");
    const auto w = run(args);
    ASSERT_EQ(w.code, 0) << w.err;
    const auto start = std::chrono::steady_clock::now();
    const auto r =
        run({cli_bin, "tail", name, "--from", "oldest", "--grep", ".*timeout.*", "--json"}, 20s);
    EXPECT_EQ(r.code, 0) << (raw ? "raw" : "records") << ": " << r.err;
    EXPECT_LT(seconds_since(start), 5.0);
    const auto any = run({cli_bin, "tail", name, "--from", "oldest", "--grep", ".*", "--json"});
    EXPECT_EQ(any.code, 0) << any.err;
    std::size_t entries = 0;
    for (const json& line : parse_json_lines(any.out)) entries += line["type"].str() == "entry";
    EXPECT_EQ(entries, 5u);
  }
}

TEST(Grep, SigtermStopsAFollowingGrepPromptly) {
  const std::string name = unique_segment("grep-term");
  const segment_cleanup cleanup(name);
  record_segment segment(name);
  for (int i = 0; i < 50; ++i) segment.write(level::info, "a", std::string(1024, 'a'));
  process tail({cli_bin, "tail", name, "-f", "--from", "oldest", "--grep", "(a*)*c"});
  std::this_thread::sleep_for(700ms);
  tail.signal(SIGTERM);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(tail.wait(5s), 0) << "SIGTERM ends tail cleanly: " << tail.err();
  EXPECT_LT(seconds_since(start), 2.0);
  segment.close();
}

TEST(Forward, SigtermStopsASlowMaxRatePromptly) {
  const std::string name = unique_segment("slow-forward");
  const segment_cleanup cleanup(name);
  ASSERT_EQ(run({writer_bin, "-s", name, "--count", "5", "--rate", "0", "--keep", "-q"}).code, 0);
  // One message per 100 s: the first one is due long after the test.
  process forward({cli_bin, "forward", name, "--max-rate", "0.01", "--to", "-"});
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(forward.running()) << forward.err();
  forward.signal(SIGTERM);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(forward.wait(5s), 0) << forward.err();
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST(Grep, InvalidPatternIsAUsageErrorNamingTheProblem) {
  for (const std::string command : {"tail", "forward"}) {
    const auto r = run({cli_bin, command, "x", "--grep", "(unclosed"});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("invalid regular expression '(unclosed'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("missing )"), std::string::npos) << "RE2 says what is wrong: " << r.err;
    const auto backref = run({cli_bin, command, "x", "--grep", R"((a)\1)"});
    EXPECT_EQ(backref.code, 2) << "back-references have no linear-time match: " << backref.err;
    EXPECT_NE(backref.err.find("invalid regular expression"), std::string::npos) << backref.err;
  }
  const auto help = run({cli_bin, "tail", "--help"});
  EXPECT_NE(help.out.find("RE2"), std::string::npos) << "--help names the regex syntax";
}

// --- item 11: numeric options ----------------------------------------------------------------

TEST(NumericOptions, OutOfRangeAndMalformedNumbersAreUsageErrors) {
  struct bad {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<bad> cases = {
      {{cli_bin, "tail", "x", "--max", "-1"},
       "--max: expected a whole number from 0 to 18446744073709551615, got \"-1\""},
      {{cli_bin, "tail", "x", "--max", "18446744073709551616"}, "--max"},
      {{cli_bin, "tail", "x", "-n", "12abc"}, "--max"},
      {{cli_bin, "tail", "x", "-n", "1e3"}, "--max"},
      {{cli_bin, "tail", "x", "-n", ""}, "--max"},
      {{cli_bin, "forward", "x", "--max", "-5"}, "--max"},
      {{cli_bin, "forward", "x", "--max-rate", "-1"}, "--max-rate"},
      {{cli_bin, "forward", "x", "--max-rate", "nan"}, "--max-rate"},
      {{cli_bin, "forward", "x", "--max-rate", "inf"}, "--max-rate"},
      {{cli_bin, "forward", "x", "--max-rate", "1e400"}, "--max-rate"},
      {{cli_bin, "forward", "x", "--max-rate", "10/s"}, "--max-rate"},
      {{cli_bin, "forward", "x", "--max-message-size", "-1"}, "--max-message-size"},
      {{cli_bin, "forward", "x", "--max-message-size", "99999999999999999999"},
       "--max-message-size"},
      {{cli_bin, "list", "--window", "-5"}, "--window"},
      {{cli_bin, "list", "--window", "1.5"}, "--window"},
      {{cli_bin, "list", "--window", "99999999999"}, "--window"},
      {{cli_bin, "inspect", "x", "--rows", "-2"}, "--rows"},
      {{cli_bin, "inspect", "x", "--rows", "99999999999999999999"}, "--rows"},
      {{writer_bin, "--chunks", "-1"}, "--chunks"},
      {{writer_bin, "--chunks", "0"}, "--chunks"},
      {{writer_bin, "--chunks", "4294967297"}, "--chunks"},
      {{writer_bin, "--chunk-size", "-1K"}, "--chunk-size"},
      {{writer_bin, "--chunk-size", "99999999999T"}, "--chunk-size"},
      {{writer_bin, "--chunk-size", "64X"}, "--chunk-size"},
      {{writer_bin, "--size", "1.5Q"}, "--size"},
      {{writer_bin, "--payload-size", "-100"}, "--payload-size"},
      {{writer_bin, "--min-size", "18446744073709551616"}, "--min-size"},
      {{writer_bin, "--count", "-1"}, "--count"},
      {{writer_bin, "--seed", "-1"}, "--seed"},
      {{writer_bin, "--threads", "1.5"}, "--threads"},
      {{writer_bin, "--threads", "-1"}, "--threads"},
      {{writer_bin, "--rate", "nan"}, "--rate"},
      {{writer_bin, "--rate", "inf"}, "--rate"},
      {{writer_bin, "--rate", "1e400"}, "--rate"},
      {{writer_bin, "--duration", "nan"}, "--duration"},
      {{writer_bin, "--ramp", "-1"}, "--ramp"},
      {{writer_bin, "--ramp-from", "-3"}, "--ramp-from"},
      {{writer_bin, "--restart-every", "inf"}, "--restart-every"},
      {{writer_bin, "--stall-for", "1x"}, "--stall-for"},
      {{writer_bin, "--mode", "0666"}, "group or other"},
      {{writer_bin, "--mode", "0622"}, "group or other"},
      {{writer_bin, "--mode", "7777"}, "--mode"},
      {{writer_bin, "--mode", "4600"}, "setuid"},
      {{writer_bin, "--mode", "1600"}, "sticky"},
      {{writer_bin, "--mode", "08"}, "octal"},
      {{writer_bin, "--mode", "00000600"}, "octal"},
  };
  int failures = 0;
  const std::string name = unique_segment("numbers-bad");
  for (const bad& c : cases) {
    // Should a bad value be accepted, the writer must still end at once and not touch the
    // default segment.
    std::vector<std::string> args = c.args;
    if (args[0] == writer_bin) {
      const bool counted = std::find(args.begin(), args.end(), "--count") != args.end();
      const std::vector<std::string> extra = {"-s", name, counted ? "-d" : "--count",
                                              counted ? "0.05" : "1", "-q"};
      args.insert(args.begin() + 1, extra.begin(), extra.end());
    }
    const auto r = run(args, 10s);
    remove_segment(name);
    std::string shown;
    for (std::size_t i = 1; i < c.args.size(); ++i) shown += c.args[i] + " ";
    const bool ok = r.code == 2 && r.err.find(c.says) != std::string::npos;
    if (!ok) ++failures;
    EXPECT_TRUE(ok) << shown << "-> exit " << r.code << ", said: " << r.err << r.out;
  }
  EXPECT_EQ(failures, 0);
}

TEST(NumericOptions, SuffixesAndLimitsThatAreFineStillWork) {
  const std::string name = unique_segment("numbers");
  const segment_cleanup cleanup(name);
  const auto w = run({writer_bin,
                      "-s",
                      name,
                      "--chunks",
                      "4",
                      "--chunk-size",
                      "16K",
                      "--size-dist",
                      "uniform",
                      "--min-size",
                      "1K",
                      "--max-size",
                      "2KiB",
                      "--count",
                      "20",
                      "--rate",
                      "1e3",
                      "--seed",
                      "18446744073709551615",
                      "--mode",
                      "0640",
                      "--keep",
                      "--json"});
  ASSERT_EQ(w.code, 0) << w.err;
  const auto lines = parse_json_lines(w.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front()["chunk_size"].u64(), 16384u);
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + name).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  const auto t =
      run({cli_bin, "tail", name, "--from", "oldest", "--max", "18446744073709551615", "--json"});
  EXPECT_EQ(t.code, 0) << t.err;
  const auto three = run({cli_bin, "tail", name, "--from", "oldest", "-n", "3", "--json"});
  std::size_t entries = 0;
  for (const json& line : parse_json_lines(three.out)) entries += line["type"].str() == "entry";
  EXPECT_EQ(entries, 3u);
  const auto f = run({cli_bin, "forward", name, "--max-rate", "2.5e3", "--max-message-size", "1K",
                      "-n", "2", "--to", "-"});
  EXPECT_EQ(f.code, 0) << f.err;
  const auto l = run({cli_bin, "list", "--window", "0"});
  EXPECT_EQ(l.code, 0) << l.err;
  const auto i = run({cli_bin, "inspect", name, "--rows", "-1"});
  EXPECT_EQ(i.code, 0) << i.err;
}

// --- item 9: control characters never reach the terminal -------------------------------------

// No ESC, BEL, other C0 controls but TAB/LF, DEL, C1 controls or invalid UTF-8 in `text`.
std::string terminal_hazard(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
      return "control byte " + std::to_string(c) + " at " + std::to_string(i);
    }
    if (c == 0xC2 && i + 1 < text.size()) {
      const auto d = static_cast<unsigned char>(text[i + 1]);
      if (d >= 0x80 && d <= 0x9F) return "C1 control at " + std::to_string(i);
    }
    if (c >= 0x80) {
      const std::size_t length = (c & 0xE0) == 0xC0   ? 2
                                 : (c & 0xF0) == 0xE0 ? 3
                                 : (c & 0xF8) == 0xF0 ? 4
                                                      : 0;
      if (length == 0 || i + length > text.size()) return "invalid UTF-8 at " + std::to_string(i);
      for (std::size_t k = 1; k < length; ++k) {
        if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
          return "invalid UTF-8 at " + std::to_string(i);
      }
      i += length - 1;
    }
  }
  return "";
}

TEST(TerminalSafety, SegmentNamesWithEscapesAndNewlinesAreEscapedEverywhere) {
  const std::string name = unique_segment("esc") +
                           "\x1b[2J\x1b]0;owned\x07\nFAKE-ROW\xc2\x9b"
                           "1m";
  const segment_cleanup cleanup(name);
  const std::string shown_part = "\\x1b[2J\\x1b]0;owned\\x07\\x0aFAKE-ROW\\x9b1m";
  const auto w = run({writer_bin, "-s", name, "--count", "10", "--rate", "0", "--keep", "-q"});
  ASSERT_EQ(w.code, 0) << w.err;

  const auto list = run({cli_bin, "list", "--window", "0"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(terminal_hazard(list.out), "") << list.out;
  EXPECT_NE(list.out.find(shown_part), std::string::npos) << list.out;
  for (const auto& line : lines_of(list.out)) {
    EXPECT_NE(line.rfind("FAKE-ROW", 0), 0u) << "no faked row";
  }
  const auto list_json = run({cli_bin, "list", "--json", "--window", "0"});
  bool found = false;
  for (const json& line : parse_json_lines(list_json.out))
    found |= line["name"].str() == "/" + name;
  EXPECT_TRUE(found) << "JSON keeps the exact name";

  const auto inspect = run({cli_bin, "inspect", name});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  EXPECT_EQ(terminal_hazard(inspect.out), "") << inspect.out;
  EXPECT_NE(inspect.out.find(shown_part), std::string::npos) << inspect.out;

  const auto tail = run({cli_bin, "tail", name, "--from", "oldest"});
  ASSERT_EQ(tail.code, 0) << tail.err;
  EXPECT_EQ(terminal_hazard(tail.out), "");
  EXPECT_EQ(terminal_hazard(tail.err), "") << tail.err;
  EXPECT_NE(tail.err.find(shown_part), std::string::npos)
      << "the closed event names it: " << tail.err;

  const udp_sink sink;
  const auto forward = run({cli_bin, "forward", name, "--to", sink.url()});
  EXPECT_EQ(terminal_hazard(forward.err), "") << forward.err;

  // Error messages that echo a name.
  const std::string missing = unique_segment("missing") + "\x1b[31m\n";
  for (const std::string command : {"tail", "inspect", "forward"}) {
    const auto r = run({cli_bin, command, missing});
    EXPECT_EQ(r.code, 3) << command;
    EXPECT_EQ(terminal_hazard(r.err), "") << command << ": " << r.err;
    EXPECT_NE(r.err.find("\\x1b[31m\\x0a"), std::string::npos) << r.err;
  }
  const auto writer_error = run({writer_bin, "-s", "bad/\x1b[31mname"});
  EXPECT_EQ(writer_error.code, 2);
  EXPECT_EQ(terminal_hazard(writer_error.err), "") << writer_error.err;
}

TEST(TerminalSafety, TagsMessagesAndFieldsAreEscapedInText) {
  const std::string name = unique_segment("esc-records");
  const segment_cleanup cleanup(name);
  {
    record_segment segment(name);
    segment.write(level::warn, "t\x1b[31mag",
                  "title \x1b]0;pwned\x07 csi \xc2\x9b"
                  "2J del \x7f x",
                  {{"k\x1b[1m", "v\x1b[5m"}, {"q", "two words \x1b[0m \xc2\x85"}});
    segment.write(level::info, "plain", "multi\nline\ttab");
    // Invalid UTF-8 makes the record malformed: it is shown as bytes, escaped just the same.
    segment.write(level::info, "bin", "bad \xff\xfe \x1b[2J end");
    segment.close();
  }
  const auto t = run({cli_bin, "tail", name, "--from", "oldest", "--color", "never"});
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(terminal_hazard(t.out), "") << t.out;
  for (const char* shown :
       {"t\\x1b[31mag", "title \\x1b]0;pwned\\x07 csi \\x9b2J del \\x7f x", "k\\x1b[1m=v\\x1b[5m",
        "\\x1b[0m \\x85", "multi\n    line\ttab", "bad \\xff\\xfe \\x1b[2J end"}) {
    EXPECT_NE(t.out.find(shown), std::string::npos) << shown << " in " << t.out;
  }
  // JSON escapes them as JSON does.
  const auto j = run({cli_bin, "tail", name, "--from", "oldest", "--json"});
  ASSERT_EQ(j.code, 0);
  EXPECT_EQ(terminal_hazard(j.out), "");
}

// --- item 6: the tail contract's streams ------------------------------------------------------

TEST(TailContract, TextEventsGoToStderrJsonEventsToStdoutOnly) {
  const std::string name = unique_segment("contract");
  const segment_cleanup cleanup(name);
  const auto w = run({writer_bin, "-s", name, "--count", "50", "--rate", "0", "--keep", "-q"});
  ASSERT_EQ(w.code, 0) << w.err;
  const auto text = run({cli_bin, "tail", name, "--from", "oldest"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out.find("==="), std::string::npos) << "events are not data: " << text.out;
  EXPECT_NE(text.err.find("=== writer closed"), std::string::npos) << text.err;
  std::size_t entry_lines = 0;  // continuation lines of multi-line messages are indented
  for (const auto& line : lines_of(text.out)) entry_lines += line.rfind("    ", 0) != 0;
  EXPECT_EQ(entry_lines, 50u);

  const auto json_run = run({cli_bin, "tail", name, "--from", "oldest", "--json"});
  ASSERT_EQ(json_run.code, 0);
  EXPECT_EQ(json_run.err, "") << "JSON events are not repeated on stderr";
  const auto lines = parse_json_lines(json_run.out);
  ASSERT_EQ(lines.size(), 51u);
  EXPECT_EQ(lines.back()["type"].str(), "event") << "without --follow: said once, before exiting";
  EXPECT_EQ(lines.back()["event"].str(), "writer_closed");
  EXPECT_EQ(lines.back()["segment"].str(), "/" + name);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_EQ(lines[i]["type"].str(), "entry");

  // forward to syslog: the operator sees events on stderr.
  const udp_sink sink;
  const auto forward = run({cli_bin, "forward", name, "--to", sink.url()});
  EXPECT_EQ(forward.code, 0) << forward.err;
  EXPECT_NE(forward.err.find("=== writer closed"), std::string::npos) << forward.err;
}

TEST(TailContract, GoneIsReportedOnceAndFollowingContinuesForTheNextWriter) {
  const std::string name = unique_segment("gone-follow");
  const segment_cleanup cleanup(name);
  process first({writer_bin, "-s", name, "--rate", "2000", "--crash-after", "0.4", "--crash-mode",
                 "kill", "-q"});
  process tail({cli_bin, "tail", name, "--wait", "-f", "--from", "oldest", "--json"});
  EXPECT_EQ(first.wait(), 128 + SIGKILL);
  ASSERT_TRUE(tail.wait_for_output("\"writer_gone\"", 5s)) << tail.out().substr(0, 500);
  std::this_thread::sleep_for(700ms);
  EXPECT_TRUE(tail.running()) << "without --exit-on-close tail keeps following";
  // --keep: the new incarnation stays for the reader to find after the writer closed it.
  const auto second = run({writer_bin, "-s", name, "--rate", "0", "--count", "30", "--keep", "-q"});
  EXPECT_EQ(second.code, 0) << second.err;
  ASSERT_TRUE(tail.wait_for_output("\"writer_closed\"", 5s)) << tail.out().substr(0, 2000);
  tail.signal(SIGINT);
  EXPECT_EQ(tail.wait(5s), 0);
  std::vector<std::string> events;
  std::size_t after_restart = 0;
  bool restarted = false;
  for (const json& line : parse_json_lines(tail.out())) {
    if (line["type"].str() == "event") events.push_back(line["event"].str());
    if (line["type"].str() == "event" && line["event"].str() == "writer_restarted")
      restarted = true;
    if (restarted && line["type"].str() == "entry") ++after_restart;
  }
  EXPECT_EQ(std::count(events.begin(), events.end(), "writer_gone"), 1);
  EXPECT_EQ(std::count(events.begin(), events.end(), "writer_restarted"), 1);
  EXPECT_EQ(after_restart, 30u);
}

}  // namespace

namespace {

std::size_t count_entries(const std::vector<json>& lines) {
  std::size_t n = 0;
  for (const json& line : lines) n += line["type"].str() == "entry";
  return n;
}

// Events of a JSON stream, by kind.
std::vector<std::string> events_of(const std::vector<json>& lines) {
  std::vector<std::string> events;
  for (const json& line : lines) {
    if (line["type"].str() == "event") events.push_back(line["event"].str());
  }
  return events;
}

// --- items 1 and 6: a segment shrunk under following readers and its writer ------------------

TEST(ShrunkSegment, FollowingReadersAndTheWriterSurviveAndReport) {
  const std::string name = unique_segment("shrink");
  const segment_cleanup cleanup(name);
  process writer({writer_bin, "-s", name, "--rate", "2000", "-q"});
  process tail_json({cli_bin, "tail", name, "--wait", "-f", "--from", "oldest", "--json"});
  process tail_text({cli_bin, "tail", name, "--wait", "-f", "--from", "oldest"});
  process forward({cli_bin, "forward", name, "--wait", "-f", "--to", "-"});
  ASSERT_TRUE(tail_json.wait_for_output("\"type\":\"entry\"", 5s)) << tail_json.err();
  ASSERT_TRUE(forward.wait_for_output("\"type\":\"entry\"", 5s)) << forward.err();
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(::truncate(shm_path(name).c_str(), 4096), 0);

  EXPECT_TRUE(tail_json.wait_for_output("\"segment_truncated\"", 5s))
      << tail_json.out().substr(0, 300);
  EXPECT_TRUE(forward.wait_for_output("\"segment_truncated\"", 5s));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(tail_json.running()) << "code " << tail_json.wait(0ms) << ": " << tail_json.err();
  EXPECT_TRUE(tail_text.running()) << tail_text.err();
  EXPECT_TRUE(forward.running()) << forward.err();
  EXPECT_TRUE(writer.running()) << "the application that logs must not die: " << writer.err();
  EXPECT_NE(tail_text.err().find("=== segment /" + name + " was truncated"), std::string::npos)
      << tail_text.err();
  const std::size_t before = count_entries(parse_json_lines(tail_json.out()));
  EXPECT_GT(before, 100u) << "what was read stands";

  // Other tools on the shrunk segment: no crash, no hang.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{cli_bin, "list", "--window", "0"},
        std::vector<std::string>{cli_bin, "inspect", name},
        std::vector<std::string>{cli_bin, "tail", name, "--from", "oldest"}}) {
    const auto r = run(args, 10s);
    EXPECT_GE(r.code, 0) << args[1] << " finished";
    EXPECT_LT(r.code, 5) << args[1] << " did not crash: " << r.err;
  }

  writer.signal(SIGINT);
  EXPECT_EQ(writer.wait(), 0) << writer.err();
  EXPECT_NE(writer.err().find("was truncated by another process"), std::string::npos)
      << writer.err();

  // A new incarnation under the name: the followers re-open it and read it from its start.
  const auto next = run({writer_bin, "-s", name, "--rate", "0", "--count", "200", "--keep", "-q"});
  ASSERT_EQ(next.code, 0) << next.err;
  EXPECT_TRUE(tail_json.wait_for_output("\"writer_restarted\"", 5s))
      << tail_json.out().substr(0, 300);
  EXPECT_TRUE(forward.wait_for_output("\"writer_restarted\"", 5s));
  std::this_thread::sleep_for(700ms);
  for (process* p : {&tail_json, &tail_text, &forward}) {
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(5s), 0) << p->err();
  }
  for (process* p : {&tail_json, &forward}) {
    const auto lines = parse_json_lines(p->out());
    bool restarted = false;
    std::size_t after = 0;
    std::uint64_t next_seq = 1;
    for (const json& line : lines) {
      if (line["type"].str() == "event" && line["event"].str() == "writer_restarted")
        restarted = true;
      if (!restarted) continue;
      if (line["type"].str() == "entry") {
        EXPECT_EQ(line["seq"].u64(), next_seq);
        next_seq = line["seq"].u64() + 1;
        ++after;
      } else if (line["type"].str() == "gap") {
        EXPECT_EQ(line["first_seq"].u64(), next_seq);
        next_seq = line["last_seq"].u64() + 1;
      }
    }
    EXPECT_EQ(after, 200u) << "every entry of the new incarnation";
    EXPECT_EQ(next_seq, 201u);
  }
}

TEST(ShrunkSegment, RestoredSizeIsReadOnWithoutRepeatingEntries) {
  const std::string name = unique_segment("shrink-restore");
  const segment_cleanup cleanup(name);
  record_segment segment(name, 16 * 1024);
  // 100 entries of ~150 bytes: the reader's position lies beyond the first page, which is all
  // the truncation leaves.
  for (int i = 0; i < 100; ++i) {
    segment.write(level::info, "t", "before " + std::to_string(i) + " " + std::string(128, '.'));
  }
  struct stat st {};
  ASSERT_EQ(::stat(shm_path(name).c_str(), &st), 0);
  process tail({cli_bin, "tail", name, "-f", "--from", "oldest", "--json"});
  ASSERT_TRUE(tail.wait_for_output("\"seq\":100,", 5s)) << tail.err();
  ASSERT_EQ(::truncate(shm_path(name).c_str(), 4096), 0);
  // The reader notices on its next read of the lost pages: give it something to read.
  segment.write(level::info, "t", "while shrunk");
  ASSERT_TRUE(tail.wait_for_output("\"segment_truncated\"", 5s)) << tail.out().substr(0, 300);
  ASSERT_EQ(::truncate(shm_path(name).c_str(), st.st_size), 0);
  ASSERT_TRUE(tail.wait_for_output("\"attached\"", 5s)) << tail.out().substr(0, 300);
  std::this_thread::sleep_for(300ms);
  tail.signal(SIGINT);
  EXPECT_EQ(tail.wait(5s), 0);
  std::set<std::uint64_t> seen;
  for (const json& line : parse_json_lines(tail.out())) {
    if (line["type"].str() != "entry") continue;
    EXPECT_TRUE(seen.insert(line["seq"].u64()).second)
        << "entry " << line["seq"].u64() << " shown twice";
  }
  EXPECT_GE(seen.size(), 100u);
}

TEST(ShrunkSegment, WriterEndWhileShrunkIsReportedAndEndsExitOnClose) {
  const std::string name = unique_segment("shrink-gone");
  const segment_cleanup cleanup(name);
  process writer({writer_bin, "-s", name, "--rate", "2000", "--crash-after", "1.2", "--crash-mode",
                  "kill", "-q"});
  process tail(
      {cli_bin, "tail", name, "--wait", "-f", "--from", "oldest", "--exit-on-close", "--json"});
  ASSERT_TRUE(tail.wait_for_output("\"type\":\"entry\"", 5s)) << tail.err();
  ASSERT_EQ(::truncate(shm_path(name).c_str(), 4096), 0);
  ASSERT_TRUE(tail.wait_for_output("\"segment_truncated\"", 5s));
  EXPECT_EQ(writer.wait(), 128 + SIGKILL);
  ASSERT_EQ(tail.wait(5s), 0) << "the header still tells that the writer is gone: " << tail.err();
  const auto events = events_of(parse_json_lines(tail.out()));
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2], "segment_truncated");
  EXPECT_EQ(events.back(), "writer_gone");
}

// --- item 4: FIFOs and symbolic links under the name ------------------------------------------

TEST(NotARegularFile, FifoAndSymlinkAreClearErrorsNotHangs) {
  const std::string fifo = unique_segment("fifo");
  const segment_cleanup fifo_cleanup(fifo);
  ASSERT_EQ(::mkfifo(shm_path(fifo).c_str(), 0666), 0);
  const std::string target = unique_segment("link-target");
  const segment_cleanup target_cleanup(target);
  ASSERT_EQ(run({writer_bin, "-s", target, "--count", "5", "--rate", "0", "--keep", "-q"}).code, 0);
  const std::string link = unique_segment("link");
  const segment_cleanup link_cleanup(link);
  ASSERT_EQ(::symlink(shm_path(target).c_str(), shm_path(link).c_str()), 0);

  struct expectation {
    std::string name;
    std::string kind;
  };
  for (const expectation& e : {expectation{fifo, "a FIFO"}, expectation{link, "a symbolic link"}}) {
    const std::string says = "is not a regular file (it is " + e.kind + ")";
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{cli_bin, "tail", e.name},
          std::vector<std::string>{cli_bin, "tail", e.name, "-f", "--wait"},
          std::vector<std::string>{cli_bin, "inspect", e.name},
          std::vector<std::string>{cli_bin, "forward", e.name}}) {
      const auto start = std::chrono::steady_clock::now();
      const auto r = run(args, 10s);
      EXPECT_LT(seconds_since(start), 5.0) << args[1] << " " << e.kind;
      EXPECT_EQ(r.code, 4) << args[1] << " " << e.kind << ": " << r.err;
      EXPECT_NE(r.err.find(says), std::string::npos) << args[1] << ": " << r.err;
    }
    const auto w = run({writer_bin, "-s", e.name, "--count", "1", "-q"}, 10s);
    EXPECT_EQ(w.code, 2) << e.kind << ": " << w.err;
    EXPECT_NE(w.err.find(says), std::string::npos) << w.err;
  }
  const auto list = run({cli_bin, "list", "--json", "--window", "0"}, 10s);
  EXPECT_EQ(list.code, 0) << list.err;
  for (const json& line : parse_json_lines(list.out)) {
    EXPECT_NE(line["name"].str(), "/" + fifo);
    EXPECT_NE(line["name"].str(), "/" + link);
  }
  struct stat st {};
  EXPECT_EQ(::lstat(shm_path(fifo).c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "nobody replaced the FIFO without --take-over";
}

// --- item 10: the owner of a segment ---------------------------------------------------------

TEST(Owner, ListAndInspectShowItAndReadersWarnWhenItIsNotYou) {
  const std::string name = unique_segment("owner");
  const segment_cleanup cleanup(name);
  ASSERT_EQ(run({writer_bin, "-s", name, "--count", "20", "--rate", "0", "--mode", "0644", "--keep",
                 "-q"})
                .code,
            0);
  const uid_t me = ::geteuid();
  // Our own segment: no warning anywhere.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{cli_bin, "tail", name},
        std::vector<std::string>{cli_bin, "inspect", name}}) {
    const auto r = run(args);
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  }
  const auto mine = run({cli_bin, "list", "--json", "--window", "0"});
  for (const json& line : parse_json_lines(mine.out)) {
    if (line["name"].str() == "/" + name) {
      EXPECT_EQ(line["owner_uid"].u64(), me);
    }
  }

  // Someone else's: chown needs root.
  constexpr uid_t other = 54321;  // no such user: shown as the number
  if (::chown(shm_path(name).c_str(), other, other) != 0) GTEST_SKIP() << "chown needs root";
  const std::string warning = "warning: segment /" + name +
                              " is owned by user 54321 (uid 54321), " + "not by you (uid " +
                              std::to_string(me) + ")";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{cli_bin, "tail", name, "--from", "oldest"},
        std::vector<std::string>{cli_bin, "tail", name, "--from", "oldest", "--json"},
        std::vector<std::string>{cli_bin, "inspect", name},
        std::vector<std::string>{cli_bin, "forward", name}}) {
    const auto r = run(args);
    EXPECT_EQ(r.code, 0) << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find(warning), std::string::npos) << args[1] << ": " << r.err;
    std::size_t warnings = 0;
    for (std::size_t at = r.err.find("warning:"); at != std::string::npos;
         at = r.err.find("warning:", at + 1)) {
      ++warnings;
    }
    EXPECT_EQ(warnings, 1u) << "once";
    EXPECT_EQ(r.out.find("warning"), std::string::npos) << "not in the data";
  }
  const auto inspect = run({cli_bin, "inspect", name});
  EXPECT_NE(inspect.out.find("owner        54321 (uid 54321)"), std::string::npos) << inspect.out;
  const auto inspect_json = run({cli_bin, "inspect", name, "--json"});
  const json i = parse_json(lines_of(inspect_json.out).at(0));
  EXPECT_EQ(i["owner_uid"].u64(), 54321u);
  const auto list_text = run({cli_bin, "list", "--window", "0"});
  EXPECT_NE(list_text.out.find("OWNER"), std::string::npos);
  bool listed = false;
  for (const auto& line : lines_of(list_text.out)) {
    if (line.rfind(name + " ", 0) == 0) {
      listed = true;
      EXPECT_NE(line.find(" 54321 "), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(listed) << list_text.out;
  const auto list_json = run({cli_bin, "list", "--json", "--window", "0"});
  for (const json& line : parse_json_lines(list_json.out)) {
    if (line["name"].str() != "/" + name) continue;
    EXPECT_EQ(line["owner_uid"].u64(), 54321u);
  }

  // A known user is shown by name.
  if (const passwd* nobody = ::getpwnam("nobody"); nobody != nullptr) {
    ASSERT_EQ(::chown(shm_path(name).c_str(), nobody->pw_uid, nobody->pw_gid), 0);
    const auto named = run({cli_bin, "inspect", name, "--json"});
    EXPECT_EQ(parse_json(lines_of(named.out).at(0))["owner"].str(), "nobody");
    EXPECT_NE(named.err.find("is owned by user nobody (uid "), std::string::npos) << named.err;
  }
}

// --- item 5: entries lost around a restart are counted ---------------------------------------

TEST(RestartAccounting, DeliveredPlusLostEqualsWrittenAcrossIncarnations) {
  const std::string name = unique_segment("restart-loss");
  const segment_cleanup cleanup(name);
  // Incarnations of 0.9 s: each lives several of the reader's 250 ms re-checks, so the reader
  // sees every one (an incarnation that lived and died unseen could not be counted).
  process writer({writer_bin, "-s", name, "--rate", "20000", "-d", "3.2", "--restart-every", "0.9",
                  "--chunks", "4", "--chunk-size", "4K", "--json"});
  process tail(
      {cli_bin, "tail", name, "--wait", "-f", "--from", "oldest", "--exit-on-close", "--json"});
  std::this_thread::sleep_for(500ms);
  tail.signal(SIGSTOP);  // the writer restarts meanwhile and laps its new, small ring
  std::this_thread::sleep_for(800ms);
  tail.signal(SIGCONT);
  ASSERT_EQ(writer.wait(), 0) << writer.err();
  ASSERT_EQ(tail.wait(10s), 0) << tail.err();
  std::uint64_t written = 0;
  int writer_restarts = 0;
  for (const json& line : parse_json_lines(writer.out())) {
    if (line["type"].str() == "summary") written = line["entries"].u64();
    writer_restarts += line["type"].str() == "restart";
  }
  ASSERT_GT(written, 50000u);
  ASSERT_EQ(writer_restarts, 3);

  // Per incarnation: the items cover 1..last without holes (the first incarnation from wherever
  // the reader attached), so delivered + lost = written.
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t first_of_first = 0;
  std::uint64_t next = 0;
  int incarnation = 0;
  bool restart_gap_seen = false;
  for (const json& line : parse_json_lines(tail.out())) {
    const std::string type = line["type"].str();
    if (type == "event") {
      if (line["event"].str() == "writer_restarted") {
        ++incarnation;
        next = 1;
      }
      continue;
    }
    const std::uint64_t first = type == "entry" ? line["seq"].u64() : line["first_seq"].u64();
    const std::uint64_t last = type == "entry" ? first : line["last_seq"].u64();
    if (incarnation == 0 && first_of_first == 0) {
      first_of_first = first;
      next = first;
    }
    EXPECT_EQ(first, next) << "incarnation " << incarnation << ": no hole before seq " << first;
    if (type == "gap" && incarnation > 0 && first == 1) restart_gap_seen = true;
    if (type == "entry") {
      ++delivered;
    } else {
      lost += line["lost"].u64();
    }
    next = last + 1;
  }
  EXPECT_EQ(incarnation, 3);
  EXPECT_TRUE(restart_gap_seen) << "the stopped reader lost the start of an incarnation";
  EXPECT_EQ(delivered + lost + (first_of_first - 1), written)
      << "delivered " << delivered << ", lost " << lost << ", attached at " << first_of_first;
}

// --- item 7: a zombie writer is gone ---------------------------------------------------------

TEST(ZombieWriter, CountsAsGone) {
  const std::string name = unique_segment("zombie");
  const segment_cleanup cleanup(name);
  // Killed but never reaped by this test (its parent) until the end: a zombie.
  process writer({writer_bin, "-s", name, "--rate", "1000", "--crash-after", "0.3", "--crash-mode",
                  "kill", "-q"});
  const std::string stat_path = "/proc/" + std::to_string(writer.pid()) + "/stat";
  bool zombie = false;
  for (int i = 0; i < 500 && !zombie; ++i) {
    const std::string stat = read_file(stat_path);
    const auto close = stat.rfind(')');
    zombie = close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(zombie);
  const auto t = run({cli_bin, "tail", name, "--from", "oldest", "--json"}, 10s);
  EXPECT_EQ(t.code, 0) << t.err;
  const auto events = events_of(parse_json_lines(t.out));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "writer_gone");
  const auto follow =
      run({cli_bin, "tail", name, "-f", "--from", "oldest", "--exit-on-close", "--json"}, 10s);
  EXPECT_EQ(follow.code, 0) << "follow --exit-on-close ends: the zombie is gone";
  const auto list = run({cli_bin, "list", "--json", "--window", "0"});
  for (const json& line : parse_json_lines(list.out)) {
    if (line["name"].str() == "/" + name) {
      EXPECT_EQ(line["writer"].str(), "gone");
    }
  }
  const auto again = run({writer_bin, "-s", name, "--count", "1", "-q"});
  EXPECT_EQ(again.code, 0) << "a new writer may take the name: " << again.err;
}

}  // namespace
