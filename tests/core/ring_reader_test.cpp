// The reader: start modes, re-attach, lapping with exact loss, and every corrupt case of reader
// obligation 6, built by hand-writing bytes. A corrupt buffer must give an error or a resync,
// never a crash or a hang, and the accounting must stay exact:
// position = start + delivered + lost.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "crafted_rings.hpp"
#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"
#include "ring_bytes.hpp"
#include "test_support.hpp"

namespace ouroboros::test {
namespace {

constexpr std::uint64_t max_u64 = std::numeric_limits<std::uint64_t>::max();

writer_config config_of(std::uint32_t chunks, std::size_t target) {
  writer_config config;
  config.chunk_count = chunks;
  config.chunk_target_size = target;
  return config;
}

void write_seq(ring_writer& writer, std::uint64_t seq, std::size_t size) {
  std::vector<std::byte> payload(size);
  fill_content(payload, seq);
  ASSERT_EQ(writer.write(payload), write_status::ok);
}

// Reads until no_data and checks the accounting identity and the order along the way.
struct checked_drain {
  std::vector<read_event> events;
  std::size_t corrupt = 0;
};

checked_drain drain_checked(ring_reader& reader, std::uint64_t start, std::size_t limit = 10000) {
  checked_drain out;
  std::uint64_t last = reader.position_sequence();
  std::uint64_t pending_loss = 0;
  for (std::size_t i = 0; i < limit; ++i) {
    const read_result r = reader.read_next();
    EXPECT_EQ(reader.position_sequence(),
              start + reader.entries_delivered() + reader.entries_lost())
        << "accounting broken after " << to_string(r.status);
    if (r.status == read_status::no_data) return out;
    out.events.push_back(to_event(r));
    if (r.status == read_status::corrupt) {
      ++out.corrupt;
      EXPECT_FALSE(r.detail.empty());
    }
    if (r.status == read_status::lapped) {
      EXPECT_GT(r.lost, 0u);
      pending_loss += r.lost;
    }
    if (r.status == read_status::ok) {
      EXPECT_GT(r.sequence, last) << "sequence went backwards or repeated";
      EXPECT_EQ(r.sequence, last + pending_loss + 1);
      last = r.sequence;
      pending_loss = 0;
    }
  }
  ADD_FAILURE() << "reader never reported no_data within " << limit << " calls";
  return out;
}

// --- start modes --------------------------------------------------------------------------------

class StartModes : public ::testing::Test {
 protected:
  // N = 4, target 64: 40 entries of 20..39 bytes wrap about 3 times.
  void SetUp() override {
    buffer_ = std::make_unique<aligned_buffer>(required_buffer_size(config_of(4, 64)));
    writer_ = std::make_unique<ring_writer>(*buffer_, config_of(4, 64));
  }
  void write_up_to(std::uint64_t last) {
    while (written_ < last) {
      ++written_;
      write_seq(*writer_, written_, 20 + written_ % 20);
    }
  }
  std::pair<std::uint64_t, std::uint64_t> token_range() const {
    std::uint64_t lo = max_u64;
    std::uint64_t hi = 0;
    for (std::uint32_t i = 0; i < 4; ++i) {
      const raw_row row = get_row(*buffer_, i);
      if (!row.committed) continue;
      lo = std::min(lo, row.token);
      hi = std::max(hi, row.token);
    }
    return {lo, hi};
  }
  std::unique_ptr<aligned_buffer> buffer_;
  std::unique_ptr<ring_writer> writer_;
  std::uint64_t written_ = 0;
};

TEST_F(StartModes, FreshBufferEveryModeStartsAtTheFirstEntry) {
  for (const auto mode : {start_position::oldest, start_position::newest, start_position::now}) {
    ring_reader reader;
    ASSERT_EQ(reader.attach(*buffer_, mode).status, read_status::ok);
    EXPECT_EQ(reader.position_sequence(), 0u);
    EXPECT_EQ(reader.read_next().status, read_status::no_data);
  }
  ring_reader reader;
  ASSERT_EQ(reader.attach(*buffer_, start_position::now).status, read_status::ok);
  write_up_to(1);
  const read_result r = reader.read_next();
  ASSERT_EQ(r.status, read_status::ok);
  EXPECT_EQ(r.sequence, 1u);
}

TEST_F(StartModes, OldestStartsAtTheSmallestCommittedToken) {
  write_up_to(40);
  const auto [lo, hi] = token_range();
  ASSERT_GT(lo, 0u);  // the ring has wrapped
  ring_reader reader;
  ASSERT_EQ(reader.attach(*buffer_, start_position::oldest).status, read_status::ok);
  EXPECT_EQ(reader.position_sequence(), lo);
  const auto drained = drain_checked(reader, lo);
  ASSERT_EQ(drained.events.size(), 40 - lo);
  EXPECT_EQ(drained.events.front().sequence, lo + 1);
  EXPECT_EQ(drained.events.back().sequence, 40u);
  for (const auto& e : drained.events) {
    ASSERT_EQ(e.status, read_status::ok);
    EXPECT_TRUE(content_matches(as_bytes(e.payload), e.sequence));
  }
}

TEST_F(StartModes, NewestStartsAtTheNewestChunk) {
  write_up_to(40);
  const auto [lo, hi] = token_range();
  ring_reader reader;
  ASSERT_EQ(reader.attach(*buffer_, start_position::newest).status, read_status::ok);
  EXPECT_EQ(reader.position_sequence(), hi);
  EXPECT_EQ(reader.newest_chunk_token(), hi);
  const auto drained = drain_checked(reader, hi);
  ASSERT_EQ(drained.events.size(), 40 - hi);
  EXPECT_EQ(drained.events.front().sequence, hi + 1);
}

TEST_F(StartModes, NowDeliversOnlyLaterEntries) {
  write_up_to(40);
  ring_reader reader;
  ASSERT_EQ(reader.attach(*buffer_, start_position::now).status, read_status::ok);
  EXPECT_EQ(reader.position_sequence(), 40u);
  EXPECT_EQ(reader.entries_delivered(), 0u);
  EXPECT_EQ(reader.entries_lost(), 0u);
  EXPECT_EQ(reader.read_next().status, read_status::no_data);
  write_up_to(43);
  const auto drained = drain_checked(reader, 40);
  ASSERT_EQ(drained.events.size(), 3u);
  EXPECT_EQ(drained.events[0].sequence, 41u);
  EXPECT_EQ(drained.events[2].sequence, 43u);
}

TEST_F(StartModes, LappedReaderResumesAtTheOldestIntactEntryAndCountsTheLoss) {
  ring_reader reader;
  ASSERT_EQ(reader.attach(*buffer_).status, read_status::ok);
  write_up_to(3);
  EXPECT_EQ(drain_checked(reader, 0).events.size(), 3u);
  write_up_to(60);
  const auto [lo, hi] = token_range();
  const read_result r = reader.read_next();
  ASSERT_EQ(r.status, read_status::lapped);
  EXPECT_EQ(r.lost, lo - 3);
  const auto drained = drain_checked(reader, 0);
  EXPECT_EQ(drained.events.front().sequence, lo + 1);
  EXPECT_EQ(drained.events.back().sequence, 60u);
  EXPECT_EQ(reader.entries_delivered() + reader.entries_lost(), 60u);
}

TEST_F(StartModes, ReattachStartsClean) {
  write_up_to(10);
  ring_reader reader;
  ASSERT_EQ(reader.attach(*buffer_).status, read_status::ok);
  drain_checked(reader, reader.position_sequence());
  EXPECT_GT(reader.entries_delivered(), 0u);

  // Another buffer: nothing carries over.
  aligned_buffer other(512);
  ring_writer other_writer(other, config_of(2, 64));
  ASSERT_EQ(other_writer.write(as_bytes("first")), write_status::ok);
  ASSERT_EQ(reader.attach(other).status, read_status::ok);
  EXPECT_EQ(reader.entries_delivered(), 0u);
  EXPECT_EQ(reader.entries_lost(), 0u);
  EXPECT_EQ(reader.position_sequence(), 0u);
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(1, "first")}));

  // Back to the first buffer, from the newest chunk; then once more from the oldest.
  write_up_to(50);
  ASSERT_EQ(reader.attach(*buffer_, start_position::newest).status, read_status::ok);
  EXPECT_EQ(reader.entries_delivered(), 0u);
  const auto [lo, hi] = token_range();
  EXPECT_EQ(reader.position_sequence(), hi);
  drain_checked(reader, hi);
  ASSERT_EQ(reader.attach(*buffer_, start_position::oldest).status, read_status::ok);
  EXPECT_EQ(reader.position_sequence(), lo);
  EXPECT_EQ(drain_checked(reader, lo).events.size(), 50 - lo);

  // A failed attach detaches; attaching again works.
  aligned_buffer garbage(256, std::byte{0x17});
  EXPECT_EQ(reader.attach(garbage).status, read_status::not_a_log);
  EXPECT_FALSE(reader.attached());
  EXPECT_EQ(reader.read_next().status, read_status::not_a_log);
  ASSERT_EQ(reader.attach(*buffer_).status, read_status::ok);
  EXPECT_EQ(drain_checked(reader, lo).events.size(), 50 - lo);
}

// --- hand-written buffers -----------------------------------------------------------------------

// A buffer of `size` bytes with N rows; the first entry offset is the table end (no extension).
struct hand_buffer {
  hand_buffer(std::uint32_t chunks, std::size_t size) : bytes(size), chunk_count(chunks) {
    put_header(bytes, chunks);
    first = layout::align_up(layout::table_end(chunks), 8);
  }
  std::span<std::byte> span() { return bytes.span(); }
  aligned_buffer bytes;
  std::uint32_t chunk_count;
  std::size_t first = 0;
};

read_result attach_ok(ring_reader& reader, hand_buffer& b,
                      start_position start = start_position::oldest) {
  const read_result r = reader.attach(b.bytes, start);
  EXPECT_EQ(r.status, read_status::ok) << r.detail;
  return r;
}

TEST(CorruptBuffer, AttachRejectsWhatIsNotAV1Log) {
  ring_reader reader;
  aligned_buffer zeros(256);
  EXPECT_EQ(reader.attach(zeros).status, read_status::not_a_log);

  hand_buffer bad_magic(2, 256);
  put_u64(bad_magic.span(), 0, layout::buffer_magic ^ 1);
  auto r = reader.attach(bad_magic.bytes);
  EXPECT_EQ(r.status, read_status::not_a_log);
  EXPECT_FALSE(r.detail.empty());

  for (const std::uint32_t version : {0u, 2u, 0xFFFFFFFFu}) {
    hand_buffer b(2, 256);
    put_header(b.span(), 2, version);
    r = reader.attach(b.bytes);
    EXPECT_EQ(r.status, read_status::unsupported_version) << version;
    EXPECT_FALSE(r.detail.empty());
  }

  hand_buffer no_chunks(0, 256);
  r = reader.attach(no_chunks.bytes);
  EXPECT_EQ(r.status, read_status::corrupt);
  EXPECT_FALSE(r.detail.empty());

  // Smaller than its own chunk table (and than the header).
  hand_buffer big_table(100, 256);
  EXPECT_EQ(reader.attach(big_table.bytes).status, read_status::not_a_log);
  hand_buffer huge_count(0xFFFFFFFFu, 256);
  EXPECT_EQ(reader.attach(huge_count.bytes).status, read_status::not_a_log);
  hand_buffer tiny(1, 64);
  EXPECT_EQ(reader.attach(tiny.span().first(8)).status, read_status::not_a_log);
  EXPECT_EQ(reader.attach(tiny.span().first(32)).status,
            read_status::not_a_log);  // table ends at 32
  EXPECT_EQ(reader.attach({}).status, read_status::not_a_log);
  // Misaligned start.
  EXPECT_EQ(reader.attach(tiny.span().subspan(4)).status, read_status::not_a_log);
  EXPECT_FALSE(reader.attached());
  EXPECT_EQ(reader.read_next().status, read_status::not_a_log);
}

TEST(CorruptBuffer, LengthPastTheEndIsCorruptAndTheReaderResyncs) {
  for (const std::uint32_t length : {105u, 0x7FFFFFFFu, 61u}) {
    SCOPED_TRACE(length);
    hand_buffer b(2, 160);  // first entry at 48
    put_row(b.span(), 0, 48, 0);
    std::size_t at = put_entry(b.span(), 48, "a");  // 56
    put_u32(b.span(), at, length | layout::entry_committed_bit);
    // A later chunk with token 5 (entries 2..5 lost with the bad entry).
    put_row(b.span(), 1, 120, 5);
    at = put_entry(b.span(), 120, "six");
    put_u32(b.span(), at, 0);
    ring_reader reader;
    attach_ok(reader, b);
    // 61 would end at 121: inside the buffer but across row 1's start, which is still a valid
    // length as far as the entry itself goes; only lengths past the buffer end are corrupt.
    const auto drained = drain_checked(reader, 0);
    if (length == 61u) {
      EXPECT_EQ(drained.corrupt, 0u);
      continue;
    }
    EXPECT_EQ(drained.events, (std::vector<read_event>{ok_event(1, "a"), corrupt_event(),
                                                       lapped_event(4), ok_event(6, "six")}));
  }
}

TEST(CorruptBuffer, ReservedLengthsTwoAndThreeAreCorrupt) {
  for (const std::uint32_t length : {2u, 3u}) {
    hand_buffer b(1, 128);  // first entry at 32
    put_row(b.span(), 0, 32, 0);
    const std::size_t at = put_entry(b.span(), 32, "a");
    put_u32(b.span(), at, length | layout::entry_committed_bit);
    ring_reader reader;
    attach_ok(reader, b);
    const auto drained = drain_checked(reader, 0);
    EXPECT_EQ(drained.events, (std::vector<read_event>{ok_event(1, "a"), corrupt_event()}));
    EXPECT_EQ(reader.read_next().status, read_status::no_data);
  }
}

TEST(CorruptBuffer, EmptyPayloadEntryIsLegal) {
  hand_buffer b(1, 128);
  put_row(b.span(), 0, 32, 0);
  std::size_t at = put_entry(b.span(), 32, "");
  at = put_entry(b.span(), at, "x");
  put_u32(b.span(), at, 0);
  ring_reader reader;
  attach_ok(reader, b);
  EXPECT_EQ(drain_checked(reader, 0).events,
            (std::vector<read_event>{ok_event(1, ""), ok_event(2, "x")}));
}

TEST(CorruptBuffer, UncommittedEntryMeansNoDataYet) {
  hand_buffer b(1, 128);
  put_row(b.span(), 0, 32, 0);
  const std::size_t at = put_entry(b.span(), 32, "a");
  put_entry(b.span(), at, "pending", false);
  ring_reader reader;
  attach_ok(reader, b);
  EXPECT_EQ(drain_checked(reader, 0).events, (std::vector<read_event>{ok_event(1, "a")}));
  EXPECT_EQ(reader.read_next().status, read_status::no_data);
}

TEST(CorruptBuffer, RowOffsetsOutOfRangeOrMisalignedAreIgnored) {
  const std::uint64_t bad_offsets[] = {0,
                                       8,
                                       30 /* inside the table */,
                                       50 /* misaligned */,
                                       49,
                                       126,
                                       128 /* = size */,
                                       1ULL << 40,
                                       layout::row_offset_mask};
  for (const std::uint64_t offset : bad_offsets) {
    SCOPED_TRACE(offset);
    hand_buffer b(2, 128);  // table ends at 48
    put_row(b.span(), 0, offset, 0);
    ring_reader reader;
    attach_ok(reader, b);
    EXPECT_EQ(drain_checked(reader, 0).events.size(), 0u);
    // With a good row next to it, the good one is read.
    put_row(b.span(), 1, 64, 3);
    put_u32(b.span(), put_entry(b.span(), 64, "good"), 0);
    attach_ok(reader, b);
    EXPECT_EQ(drain_checked(reader, 3).events, (std::vector<read_event>{ok_event(4, "good")}));
  }
}

TEST(CorruptBuffer, TornRowIsNotUsed) {
  // Committed offset word but the second half of the pair (the token) belongs to a restart in
  // progress is indistinguishable here; an uncommitted offset word must be ignored.
  hand_buffer b(2, 128);
  put_row(b.span(), 0, 48, 0, false);
  put_u32(b.span(), put_entry(b.span(), 48, "hidden"), 0);
  ring_reader reader;
  attach_ok(reader, b);
  EXPECT_EQ(reader.read_next().status, read_status::no_data);
  put_row(b.span(), 0, 48, 0, true);  // the writer finishes: the reader picks it up
  EXPECT_EQ(drain_checked(reader, 0).events, (std::vector<read_event>{ok_event(1, "hidden")}));
}

TEST(CorruptBuffer, TokensGoingBackwardsNeverMakeSequencesGoBackwards) {
  hand_buffer b(2, 160);  // first entry 48
  put_row(b.span(), 0, 48, 10);
  std::size_t at = put_entry(b.span(), 48, "e1");
  at = put_entry(b.span(), at, "e2");
  put_row(b.span(), 1, at, 3);  // starts where chunk 0 ends, but with a smaller token
  at = put_entry(b.span(), at, "e3");
  at = put_entry(b.span(), at, "e4");
  put_wrap_marker(b.span(), at);
  {
    ring_reader reader;
    attach_ok(reader, b);  // oldest = row 1 (token 3)
    EXPECT_EQ(reader.position_sequence(), 3u);
    const auto drained = drain_checked(reader, 3);
    // Reading on from e2 into chunk 1 would deliver e3 and e4 a second time, as 13 and 14
    // (issue 10 item 8): a chunk starting with a token below the sequence is corrupt.
    EXPECT_EQ(drained.events,
              (std::vector<read_event>{ok_event(4, "e3"), ok_event(5, "e4"), lapped_event(5),
                                       ok_event(11, "e1"), ok_event(12, "e2"), corrupt_event()}));
  }
  {
    ring_reader reader;
    attach_ok(reader, b, start_position::newest);  // row 0 (token 10)
    EXPECT_EQ(drain_checked(reader, 10).events,
              (std::vector<read_event>{ok_event(11, "e1"), ok_event(12, "e2"), corrupt_event()}));
  }
}

TEST(CorruptBuffer, TokenAndSequenceOverflowAreCorrupt) {
  {
    hand_buffer b(1, 128);
    put_row(b.span(), 0, 32, max_u64 - 1);
    std::size_t at = put_entry(b.span(), 32, "last");
    at = put_entry(b.span(), at, "overflow");
    put_u32(b.span(), at, 0);
    ring_reader reader;
    attach_ok(reader, b);
    const auto drained = drain_checked(reader, max_u64 - 1);
    EXPECT_EQ(drained.events,
              (std::vector<read_event>{ok_event(max_u64, "last"), corrupt_event()}));
  }
  {
    hand_buffer b(1, 128);
    put_row(b.span(), 0, 32, max_u64);
    put_u32(b.span(), put_entry(b.span(), 32, "never"), 0);
    ring_reader reader;
    attach_ok(reader, b);
    const auto drained = drain_checked(reader, reader.position_sequence());
    for (const auto& e : drained.events) EXPECT_NE(e.status, read_status::ok);
    EXPECT_LE(drained.events.size(), 1u);
  }
  {
    // A lapped reader resyncing to a row with the maximum token.
    hand_buffer b(2, 160);
    put_row(b.span(), 0, 48, 0);
    std::size_t at = put_entry(b.span(), 48, "one");
    put_wrap_marker(b.span(), at);
    put_row(b.span(), 1, 96, max_u64);
    put_u32(b.span(), put_entry(b.span(), 96, "x"), 0);
    ring_reader reader;
    attach_ok(reader, b);
    const auto drained = drain_checked(reader, 0);
    ASSERT_GE(drained.events.size(), 1u);
    EXPECT_EQ(drained.events[0], ok_event(1, "one"));
    for (std::size_t i = 1; i < drained.events.size(); ++i) {
      EXPECT_NE(drained.events[i].status, read_status::ok);
    }
  }
}

TEST(CorruptBuffer, WrapMarkerAtChunkZeroStartIsALoopNotAHang) {
  {
    hand_buffer b(1, 128);
    put_row(b.span(), 0, 32, 0);
    put_wrap_marker(b.span(), 32);
    ring_reader reader;
    attach_ok(reader, b);
    const auto drained = drain_checked(reader, 0);
    EXPECT_EQ(drained.events, (std::vector<read_event>{corrupt_event()}));
  }
  {
    // Two rows at the same offset with the same token, and a wrap marker there: a cycle through
    // the next-row rule and the wrap rule.
    hand_buffer b(2, 128);
    put_row(b.span(), 0, 48, 0);
    put_row(b.span(), 1, 48, 0);
    put_wrap_marker(b.span(), 48);
    ring_reader reader;
    attach_ok(reader, b);
    const auto drained = drain_checked(reader, 0);
    EXPECT_EQ(drained.corrupt, 1u);
  }
  {
    // Every row points at a wrap marker with chained tokens.
    hand_buffer b(4, 256);
    for (std::uint32_t i = 0; i < 4; ++i) {
      put_row(b.span(), i, 96 + 16 * i, 0);
      put_wrap_marker(b.span(), 96 + 16 * i);
    }
    ring_reader reader;
    attach_ok(reader, b);
    drain_checked(reader, 0);
  }
}

// Rule 5: chunk 0 ended with neither a wrap marker nor an advance (another writer broke the
// format) while a newer chunk exists elsewhere: the reader must move on, not stall.
TEST(CorruptBuffer, ChunkEndingWithoutWrapOrAdvanceDoesNotStall) {
  hand_buffer b(2, 192);  // first entry 48
  put_row(b.span(), 0, 48, 0);
  std::size_t at = put_entry(b.span(), 48, "e1");
  at = put_entry(b.span(), at, "e2");
  put_u32(b.span(), at, 0);  // chunk 0 just stops
  put_row(b.span(), 1, 128, 5);
  put_u32(b.span(), put_entry(b.span(), 128, "e6"), 0);
  ring_reader reader;
  attach_ok(reader, b);
  EXPECT_EQ(drain_checked(reader, 0).events,
            (std::vector<read_event>{ok_event(1, "e1"), ok_event(2, "e2"), lapped_event(3),
                                     ok_event(6, "e6")}));
}

// The same with the next chunk's token continuing the sequence exactly (nothing lost) but
// starting at another offset: still newer data, so still no stall.
TEST(CorruptBuffer, ChunkEndingWithoutWrapBeforeAContinuingChunkDoesNotStall) {
  hand_buffer b(2, 192);
  put_row(b.span(), 0, 48, 0);
  std::size_t at = put_entry(b.span(), 48, "e1");
  at = put_entry(b.span(), at, "e2");
  put_u32(b.span(), at, 0);
  put_row(b.span(), 1, 128, 2);
  put_u32(b.span(), put_entry(b.span(), 128, "e3"), 0);
  ring_reader reader;
  attach_ok(reader, b);
  EXPECT_EQ(drain_checked(reader, 0).events,
            (std::vector<read_event>{ok_event(1, "e1"), ok_event(2, "e2"), ok_event(3, "e3")}));
}

TEST(CorruptBuffer, NextRowWithLargerTokenAtThePositionMeansLapped) {
  hand_buffer b(2, 192);
  put_row(b.span(), 0, 48, 0);
  // Chunk 0 spans 32 bytes, room for the 7 entries row 1's token says it held (a row whose
  // token jumps further than that is implausible: docs/format.md "Implausible rows").
  const std::string first = "e1" + std::string(24, '.');
  std::size_t at = put_entry(b.span(), 48, first);
  put_row(b.span(), 1, at, 7);
  put_u32(b.span(), put_entry(b.span(), at, "e8"), 0);
  ring_reader reader;
  attach_ok(reader, b);
  EXPECT_EQ(drain_checked(reader, 0).events,
            (std::vector<read_event>{ok_event(1, first), lapped_event(6), ok_event(8, "e8")}));
}

TEST(CorruptBuffer, WrapToChunkZeroWithWrongTokenResyncs) {
  hand_buffer b(2, 192);
  put_row(b.span(), 0, 48, 9);
  put_u32(b.span(), put_entry(b.span(), 48, "e10"), 0);
  put_row(b.span(), 1, 128, 4);
  put_wrap_marker(b.span(), put_entry(b.span(), 128, "e5"));
  ring_reader reader;
  attach_ok(reader, b);
  EXPECT_EQ(drain_checked(reader, 4).events,
            (std::vector<read_event>{ok_event(5, "e5"), lapped_event(4), ok_event(10, "e10")}));
}

TEST(CorruptBuffer, ImplicitWrapWithAnUnalignedBufferEnd) {
  // A buffer whose size is not a multiple of 4: an entry ending at the last whole word leaves
  // fewer than 4 bytes, which is an implicit wrap.
  hand_buffer b(1, 64);
  put_row(b.span(), 0, 32, 0);
  put_entry(b.span(), 32, std::string(24, 'z'));  // 32..60
  ring_reader reader;
  ASSERT_EQ(reader.attach(b.bytes.span().first(62)).status, read_status::ok);
  const auto drained = drain_checked(reader, 0);
  EXPECT_EQ(drained.events, (std::vector<read_event>{ok_event(1, std::string(24, 'z'))}));
}

TEST(CorruptBuffer, RandomGarbageAfterAValidHeaderNeverCrashesOrHangs) {
  std::uint64_t state = 12345;
  for (int round = 0; round < 2000; ++round) {
    const std::uint32_t chunks = 1 + static_cast<std::uint32_t>(mix64(state++) % 6);
    hand_buffer b(chunks, 256);
    for (std::size_t i = 16; i < 256; i += 8) put_u64(b.span(), i, mix64(state++));
    // Make some rows plausible so the reader gets past attach into the entries.
    for (std::uint32_t i = 0; i < chunks; ++i) {
      if (mix64(state++) % 2 == 0) {
        const std::uint64_t offset = b.first + 4 * (mix64(state++) % ((256 - b.first) / 4));
        put_row(b.span(), i, offset, mix64(state++) % 8);
      }
    }
    for (const auto mode : {start_position::oldest, start_position::newest, start_position::now}) {
      ring_reader reader;
      ASSERT_EQ(reader.attach(b.bytes, mode).status, read_status::ok);
      drain_checked(reader, reader.position_sequence(), 100000);
    }
  }
}

// Issue 10 item 3: N rows each pointing at a corrupt (or empty) entry made every resync scan
// the whole table: O(N^2) for one pass (42 s at N = 65 536). A full pass must cost O(N log N).
// The bound is a count of rows loaded by whole-table passes, not a time: a few passes over the
// table per full pass, whatever N is.
TEST(BoundedWork, FullPassOverRowsPointingAtCorruptEntriesIsNotQuadratic) {
  constexpr std::uint32_t rows = 16384;
  for (const auto kind :
       {crafted_entry::corrupt, crafted_entry::empty, crafted_entry::one_then_corrupt}) {
    SCOPED_TRACE(static_cast<int>(kind));
    crafted_ring ring = make_crafted_ring(rows, kind);
    ring_reader reader;
    ASSERT_EQ(reader.attach(ring.bytes()).status, read_status::ok);
    std::uint64_t corrupt = 0;
    std::uint64_t ok = 0;
    std::uint64_t lapped = 0;
    std::uint64_t calls = 0;
    for (;; ++calls) {
      ASSERT_LT(calls, 8ULL * rows) << "the pass does not end";
      const read_result r = reader.read_next();
      if (r.status == read_status::no_data) break;
      corrupt += r.status == read_status::corrupt;
      ok += r.status == read_status::ok;
      lapped += r.status == read_status::lapped;
    }
    switch (kind) {
      case crafted_entry::corrupt: EXPECT_EQ(corrupt, rows); break;
      case crafted_entry::empty: EXPECT_EQ(lapped, rows - 1); break;
      case crafted_entry::one_then_corrupt:
        EXPECT_EQ(ok, rows);
        EXPECT_EQ(corrupt, rows);
        break;
    }
    EXPECT_LE(reader.choice_rows_loaded(), 16ULL * rows)
        << "rows loaded by table scans over one pass: quadratic work";
  }
}

// Plausible rows that loop within one read (tests/support/crafted_rings.hpp): each loop is a
// call that ends in "no progress". Running every such call to the 2N + 16-pass bound, each pass
// with a resync or a stall check that re-loads a row, made a full pass O(N^2) (3.85 s for
// N = 8 192). The reader must see the loop and stop, with the bound's verdict.
TEST(BoundedWork, FullPassOverPlausibleRowsThatLoopWithinAReadIsNotQuadratic) {
  constexpr std::uint32_t rows = 3 * 2048;
  constexpr std::uint32_t groups = rows / 3;
  crafted_ring ring = make_plausible_loops(rows);
  ring_reader reader;
  ASSERT_EQ(reader.attach(ring.bytes()).status, read_status::ok);
  EXPECT_EQ(reader.position_sequence(), 3ULL * rows + 8);
  std::vector<read_result> results;
  for (;;) {
    ASSERT_LT(results.size(), 8ULL * rows) << "the pass does not end";
    const read_result r = reader.read_next();
    if (r.status == read_status::no_data) break;
    results.push_back(r);
  }
  EXPECT_EQ(reader.rows_rejected(), 0u) << "every row is plausible";
  // Group after group: the loop, then the resync past it loses 1 entry.
  ASSERT_EQ(results.size(), 2ULL * groups);
  for (std::size_t i = 0; i < results.size(); ++i) {
    SCOPED_TRACE(i);
    if (i % 2 == 0) {
      ASSERT_EQ(results[i].status, read_status::corrupt);
      EXPECT_EQ(results[i].detail, "no progress: the chunk table forms a loop");
    } else {
      ASSERT_EQ(results[i].status, read_status::lapped);
      EXPECT_EQ(results[i].lost, 1u);
    }
  }
  EXPECT_EQ(reader.entries_lost(), groups);
  EXPECT_EQ(reader.position_sequence(), 3ULL * rows + 8 + groups);
  EXPECT_LE(reader.choice_rows_loaded(), 16ULL * rows)
      << "rows loaded to choose where to go, over one pass: quadratic work";
}

// list and the viewer take "entries written" and the lag from newest_chunk_token(): one forged
// token must not claim 2^60 entries. It judges rows as a resync does (docs/format.md 7.7).
TEST(NewestChunkToken, IgnoresImplausibleRows) {
  alignas(8) std::byte buffer[4096];
  writer_config config;
  config.chunk_count = 8;
  config.chunk_target_size = 96;
  ring_writer writer(buffer, config);
  const std::string text(20, 'n');
  const auto payload = std::as_bytes(std::span(text.data(), text.size()));
  while (writer.entries_written() < 60) ASSERT_EQ(writer.write(payload), write_status::ok);
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer, start_position::newest).status, read_status::ok);
  const std::uint64_t newest = reader.newest_chunk_token();
  EXPECT_EQ(newest, reader.position_sequence()) << "the newest chunk's token, as the start";
  ASSERT_GT(newest, 0u);
  // Row 3 is not the newest: its token with bit 60 set jumps further than its chunk could hold.
  std::uint32_t forged = 3;
  std::uint64_t token = 0;
  std::memcpy(&token, buffer + layout::row_position(forged) + layout::row_token_word, 8);
  ASSERT_NE(token, newest);
  token |= std::uint64_t{1} << 60;
  std::memcpy(buffer + layout::row_position(forged) + layout::row_token_word, &token, 8);
  EXPECT_EQ(reader.newest_chunk_token(), newest);
  // A fresh reader (as `ouroboros-cli list` uses) says the same, and so does its start.
  ring_reader probe;
  ASSERT_EQ(probe.attach(buffer, start_position::newest).status, read_status::ok);
  EXPECT_EQ(probe.newest_chunk_token(), newest);
  EXPECT_EQ(probe.position_sequence(), newest);
  EXPECT_EQ(probe.rows_rejected(), 1u);
  // newest_chunk_token() did not change where the first reader reads on.
  const read_result r = reader.read_next();
  ASSERT_EQ(r.status, read_status::ok);
  EXPECT_EQ(r.sequence, newest + 1);
}

// On any table that does not change, newest_chunk_token() is the largest token of a row that is
// not implausible: the start of a reader attached at `newest` (or 0 when no row is plausible).
TEST(NewestChunkToken, AgreesWithTheNewestStartOnForgedTables) {
  std::uint64_t state = 777;
  const auto random = [&](std::uint64_t bound) { return mix64(state++) % bound; };
  int rejecting = 0;
  for (int round = 0; round < 20000; ++round) {
    const auto chunks = static_cast<std::uint32_t>(1 + random(24));
    hand_buffer b(chunks, layout::align_up(layout::table_end(chunks), 8) + 8 + 4 * random(200));
    const std::size_t size = b.bytes.span().size();
    // Mostly one plausible lap, with forged rows mixed in.
    std::uint64_t offset = b.first;
    std::uint64_t token = 5 * random(4);
    for (std::uint32_t i = 0; i < chunks; ++i) {
      offset += 4 * (1 + random(6));
      token += 1 + random(3);
      std::uint64_t o = offset;
      std::uint64_t t = token;
      switch (random(10)) {
        case 0: continue;  // not committed
        case 1: t |= std::uint64_t{1} << (20 + random(40)); break;
        case 2: t = random(chunks + 5); break;
        case 3: o = b.first + 4 * random((size - b.first) / 4); break;
        case 4:
          o = b.first + 4 * random((size - b.first) / 4);
          t = random(3ULL * chunks);
          break;
        default: break;
      }
      put_row(b.span(), i, std::min<std::uint64_t>(o, size - 4), t);
    }
    SCOPED_TRACE(round);
    ring_reader reader;
    ASSERT_EQ(reader.attach(b.bytes, start_position::newest).status, read_status::ok);
    rejecting += reader.rows_rejected() > 0;
    EXPECT_EQ(reader.newest_chunk_token(),
              reader.start_deferred() ? 0 : reader.position_sequence());
  }
  EXPECT_GT(rejecting, 10000) << "the tables must hold implausible rows";
}

TEST(ReadStatus, EveryStatusHasAName) {
  for (const auto s :
       {read_status::ok, read_status::no_data, read_status::lapped, read_status::not_a_log,
        read_status::unsupported_version, read_status::corrupt, read_status::writer_restarted,
        read_status::segment_truncated}) {
    EXPECT_FALSE(to_string(s).empty());
  }
}

// A reader that attaches while the writer has no committed row (it is restarting the only one)
// starts on its first read; its accounting must start there too, not at 0.
TEST(RingReaderStart, DeferredStartFixesTheAccountingStart) {
  alignas(8) std::byte buffer[512];
  writer_config config;
  config.chunk_count = 1;
  config.chunk_target_size = 64;
  ring_writer writer(buffer, config);
  const std::string text(40, 'x');
  const auto payload = std::as_bytes(std::span(text.data(), text.size()));
  while (writer.entries_written() < 30) ASSERT_EQ(writer.write(payload), write_status::ok);
  const std::size_t row0 = layout::row_position(0);
  std::uint64_t token = 0;
  std::memcpy(&token, buffer + row0 + layout::row_token_word, 8);
  ASSERT_GT(token, 0u) << "the ring must have wrapped so row 0 has a non-zero token";
  std::uint64_t offset_word = 0;
  std::memcpy(&offset_word, buffer + row0, 8);
  const std::uint64_t uncommitted = 0;
  std::memcpy(buffer + row0, &uncommitted, 8);

  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  EXPECT_EQ(reader.read_next().status, read_status::no_data);
  std::memcpy(buffer + row0, &offset_word, 8);
  const read_result first = reader.read_next();
  ASSERT_EQ(first.status, read_status::ok);
  EXPECT_EQ(first.sequence, token + 1);
  EXPECT_EQ(reader.start_sequence(), token);
  EXPECT_EQ(reader.entries_delivered() + reader.entries_lost(),
            reader.position_sequence() - reader.start_sequence());
}

// --- read_batch ---------------------------------------------------------------------------------

namespace batch {

// Every result of read_batch, expanded to one event per entry (an ok batch of k entries is k ok
// events), until no_data; detail text is compared for corrupt results too.
std::vector<read_event> drain_batches(ring_reader& reader, std::size_t max_entries,
                                      std::size_t max_bytes, std::vector<std::string>* details) {
  std::vector<read_event> events;
  for (int i = 0; i < 100000; ++i) {
    const batch_result b = reader.read_batch(max_entries, max_bytes);
    if (b.status == read_status::no_data) return events;
    if (b.status == read_status::ok) {
      EXPECT_FALSE(b.entries.empty());
      EXPECT_LE(b.entries.size(), std::max<std::size_t>(max_entries, 1));
      for (const batch_entry& e : b.entries) {
        events.push_back(ok_event(
            e.sequence,
            std::string(reinterpret_cast<const char*>(e.payload.data()), e.payload.size())));
      }
      continue;
    }
    EXPECT_TRUE(b.entries.empty());
    read_result r;
    r.status = b.status;
    r.lost = b.lost;
    events.push_back(to_event(r));
    if (details != nullptr && b.status == read_status::corrupt) details->emplace_back(b.detail);
  }
  ADD_FAILURE() << "read_batch never reported no_data";
  return events;
}

std::vector<read_event> drain_next(ring_reader& reader, std::vector<std::string>* details) {
  std::vector<read_event> events;
  for (int i = 0; i < 100000; ++i) {
    const read_result r = reader.read_next();
    if (r.status == read_status::no_data) return events;
    events.push_back(to_event(r));
    if (details != nullptr && r.status == read_status::corrupt) details->emplace_back(r.detail);
  }
  ADD_FAILURE() << "read_next never reported no_data";
  return events;
}

}  // namespace batch

// The same entries, sequence numbers and losses as read_next, on rings of many shapes written
// and read in random bursts (wraps, chunk advances, laps, entries larger than a chunk), with
// random batch limits.
TEST(ReadBatch, DeliversExactlyWhatReadNextDelivers) {
  std::mt19937_64 random(12);
  std::size_t batches_of_many = 0;
  for (int shape = 0; shape < 40; ++shape) {
    const std::uint32_t chunks = 1 + static_cast<std::uint32_t>(random() % 8);
    const std::size_t target = 32 + random() % 600;
    aligned_buffer buffer(required_buffer_size(config_of(chunks, target)));
    ring_writer writer(buffer, config_of(chunks, target));
    ring_reader one;
    ring_reader many;
    const auto start = static_cast<start_position>(random() % 3);
    ASSERT_EQ(one.attach(buffer, start).status, read_status::ok);
    ASSERT_EQ(many.attach(buffer, start).status, read_status::ok);
    std::uint64_t seq = 0;
    for (int burst = 0; burst < 60; ++burst) {
      const std::uint64_t writes = random() % (burst % 7 == 0 ? 200 : 12);
      for (std::uint64_t w = 0; w < writes; ++w) {
        const std::size_t size = std::min<std::size_t>(
            writer.max_payload_size(),
            random() % 16 == 0 ? 1 + random() % writer.max_payload_size() : 1 + random() % 90);
        write_seq(writer, ++seq, size);
      }
      const std::size_t max_entries = random() % 4 == 0 ? 1 + random() % 3 : 1024;
      const std::size_t max_bytes = random() % 4 == 0 ? random() % 300 : 64 * 1024;
      const std::vector<read_event> expected = batch::drain_next(one, nullptr);
      const std::size_t before = many.entries_delivered();
      const std::vector<read_event> got =
          batch::drain_batches(many, max_entries, max_bytes, nullptr);
      ASSERT_EQ(got, expected) << "shape " << shape << " burst " << burst;
      EXPECT_EQ(
          many.entries_delivered() - before,
          static_cast<std::size_t>(std::count_if(got.begin(), got.end(), [](const read_event& e) {
            return e.status == read_status::ok;
          })));
      EXPECT_EQ(many.entries_lost(), one.entries_lost());
      EXPECT_EQ(many.position_sequence(), one.position_sequence());
      if (got.size() > 1) ++batches_of_many;
    }
  }
  EXPECT_GT(batches_of_many, 0u);
}

// Hostile buffers: the same results as read_next, corrupt verdicts and their reasons included.
TEST(ReadBatch, HostileBuffersGiveTheSameResultsAsReadNext) {
  for (const auto kind :
       {crafted_entry::corrupt, crafted_entry::empty, crafted_entry::one_then_corrupt}) {
    const crafted_ring ring = make_crafted_ring(64, kind);
    ring_reader one;
    ring_reader many;
    ASSERT_EQ(one.attach(ring.bytes()).status, read_status::ok);
    ASSERT_EQ(many.attach(ring.bytes()).status, read_status::ok);
    std::vector<std::string> one_details;
    std::vector<std::string> many_details;
    const auto expected = batch::drain_next(one, &one_details);
    EXPECT_EQ(batch::drain_batches(many, 1024, 64 * 1024, &many_details), expected);
    EXPECT_EQ(many_details, one_details);
  }
  // Random garbage after valid entries: lengths past the end, reserved lengths, wrap markers.
  std::mt19937_64 random(5);
  for (int trial = 0; trial < 200; ++trial) {
    aligned_buffer buffer(required_buffer_size(config_of(4, 256)));
    ring_writer writer(buffer, config_of(4, 256));
    for (std::uint64_t seq = 1; seq <= 30; ++seq) write_seq(writer, seq, 1 + random() % 60);
    const std::size_t at = writer.first_entry_offset() + 4 * (random() % 200);
    for (int k = 0; k < 4; ++k) {
      const std::uint32_t word = static_cast<std::uint32_t>(random());
      std::memcpy(buffer.data() + std::min(at + 4 * k, buffer.size() - 4), &word, 4);
    }
    ring_reader one;
    ring_reader many;
    ASSERT_EQ(one.attach(buffer).status, read_status::ok);
    ASSERT_EQ(many.attach(buffer).status, read_status::ok);
    std::vector<std::string> one_details;
    std::vector<std::string> many_details;
    const auto expected = batch::drain_next(one, &one_details);
    ASSERT_EQ(batch::drain_batches(many, 1 + trial % 50, 64 * 1024, &many_details), expected)
        << "trial " << trial;
    EXPECT_EQ(many_details, one_details);
  }
}

// A buffer whose size is not a multiple of 4, with entries that end at its very last byte or
// short of it: the run stops where read_next stops, and the next call meets the implicit wrap
// (the run's walk rounds an entry's end up past the buffer's end and clamps it after the walk).
TEST(ReadBatch, AnUnalignedBufferEndGivesTheSameResultsAsReadNext) {
  for (const std::size_t span : {61U, 62U, 63U}) {
    for (std::size_t last_end = span - 3; last_end <= span; ++last_end) {
      hand_buffer b(1, 64);
      put_row(b.span(), 0, 32, 0);
      put_entry(b.span(), 32, "ab");                                 // 32..38
      put_entry(b.span(), 40, std::string(last_end - 40 - 4, 'z'));  // 40..last_end
      ring_reader one;
      ring_reader many;
      ASSERT_EQ(one.attach(b.bytes.span().first(span)).status, read_status::ok);
      ASSERT_EQ(many.attach(b.bytes.span().first(span)).status, read_status::ok);
      const auto expected = batch::drain_next(one, nullptr);
      EXPECT_EQ(batch::drain_batches(many, 1024, 64 * 1024, nullptr), expected)
          << "span " << span << ", last entry ends at " << last_end;
      EXPECT_EQ(many.position(), one.position()) << span << " " << last_end;
      EXPECT_EQ(many.position_sequence(), one.position_sequence());
    }
  }
}

// read_next's fast path leaves the clamp of a position rounded up past the buffer's end to the
// next call: the position a caller sees never passes the end, and the next call meets the wrap.
TEST(ReadNext, APositionRoundedPastAnUnalignedEndIsClampedForCallers) {
  for (const std::size_t span : {61U, 62U, 63U}) {
    hand_buffer b(1, 64);
    put_row(b.span(), 0, 32, 0);
    put_entry(b.span(), 32, "ab");                             // 32..38
    put_entry(b.span(), 40, std::string(span - 40 - 4, 'z'));  // 40..span, the very last byte
    ring_reader reader;
    ASSERT_EQ(reader.attach(b.bytes.span().first(span)).status, read_status::ok);
    ASSERT_EQ(reader.read_next().status, read_status::ok);
    const read_result last = reader.read_next();
    ASSERT_EQ(last.status, read_status::ok);
    EXPECT_EQ(last.payload.size(), span - 44);
    EXPECT_EQ(reader.position(), span) << "span " << span;
    EXPECT_EQ(reader.read_next().status, read_status::no_data);
    EXPECT_EQ(reader.position(), span) << "span " << span;
    EXPECT_EQ(reader.entries_delivered(), 2U);
  }
}

// Limits, consecutive sequence numbers, and views that stay valid until the next call.
TEST(ReadBatch, LimitsAndViews) {
  aligned_buffer buffer(required_buffer_size(config_of(2, 64 * 1024)));
  ring_writer writer(buffer, config_of(2, 64 * 1024));
  for (std::uint64_t seq = 1; seq <= 100; ++seq) write_seq(writer, seq, 40);
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  batch_result b = reader.read_batch(30);
  ASSERT_EQ(b.status, read_status::ok);
  ASSERT_EQ(b.entries.size(), 30u);
  for (std::size_t k = 0; k < 30; ++k) {
    EXPECT_EQ(b.entries[k].sequence, k + 1);
    EXPECT_TRUE(content_matches(b.entries[k].payload, k + 1));
    // Never a view of the shared buffer: overwriting it does not change what was handed out.
    EXPECT_FALSE(b.entries[k].payload.data() >= buffer.data() &&
                 b.entries[k].payload.data() < buffer.data() + buffer.size());
  }
  // A byte limit: at least one entry, never more than the limit otherwise (44 bytes each).
  b = reader.read_batch(1024, 1000);
  ASSERT_EQ(b.status, read_status::ok);
  EXPECT_EQ(b.entries.size(), 1000u / 44);
  EXPECT_EQ(b.entries.front().sequence, 31u);
  b = reader.read_batch();
  ASSERT_EQ(b.status, read_status::ok);
  EXPECT_EQ(b.entries.back().sequence, 100u);
  EXPECT_EQ(reader.read_batch().status, read_status::no_data);
  EXPECT_EQ(reader.entries_delivered(), 100u);
  // Interleaving both calls keeps one stream.
  for (std::uint64_t seq = 101; seq <= 110; ++seq) write_seq(writer, seq, 40);
  EXPECT_EQ(reader.read_next().sequence, 101u);
  b = reader.read_batch(3);
  ASSERT_EQ(b.entries.size(), 3u);
  EXPECT_EQ(b.entries[0].sequence, 102u);
  EXPECT_EQ(reader.read_next().sequence, 105u);
  // A detached reader says so.
  ring_reader detached;
  EXPECT_EQ(detached.read_batch().status, read_status::not_a_log);
}

}  // namespace
}  // namespace ouroboros::test
