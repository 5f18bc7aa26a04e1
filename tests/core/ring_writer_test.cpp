// The writer's byte layout, checked byte for byte, and the cases where a naive writer breaks the
// safety invariant: wrap at the buffer end (marker and implicit), entries larger than a chunk,
// chunks whose start moves between laps, and early wraps that leave older rows intact.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"
#include "ring_bytes.hpp"
#include "test_support.hpp"

namespace ouroboros::test {
namespace {

std::vector<std::uint8_t> bytes_of(const aligned_buffer& buffer) {
  std::vector<std::uint8_t> out(buffer.size());
  std::memcpy(out.data(), buffer.data(), buffer.size());
  return out;
}

write_status write_text(ring_writer& writer, std::string_view text) {
  return writer.write(as_bytes(text));
}

writer_config config_of(std::uint32_t chunks, std::size_t target) {
  writer_config config;
  config.chunk_count = chunks;
  config.chunk_target_size = target;
  return config;
}

// --- golden bytes -------------------------------------------------------------------------------

// N = 2 rows, target 16: header 16 + table 32 = first entry at 48, 80 bytes in all. The buffer
// starts as 0xAA so any byte the writer should not touch shows up.
TEST(RingLayout, GoldenBytesOfASmallBuffer) {
  aligned_buffer buffer(80, std::byte{0xAA});
  const writer_config config = config_of(2, 16);
  ASSERT_EQ(required_buffer_size(config), 80u);
  ring_writer writer(buffer, config);
  EXPECT_EQ(writer.first_entry_offset(), 48u);
  EXPECT_EQ(writer.max_payload_size(), 80u - 48u - 4u);

  // clang-format off
  const std::vector<std::uint8_t> fresh = {
    0x47, 0x4F, 0x4C, 0x42, 0x4F, 0x52, 0x55, 0x4F,  // magic 0x4F55524F424C4F47
    0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,  // version 1, chunk count 2
    0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,  // row 0: committed, offset 48
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //        token 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // row 1: not committed
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xAA, 0xAA, 0xAA, 0xAA,  // 48: no data yet
    0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
    0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
    0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
  };
  // clang-format on
  EXPECT_EQ(bytes_of(buffer), fresh);

  ASSERT_EQ(write_text(writer, "abc"), write_status::ok);    // 48, length 7
  ASSERT_EQ(write_text(writer, "defgh"), write_status::ok);  // 56, length 9
  ASSERT_EQ(write_text(writer, "ij"), write_status::ok);     // chunk 0 holds 20 >= 16: row 1 at 68
  // clang-format off
  const std::vector<std::uint8_t> three = {
    0x47, 0x4F, 0x4C, 0x42, 0x4F, 0x52, 0x55, 0x4F,
    0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,  // row 0: offset 48
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //        token 0
    0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,  // row 1: offset 68
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //        token 2
    0x07, 0x00, 0x00, 0x80, 'a',  'b',  'c',  0xAA,  // 48: "abc" (padding untouched)
    0x09, 0x00, 0x00, 0x80, 'd',  'e',  'f',  'g',   // 56: "defgh"
    'h',  0xAA, 0xAA, 0xAA, 0x06, 0x00, 0x00, 0x80,  // 68: "ij"
    'i',  'j',  0xAA, 0xAA, 0x00, 0x00, 0x00, 0x00,  // 76: no data yet
  };
  // clang-format on
  EXPECT_EQ(bytes_of(buffer), three);

  // 5 bytes do not fit in the 4 left: wrap marker at 76, row 0 restarted with token 3.
  ASSERT_EQ(write_text(writer, "k"), write_status::ok);
  // clang-format off
  const std::vector<std::uint8_t> wrapped = {
    0x47, 0x4F, 0x4C, 0x42, 0x4F, 0x52, 0x55, 0x4F,
    0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,  // row 0: offset 48
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //        token 3
    0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,  // row 1 still intact: offset 68
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //        token 2
    0x05, 0x00, 0x00, 0x80, 'k',  'b',  'c',  0xAA,  // 48: "k"
    0x00, 0x00, 0x00, 0x00, 'd',  'e',  'f',  'g',   // 56: zeroed slot after "k"
    'h',  0xAA, 0xAA, 0xAA, 0x06, 0x00, 0x00, 0x80,  // 68: "ij" still readable
    'i',  'j',  0xAA, 0xAA, 0x01, 0x00, 0x00, 0x80,  // 76: wrap marker
  };
  // clang-format on
  EXPECT_EQ(bytes_of(buffer), wrapped);

  // The oldest intact entry is "ij" (row 1), then the wrap leads to row 0.
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(3, "ij"), ok_event(4, "k")}));

  // The next entry's zeroed slot (68) lies in row 1's region: row 1 is invalidated first.
  ASSERT_EQ(write_text(writer, "lmnopq"), write_status::ok);
  EXPECT_EQ(get_row(buffer, 1), (raw_row{false, 0, 0}));
  EXPECT_EQ(get_row(buffer, 0), (raw_row{true, 48, 3}));
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(5, "lmnopq")}));
  ring_reader fresh_reader;
  ASSERT_EQ(fresh_reader.attach(buffer).status, read_status::ok);
  EXPECT_EQ(drain(fresh_reader),
            (std::vector<read_event>{ok_event(4, "k"), ok_event(5, "lmnopq")}));
}

TEST(RingLayout, ExtensionBlockSitsBetweenTableAndFirstEntry) {
  extension_info info;
  info.writer_pid = 42;
  info.incarnation = 7;
  info.dictionary_capacity = 30;  // rounded up with the block to a multiple of 8
  writer_config config = config_of(2, 64);
  config.extension = &info;
  aligned_buffer buffer(required_buffer_size(config));
  ring_writer writer(buffer, config);
  const std::size_t block = layout::extension_block_offset(2);
  EXPECT_EQ(block, 48u);
  EXPECT_EQ(writer.first_entry_offset(), block + layout::align_up(112 + 30, 8));
  EXPECT_EQ(get_row(buffer, 0), (raw_row{true, writer.first_entry_offset(), 0}));
  EXPECT_EQ(get_u64(buffer, block), layout::extension_layout::magic);
  EXPECT_EQ(writer.extension_block().data(), buffer.data() + block);
  EXPECT_EQ(writer.extension_block().size(), writer.first_entry_offset() - block);
}

// --- wrap ---------------------------------------------------------------------------------------

TEST(RingWrap, ImplicitWrapWhenAnEntryEndsExactlyAtTheBufferEnd) {
  aligned_buffer buffer(80, std::byte{0xAA});
  ring_writer writer(buffer, config_of(2, 16));
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  const std::string full(28, 'F');  // 48 + 4 + 28 = 80: nothing left, not even a marker slot
  ASSERT_EQ(write_text(writer, full), write_status::ok);
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(1, full)}));
  ASSERT_EQ(write_text(writer, "x"), write_status::ok);
  // No wrap marker was written: the last 4 bytes are still payload.
  EXPECT_EQ(get_u32(buffer, 76), 0x46464646u);
  EXPECT_EQ(get_row(buffer, 0), (raw_row{true, 48, 1}));
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(2, "x")}));
  ring_reader late;
  ASSERT_EQ(late.attach(buffer).status, read_status::ok);
  EXPECT_EQ(drain(late), (std::vector<read_event>{ok_event(2, "x")}));
}

TEST(RingWrap, WrapMarkerWhenFourOrMoreBytesRemain) {
  aligned_buffer buffer(96);
  ring_writer writer(buffer, config_of(2, 1000));  // one chunk in practice: no advance
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  // 48 + 12 + 12 + 12 = 84: 12 bytes remain, an entry of 16 does not fit.
  for (const char* text : {"12345678", "abcdefgh", "ABCDEFGH"}) {
    ASSERT_EQ(write_text(writer, text), write_status::ok);
  }
  EXPECT_EQ(drain(reader),
            (std::vector<read_event>{ok_event(1, "12345678"), ok_event(2, "abcdefgh"),
                                     ok_event(3, "ABCDEFGH")}));
  ASSERT_EQ(write_text(writer, "0123456789AB"), write_status::ok);
  EXPECT_EQ(get_u32(buffer, 84), layout::length_wrap_marker | layout::entry_committed_bit);
  EXPECT_EQ(get_row(buffer, 0), (raw_row{true, 48, 3}));
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(4, "0123456789AB")}));
  // A reader arriving now finds entry 3 physically intact at 72..84 but row 0 restarted: only
  // entry 4 is readable.
  ring_reader late;
  ASSERT_EQ(late.attach(buffer).status, read_status::ok);
  EXPECT_EQ(drain(late), (std::vector<read_event>{ok_event(4, "0123456789AB")}));
}

TEST(RingWrap, SingleChunkRingWrapsManyTimes) {
  aligned_buffer buffer(200);
  ring_writer writer(buffer, config_of(1, 64));
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  for (std::uint64_t seq = 1; seq <= 5000; ++seq) {
    std::vector<std::byte> payload(1 + seq % 60);
    fill_content(payload, seq);
    ASSERT_EQ(writer.write(payload), write_status::ok);
    const read_result r = reader.read_next();
    ASSERT_EQ(r.status, read_status::ok) << "seq " << seq;
    ASSERT_EQ(r.sequence, seq);
    ASSERT_TRUE(content_matches(r.payload, seq));
    ASSERT_EQ(reader.read_next().status, read_status::no_data);
  }
}

// --- rejected entries ---------------------------------------------------------------------------

TEST(RingWriter, OversizeAndEmptyEntriesAreRejectedAndNothingIsWritten) {
  aligned_buffer buffer(80, std::byte{0x55});
  ring_writer writer(buffer, config_of(2, 16));
  ASSERT_EQ(write_text(writer, "abc"), write_status::ok);
  const auto before = bytes_of(buffer);
  const std::string too_big(writer.max_payload_size() + 1, 'x');
  EXPECT_EQ(write_text(writer, too_big), write_status::too_large);
  EXPECT_EQ(writer.write({}), write_status::empty_payload);
  const std::string huge(1 << 20, 'y');
  EXPECT_EQ(write_text(writer, huge), write_status::too_large);
  EXPECT_EQ(bytes_of(buffer), before);
  EXPECT_EQ(writer.entries_written(), 1u);
  EXPECT_FALSE(to_string(write_status::too_large).empty());

  // The largest entry fills the whole data region and displaces everything else.
  const std::string largest(writer.max_payload_size(), 'M');
  ASSERT_EQ(write_text(writer, largest), write_status::ok);
  EXPECT_EQ(get_row(buffer, 1).committed, false);
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(2, largest)}));
  ASSERT_EQ(write_text(writer, largest), write_status::ok);
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(3, largest)}));
  ASSERT_EQ(write_text(writer, largest), write_status::ok);
  ASSERT_EQ(write_text(writer, "z"), write_status::ok);  // overwrites entry 4 before it is read
  EXPECT_EQ(drain(reader), (std::vector<read_event>{lapped_event(1), ok_event(5, "z")}));
}

TEST(RingWriter, ConstructorRejectsUnusableConfigurations) {
  aligned_buffer buffer(256);
  EXPECT_THROW(ring_writer(buffer.span().subspan(4), config_of(2, 16)), std::invalid_argument);
  EXPECT_THROW(ring_writer(buffer, config_of(0, 16)), std::invalid_argument);
  EXPECT_THROW(ring_writer(buffer, config_of(2, 0)), std::invalid_argument);
  EXPECT_THROW(ring_writer(buffer.span().first(48), config_of(2, 16)), std::invalid_argument);
  EXPECT_THROW(ring_writer(buffer, config_of(100, 16)), std::invalid_argument);
  extension_info info;  // incarnation 0
  writer_config config = config_of(2, 16);
  config.extension = &info;
  EXPECT_THROW(ring_writer(buffer, config), std::invalid_argument);
}

TEST(RingWriter, ClaimAndPublishShorterThanClaimed) {
  aligned_buffer buffer(256);
  ring_writer writer(buffer, config_of(2, 64));
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  std::byte* room = writer.claim(40);
  std::memcpy(room, "hello", 5);
  writer.publish(5);
  ASSERT_EQ(write_text(writer, "next"), write_status::ok);
  room = writer.claim(3);
  std::memcpy(room, "xyz", 3);
  writer.publish();
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(1, "hello"), ok_event(2, "next"),
                                                    ok_event(3, "xyz")}));
}

// --- safety invariant cases ---------------------------------------------------------------------

// An entry several chunks long overwrites several older rows at once; each must be invalidated
// before its bytes are touched, and a reader parked in one of them must resume exactly.
TEST(RingSafety, EntryLargerThanTheChunkTargetInvalidatesEveryRowItCovers) {
  // N = 6, target 32: first entry at 112, 6 * 32 = 192 bytes of data.
  const writer_config config = config_of(6, 32);
  aligned_buffer buffer(required_buffer_size(config));
  ring_writer writer(buffer, config);
  ASSERT_EQ(writer.first_entry_offset(), 112u);
  // Lap 1: 12 entries of 16 bytes, two per chunk: rows at 112, 144, ... 272 (tokens 0,2,..10).
  for (int i = 0; i < 12; ++i) ASSERT_EQ(write_text(writer, "0123456789ab"), write_status::ok);
  for (std::uint32_t row = 0; row < 6; ++row) {
    ASSERT_EQ(get_row(buffer, row), (raw_row{true, 112 + 32 * row, 2 * row})) << row;
  }
  ring_reader parked;  // reads into row 3 (entry 7), then waits
  ASSERT_EQ(parked.attach(buffer).status, read_status::ok);
  for (std::uint64_t seq = 1; seq <= 7; ++seq) ASSERT_EQ(parked.read_next().sequence, seq);

  // Lap 2 entry 13: 100 bytes at 112..212, zeroed slot 212..216: rows 1, 2 and 3 (start 208)
  // are covered; row 4 (240) is not.
  ASSERT_EQ(write_text(writer, std::string(96, 'L')), write_status::ok);
  EXPECT_EQ(get_row(buffer, 0), (raw_row{true, 112, 12}));
  for (std::uint32_t row = 1; row <= 3; ++row) EXPECT_FALSE(get_row(buffer, row).committed) << row;
  EXPECT_EQ(get_row(buffer, 4), (raw_row{true, 240, 8}));
  EXPECT_EQ(get_row(buffer, 5), (raw_row{true, 272, 10}));

  // The parked reader lost entry 8 (the rest of row 3) and resumes at row 4.
  EXPECT_EQ(drain(parked), (std::vector<read_event>{
                               lapped_event(1), ok_event(9, "0123456789ab"),
                               ok_event(10, "0123456789ab"), ok_event(11, "0123456789ab"),
                               ok_event(12, "0123456789ab"), ok_event(13, std::string(96, 'L'))}));
  EXPECT_EQ(parked.entries_lost(), 1u);

  // The big chunk 0 holds 100 >= 32 bytes: the next entry opens row 1 at 212 (a moved start).
  ASSERT_EQ(write_text(writer, "after"), write_status::ok);
  EXPECT_EQ(get_row(buffer, 1), (raw_row{true, 212, 13}));
  EXPECT_EQ(get_row(buffer, 4), (raw_row{true, 240, 8}));  // 212 + 12 + 4 = 228 < 240
  EXPECT_EQ(drain(parked), (std::vector<read_event>{ok_event(14, "after")}));
}

// Row 1 starts at 176 in lap 1 and at 112 in lap 2 (earlier), then row 2 moves later; readers
// parked in the old rows must not read the new bytes as old entries.
TEST(RingSafety, ChunkStartsThatMoveBetweenLapsAreHandled) {
  // N = 4, target 32: first entry at 80, 128 data bytes, 208 in all.
  const writer_config config = config_of(4, 32);
  aligned_buffer buffer(required_buffer_size(config));
  ring_writer writer(buffer, config);
  ASSERT_EQ(writer.first_entry_offset(), 80u);
  // Lap 1: entry 1 is 96 bytes (80..176), then 16-byte entries: row 1 at 176 (token 1),
  // 176, 192 -> 208 = end.
  ASSERT_EQ(write_text(writer, std::string(92, 'a')), write_status::ok);
  ASSERT_EQ(write_text(writer, "bbbbbbbbbbbb"), write_status::ok);
  ASSERT_EQ(write_text(writer, "cccccccccccc"), write_status::ok);
  EXPECT_EQ(get_row(buffer, 1), (raw_row{true, 176, 1}));
  ring_reader in_row1;
  ASSERT_EQ(in_row1.attach(buffer).status, read_status::ok);
  ASSERT_EQ(in_row1.read_next().sequence, 1u);
  ASSERT_EQ(in_row1.read_next().sequence, 2u);  // parked inside row 1 before entry 3

  // Lap 2: 32 bytes at 80 (row 0, token 3), then row 1 restarts at 112 with token 4.
  ASSERT_EQ(write_text(writer, std::string(28, 'd')), write_status::ok);
  ASSERT_EQ(write_text(writer, std::string(28, 'e')), write_status::ok);
  EXPECT_EQ(get_row(buffer, 0), (raw_row{true, 80, 3}));
  EXPECT_EQ(get_row(buffer, 1), (raw_row{true, 112, 4}));
  // Entry 3 (192..208) is physically intact, but row 1 (which described it) was restarted at
  // another offset and token: the reader cannot tell it apart from garbage and must resync.
  EXPECT_EQ(drain(in_row1),
            (std::vector<read_event>{lapped_event(1), ok_event(4, std::string(28, 'd')),
                                     ok_event(5, std::string(28, 'e'))}));

  // Row 2 now starts at 144 (it never existed before): then lap 3 moves it to 176.
  ASSERT_EQ(write_text(writer, std::string(28, 'f')), write_status::ok);  // row 2 at 144, token 5
  EXPECT_EQ(get_row(buffer, 2), (raw_row{true, 144, 5}));
  ASSERT_EQ(write_text(writer, std::string(28, 'g')), write_status::ok);  // row 3 at 176, token 6
  EXPECT_EQ(get_row(buffer, 3), (raw_row{true, 176, 6}));
  ring_reader in_row2;
  ASSERT_EQ(in_row2.attach(buffer).status, read_status::ok);
  EXPECT_EQ(in_row2.read_next().sequence, 4u);
  EXPECT_EQ(in_row2.read_next().sequence, 5u);
  EXPECT_EQ(in_row2.read_next().sequence, 6u);  // row 2's only entry

  // Lap 3: 96 bytes at 80 (row 0, token 7), row 1 at 176 (token 8): rows 1, 2 were covered.
  ASSERT_EQ(write_text(writer, std::string(92, 'h')), write_status::ok);
  EXPECT_EQ(get_row(buffer, 0), (raw_row{true, 80, 7}));
  EXPECT_FALSE(get_row(buffer, 1).committed);
  EXPECT_FALSE(get_row(buffer, 2).committed);
  // The zeroed slot after entry 8 (176..180) is row 3's first header: row 3 goes too.
  EXPECT_FALSE(get_row(buffer, 3).committed);
  ASSERT_EQ(write_text(writer, "iiii"), write_status::ok);
  EXPECT_EQ(get_row(buffer, 1), (raw_row{true, 176, 8}));
  EXPECT_FALSE(get_row(buffer, 3).committed);
  EXPECT_EQ(drain(in_row2),
            (std::vector<read_event>{lapped_event(1), ok_event(8, std::string(92, 'h')),
                                     ok_event(9, "iiii")}));
}

// Lap 2 wraps early because a large entry does not fit; rows 2 and 3 of lap 1 stay committed
// and their entries stay readable, and a reader following them loses exactly lap 2's chunk 0.
TEST(RingSafety, EarlyWrapLeavesOlderRowsIntactAndReadable) {
  // N = 4, target 32, first entry 80, 256 data bytes: 336 in all.
  writer_config config = config_of(4, 32);
  aligned_buffer buffer(336);
  ring_writer writer(buffer, config);
  // Lap 1: entry 1 160 bytes (80..240); row 1 at 240 (token 1): 32 bytes; row 2 at 272
  // (token 2): 32; row 3 at 304 (token 3): 32 -> 336.
  ASSERT_EQ(write_text(writer, std::string(156, '1')), write_status::ok);
  ASSERT_EQ(write_text(writer, std::string(28, '2')), write_status::ok);
  ASSERT_EQ(write_text(writer, std::string(28, '3')), write_status::ok);
  ASSERT_EQ(write_text(writer, std::string(28, '4')), write_status::ok);
  EXPECT_EQ(get_row(buffer, 3), (raw_row{true, 304, 3}));
  // Lap 2: entry 5 (32) at 80, row 0 token 4; entry 6 (16) opens row 1 at 112 (token 5);
  // entry 7 (96) stays in row 1 (16 < 32) at 128..224.
  ASSERT_EQ(write_text(writer, std::string(28, '5')), write_status::ok);
  ASSERT_EQ(write_text(writer, std::string(12, '6')), write_status::ok);
  ASSERT_EQ(write_text(writer, std::string(92, '7')), write_status::ok);
  EXPECT_EQ(get_row(buffer, 1), (raw_row{true, 112, 5}));
  EXPECT_EQ(get_row(buffer, 2), (raw_row{true, 272, 2}));
  ring_reader follower;  // keeps pace through lap 2
  ASSERT_EQ(follower.attach(buffer, start_position::newest).status, read_status::ok);
  EXPECT_EQ(drain(follower).size(), 2u);  // entries 6 and 7

  // Entry 8 (116 bytes) does not fit in the 112 left: wrap marker at 224, entry 8 at 80..196.
  ASSERT_EQ(write_text(writer, std::string(112, '8')), write_status::ok);
  EXPECT_EQ(get_u32(buffer, 224), layout::length_wrap_marker | layout::entry_committed_bit);
  EXPECT_EQ(get_row(buffer, 0), (raw_row{true, 80, 7}));
  EXPECT_FALSE(get_row(buffer, 1).committed);              // 80..200 covered row 1 (112)
  EXPECT_EQ(get_row(buffer, 2), (raw_row{true, 272, 2}));  // lap 1, intact
  EXPECT_EQ(get_row(buffer, 3), (raw_row{true, 304, 3}));  // lap 1, intact

  EXPECT_EQ(drain(follower), (std::vector<read_event>{ok_event(8, std::string(112, '8'))}));
  ring_reader historian;
  ASSERT_EQ(historian.attach(buffer).status, read_status::ok);
  EXPECT_EQ(
      drain(historian),
      (std::vector<read_event>{ok_event(3, std::string(28, '3')), ok_event(4, std::string(28, '4')),
                               lapped_event(3), ok_event(8, std::string(112, '8'))}));
}

// A reader parked at the end of a chunk (on its trailing slot) while the writer wraps must not
// take the previous lap's committed entry there for a new one.
TEST(RingSafety, CaughtUpReaderDoesNotReadThePreviousLapAtAChunkStart) {
  aligned_buffer buffer(48 + 64);
  ring_writer writer(buffer, config_of(2, 32));
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  std::uint64_t seq = 0;
  for (int round = 0; round < 200; ++round) {
    std::vector<std::byte> payload(1 + (round * 7) % 29);
    fill_content(payload, ++seq);
    ASSERT_EQ(writer.write(payload), write_status::ok);
    const read_result r = reader.read_next();
    ASSERT_EQ(r.status, read_status::ok);
    ASSERT_EQ(r.sequence, seq);
    ASSERT_TRUE(content_matches(r.payload, seq));
    ASSERT_EQ(reader.read_next().status, read_status::no_data) << "after seq " << seq;
  }
}

}  // namespace
}  // namespace ouroboros::test
