// Hand-crafted hostile rings (issue 10 item 3): N committed rows, each starting a chunk whose
// first entry is corrupt (reserved length 2) or empty (header 0), tokens 0, 1, 2, ... A reader
// that scanned the whole table for every corrupt entry spent O(N^2) on such a buffer: 42 s for
// N = 65 536 (1.3 MB). And plausible rows that loop within one read (make_plausible_loops). Used
// by the O(S log S) tests, the shared vectors, the fuzz corpus and the benchmark.
//
// Thread-safety: plain functions over caller-owned memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "ouroboros/layout.hpp"

namespace ouroboros::test {

enum class crafted_entry {
  corrupt,          // every chunk's first entry has the reserved length 2
  empty,            // every chunk's first entry slot is 0 (no data): rule 5 moves the reader on
  one_then_corrupt  // one good entry (4-byte payload), then a reserved length
};

// An 8-aligned buffer holding such a ring with `rows` rows. Each chunk spans `stride` bytes
// (a multiple of 4, at least 8; 12 for one_then_corrupt).
struct crafted_ring {
  std::vector<std::uint64_t> words;
  std::size_t size = 0;
  std::span<std::byte> bytes() { return {reinterpret_cast<std::byte*>(words.data()), size}; }
  std::span<const std::byte> bytes() const {
    return {reinterpret_cast<const std::byte*>(words.data()), size};
  }
  // Little-endian stores at a byte offset, as the format lays words out.
  void put32(std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes()[at + i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
  }
  void put64(std::size_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes()[at + i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
  }
};

// A zeroed ring of `size` bytes (a multiple of 8) whose header says `rows` rows.
inline crafted_ring blank_ring(std::size_t size, std::uint32_t rows) {
  crafted_ring ring;
  ring.size = size;
  ring.words.assign(size / 8, 0);
  ring.put64(layout::magic_offset, layout::buffer_magic);
  ring.put32(layout::version_offset, layout::format_version);
  ring.put32(layout::chunk_count_offset, rows);
  return ring;
}

inline crafted_ring make_crafted_ring(std::uint32_t rows, crafted_entry kind) {
  const std::size_t stride = kind == crafted_entry::one_then_corrupt ? 12 : 8;
  const std::size_t first = layout::table_end(rows);
  crafted_ring ring = blank_ring(layout::align_up(first + stride * rows + 8, 8), rows);
  for (std::uint32_t i = 0; i < rows; ++i) {
    const std::size_t offset = first + stride * i;
    ring.put64(layout::row_position(i) + layout::row_offset_word,
               offset | layout::row_committed_bit);
    // Token i: consecutive chunks one entry apart, which the chunk sizes allow (plausible).
    const std::uint64_t token = kind == crafted_entry::one_then_corrupt ? 2ULL * i : i;
    ring.put64(layout::row_position(i) + layout::row_token_word, token);
    switch (kind) {
      case crafted_entry::corrupt: ring.put32(offset, 2 | layout::entry_committed_bit); break;
      case crafted_entry::empty: ring.put32(offset, 0); break;
      case crafted_entry::one_then_corrupt:
        ring.put32(offset, 8 | layout::entry_committed_bit);
        ring.put32(offset + 4, i);
        ring.put32(offset + 8, 3 | layout::entry_committed_bit);
        break;
    }
  }
  return ring;
}

// Plausible rows that loop within one read (the same table as go/craft_test.go
// craftPlausibleLoops): `rows` rows at empty slots 16 bytes apart, in groups of three with tokens
// B + g, B + g + 1, B + g (g = the group, B = 3 rows + 8). Every row passes the plausibility
// rules, yet the two rows of a group with the same token make the stall check (rule 5) send the
// reader back and forth between them: a loop within one read_next call, which ends in "no
// progress" (then the resync past it loses 1 entry), group after group. Running each such call
// to the 2N + 16-pass bound made a full pass O(N^2): 3.85 s for N = 8 192.
inline crafted_ring make_plausible_loops(std::uint32_t rows) {
  const std::size_t first = layout::table_end(rows);
  crafted_ring ring = blank_ring(first + 16 * static_cast<std::size_t>(rows), rows);
  const std::uint64_t base = 3ULL * rows + 8;
  for (std::uint32_t i = 0; i < rows; ++i) {
    const std::uint64_t token = base + i / 3 + (i % 3 == 1 ? 1 : 0);
    ring.put64(layout::row_position(i) + layout::row_offset_word,
               (first + 16 * static_cast<std::uint64_t>(i)) | layout::row_committed_bit);
    ring.put64(layout::row_position(i) + layout::row_token_word, token);
  }
  return ring;
}

}  // namespace ouroboros::test
