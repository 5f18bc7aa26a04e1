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
//  - step c deferred to f (docs/format.md 7.6): the writer laps the reader between the header
//    load and the copy, and between the copy and the re-check; and a lapped reader whose header
//    load finds a newer entry's payload bytes (a committed header with an impossible length)
//    reports lapped, not corrupt.
//  - read_batch: the writer laps a run between its header walk and its copy, and between the
//    copy and its one re-check; the whole run is discarded and the loss counted exactly.
// Not run under TSan (it intercepts signals); fine under ASan.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
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

// `lapped` reports exactly `lost` entries lost, the next read is entry `seq` intact, and every
// entry up to it was delivered or counted lost.
void expect_lapped_then_next(ring_reader& reader, const read_result& lapped, std::uint64_t lost,
                             std::uint64_t seq) {
  ASSERT_EQ(lapped.status, read_status::lapped) << to_string(lapped.status);
  EXPECT_EQ(lapped.lost, lost);
  const read_result next = reader.read_next();
  ASSERT_EQ(next.status, read_status::ok) << to_string(next.status);
  EXPECT_EQ(next.sequence, seq);
  EXPECT_TRUE(content_matches(next.payload, seq));
  EXPECT_EQ(reader.entries_delivered() + reader.entries_lost(), seq);
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

// Deferred step c, first half: the header is loaded (page 0) and the writer laps before the copy
// (page 1) starts. The reader has not re-loaded its row yet; the re-check after the copy must
// catch the lap.
TEST_F(RingInterleaving, WriterLapsBetweenTheHeaderLoadAndTheCopy) {
  mapped_pages memory(2);
  writer_config config;
  config.chunk_count = 2;
  config.chunk_target_size = 8000;  // everything stays in chunk 0 until the wrap
  ring_writer writer(memory.span(), config);
  write_seq(writer, 1, 4040);  // 48..4092: entry 2's header ends page 0, its payload is page 1
  write_seq(writer, 2, 200);   // 4092..4296
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);
  ASSERT_EQ(reader.read_next().sequence, 1u);

  fault_trap trap;
  std::function<void()> writer_laps = [&] {
    write_seq(writer, 3, 4300);  // wraps: row 0 restarts with token 2, 48..4352 overwrites entry 2
  };
  trap.arm(memory.data + page, writer_laps);
  const read_result r = reader.read_next();
  ASSERT_EQ(trap.fired, 1) << "the copy never touched the second page";
  expect_lapped_then_next(reader, r, 1, 3);
}

// Deferred step c, second half: header, next row and copy all lie in page 1; the first load of
// page 0 is the re-check of the current row (row 254 at 4080; row 255, the next one, is at 4096).
// The writer laps exactly between the copy and the re-check: the copy is of an entry that was
// intact when copied, but the reader cannot know that and must discard it.
TEST_F(RingInterleaving, WriterLapsBetweenTheCopyAndTheRecheck) {
  mapped_pages memory(3);
  writer_config config;
  config.chunk_count = 256;  // rows 0..254 in page 0, row 255 and the data (from 4112) after
  config.chunk_target_size = 16;
  ring_writer writer(memory.span(), config);
  for (std::uint64_t seq = 1; seq <= 255; ++seq) write_seq(writer, seq, 12);  // one per chunk
  ASSERT_EQ(get_row(memory.span(), 254), (raw_row{true, 8176, 254}));
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);
  for (std::uint64_t seq = 1; seq <= 254; ++seq) ASSERT_EQ(reader.read_next().sequence, seq);

  fault_trap trap;
  std::function<void()> writer_laps = [&] {
    write_seq(writer, 256, 8000);  // wraps: row 0 restarts (token 255), rows 1..254 invalidated
  };
  trap.arm(memory.data, writer_laps);
  const read_result r = reader.read_next();
  ASSERT_EQ(trap.fired, 1) << "the reader never re-loaded its row";
  ASSERT_EQ(r.status, read_status::lapped) << to_string(r.status) << " seq " << r.sequence;
  EXPECT_EQ(r.lost, 1u);
  const read_result next = reader.read_next();
  ASSERT_EQ(next.status, read_status::ok);
  EXPECT_EQ(next.sequence, 256u);
  EXPECT_TRUE(content_matches(next.payload, 256));
}

// The fast path's re-check fails and the resync finds no row to go on from: the writer is
// restarting the reader's row (its committed bit cleared) between the copy of an entry in the
// middle of a chunk and the re-check. The entry is not delivered, so the reader stays at it:
// position() names the entry's start, not the position after it, until the writer goes on.
TEST_F(RingInterleaving, FailedRecheckWithNowhereToGoLeavesThePositionAtTheEntry) {
  mapped_pages memory(4);
  writer_config config;
  config.chunk_count = 256;       // rows 0..254 in page 0, row 255 (the next row) in page 1
  config.chunk_target_size = 40;  // three 16-byte entries per chunk
  ring_writer writer(memory.span(), config);
  for (std::uint64_t seq = 1; seq <= 765; ++seq) write_seq(writer, seq, 12);
  const raw_row row = get_row(memory.span(), 254);
  ASSERT_TRUE(row.committed);
  ASSERT_EQ(row.token, 762U);
  const std::size_t second = static_cast<std::size_t>(row.offset) + 16;  // entry 764
  ASSERT_GE(second, 3 * page) << "entry 764 must lie outside page 0";
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);
  for (std::uint64_t seq = 1; seq <= 763; ++seq) ASSERT_EQ(reader.read_next().sequence, seq);
  ASSERT_EQ(reader.position(), second);

  fault_trap trap;
  std::byte* const row_word = memory.data + layout::row_position(254);
  std::function<void()> writer_restarts_the_row = [&] {
    std::uint64_t word = 0;
    std::memcpy(&word, row_word, sizeof word);
    word &= ~layout::row_committed_bit;
    std::memcpy(row_word, &word, sizeof word);
  };
  trap.arm(memory.data, writer_restarts_the_row);
  const read_result r = reader.read_next();
  ASSERT_EQ(trap.fired, 1) << "the reader never re-loaded its row";
  EXPECT_EQ(r.status, read_status::no_data) << to_string(r.status);
  EXPECT_EQ(reader.position(), second);
  EXPECT_EQ(reader.entries_delivered(), 763U);

  // The writer goes on: chunk 255 opens with entry 766; 764 and 765 are counted lost.
  write_seq(writer, 766, 12);
  expect_lapped_then_next(reader, reader.read_next(), 2, 766);
}

// Deferred step c and a failed length validation: the writer laps the reader just before its
// header load, and the bytes at the reader's position are now the middle of a newer entry's
// payload, all 0xFF: a committed header with a length past the buffer's end. The row re-check
// before the verdict must turn that into lapped (with the exact loss), never corrupt.
TEST_F(RingInterleaving, LappedReaderThatLoadsAPayloadAsAHeaderReportsLappedNotCorrupt) {
  mapped_pages memory(2);
  writer_config config;
  config.chunk_count = 2;
  config.chunk_target_size = 8000;
  ring_writer writer(memory.span(), config);
  write_seq(writer, 1, 4100);  // 48..4152: the reader stops in page 1
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);
  ASSERT_EQ(reader.read_next().sequence, 1u);

  fault_trap trap;
  std::function<void()> writer_laps = [&] {
    write_seq(writer, 2, 3900);  // 4152..8056
    write_seq(writer, 3, 500);   // wraps: marker at 8056, row 0 restarts at 48 with token 2
    const std::vector<std::byte> ones(4000, std::byte{0xFF});
    ASSERT_EQ(writer.write(ones), write_status::ok);  // entry 4: 552..4556, over 4152
  };
  trap.arm(memory.data + page, writer_laps);
  const read_result r = reader.read_next();
  ASSERT_EQ(trap.fired, 1);
  ASSERT_EQ(r.status, read_status::lapped) << to_string(r.status) << ": " << r.detail;
  EXPECT_EQ(r.lost, 1u);
  read_result next = reader.read_next();
  ASSERT_EQ(next.status, read_status::ok);
  EXPECT_EQ(next.sequence, 3u);
  EXPECT_TRUE(content_matches(next.payload, 3));
  next = reader.read_next();
  ASSERT_EQ(next.status, read_status::ok);
  EXPECT_EQ(next.sequence, 4u);
}

// read_batch: the run's headers lie in pages 0 and 2, the middle of entry 2's payload fills
// page 1, which only the copy touches. The writer laps there: the whole run must be discarded.
TEST_F(RingInterleaving, WriterLapsABatchBetweenItsHeaderWalkAndItsCopy) {
  mapped_pages memory(4);
  writer_config config;
  config.chunk_count = 2;
  config.chunk_target_size = 16000;
  ring_writer writer(memory.span(), config);
  write_seq(writer, 1, 100);   // 48..152
  write_seq(writer, 2, 8200);  // 152..8356, across page 1
  write_seq(writer, 3, 100);   // 8356..8460
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);

  fault_trap trap;
  std::function<void()> writer_laps = [&] {
    write_seq(writer, 4, 9000);  // wraps: row 0 restarts with token 3, 48..9052 overwritten
  };
  trap.arm(memory.data + page, writer_laps);
  // The run is 8 412 bytes: a limit above the default keeps the three entries in one run.
  const batch_result batch = reader.read_batch(batch_max_entries, 16 * 1024);
  ASSERT_EQ(trap.fired, 1) << "the run's copy never touched page 1";
  ASSERT_EQ(batch.status, read_status::lapped) << to_string(batch.status);
  EXPECT_TRUE(batch.entries.empty());
  EXPECT_EQ(batch.lost, 3u);
  const batch_result next = reader.read_batch();
  ASSERT_EQ(next.status, read_status::ok);
  ASSERT_EQ(next.entries.size(), 1u);
  EXPECT_EQ(next.entries[0].sequence, 4u);
  EXPECT_TRUE(content_matches(next.entries[0].payload, 4));
}

// read_batch, a reader that keeps up: the run's first entry (header in page 0, payload into page 1)
// is copied before the walk loads the next header (page 1). The writer laps when page 1 is first
// touched, whichever of the two touches it: the copy is torn, the next header is the lapping
// entry's bytes, and the run must be discarded with exact loss.
TEST_F(RingInterleaving, WriterLapsABatchBetweenItsFirstCopyAndTheNextHeader) {
  mapped_pages memory(4);
  writer_config config;
  config.chunk_count = 2;
  config.chunk_target_size = 16000;
  ring_writer writer(memory.span(), config);
  write_seq(writer, 1, 3900);  // 48..3952
  write_seq(writer, 2, 300);   // 3952..4256, across into page 1
  write_seq(writer, 3, 100);   // 4256..4360
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);
  ASSERT_EQ(reader.read_next().sequence, 1u);

  fault_trap trap;
  std::function<void()> writer_laps = [&] {
    write_seq(writer, 4, 9000);  // 4360..13364
    write_seq(writer, 5, 9000);  // wraps: row 0 restarts with token 4, 48..9052 overwritten
  };
  trap.arm(memory.data + page, writer_laps);
  const batch_result batch = reader.read_batch();
  ASSERT_EQ(trap.fired, 1) << "the run never touched page 1";
  ASSERT_EQ(batch.status, read_status::lapped) << to_string(batch.status);
  EXPECT_TRUE(batch.entries.empty());
  EXPECT_EQ(batch.lost, 3u);
  const batch_result next = reader.read_batch();
  ASSERT_EQ(next.status, read_status::ok);
  ASSERT_EQ(next.entries.size(), 1u);
  EXPECT_EQ(next.entries[0].sequence, 5u);
  EXPECT_TRUE(content_matches(next.entries[0].payload, 5));
  EXPECT_EQ(reader.entries_delivered() + reader.entries_lost(), 5u);
}

// read_batch: a run of three entries in row 254 (page 4); its header walk, the next row's offset
// word (row 255 at 4096, page 1) and its copy never touch page 0, where the current row lies.
// The writer laps between the copy and the run's one re-check.
TEST_F(RingInterleaving, WriterLapsABatchBetweenItsCopyAndItsRecheck) {
  mapped_pages memory(6);
  writer_config config;
  config.chunk_count = 257;  // data from 4128
  config.chunk_target_size = 64;
  ring_writer writer(memory.span(), config);
  for (std::uint64_t seq = 1; seq <= 254; ++seq) write_seq(writer, seq, 60);    // one per chunk
  for (std::uint64_t seq = 255; seq <= 258; ++seq) write_seq(writer, seq, 12);  // chunk 254
  ASSERT_EQ(get_row(memory.span(), 254), (raw_row{true, 4128 + 64 * 254, 254}));
  ring_reader reader;
  ASSERT_EQ(reader.attach(memory.span()).status, read_status::ok);
  // Up to entry 255, the first of chunk 254: the batch is entries 256..258 of that chunk.
  for (std::uint64_t seq = 1; seq <= 255; ++seq) ASSERT_EQ(reader.read_next().sequence, seq);

  fault_trap trap;
  std::function<void()> writer_laps = [&] {
    write_seq(writer, 259, 20000);  // wraps: row 0 restarts (token 258), rows 1..256 invalidated
  };
  trap.arm(memory.data, writer_laps);
  const batch_result batch = reader.read_batch();
  ASSERT_EQ(trap.fired, 1) << "the run was never re-checked";
  ASSERT_EQ(batch.status, read_status::lapped) << to_string(batch.status);
  EXPECT_EQ(batch.lost, 3u);
  const batch_result next = reader.read_batch();
  ASSERT_EQ(next.status, read_status::ok);
  ASSERT_EQ(next.entries.size(), 1u);
  EXPECT_EQ(next.entries[0].sequence, 259u);
  EXPECT_TRUE(content_matches(next.entries[0].payload, 259));
  EXPECT_EQ(reader.entries_delivered() + reader.entries_lost(), 259u);
}

}  // namespace
}  // namespace ouroboros::test
