#include "ouroboros/tools/segment_stats.hpp"

#include <thread>

#include "ouroboros/detail/shared_words.hpp"
#include "ouroboros/layout.hpp"
#include "ouroboros/ring_reader.hpp"

namespace ouroboros::tools {

using detail::load_shared;
namespace lay = layout;

namespace {
bool header_ok(std::span<const std::byte> buffer, std::uint32_t& count) {
  if (buffer.size() < lay::header_size ||
      reinterpret_cast<std::uintptr_t>(buffer.data()) % 8 != 0) {
    return false;
  }
  if (load_shared<std::uint64_t>(buffer.data(), lay::magic_offset) != lay::buffer_magic)
    return false;
  if (load_shared<std::uint32_t>(buffer.data(), lay::version_offset) != lay::format_version)
    return false;
  count = load_shared<std::uint32_t>(buffer.data(), lay::chunk_count_offset);
  return count > 0 && lay::table_end(count) <= buffer.size();
}
}  // namespace

std::vector<chunk_row> read_chunk_table(std::span<const std::byte> buffer) {
  std::vector<chunk_row> rows;
  std::uint32_t count = 0;
  if (!header_ok(buffer, count)) return rows;
  rows.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t at = lay::row_position(i);
    const auto first = load_shared<std::uint64_t>(buffer.data(), at + lay::row_offset_word);
    const auto token = load_shared<std::uint64_t>(buffer.data(), at + lay::row_token_word);
    const auto second = load_shared<std::uint64_t>(buffer.data(), at + lay::row_offset_word);
    chunk_row row;
    row.index = i;
    row.consistent = first == second;
    row.committed = (first & lay::row_committed_bit) != 0;
    row.offset = first & lay::row_offset_mask;
    row.token = token;
    rows.push_back(row);
  }
  return rows;
}

double fill_fraction(std::span<const std::byte> buffer) {
  const auto rows = read_chunk_table(buffer);
  if (rows.empty() || !rows[0].committed) return 0;
  const std::size_t size = buffer.size() & ~std::size_t{7};
  const std::uint64_t first = rows[0].offset;
  if (first >= size) return 0;
  // Chunk 0 restarts with a non-zero token only after a wrap: from then on the ring is full.
  if (rows[0].token != 0) return 1;
  const chunk_row* newest = &rows[0];
  for (const auto& row : rows) {
    if (row.committed && row.consistent && row.token > newest->token && row.offset < size)
      newest = &row;
  }
  // Walk the newest chunk's committed entries to find where the data ends.
  std::uint64_t position = newest->offset;
  for (std::size_t steps = 0; steps < (std::size_t{1} << 22); ++steps) {
    if (position % lay::entry_alignment != 0 || size - position < lay::entry_header_size) break;
    const auto header = load_shared<std::uint32_t>(buffer.data(), position);
    const std::uint32_t length = header & lay::entry_length_mask;
    if ((header & lay::entry_committed_bit) == 0 || length < lay::length_min_entry) {
      if (length == lay::length_wrap_marker) return 1;
      break;
    }
    if (length > size - position) break;
    position = lay::align_up(position + length, lay::entry_alignment);
  }
  if (position > size) position = size;
  return static_cast<double>(position - first) / static_cast<double>(size - first);
}

readable_range read_range(std::span<const std::byte> buffer) {
  readable_range range;
  ring_reader reader;
  if (reader.attach(buffer, start_position::now).status == read_status::ok) {
    range.last = reader.position_sequence();
  }
  if (reader.attach(buffer, start_position::oldest).status == read_status::ok) {
    // The first read lands on the oldest intact entry (or reports a gap when it was just lapped).
    for (int attempt = 0; attempt < 4; ++attempt) {
      const read_result r = reader.read_next();
      if (r.status == read_status::ok) {
        range.first = r.sequence;
        break;
      }
      if (r.status != read_status::lapped && r.status != read_status::corrupt) break;
    }
  }
  if (range.first > range.last) range.last = range.first;
  return range;
}

std::uint64_t newest_sequence(std::span<const std::byte> buffer) {
  ring_reader reader;
  if (reader.attach(buffer, start_position::now).status != read_status::ok) return 0;
  return reader.position_sequence();
}

double measure_rate(std::span<const std::byte> buffer, std::chrono::milliseconds window) {
  ring_reader reader;
  const auto begin = std::chrono::steady_clock::now();
  if (reader.attach(buffer, start_position::now).status != read_status::ok) return 0;
  const std::uint64_t before = reader.position_sequence();
  std::this_thread::sleep_for(window);
  const auto end = std::chrono::steady_clock::now();
  if (reader.attach(buffer, start_position::now).status != read_status::ok) return 0;
  const std::uint64_t after = reader.position_sequence();
  if (after < before) return 0;  // the segment restarted in between
  const double seconds = std::chrono::duration<double>(end - begin).count();
  return seconds > 0 ? static_cast<double>(after - before) / seconds : 0;
}

}  // namespace ouroboros::tools
