// Reading and hand-writing ring bytes in tests (little-endian, as the format says), and a
// reader helper that drains a ring into a list of (sequence, payload) events.
//
// Thread-safety: plain functions over caller-owned memory; not for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ouroboros/layout.hpp"
#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"

namespace ouroboros {
// GoogleTest prints statuses by name in failure messages.
inline void PrintTo(read_status status, std::ostream* os) {
  *os << to_string(status);
}
inline void PrintTo(write_status status, std::ostream* os) {
  *os << to_string(status);
}
}  // namespace ouroboros

namespace ouroboros::test {

inline void put_u32(std::span<std::byte> buffer, std::size_t offset, std::uint32_t value) {
  for (int i = 0; i < 4; ++i)
    buffer[offset + i] = static_cast<std::byte>((value >> (8 * i)) & 0xFF);
}
inline void put_u64(std::span<std::byte> buffer, std::size_t offset, std::uint64_t value) {
  for (int i = 0; i < 8; ++i)
    buffer[offset + i] = static_cast<std::byte>((value >> (8 * i)) & 0xFF);
}
inline std::uint32_t get_u32(std::span<const std::byte> buffer, std::size_t offset) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(buffer[offset + i]);
  return v;
}
inline std::uint64_t get_u64(std::span<const std::byte> buffer, std::size_t offset) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(buffer[offset + i]);
  return v;
}

struct raw_row {
  bool committed = false;
  std::uint64_t offset = 0;
  std::uint64_t token = 0;
  bool operator==(const raw_row&) const = default;
};

inline raw_row get_row(std::span<const std::byte> buffer, std::uint32_t index) {
  const std::size_t at = layout::row_position(index);
  const std::uint64_t word = get_u64(buffer, at);
  return {(word & layout::row_committed_bit) != 0, word & layout::row_offset_mask,
          get_u64(buffer, at + 8)};
}

// Writes a committed row.
inline void put_row(std::span<std::byte> buffer, std::uint32_t index, std::uint64_t offset,
                    std::uint64_t token, bool committed = true) {
  const std::size_t at = layout::row_position(index);
  put_u64(buffer, at, offset | (committed ? layout::row_committed_bit : 0));
  put_u64(buffer, at + 8, token);
}

// Writes the buffer header (magic, version, chunk count).
inline void put_header(std::span<std::byte> buffer, std::uint32_t chunk_count,
                       std::uint32_t version = layout::format_version,
                       std::uint64_t magic = layout::buffer_magic) {
  put_u64(buffer, layout::magic_offset, magic);
  put_u32(buffer, layout::version_offset, version);
  put_u32(buffer, layout::chunk_count_offset, chunk_count);
}

// Writes a committed entry with `payload` at `offset`; returns the next entry's offset.
inline std::size_t put_entry(std::span<std::byte> buffer, std::size_t offset,
                             std::string_view payload, bool committed = true) {
  const auto length = static_cast<std::uint32_t>(4 + payload.size());
  put_u32(buffer, offset, length | (committed ? layout::entry_committed_bit : 0));
  std::memcpy(buffer.data() + offset + 4, payload.data(), payload.size());
  return layout::align_up(offset + length, 4);
}

inline void put_wrap_marker(std::span<std::byte> buffer, std::size_t offset) {
  put_u32(buffer, offset, layout::length_wrap_marker | layout::entry_committed_bit);
}

// One observable result of read_next, reduced to what tests compare.
struct read_event {
  read_status status = read_status::no_data;
  std::uint64_t sequence = 0;  // ok
  std::uint64_t lost = 0;      // lapped
  std::string payload;         // ok
  bool operator==(const read_event&) const = default;
};

inline read_event ok_event(std::uint64_t sequence, std::string payload) {
  return {read_status::ok, sequence, 0, std::move(payload)};
}
inline read_event lapped_event(std::uint64_t lost) {
  return {read_status::lapped, 0, lost, {}};
}
inline read_event corrupt_event() {
  return {read_status::corrupt, 0, 0, {}};
}

inline read_event to_event(const read_result& r) {
  read_event e;
  e.status = r.status;
  if (r.status == read_status::ok) {
    e.sequence = r.sequence;
    e.payload.assign(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
  } else if (r.status == read_status::lapped) {
    e.lost = r.lost;
  }
  return e;
}

// Reads until no_data (or `limit` calls) and returns every event except the final no_data.
inline std::vector<read_event> drain(ring_reader& reader, std::size_t limit = 100000) {
  std::vector<read_event> events;
  for (std::size_t i = 0; i < limit; ++i) {
    const read_result r = reader.read_next();
    if (r.status == read_status::no_data) break;
    events.push_back(to_event(r));
  }
  return events;
}

inline std::ostream& operator<<(std::ostream& os, const read_event& e) {
  os << "{" << to_string(e.status);
  if (e.status == read_status::ok) os << " seq=" << e.sequence << " '" << e.payload << "'";
  if (e.status == read_status::lapped) os << " lost=" << e.lost;
  return os << "}";
}

}  // namespace ouroboros::test
