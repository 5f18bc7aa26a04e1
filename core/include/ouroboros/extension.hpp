// The extension block: writer identity, liveness, clock calibration and the string dictionary.
//
// This project's addition to format v1 (layout::extension_layout draws the bytes). Plain v1
// readers never see it; our readers use it when present and work without it.
//
// Thread-safety: extension_writer must be used by one thread at a time per field group
// (heartbeat/flags, clock, dictionary are independent words); read_* functions are safe from any
// thread or process concurrently with the writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ouroboros {

struct extension_snapshot {
  std::uint64_t writer_pid = 0;
  std::uint64_t writer_start_unix_ns = 0;
  std::uint64_t incarnation = 0;
  std::uint64_t heartbeat_unix_ns = 0;
  std::uint32_t payload_encoding = 0;
  std::uint32_t flags = 0;
  std::uint64_t chunk_target_size = 0;
  std::size_t dictionary_offset = 0;  // from the buffer start; 0 when there is no dictionary
  std::size_t dictionary_capacity = 0;
  bool closed() const noexcept;
};

// Converts writer ticks to wall-clock nanoseconds: wall = wall_base + (ticks - tick_base) * mult /
// 2^32.
struct clock_calibration {
  std::uint64_t tick_base = 0;
  std::uint64_t wall_base_ns = 0;
  std::uint64_t mult = std::uint64_t{1} << 32;  // identity: ticks are already unix nanoseconds
  std::uint64_t to_unix_ns(std::uint64_t ticks) const noexcept;
};

// Reads the block of a buffer that carries a valid v1 header; nullopt when absent or malformed.
std::optional<extension_snapshot> read_extension(std::span<const std::byte> buffer) noexcept;

// Reads the live heartbeat and flags only (cheap; for periodic liveness checks).
std::optional<std::uint64_t> read_heartbeat(std::span<const std::byte> buffer) noexcept;

// The calibration in force; nullopt when there is no block or the writer keeps updating it.
std::optional<clock_calibration> read_clock(std::span<const std::byte> buffer) noexcept;

// Dictionary entries: u16 length, u8 kind, u8 zero, then `length` bytes, padded to 4. An entry's
// id is its offset inside the dictionary. Entries never change once counted in "used".
struct dictionary_entry {
  std::uint8_t kind = 0;
  std::string_view bytes;  // points into the buffer: copy before the buffer may be unmapped
};
std::optional<dictionary_entry> read_dictionary_entry(std::span<const std::byte> buffer,
                                                      std::uint32_t id) noexcept;

class extension_writer {
 public:
  extension_writer() = default;
  // `block` is the block's bytes as returned by ring_writer::extension_block().
  explicit extension_writer(std::span<std::byte> block) noexcept : block_(block) {}
  bool valid() const noexcept { return !block_.empty(); }

  void beat(std::uint64_t unix_ns) noexcept;
  void set_flags(std::uint32_t flags) noexcept;
  void publish_clock(const clock_calibration& calibration) noexcept;
  // Appends an immutable entry; returns its id, or nullopt when the dictionary is full.
  std::optional<std::uint32_t> append_dictionary(std::uint8_t kind,
                                                 std::string_view bytes) noexcept;

 private:
  std::span<std::byte> block_;
};

}  // namespace ouroboros
