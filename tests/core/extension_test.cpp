// The extension block: present or absent, identity fields, heartbeat and flags, the clock
// calibration seqlock (also under a concurrent publisher), the dictionary, and malformed blocks.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "ouroboros/extension.hpp"
#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"
#include "ring_bytes.hpp"
#include "test_support.hpp"

namespace ouroboros::test {
namespace {

using ext = layout::extension_layout;

struct ring_with_extension {
  explicit ring_with_extension(std::uint32_t dictionary = 64) {
    info.writer_pid = 4242;
    info.writer_start_unix_ns = 1'700'000'000'000'000'000ULL;
    info.incarnation = 0xABCDEF0123456789ULL;
    info.payload_encoding = ext::encoding_record;
    info.dictionary_capacity = dictionary;
    config.chunk_count = 4;
    config.chunk_target_size = 128;
    config.extension = &info;
    buffer = std::make_unique<aligned_buffer>(required_buffer_size(config));
    writer = std::make_unique<ring_writer>(*buffer, config);
    block = extension_writer(writer->extension_block());
  }
  extension_info info;
  writer_config config;
  std::unique_ptr<aligned_buffer> buffer;
  std::unique_ptr<ring_writer> writer;
  extension_writer block;
};

TEST(Extension, AbsentBlockReadsAsNothingAndTheRingStillReads) {
  writer_config config;
  config.chunk_count = 2;
  config.chunk_target_size = 64;
  aligned_buffer buffer(required_buffer_size(config));
  ring_writer writer(buffer, config);
  EXPECT_TRUE(writer.extension_block().empty());
  EXPECT_EQ(writer.first_entry_offset(), layout::table_end(2));
  EXPECT_FALSE(read_extension(buffer).has_value());
  EXPECT_FALSE(read_heartbeat(buffer).has_value());
  EXPECT_FALSE(read_clock(buffer).has_value());
  EXPECT_FALSE(read_dictionary_entry(buffer, 0).has_value());
  extension_writer none(writer.extension_block());
  EXPECT_FALSE(none.valid());
  none.beat(1);  // harmless
  EXPECT_FALSE(none.append_dictionary(1, "x").has_value());
  ASSERT_EQ(writer.write(as_bytes("plain")), write_status::ok);
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(1, "plain")}));
}

TEST(Extension, PresentBlockCarriesIdentityAndTheRingReadsPastIt) {
  ring_with_extension r;
  const auto s = read_extension(*r.buffer);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->writer_pid, 4242u);
  EXPECT_EQ(s->writer_start_unix_ns, r.info.writer_start_unix_ns);
  EXPECT_EQ(s->incarnation, r.info.incarnation);
  EXPECT_EQ(s->payload_encoding, ext::encoding_record);
  EXPECT_EQ(s->chunk_target_size, 128u);
  EXPECT_EQ(s->heartbeat_unix_ns, r.info.writer_start_unix_ns);
  EXPECT_FALSE(s->closed());
  EXPECT_EQ(s->dictionary_offset, layout::extension_block_offset(4) + ext::min_size);
  EXPECT_EQ(s->dictionary_capacity, 64u);
  // The first chunk starts after the block; a plain v1 reader follows row 0 and never sees it.
  EXPECT_GT(r.writer->first_entry_offset(), layout::table_end(4) + ext::min_size);
  ASSERT_EQ(r.writer->write(as_bytes("after the block")), write_status::ok);
  ring_reader reader;
  ASSERT_EQ(reader.attach(*r.buffer).status, read_status::ok);
  EXPECT_EQ(drain(reader), (std::vector<read_event>{ok_event(1, "after the block")}));
}

TEST(Extension, HeartbeatAndFlags) {
  ring_with_extension r;
  r.block.beat(123456789);
  EXPECT_EQ(read_heartbeat(*r.buffer), 123456789u);
  EXPECT_EQ(read_extension(*r.buffer)->heartbeat_unix_ns, 123456789u);
  r.block.set_flags(ext::flag_closed);
  EXPECT_TRUE(read_extension(*r.buffer)->closed());
}

TEST(Extension, ClockCalibration) {
  ring_with_extension r;
  auto clock = read_clock(*r.buffer);
  ASSERT_TRUE(clock.has_value());  // never published: ticks are unix nanoseconds
  EXPECT_EQ(clock->to_unix_ns(987654321), 987654321u);

  clock_calibration c;
  c.tick_base = 1000;
  c.wall_base_ns = 5'000'000'000'000'000'000ULL;
  c.mult = std::uint64_t{3} << 31;  // 1.5 ns per tick
  r.block.publish_clock(c);
  clock = read_clock(*r.buffer);
  ASSERT_TRUE(clock.has_value());
  EXPECT_EQ(clock->tick_base, 1000u);
  EXPECT_EQ(clock->wall_base_ns, c.wall_base_ns);
  EXPECT_EQ(clock->mult, c.mult);
  EXPECT_EQ(clock->to_unix_ns(3000), c.wall_base_ns + 3000);
  EXPECT_EQ(clock->to_unix_ns(0), c.wall_base_ns - 1500);  // ticks before the base
  EXPECT_EQ(get_u64(*r.buffer, layout::extension_block_offset(4) + ext::clock_seq_offset), 2u);
}

// The seqlock: a reader never sees a mix of two publications. Runs under TSan.
TEST(Extension, ClockSeqlockNeverReturnsAMixedCalibration) {
  ring_with_extension r;
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    for (std::uint64_t k = 1; !stop.load(std::memory_order_relaxed); ++k) {
      clock_calibration c;
      c.tick_base = k;
      c.wall_base_ns = 2 * k;
      c.mult = 3 * k;
      r.block.publish_clock(c);
    }
  });
  std::uint64_t consistent = 0;
  std::uint64_t last = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < deadline || consistent < 100) {
    const auto clock = read_clock(*r.buffer);
    if (!clock || clock->tick_base == 0) continue;
    ASSERT_EQ(clock->wall_base_ns, 2 * clock->tick_base);
    ASSERT_EQ(clock->mult, 3 * clock->tick_base);
    ASSERT_GE(clock->tick_base, last);
    last = clock->tick_base;
    ++consistent;
  }
  stop = true;
  publisher.join();
  EXPECT_GT(consistent, 0u);
}

TEST(Extension, DictionaryAppendAndRead) {
  ring_with_extension r(40);
  const auto a = r.block.append_dictionary(1, "net");
  const auto b = r.block.append_dictionary(2, "sent {} bytes");
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*a, 0u);
  EXPECT_EQ(*b, 8u);  // 4 + 3 rounded up to 8
  auto e = read_dictionary_entry(*r.buffer, *a);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, 1);
  EXPECT_EQ(e->bytes, "net");
  e = read_dictionary_entry(*r.buffer, *b);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, 2);
  EXPECT_EQ(e->bytes, "sent {} bytes");
  // 8 + 20 = 28 used of 40: 12 left, so 9 bytes fit (4 + 9 -> 16 does not) and 8 do (12).
  EXPECT_FALSE(r.block.append_dictionary(3, "123456789").has_value());
  const auto c = r.block.append_dictionary(3, "12345678");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(r.block.append_dictionary(3, "").has_value());  // full: 40 of 40
  EXPECT_EQ(read_dictionary_entry(*r.buffer, *c)->bytes, "12345678");
  // Ids that are not entries.
  EXPECT_FALSE(read_dictionary_entry(*r.buffer, 2).has_value());
  EXPECT_FALSE(read_dictionary_entry(*r.buffer, 40).has_value());
  EXPECT_FALSE(read_dictionary_entry(*r.buffer, 0xFFFFFFFC).has_value());
  EXPECT_FALSE(r.block.append_dictionary(1, std::string(70000, 'x')).has_value());

  ring_with_extension empty(0);
  EXPECT_FALSE(empty.block.append_dictionary(1, "x").has_value());
  EXPECT_FALSE(read_dictionary_entry(*empty.buffer, 0).has_value());
}

TEST(Extension, MalformedBlocksAreIgnoredNotTrusted) {
  const std::size_t at = layout::extension_block_offset(4);
  {
    ring_with_extension r;
    put_u32(*r.buffer, at + ext::size_offset, ext::min_size - 8);  // too small
    EXPECT_FALSE(read_extension(*r.buffer).has_value());
    put_u32(*r.buffer, at + ext::size_offset, 0xFFFFFFF8);  // past the buffer
    EXPECT_FALSE(read_extension(*r.buffer).has_value());
    put_u32(*r.buffer, at + ext::size_offset, ext::min_size + 4);  // not a multiple of 8
    EXPECT_FALSE(read_extension(*r.buffer).has_value());
  }
  {
    ring_with_extension r;
    put_u64(*r.buffer, at + ext::magic_offset, 0);
    EXPECT_FALSE(read_extension(*r.buffer).has_value());
    EXPECT_FALSE(read_heartbeat(*r.buffer).has_value());
  }
  {
    // A dictionary that claims to lie outside the block, or is misaligned, or overfull.
    ring_with_extension r;
    ASSERT_TRUE(r.block.append_dictionary(1, "abc").has_value());
    const std::size_t dict = at + ext::min_size;
    for (const std::uint32_t offset : {0u, 8u, static_cast<std::uint32_t>(dict + 1),
                                       static_cast<std::uint32_t>(dict + 2), 0xFFFFFFF0u}) {
      put_u32(*r.buffer, at + ext::dict_offset_offset, offset);
      const auto e = read_dictionary_entry(*r.buffer, 0);
      if (e) {
        EXPECT_LE(e->bytes.size(), 64u);
      }
    }
    // Misaligned but otherwise inside the block: must not be read as a misaligned word.
    put_u32(*r.buffer, at + ext::dict_capacity_offset, 16);
    put_u32(*r.buffer, at + ext::dict_offset_offset, static_cast<std::uint32_t>(dict + 1));
    EXPECT_FALSE(read_dictionary_entry(*r.buffer, 0).has_value());
    put_u32(*r.buffer, at + ext::dict_offset_offset, static_cast<std::uint32_t>(dict));
    put_u32(*r.buffer, at + ext::dict_capacity_offset, 64);
    put_u32(*r.buffer, at + ext::dict_used_offset, 1000);  // more than the capacity
    EXPECT_FALSE(read_dictionary_entry(*r.buffer, 0).has_value());
    put_u32(*r.buffer, at + ext::dict_used_offset, 8);
    put_u32(*r.buffer, dict, 0xFFFF | (1u << 16));  // entry length past "used"
    EXPECT_FALSE(read_dictionary_entry(*r.buffer, 0).has_value());
  }
  {
    // A buffer too short to hold the block it announces.
    ring_with_extension r;
    EXPECT_FALSE(read_extension(r.buffer->span().first(at + 16)).has_value());
    EXPECT_FALSE(read_clock(r.buffer->span().first(at + 16)).has_value());
    EXPECT_FALSE(read_extension(r.buffer->span().first(8)).has_value());
  }
}

}  // namespace
}  // namespace ouroboros::test
