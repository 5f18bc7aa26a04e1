// Deterministic interleavings inside a single read_next call. The page holding the next bytes
// the reader will load is made inaccessible; its first load faults, and the fault handler runs
// the writer (as if it had been scheduled at exactly that instant) before letting the load
// proceed. This pins down the races that the reader's step order exists for, which random
// concurrency only hits by luck:
//  - (b) before (d): the writer opens the next chunk and commits its first entry between the
//    reader's look at the next row and its header load. A reader that checks the next row first
//    stays in the old chunk and later reports entries as lost that are still intact.
//  - rule 5: the writer appends at the reader's position and opens a newer chunk while the
//    reader scans the rows; only the second header load tells this from a chunk that ended.
//  - (f): the writer laps the entry while the reader copies it. Without the re-check after the
//    copy, a torn payload would be delivered.
// Not run under TSan (it intercepts signals); fine under ASan.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <functional>

#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"
#include "ring_bytes.hpp"
#include "test_support.hpp"

namespace ouroboros::test {
namespace {

constexpr std::size_t page = 4096;

// One armed page: the first fault inside it makes it accessible again and runs the action.
struct fault_trap {
  static inline std::byte* armed_page = nullptr;
  static inline std::function<void()>* action = nullptr;
  static inline int fired = 0;
  struct sigaction previous {};

  fault_trap() {
    struct sigaction sa {};
    sa.sa_sigaction = &fault_trap::handle;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, &previous);
  }
  ~fault_trap() {
    disarm();
    ::sigaction(SIGSEGV, &previous, nullptr);
  }
  void arm(std::byte* page_start, std::function<void()>& what) {
    armed_page = page_start;
    action = &what;
    fired = 0;
    ASSERT_EQ(::mprotect(page_start, page, PROT_NONE), 0);
  }
  void disarm() {
    if (armed_page != nullptr) ::mprotect(armed_page, page, PROT_READ | PROT_WRITE);
    armed_page = nullptr;
  }
  static void handle(int, siginfo_t* info, void*) {
    auto* address = static_cast<std::byte*>(info->si_addr);
    if (armed_page == nullptr || address < armed_page || address >= armed_page + page) {
      ::signal(SIGSEGV, SIG_DFL);  // a real crash: let it happen
      return;
    }
    ::mprotect(armed_page, page, PROT_READ | PROT_WRITE);
    armed_page = nullptr;
    ++fired;
    (*action)();
  }
};

struct mapped_pages {
  explicit mapped_pages(std::size_t n) : size(n * page) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    data = static_cast<std::byte*>(p);
  }
  ~mapped_pages() { ::munmap(data, size); }
  std::span<std::byte> span() const { return {data, size}; }
  std::byte* data = nullptr;
  std::size_t size = 0;
};

void write_seq(ring_writer& writer, std::uint64_t seq, std::size_t size) {
  std::vector<std::byte> payload(size);
  fill_content(payload, seq);
  ASSERT_EQ(writer.write(payload), write_status::ok);
}

class RingInterleaving : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::sysconf(_SC_PAGESIZE) != static_cast<long>(page)) GTEST_SKIP() << "needs 4 KiB pages";
  }
};

TEST_F(RingInterleaving, WriterOpensTheNextChunkBetweenRowCheckAndHeaderLoad) {
  mapped_pages memory(2);
  // N = 2: first entry at 48; chunk 0 = 4 entries of 1012 bytes = 48..4096, target 4048, so the
  // next entry opens row 1 exactly at the page boundary.
  writer_config config;
  config.chunk_count = 2;
  config.chunk_target_size = 4048;
  ring_writer writer(memory.span(), config);
  for (std::uint64_t seq = 1; seq <= 4; ++seq) write_seq(writer, seq, 1008);
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);
  for (std::uint64_t seq = 1; seq <= 4; ++seq) ASSERT_EQ(reader.read_next().sequence, seq);
  ASSERT_EQ(reader.read_next().status, read_status::no_data);  // parked at 4096

  fault_trap trap;
  std::function<void()> writer_runs = [&] { write_seq(writer, 5, 100); };  // row 1 at 4096
  trap.arm(memory.data + page, writer_runs);
  const read_result fifth = reader.read_next();
  ASSERT_EQ(trap.fired, 1) << "the reader never loaded the header at the page boundary";
  ASSERT_EQ(fifth.status, read_status::ok);
  EXPECT_EQ(fifth.sequence, 5u);
  EXPECT_TRUE(content_matches(fifth.payload, 5));
  EXPECT_EQ(get_row(memory.span(), 1), (raw_row{true, 4096, 4}));

  // Entry 6 ends 4 bytes before the end; entry 7 wraps (marker at 8188) and restarts row 0 at
  // 48..60 only: row 1 (4096..8192) and entry 6 stay intact. A reader that is in row 1 reads
  // entry 6 and follows the wrap; one still in row 0 would see row 0 restart and report entry 6
  // as lost.
  write_seq(writer, 6, 3984);
  write_seq(writer, 7, 4);
  EXPECT_EQ(get_row(memory.span(), 0), (raw_row{true, 48, 6}));
  EXPECT_EQ(get_row(memory.span(), 1), (raw_row{true, 4096, 4}));
  read_result r = reader.read_next();
  ASSERT_EQ(r.status, read_status::ok) << to_string(r.status) << " lost " << r.lost;
  EXPECT_EQ(r.sequence, 6u);
  EXPECT_TRUE(content_matches(r.payload, 6));
  r = reader.read_next();
  ASSERT_EQ(r.status, read_status::ok);
  EXPECT_EQ(r.sequence, 7u);
  EXPECT_EQ(reader.entries_lost(), 0u);
}

// Rule 5's second header load: the reader finds no data at its position, and before it scans
// the rows the writer commits the next entry there and opens a newer chunk after it. Without
// loading the header again, the reader would take the newer row for "this chunk ended early"
// and skip an entry that is right there.
TEST_F(RingInterleaving, WriterAppendsAndAdvancesWhileTheReaderLooksForNewerRows) {
  mapped_pages memory(2);
  writer_config config;
  config.chunk_count = 2;
  config.chunk_target_size = 4200;
  ring_writer writer(memory.span(), config);
  for (std::uint64_t seq = 1; seq <= 4; ++seq) write_seq(writer, seq, 1008);  // 48..4096
  write_seq(writer, 5, 96);                                                   // 4096..4196
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);
  for (std::uint64_t seq = 1; seq <= 5; ++seq) ASSERT_EQ(reader.read_next().sequence, seq);
  ASSERT_EQ(reader.read_next().status, read_status::no_data);  // parked at 4196

  fault_trap trap;
  std::function<void()> writer_runs = [&] {
    write_seq(writer, 6, 96);  // 4196..4296, still chunk 0
    write_seq(writer, 7, 16);  // chunk 0 holds 4248 >= 4200: row 1 at 4296, token 6
  };
  trap.arm(memory.data, writer_runs);  // the table page: the reader's row loads
  const read_result r = reader.read_next();
  ASSERT_EQ(trap.fired, 1);
  EXPECT_NE(r.status, read_status::lapped) << "lost " << r.lost;
  EXPECT_EQ(get_row(memory.span(), 1), (raw_row{true, 4296, 6}));
  std::vector<std::uint64_t> sequences;
  if (r.status == read_status::ok) sequences.push_back(r.sequence);
  for (const auto& e : drain(reader)) {
    ASSERT_EQ(e.status, read_status::ok) << e;
    sequences.push_back(e.sequence);
  }
  EXPECT_EQ(sequences, (std::vector<std::uint64_t>{6, 7}));
  EXPECT_EQ(reader.entries_lost(), 0u);
}

TEST_F(RingInterleaving, WriterOverwritesTheEntryWhileTheReaderCopiesIt) {
  mapped_pages memory(2);
  writer_config config;
  config.chunk_count = 2;
  config.chunk_target_size = 4000;
  ring_writer writer(memory.span(), config);
  write_seq(writer, 1, 4200);  // 48..4252, across the page boundary
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);

  fault_trap trap;
  std::function<void()> writer_laps = [&] {
    write_seq(writer, 2, 3900);  // row 1 at 4252
    write_seq(writer, 3, 4300);  // wraps: row 0 restarts, 48..4352 overwrites entry 1
  };
  trap.arm(memory.data + page, writer_laps);
  const read_result r = reader.read_next();
  ASSERT_EQ(trap.fired, 1) << "the copy never touched the second page";
  // The copy mixed entry 1 and entry 3: it must be discarded, and the loss reported exactly.
  ASSERT_EQ(r.status, read_status::lapped);
  EXPECT_EQ(r.lost, 2u);
  const read_result third = reader.read_next();
  ASSERT_EQ(third.status, read_status::ok);
  EXPECT_EQ(third.sequence, 3u);
  EXPECT_TRUE(content_matches(third.payload, 3));
}

}  // namespace
}  // namespace ouroboros::test
