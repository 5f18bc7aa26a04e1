// End-to-end tests: the real ouroboros-demo-writer and ouroboros-cli binaries on real segments.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "tool_support.hpp"

// These tests read a segment kept (--keep) after its writer exited; a Windows section goes with
// its last handle (docs/format.md 10.3).
#ifdef _WIN32
#define SKIP_WHERE_KEPT_SEGMENTS_GO_WITH_THEIR_WRITER() \
  GTEST_SKIP() << "reads a segment kept (--keep) after its writer exited (docs/format.md 10.3)"
#else
#define SKIP_WHERE_KEPT_SEGMENTS_GO_WITH_THEIR_WRITER() static_cast<void>(0)
#endif

namespace {

using namespace ouroboros::test_tools;
using namespace std::chrono_literals;

// Checks a stream of tail/forward JSON lines: sequence numbers rise, gaps start right after the
// last entry and end right before the next; returns {entries, lost}. Restarts reset the count.
struct stream_check {
  std::uint64_t entries = 0;
  std::uint64_t lost = 0;
  std::uint64_t gaps = 0;
  std::uint64_t restarts = 0;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::vector<std::string> events;
};

// Every entry of a segment, oldest first, as `tail --json` prints them.
std::vector<json> tail_oldest_json(const std::string& name) {
  const auto t = run({cli_bin, "tail", name, "--from", "oldest", "--json"});
  EXPECT_EQ(t.code, 0) << t.err;
  return parse_json_lines(t.out);
}

stream_check check_stream(const std::vector<json>& lines) {
  stream_check c;
  std::uint64_t next = 0;  // 0: anything may come first
  for (const json& line : lines) {
    const std::string type = line["type"].str();
    if (type == "entry") {
      const std::uint64_t seq = line["seq"].u64();
      if (next != 0) {
        EXPECT_EQ(seq, next) << "entries arrive in order, with gaps reported";
      }
      if (c.first == 0) c.first = seq;
      c.last = seq;
      next = seq + 1;
      ++c.entries;
    } else if (type == "gap") {
      const std::uint64_t first = line["first_seq"].u64();
      const std::uint64_t last = line["last_seq"].u64();
      if (next != 0) {
        EXPECT_EQ(first, next) << "a gap starts right after the last entry";
      }
      EXPECT_EQ(last - first + 1, line["lost"].u64());
      if (c.first == 0) c.first = first;  // lapped before the first entry could be read
      next = last + 1;
      c.lost += line["lost"].u64();
      ++c.gaps;
      c.last = last;
    } else if (type == "event") {
      c.events.push_back(line["event"].str());
      if (line["event"].str() == "writer_restarted") {
        ++c.restarts;
        next = 0;
      }
    } else {
      ADD_FAILURE() << "unknown line type " << type;
    }
  }
  return c;
}

TEST(DemoWriterAndTail, JsonOutputParsesBackCompletely) {
  SKIP_WHERE_KEPT_SEGMENTS_GO_WITH_THEIR_WRITER();
  const std::string name = unique_segment("json");
  const auto w =
      run({writer_bin, "-s", name, "--rate", "20000", "--count", "600", "--keep", "--json"});
  ASSERT_EQ(w.code, 0) << w.err;
  const auto writer_lines = parse_json_lines(w.out);
  ASSERT_GE(writer_lines.size(), 2u);
  EXPECT_EQ(writer_lines.front()["type"].str(), "start");
  EXPECT_EQ(writer_lines.back()["type"].str(), "summary");
  EXPECT_EQ(writer_lines.back()["entries"].u64(), 600u);

  const auto lines = tail_oldest_json(name);
  const auto c = check_stream(lines);
  EXPECT_EQ(c.entries, 600u);
  EXPECT_EQ(c.first, 1u);
  EXPECT_EQ(c.last, 600u);
  EXPECT_EQ(c.lost, 0u);
  ASSERT_EQ(c.events.size(), 1u) << "the clean close is reported";
  EXPECT_EQ(c.events[0], "writer_closed");
  const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical"};
  std::set<std::string> seen_levels;
  const auto now_ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  for (const json& line : lines) {
    if (line["type"].str() != "entry") continue;
    EXPECT_EQ(levels.count(line["level"].str()), 1u);
    seen_levels.insert(line["level"].str());
    EXPECT_FALSE(line["tag"].str().empty());
    EXPECT_GT(line["thread"].u64(), 0u);
    EXPECT_FALSE(line["message"].str().empty());
    EXPECT_NEAR(line["time_ns"].num(), now_ns, 60e9)
        << "wall-clock time, converted from ticks if need be";
  }
  EXPECT_GE(seen_levels.size(), 4u);

  // Filters: level, tag, regex.
  const auto errors =
      run({cli_bin, "tail", name, "--from", "oldest", "--json", "--level", "error"});
  int error_lines = 0;
  for (const json& line : parse_json_lines(errors.out)) {
    if (line["type"].str() != "entry") continue;
    ++error_lines;
    EXPECT_TRUE(line["level"].str() == "error" || line["level"].str() == "critical");
  }
  EXPECT_GT(error_lines, 0);
  const auto http = run({cli_bin, "tail", name, "--from", "oldest", "--json", "-t", "http,db"});
  int http_lines = 0;
  for (const json& line : parse_json_lines(http.out)) {
    if (line["type"].str() != "entry") continue;
    ++http_lines;
    EXPECT_TRUE(line["tag"].str() == "http" || line["tag"].str() == "db");
  }
  EXPECT_GT(http_lines, 0);
  const auto grep = run({cli_bin, "tail", name, "--from", "oldest", "--json", "-g", "^get ", "-i"});
  int grep_lines = 0;
  for (const json& line : parse_json_lines(grep.out)) {
    if (line["type"].str() != "entry") continue;
    ++grep_lines;
    EXPECT_EQ(line["message"].str().rfind("GET ", 0), 0u);
  }
  EXPECT_GT(grep_lines, 0);

  // Text output: no colour when stdout is not a terminal, one entry per line start.
  const auto text = run({cli_bin, "tail", name, "--from", "oldest", "-n", "50"});
  ASSERT_EQ(text.code, 0);
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos);
  const std::regex line_format(
      R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} (TRACE|DEBUG|INFO |WARN |ERROR|CRIT ) \S+ +\[\d+\] .*)");
  int text_entries = 0;
  for (const auto& line : lines_of(text.out)) {
    if (line.rfind("===", 0) == 0 || line.rfind("    ", 0) == 0) continue;
    EXPECT_TRUE(std::regex_match(line, line_format)) << line;
    ++text_entries;
  }
  EXPECT_EQ(text_entries, 50);

  // forward to stdout gives the same JSON entries.
  const auto forwarded = run({cli_bin, "forward", name, "--to", "-"});
  ASSERT_EQ(forwarded.code, 0) << forwarded.err;
  EXPECT_EQ(check_stream(parse_json_lines(forwarded.out)).entries, 600u);
  remove_segment(name);
}

TEST(DemoWriterAndTail, FollowGivesAJustStartedWriterTimeToCreateTheSegment) {
  // scripts/run.sh starts the writer in the background and tails it right away.
  const std::string name = unique_segment("race");
  process tail(
      {cli_bin, "tail", name, "--follow", "--from", "oldest", "--exit-on-close", "--json"});
  std::this_thread::sleep_for(300ms);
  const auto w = run({writer_bin, "-s", name, "--rate", "2000", "--count", "100", "-q"});
  ASSERT_EQ(w.code, 0) << w.err;
  ASSERT_EQ(tail.wait(10s), 0) << tail.err();
  EXPECT_EQ(check_stream(parse_json_lines(tail.out())).entries, 100u);
}

TEST(DemoWriterAndTail, StagedProducersDeliverEveryRecordOfEveryThread) {
  SKIP_WHERE_KEPT_SEGMENTS_GO_WITH_THEIR_WRITER();
  const std::string name = unique_segment("staged");
  const auto w = run({writer_bin, "-s", name, "--producers", "staged", "--threads", "3", "--rate",
                      "30000", "--count", "3000", "--keep", "--json"});
  ASSERT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(parse_json_lines(w.out).back()["entries"].u64(), 3000u);
  const auto lines = tail_oldest_json(name);
  const auto c = check_stream(lines);
  EXPECT_EQ(c.entries, 3000u);
  EXPECT_EQ(c.lost, 0u);
  std::set<std::uint64_t> threads;
  for (const json& line : lines) {
    if (line["type"].str() == "entry") threads.insert(line["thread"].u64());
  }
  EXPECT_EQ(threads.size(), 3u);
  remove_segment(name);
  const auto raw = run({writer_bin, "-s", name, "--raw", "--producers", "staged", "-n", "1"});
  EXPECT_EQ(raw.code, 2);
  EXPECT_NE(raw.err.find("--producers"), std::string::npos) << raw.err;
}

// --deferred: the demo logs through call sites with format strings and typed arguments, so the
// segment holds deferred records (dictionary + ids + arguments) that tail formats.
TEST(DemoWriterAndTail, DeferredRecordsAreFormattedByTheReader) {
  SKIP_WHERE_KEPT_SEGMENTS_GO_WITH_THEIR_WRITER();
  const std::string name = unique_segment("deferred");
  const auto w = run({writer_bin, "-s", name, "--deferred", "--threads", "2", "--rate", "20000",
                      "--count", "2000", "--keep", "--json"});
  ASSERT_EQ(w.code, 0) << w.err;
  const json summary = parse_json_lines(w.out).back();
  EXPECT_EQ(summary["entries"].u64(), 2000u);
  // Deferred records of these calls take 40-80 bytes; their text would take 60-110.
  EXPECT_GT(summary["bytes"].u64(), 2000u * 35);
  EXPECT_LT(summary["bytes"].u64(), 2000u * 90);
  const auto lines = tail_oldest_json(name);
  const auto c = check_stream(lines);
  EXPECT_EQ(c.entries, 2000u);
  EXPECT_EQ(c.lost, 0u);
  int http = 0;
  for (const json& line : lines) {
    if (line["type"].str() != "entry") continue;
    ASSERT_FALSE(line.has("malformed")) << line["malformed"].str();
    const std::string message = line["message"].str();
    EXPECT_EQ(message.find('{'), std::string::npos) << "formatted: " << message;
    if (line["tag"].str() == "http" && message.find(" -> ") != std::string::npos) {
      ++http;
      EXPECT_NE(message.find(" ms (request "), std::string::npos) << message;
    }
  }
  EXPECT_GT(http, 100);
  const auto text = run({cli_bin, "tail", name, "--from", "oldest"});
  EXPECT_NE(text.out.find("worker 1 picked job"), std::string::npos) << "both producers' calls";
  // The logger reserved the dictionary the format strings went to (none without --deferred).
  const auto inspect = run({cli_bin, "inspect", name, "--json"});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  EXPECT_GT(parse_json_lines(inspect.out).at(0)["extension"]["dictionary_capacity"].u64(), 0u);
  remove_segment(name);
  const auto raw = run({writer_bin, "-s", name, "--deferred", "--raw", "-n", "1"});
  EXPECT_EQ(raw.code, 2);
  EXPECT_NE(raw.err.find("--deferred"), std::string::npos) << raw.err;
  const auto sized = run({writer_bin, "-s", name, "--deferred", "--size-dist", "fixed", "-n", "1"});
  EXPECT_EQ(sized.code, 2);
  EXPECT_NE(sized.err.find("--size-dist"), std::string::npos) << sized.err;
}

TEST(DemoWriterAndTail, RawPayloadsWithFixedSizes) {
  SKIP_WHERE_KEPT_SEGMENTS_GO_WITH_THEIR_WRITER();
  const std::string name = unique_segment("raw");
  const auto w = run({writer_bin, "-s", name, "--raw", "--size-dist", "fixed", "--payload-size",
                      "100", "--rate", "0", "--count", "300", "--keep", "-q"});
  ASSERT_EQ(w.code, 0) << w.err;
  const auto t = run({cli_bin, "tail", name, "--from", "oldest", "--json"});
  ASSERT_EQ(t.code, 0) << t.err;
  int entries = 0;
  for (const json& line : parse_json_lines(t.out)) {
    if (line["type"].str() != "entry") continue;
    ++entries;
    EXPECT_FALSE(line.has("level")) << "raw payloads are plain messages";
    EXPECT_EQ(line["message"].str().size(), 100u);
    EXPECT_EQ(line["message"].str().rfind("raw 0:", 0), 0u);
  }
  EXPECT_EQ(entries, 300);
  remove_segment(name);
}

TEST(DemoWriterAndTail, BurstAndRampPlansWriteTheirIntegral) {
  const std::string burst = unique_segment("burst");
  const auto b =
      run({writer_bin, "-s", burst, "--rate", "2000", "--burst", "0.3:0.3", "-d", "1.2", "--json"});
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(parse_json_lines(b.out).back()["entries"].u64(), 1200u)
      << "2 bursts of 0.3 s at 2000/s";
  const std::string ramp = unique_segment("ramp");
  const auto r = run({writer_bin, "-s", ramp, "--rate", "3000", "--ramp", "0.5", "--ramp-from",
                      "1000", "-d", "1", "--threads", "2", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto entries = parse_json_lines(r.out).back()["entries"].u64();
  EXPECT_NEAR(static_cast<double>(entries), 2000.0, 2.0)
      << "(1000 + 3000) / 2 * 1 s, split over 2 threads";
}

TEST(DemoWriterAndTail, TailReportsGapsInBothFormatsWhenLapped) {
#ifdef _WIN32
  GTEST_SKIP() << "needs SIGSTOP/SIGCONT to freeze the reader (Windows has no such signals); the "
                  "gap reports themselves are covered by the core suites on Windows";
#else
  for (const std::string format : {"json", "text"}) {
    const std::string name = unique_segment("gap");
    process writer({writer_bin, "-s", name, "--rate", "20000", "-d", "1.5", "--chunks", "4",
                    "--chunk-size", "4K", "-q"});
    std::vector<std::string> args = {cli_bin,    "tail",   name,     "--wait",
                                     "-f",       "--from", "oldest", "--exit-on-close",
                                     "--format", format};
    process tail(args);
    std::this_thread::sleep_for(300ms);
    tail.signal(SIGSTOP);  // the reader falls behind while the writer laps the small ring
    std::this_thread::sleep_for(400ms);
    tail.signal(SIGCONT);
    EXPECT_EQ(writer.wait(), 0) << writer.err();
    ASSERT_EQ(tail.wait(10s), 0) << tail.err();
    if (format == "json") {
      const auto c = check_stream(parse_json_lines(tail.out()));
      EXPECT_GE(c.gaps, 1u);
      // The first entry read may be later than 1: the writer can lap the ring before tail
      // attaches, and a reader starting at the oldest entry has lost nothing yet.
      EXPECT_GE(c.first, 1u);
      EXPECT_EQ(c.last, 30000u) << "every entry up to the last one written is accounted for";
      EXPECT_EQ(c.entries + c.lost, 30000u - c.first + 1);
    } else {
      const std::regex gap(R"(^--- (\d+) entr(y|ies) overwritten, seq (\d+)(–(\d+))? ---$)");
      int gaps = 0;
      for (const auto& line : lines_of(tail.out())) {
        std::smatch m;
        if (!std::regex_match(line, m, gap)) continue;
        ++gaps;
        const auto lost = std::stoull(m[1]);
        const auto first = std::stoull(m[3]);
        const auto last = m[5].matched ? std::stoull(m[5]) : first;
        EXPECT_EQ(last - first + 1, lost) << line;
      }
      EXPECT_GE(gaps, 1);
    }
  }
#endif
}

TEST(FaultModes, RestartIsSeenAndTailReattaches) {
#ifdef _WIN32
  GTEST_SKIP() << "under Wine the tail once missed 1 of 2400 entries across the writer's in-place "
                  "restart (1 run in 3); listed in docs/windows.md until its cause is known";
#endif
  const std::string name = unique_segment("restart");
  process writer(
      {writer_bin, "-s", name, "--rate", "1000", "-d", "2.4", "--restart-every", "0.7", "--json"});
  process tail(
      {cli_bin, "tail", name, "--wait", "-f", "--from", "oldest", "--exit-on-close", "--json"});
  ASSERT_EQ(writer.wait(), 0) << writer.err();
  ASSERT_EQ(tail.wait(10s), 0) << tail.err();
  int writer_restarts = 0;
  for (const json& line : parse_json_lines(writer.out()))
    writer_restarts += line["type"].str() == "restart";
  EXPECT_EQ(writer_restarts, 3);
  const auto lines = parse_json_lines(tail.out());
  const auto c = check_stream(lines);
  EXPECT_EQ(c.restarts, 3u) << tail.out().substr(0, 2000);
  // After each restart the sequence starts again at 1: a new incarnation, read from its oldest.
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i]["type"].str() == "event" && lines[i]["event"].str() == "writer_restarted") {
      ASSERT_EQ(lines[i + 1]["type"].str(), "entry");
      EXPECT_EQ(lines[i + 1]["seq"].u64(), 1u);
    }
  }
  EXPECT_EQ(c.entries, 2400u) << "nothing lost across restarts at this rate";

  // Text format says so too, on stderr: events are not data.
  const std::string again = unique_segment("restart-text");
  process writer2(
      {writer_bin, "-s", again, "--rate", "500", "-d", "1.2", "--restart-every", "0.5", "-q"});
  process tail2({cli_bin, "tail", again, "--wait", "-f", "--exit-on-close"});
  ASSERT_EQ(writer2.wait(), 0);
  ASSERT_EQ(tail2.wait(10s), 0);
  EXPECT_NE(tail2.err().find("=== writer restarted: segment /" + again + " was re-created"),
            std::string::npos);
}

TEST(FaultModes, CrashIsSeenAsWriterGone) {
  for (const std::string mode : {"exit", "kill", "abort"}) {
    const std::string name = unique_segment("crash");
    process writer({writer_bin, "-s", name, "--rate", "2000", "--crash-after", "0.5",
                    "--crash-mode", mode, "-q"});
    process tail(
        {cli_bin, "tail", name, "--wait", "-f", "--from", "oldest", "--exit-on-close", "--json"});
    const int code = writer.wait();  // reaped here, so the pid is really gone
    EXPECT_NE(code, 0) << mode;
#ifdef _WIN32
    if (mode == "kill") {
      EXPECT_EQ(code, 137);  // TerminateProcess with 128 + 9, as on POSIX
    }
    if (mode == "abort") {
      EXPECT_EQ(code, 3);  // the C runtime's abort()
    }
#else
    if (mode == "kill") {
      EXPECT_EQ(code, 128 + SIGKILL);
    }
    if (mode == "abort") {
      EXPECT_EQ(code, 128 + SIGABRT);
    }
#endif
    ASSERT_EQ(tail.wait(10s), 0) << "tail stops by itself once the writer is gone: " << tail.err();
    const auto c = check_stream(parse_json_lines(tail.out()));
    ASSERT_FALSE(c.events.empty());
    EXPECT_EQ(c.events.back(), "writer_gone") << mode;
    EXPECT_GT(c.entries, 500u);
    EXPECT_EQ(c.lost, 0u);
#ifndef _WIN32
    // The crash left the segment behind, as a crash does (on Windows it went with the tail's
    // handle, the last one).
    std::ifstream left("/dev/shm/" + name);
    EXPECT_TRUE(left.good());
#endif
    remove_segment(name);
  }
}

TEST(FaultModes, StallPausesWritingButNotTheWriter) {
  const std::string name = unique_segment("stall");
  process writer({writer_bin, "-s", name, "--rate", "1000", "-d", "1.5", "--stall-after", "0.5",
                  "--stall-for", "1", "--json"});
  process tail(
      {cli_bin, "tail", name, "--wait", "-f", "--from", "oldest", "--exit-on-close", "--json"});
  ASSERT_EQ(writer.wait(), 0) << writer.err();
  ASSERT_EQ(tail.wait(10s), 0);
  const auto lines = parse_json_lines(tail.out());
  const auto c = check_stream(lines);
  EXPECT_EQ(c.entries, 1500u) << "the planned entries, the schedule paused during the stall";
  EXPECT_EQ(c.lost, 0u);
  ASSERT_FALSE(c.events.empty());
  EXPECT_EQ(std::count(c.events.begin(), c.events.end(), "writer_gone"), 0)
      << "a stalled writer is not gone";
  EXPECT_EQ(c.events.back(), "writer_closed");
  double longest_pause = 0;
  double previous = 0;
  for (const json& line : lines) {
    if (line["type"].str() != "entry") continue;
    const double t = line["time_ns"].num() / 1e9;
    if (previous != 0) longest_pause = std::max(longest_pause, t - previous);
    previous = t;
  }
  EXPECT_GT(longest_pause, 0.9);
  EXPECT_LT(longest_pause, 1.5);
}

TEST(ListAndInspect, LiveDeadAndForeignSegments) {
#ifdef _WIN32
  GTEST_SKIP() << "plants a foreign file in /dev/shm and expects a crashed writer's segment to "
                  "outlive every handle; on Windows see ListAndInspectOnWindows";
#endif
  const std::string live = unique_segment("live");
  const std::string dead = unique_segment("dead");
  const std::string foreign = unique_segment("foreign");
  {
    std::ofstream f("/dev/shm/" + foreign, std::ios::binary);
    for (int i = 0; i < 4096; ++i) f.put(static_cast<char>(i * 37));
  }
  process crashed({writer_bin, "-s", dead, "--rate", "1000", "--crash-after", "0.3", "--chunks",
                   "8", "--chunk-size", "16K", "-q"});
  process running(
      {writer_bin, "-s", live, "--rate", "5000", "--chunks", "16", "--chunk-size", "32K", "-q"});
  EXPECT_EQ(crashed.wait(), 70);
  std::this_thread::sleep_for(400ms);

  const auto list = run({cli_bin, "list", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  std::map<std::string, json> by_name;
  for (const json& line : parse_json_lines(list.out)) by_name[line["name"].str()] = line;
  ASSERT_EQ(by_name.count("/" + live), 1u) << list.out;
  ASSERT_EQ(by_name.count("/" + dead), 1u) << list.out;
  EXPECT_EQ(by_name.count("/" + foreign), 0u) << "non-log files are skipped silently";
  EXPECT_TRUE(list.err.empty()) << list.err;
  const json& l = by_name["/" + live];
  EXPECT_EQ(l["writer"].str(), "alive");
  EXPECT_EQ(l["pid"].u64(), static_cast<std::uint64_t>(running.pid()));
  EXPECT_EQ(l["chunks"].u64(), 16u);
  EXPECT_EQ(l["chunk_size"].u64(), 32768u);
  EXPECT_GT(l["entries"].u64(), 500u);
  EXPECT_NEAR(l["rate"].num(), 5000, 1000) << "rate measured over the window";
  EXPECT_GT(l["fill"].num(), 0.0);
  EXPECT_TRUE(l["records"].boolean());
  const json& d = by_name["/" + dead];
  EXPECT_EQ(d["writer"].str(), "gone");
  EXPECT_EQ(d["rate"].num(), 0);
  EXPECT_EQ(d["chunks"].u64(), 8u);

  const auto text = run({cli_bin, "list"});
  EXPECT_NE(text.out.find("NAME"), std::string::npos);
  EXPECT_NE(text.out.find(live), std::string::npos);
  EXPECT_EQ(text.out.find(foreign), std::string::npos);

  const auto inspect = run({cli_bin, "inspect", live, "--json"});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  const json i = parse_json(lines_of(inspect.out).at(0));
  EXPECT_EQ(i["header"]["chunk_count"].u64(), 16u);
  EXPECT_EQ(i["header"]["version"].u64(), 1u);
  EXPECT_EQ(i["extension"]["writer_pid"].u64(), static_cast<std::uint64_t>(running.pid()));
  EXPECT_EQ(i["extension"]["payload_encoding"].str(), "record");
  EXPECT_FALSE(i["extension"]["closed"].boolean());
  EXPECT_EQ(i["writer"].str(), "alive");
  EXPECT_EQ(i["chunks"].array().size(), 16u);
  EXPECT_TRUE(i["chunks"].array()[0]["committed"].boolean());
  EXPECT_GE(i["first_seq"].u64(), 1u);
  EXPECT_GT(i["last_seq"].u64(), i["first_seq"].u64());
  const auto inspect_text = run({cli_bin, "inspect", live});
  for (const char* section :
       {"header", "writer", "incarnation", "heartbeat", "encoding", "chunk table", "readable"}) {
    EXPECT_NE(inspect_text.out.find(section), std::string::npos) << section;
  }

  const auto inspect_dead = run({cli_bin, "inspect", dead, "--json"});
  ASSERT_EQ(inspect_dead.code, 0);
  EXPECT_EQ(parse_json(lines_of(inspect_dead.out).at(0))["writer"].str(), "gone");

  const auto inspect_foreign = run({cli_bin, "inspect", foreign});
  EXPECT_EQ(inspect_foreign.code, 4);
  EXPECT_NE(inspect_foreign.err.find("is not a readable log"), std::string::npos)
      << inspect_foreign.err;
  const auto tail_foreign = run({cli_bin, "tail", foreign});
  EXPECT_EQ(tail_foreign.code, 4);
  EXPECT_NE(tail_foreign.err.find("not a readable log"), std::string::npos);

  running.signal(SIGINT);
  EXPECT_EQ(running.wait(), 0) << "Ctrl-C stops cleanly";
  EXPECT_NE(running.out().find("unlinked"), std::string::npos) << running.out();
  EXPECT_FALSE(std::ifstream("/dev/shm/" + live).good()) << "Ctrl-C unlinks the segment";
  remove_segment(dead);
  remove_segment(foreign);
}

TEST(BadInput, ClearErrorsAndExitCodes) {
  struct bad {
    std::vector<std::string> args;
    int code;
    std::string says;
  };
  const std::string missing = unique_segment("missing");
  const std::vector<bad> cases = {
      {{writer_bin, "--rate", "-5"}, 2, "rate"},
      {{writer_bin, "--rate", "0.5"}, 2, "at least 1"},
      {{writer_bin, "-s", "a/b"}, 2, "contains '/'"},
      {{writer_bin, "--burst", "x"}, 2, "--burst wants ON:OFF"},
      {{writer_bin, "--threads", "0"}, 2, "threads"},
      {{writer_bin, "--size-dist", "weird"}, 2, "size-dist"},
      {{writer_bin, "--size-dist", "uniform", "--min-size", "10", "--max-size", "5"},
       2,
       "--min-size"},
      {{writer_bin, "--mode", "999"}, 2, "octal"},
      {{writer_bin, "--chunk-size", "10"}, 2, "at least 64"},
      {{writer_bin, "--no-such-option"}, 2, "no-such-option"},
      {{cli_bin}, 2, "subcommand"},
      {{cli_bin, "frobnicate"}, 2, "unknown command 'frobnicate'"},
      {{cli_bin, "tail", missing}, 3, "does not exist"},
      {{cli_bin, "inspect", missing}, 3, "does not exist"},
      {{cli_bin, "tail", "x", "--level", "loud"}, 2, "unknown level"},
      {{cli_bin, "tail", "x", "--grep", "("}, 2, "invalid regular expression"},
      {{cli_bin, "tail", "x", "--from", "middle"}, 2, "middle"},
      {{cli_bin, "tail", "bad/name"}, 2, "contains '/'"},
      {{cli_bin, "forward", "x", "--to", "http://host:1"}, 2, "udp:// or tcp://"},
      {{cli_bin, "forward", "x", "--to", "tcp://127.0.0.1:1"}, 1, "cannot connect"},
      {{cli_bin, "forward", "x", "--to", "udp://127.0.0.1:514", "--facility", "nope"},
       2,
       "facility"},
  };
  for (const bad& c : cases) {
    const auto r = run(c.args);
    std::string shown;
    for (const auto& a : c.args)
      shown += a.substr(a.rfind('/') == std::string::npos ? 0 : a.rfind('/') + 1) + " ";
    EXPECT_EQ(r.code, c.code) << shown << "\n" << r.err;
    EXPECT_NE((r.err + r.out).find(c.says), std::string::npos)
        << shown << " said: " << r.err << r.out;
  }

  // A segment that a running writer owns is refused, with a hint.
  const std::string owned = unique_segment("owned");
  process first({writer_bin, "-s", owned, "--rate", "10", "-q"});
  std::this_thread::sleep_for(300ms);
  const auto second = run({writer_bin, "-s", owned, "-d", "0.1"});
  EXPECT_EQ(second.code, 2);
  EXPECT_NE(second.err.find("belongs to a running writer"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("--take-over"), std::string::npos);
  const auto taken = run({writer_bin, "-s", owned, "--take-over", "-d", "0.2", "-q"});
#ifdef _WIN32
  // A section cannot be replaced under its running writer (docs/windows.md).
  EXPECT_EQ(taken.code, 2) << taken.err;
  EXPECT_NE(taken.err.find("cannot be taken over"), std::string::npos) << taken.err;
#else
  EXPECT_EQ(taken.code, 0) << taken.err;
#endif
#ifdef _WIN32
  first.signal(9);  // no console for Ctrl-Break under a headless Wine
  EXPECT_EQ(first.wait(), 137);
#else
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(), 0);
#endif
}

#ifdef _WIN32
// demo_writer -> ouroboros-cli list, inspect and tail on Windows: discovery through the per-user
// registration directory, liveness through the process creation time, and the registration
// pruned once the writer exited and no handle is left.
TEST(ListAndInspect, ListAndInspectOnWindows) {
  const std::string live = unique_segment("live");
  // Stopped by its duration: Ctrl-Break needs a console, which a headless Wine does not give.
  process running({writer_bin, "-s", live, "--rate", "2000", "--chunks", "16", "--chunk-size",
                   "32K", "-d", "6"});
  std::this_thread::sleep_for(1500ms);
  const auto list = run({cli_bin, "list", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  bool found = false;
  for (const json& row : parse_json_lines(list.out)) {
    if (row.has("name") && row["name"].str() == "/" + live) {
      found = true;
      EXPECT_EQ(row["writer"].str(), "alive") << list.out;
    }
  }
  EXPECT_TRUE(found) << list.out;
  const auto inspect = run({cli_bin, "inspect", live});
  EXPECT_EQ(inspect.code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("(alive)"), std::string::npos) << inspect.out;
  const auto tail = run({cli_bin, "tail", live, "-n", "5", "--json"});
  EXPECT_EQ(tail.code, 0) << tail.err;
  EXPECT_EQ(parse_json_lines(tail.out).size(), 5u) << tail.out;

  EXPECT_EQ(running.wait(30s), 0) << running.err();
  EXPECT_NE(running.out().find("unlinked"), std::string::npos) << running.out();
  const auto after = run({cli_bin, "list", "--json"});
  EXPECT_EQ(after.out.find("/" + live + "\""), std::string::npos) << after.out;
}
#endif

TEST(BadInput, HelpExplainsEveryOption) {
  const auto w = run({writer_bin, "--help"});
  EXPECT_EQ(w.code, 0);
  for (const char* option :
       {"--segment",       "--chunks",      "--chunk-size", "--size",        "--take-over",
        "--keep",          "--rate",        "--burst",      "--ramp",        "--ramp-from",
        "--duration",      "--count",       "--threads",    "--raw",         "--size-dist",
        "--payload-size",  "--min-size",    "--max-size",   "--json",        "--quiet",
        "--restart-every", "--crash-after", "--crash-mode", "--stall-after", "--stall-for",
        "--mode",          "--seed",        "--producers"}) {
    EXPECT_NE(w.out.find(option), std::string::npos) << option;
  }
  EXPECT_NE(w.out.find("ouroboros-demo"), std::string::npos) << "the default segment is shown";
  for (const char* command : {"tail", "list", "inspect", "forward"}) {
    const auto h = run({cli_bin, command, "--help"});
    EXPECT_EQ(h.code, 0) << command;
    EXPECT_GT(h.out.size(), 200u) << command;
  }
  const auto tail_help = run({cli_bin, "tail", "--help"});
  for (const char* option :
       {"--from", "--follow", "--level", "--tag", "--grep", "--json", "--color", "--wait"}) {
    EXPECT_NE(tail_help.out.find(option), std::string::npos) << option;
  }
}

}  // namespace
