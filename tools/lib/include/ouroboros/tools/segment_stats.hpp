// Facts about a mapped segment for `list` and `inspect`: the chunk table as stored, how full the
// ring is, the readable sequence range and the write rate over a short window.
//
// Every function reads untrusted bytes that a writer may be changing: each word is one aligned
// atomic load, every offset is bounds-checked and every walk is bounded.
//
// Thread-safety: stateless functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ouroboros::tools {

struct chunk_row {
  std::uint32_t index = 0;
  bool committed = false;
  bool consistent = true;  // both offset loads agreed (false while the writer was updating it)
  std::uint64_t offset = 0;
  std::uint64_t token = 0;
};

// The chunk table of a buffer that carries a valid v1 header (empty otherwise).
std::vector<chunk_row> read_chunk_table(std::span<const std::byte> buffer);

// Fraction (0..1) of the data region that holds entries: 1 once the writer has wrapped.
double fill_fraction(std::span<const std::byte> buffer);

struct readable_range {
  std::uint64_t first = 0;  // oldest readable sequence number (0: nothing readable)
  std::uint64_t last = 0;   // newest written sequence number = entries written (this incarnation)
};
readable_range read_range(std::span<const std::byte> buffer);
// Just `last` of read_range (cheap: walks the newest chunk without copying payloads).
std::uint64_t newest_sequence(std::span<const std::byte> buffer);

// Entries written per second, measured as the change of read_range().last over `window`.
// `buffer` must stay mapped meanwhile.
double measure_rate(std::span<const std::byte> buffer, std::chrono::milliseconds window);

}  // namespace ouroboros::tools
