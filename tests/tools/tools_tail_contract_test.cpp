// End-to-end tests of `ouroboros-cli tail` (and `forward --to -`, which shares its reader) against
// the tail contract of docs/tools.md, where the cross-tail parity test found the CLI departing
// from it: the gap before a new incarnation that had no committed chunk when it was found, and
// the writer's end told while the tail waits for a truncated segment to come back. Real
// binaries, real segments in /dev/shm; every wait has a timeout.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <functional>

#include <gtest/gtest.h>

#include "ouroboros/layout.hpp"
#include "ouroboros/segment.hpp"
#include "tool_support.hpp"

namespace {

using namespace ouroboros;
using namespace ouroboros::test_tools;
using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A closed raw segment written by this process, entries in chunk 0 (whose token is 0).
void write_closed_segment(const std::string& name, const std::vector<std::string>& entries) {
  shm_writer_options options;
  options.chunk_count = 4;
  options.chunk_target_size = 4096;
  options.keep_on_close = true;
  shm_writer writer(name, options);
  for (const std::string& entry : entries) {
    ASSERT_EQ(writer.write(std::as_bytes(std::span(entry.data(), entry.size()))), write_status::ok);
  }
}

// --- the gap before a new incarnation found before its first chunk was committed --------------

TEST(TailContract, RestartFoundBeforeItsFirstChunkGapsFromOneToK) {
  // docs/tools.md: "a gap lost=k, first_seq=1, last_seq=k ... (If the new incarnation had no
  // committed chunk yet when it was found, the same gap comes as the first item after the
  // event, before its first entry.)" The reader holds that entry behind the report of the
  // loss, so its position is already past the gap.
  const std::string name = unique_segment("restart-empty");
  const std::string next = name + "-next";
  const segment_cleanup cleanup(name);
  const segment_cleanup cleanup_next(next);
  write_closed_segment(name, {"one", "two"});
  if (HasFatalFailure()) return;

  process tail_json({cli_bin, "tail", name, "-f", "--from", "oldest", "--json"});
  process tail_text({cli_bin, "tail", name, "-f", "--from", "oldest", "--seq"});
  process forward({cli_bin, "forward", name, "-f", "--from", "oldest", "--to", "-"});
  const auto events_of = [&](process& p) { return &p == &tail_text ? p.err() : p.out(); };
  const std::array<process*, 3> tails{&tail_json, &tail_text, &forward};
  for (process* p : tails) {
    ASSERT_TRUE(
        eventually([&] { return events_of(*p).find("writer closed: ") != std::string::npos; }, 10s))
        << p->out() << p->err();
  }

  // The next incarnation: entries 1..3 in chunk 0, its row not committed yet, renamed over the
  // name at once.
  write_closed_segment(next, {"six", "seven", "eight"});
  if (HasFatalFailure()) return;
  const int fd = ::open(shm_path(next).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  std::array<std::byte, layout::row_size> row{};
  const std::size_t row0 = layout::row_position(0);
  ASSERT_EQ(::pread(fd, row.data(), row.size(), static_cast<off_t>(row0)), 16);
  const std::array<std::byte, layout::row_size> zero{};
  ASSERT_EQ(::pwrite(fd, zero.data(), zero.size(), static_cast<off_t>(row0)), 16);
  ASSERT_EQ(::rename(shm_path(next).c_str(), shm_path(name).c_str()), 0);
  for (process* p : tails) {
    // Found: writer_restarted, and (the new writer closed) its end, before any entry.
    ASSERT_TRUE(eventually([&] { return count_of(events_of(*p), "writer closed: ") == 2; }, 10s))
        << p->out() << p->err();
  }
  // Chunk 0 committed with token 5: its entries are 6, 7 and 8; 1..5 were overwritten.
  const std::uint64_t token = 5;
  ASSERT_EQ(::pwrite(fd, &token, sizeof token, static_cast<off_t>(row0 + layout::row_token_word)),
            8);
  ASSERT_EQ(::pwrite(fd, row.data() + layout::row_offset_word, 8,
                     static_cast<off_t>(row0 + layout::row_offset_word)),
            8);
  ::close(fd);
  ASSERT_TRUE(tail_json.wait_for_output("\"seq\":8,", 10s)) << tail_json.out();
  ASSERT_TRUE(forward.wait_for_output("\"seq\":8,", 10s)) << forward.out();
  ASSERT_TRUE(tail_text.wait_for_output("#8 eight", 10s)) << tail_text.out();
  for (process* p : tails) {
    p->signal(SIGINT);
    EXPECT_EQ(p->wait(5s), 0) << p->err();
  }

  for (process* p : {&tail_json, &forward}) {
    // After the restart: the gap 1..5 first, then 6, 7, 8.
    std::vector<std::string> items;
    bool restarted = false;
    for (const json& line : parse_json_lines(p->out())) {
      const std::string type = line["type"].str();
      if (type == "event" && line["event"].str() == "writer_restarted") restarted = true;
      if (!restarted || type == "event") continue;
      items.push_back(type == "entry" ? "entry " + std::to_string(line["seq"].u64())
                                      : "gap " + std::to_string(line["lost"].u64()) + " " +
                                            std::to_string(line["first_seq"].u64()) + "-" +
                                            std::to_string(line["last_seq"].u64()) + " " +
                                            line["message"].str());
    }
    EXPECT_EQ(items, (std::vector<std::string>{"gap 5 1-5 5 entries overwritten, seq 1\u20135",
                                               "entry 6", "entry 7", "entry 8"}))
        << p->out();
  }
  const std::string out = tail_text.out();
  EXPECT_NE(out.find("#2 two\n--- 5 entries overwritten, seq 1\u20135 ---\n#6 six\n"),
            std::string::npos)
      << out;
}

// --- the writer's end while the tail waits for a truncated segment ---------------------------

// A demo writer's segment followed by a JSON tail, a text tail and `forward --to -`; truncated
// to its first page under them, then the writer is killed while they wait for the segment to
// come back (the header, with the writer's pid and heartbeat, survives the shrink).
class WriterGoneWhileTruncated : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = std::make_unique<process>(
        std::vector<std::string>{writer_bin, "-s", name_, "--rate", "2000", "-q"});
    json_ = start({"--json"});
    text_ = start({});
    forward_ = std::make_unique<process>(std::vector<std::string>{
        cli_bin, "forward", name_, "--wait", "-f", "--from", "oldest", "--to", "-"});
    ASSERT_TRUE(json_->wait_for_output("\"type\":\"entry\"", 10s)) << json_->err();
    ASSERT_TRUE(forward_->wait_for_output("\"type\":\"entry\"", 10s)) << forward_->err();
    ASSERT_TRUE(eventually([&] { return !text_->out().empty(); }, 10s)) << text_->err();
    std::this_thread::sleep_for(300ms);  // every reader well past the first page
    ASSERT_EQ(::truncate(shm_path(name_).c_str(), 4096), 0);
    for (process* p : tails()) {
      ASSERT_TRUE(
          eventually([&] { return events(*p).find(" was truncated: ") != std::string::npos; }, 10s))
          << what(*p) << ": " << p->out().substr(0, 300) << p->err();
    }
    writer_->signal(SIGKILL);
    ASSERT_EQ(writer_->wait(), 128 + SIGKILL);
  }

  std::unique_ptr<process> start(std::vector<std::string> extra) {
    std::vector<std::string> args{cli_bin, "tail", name_, "--wait", "-f", "--from", "oldest"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<process>(args);
  }
  std::array<process*, 3> tails() { return {json_.get(), text_.get(), forward_.get()}; }
  // Where a tail writes its events: stderr in text mode, the JSON stream otherwise.
  std::string events(const process& p) const { return &p == text_.get() ? p.err() : p.out(); }
  std::string what(const process& p) const {
    return &p == text_.get() ? "text tail" : &p == json_.get() ? "JSON tail" : "forward --to -";
  }
  std::string gone() const {
    return "writer gone: process " + std::to_string(writer_->pid()) + " of segment /" + name_ +
           " no longer exists (it did not close the segment: crashed or killed)";
  }
  // Stops the tails; each ran on (no --exit-on-close) and told the writer's end once.
  void stop_tails() {
    for (process* p : tails()) {
      p->signal(SIGINT);
      EXPECT_EQ(p->wait(5s), 0) << what(*p) << ": " << p->err();
      EXPECT_EQ(count_of(events(*p), "writer gone: "), 1u) << what(*p) << ": reported once";
    }
  }

  const std::string name_ = unique_segment("gone-truncated");
  const segment_cleanup cleanup_{name_};
  std::unique_ptr<process> writer_;
  std::unique_ptr<process> json_;
  std::unique_ptr<process> text_;
  std::unique_ptr<process> forward_;
};

TEST_F(WriterGoneWhileTruncated, TheEventCarriesTheLastHeartbeat) {
  // docs/tools.md: writer_gone ends in "; last heartbeat S.S s ago" when the heartbeat is known;
  // it is, the header survived the shrink. (Read after the tails stopped: when they write the
  // event is the other test's matter.)
  EXPECT_TRUE(eventually([&] { return events(*text_).find(gone()) != std::string::npos; }, 3s));
  std::this_thread::sleep_for(500ms);  // the others re-open the name every 100 ms as well
  stop_tails();
  const std::string with_heartbeat = gone() + "; last heartbeat ";
  for (process* p : tails()) {
    EXPECT_NE(events(*p).find(with_heartbeat), std::string::npos)
        << what(*p) << ": "
        << events(*p).substr(events(*p).size() > 600 ? events(*p).size() - 600 : 0);
  }
  EXPECT_NE(text_->err().find("=== " + with_heartbeat), std::string::npos) << text_->err();
  const auto lines = parse_json_lines(json_->out());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["event"].str(), "writer_gone");
  EXPECT_EQ(lines.back()["pid"].u64(), static_cast<std::uint64_t>(writer_->pid()));
  EXPECT_NE(lines.back()["message"].str().find("; last heartbeat "), std::string::npos);
}

TEST_F(WriterGoneWhileTruncated, TheEventIsWrittenWhenItHappens) {
  // docs/tools.md: in JSON mode events are objects in the stream, written as they happen like
  // text events on stderr; a tail that waits for a truncated segment must not keep the writer's
  // end in its output buffer until it attaches again or exits.
  for (process* p : tails()) {
    // The tails re-open the name every 100 ms and look at the writer each time.
    EXPECT_TRUE(eventually([&] { return events(*p).find(gone()) != std::string::npos; }, 3s))
        << what(*p) << ", while it waits: "
        << events(*p).substr(events(*p).size() > 600 ? events(*p).size() - 600 : 0);
    EXPECT_TRUE(p->running()) << what(*p) << ": without --exit-on-close the tail waits on";
  }
  stop_tails();
}

}  // namespace
