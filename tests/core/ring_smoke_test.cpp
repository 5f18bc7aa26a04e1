#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"

namespace {

using namespace ouroboros;

TEST(RingSmoke, WrittenEntriesAreReadBackInOrder) {
  alignas(8) std::byte buffer[2048];
  writer_config config;
  config.chunk_count = 4;
  config.chunk_target_size = 128;
  ring_writer writer(buffer, config);
  ring_reader reader;
  ASSERT_EQ(reader.attach(buffer).status, read_status::ok);
  EXPECT_EQ(reader.read_next().status, read_status::no_data);

  for (int i = 1; i <= 5; ++i) {
    const std::string text = "entry " + std::to_string(i);
    ASSERT_EQ(writer.write(std::as_bytes(std::span(text.data(), text.size()))), write_status::ok);
  }
  for (std::uint64_t i = 1; i <= 5; ++i) {
    const read_result result = reader.read_next();
    ASSERT_EQ(result.status, read_status::ok);
    EXPECT_EQ(result.sequence, i);
    const std::string text(reinterpret_cast<const char*>(result.payload.data()),
                           result.payload.size());
    EXPECT_EQ(text, "entry " + std::to_string(i));
  }
  EXPECT_EQ(reader.read_next().status, read_status::no_data);
}

}  // namespace
