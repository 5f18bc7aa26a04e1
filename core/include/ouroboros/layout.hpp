// The byte layout of a ring buffer, format version 1 -- drawn here and nowhere else.
//
// docs/format.md is the prose specification; this header is its single C++ rendering.
// All integers are little-endian; offsets are bytes from the start of the buffer,
// which is 8-byte aligned.
//
//   offset 0                16                16+16N            ext_end   F (row 0 offset) size
//   +--------------------+-------------------+-------------------+-------+-----------------------+
//   | buffer header (16) | chunk table N x16 | extension block   | dict. | entries ...  (ring)   |
//   +--------------------+-------------------+-------------------+-------+-----------------------+
//
//   buffer header     u64 magic | u32 version | u32 chunk count N
//   chunk row i       u64 offset word (bit 63 = committed, bits 0..62 = offset) | u64 token
//   entry             u32 header (bit 31 = committed, bits 0..30 = length incl. header) | payload
//                     next entry at align4(offset + length); length 0 = no data, 1 = wrap marker,
//                     2 and 3 reserved (corrupt), 4 = empty payload.
//   extension block   optional (this project's addition): see struct extension_layout below.
//
// Thread-safety: constants and pure functions only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ouroboros::layout {

// --- buffer header -----------------------------------------------------------------------------
inline constexpr std::uint64_t buffer_magic = 0x4F55524F424C4F47ULL;  // "GOLBORUO" in memory
inline constexpr std::uint32_t format_version = 1;
inline constexpr std::size_t magic_offset = 0;
inline constexpr std::size_t version_offset = 8;
inline constexpr std::size_t chunk_count_offset = 12;
inline constexpr std::size_t header_size = 16;

// --- chunk table -------------------------------------------------------------------------------
inline constexpr std::size_t table_offset = header_size;
inline constexpr std::size_t row_size = 16;
inline constexpr std::size_t row_offset_word = 0;  // within a row
inline constexpr std::size_t row_token_word = 8;   // within a row
inline constexpr std::uint64_t row_committed_bit = 1ULL << 63;
inline constexpr std::uint64_t row_offset_mask = row_committed_bit - 1;

constexpr std::size_t row_position(std::uint32_t index) noexcept {
  return table_offset + row_size * static_cast<std::size_t>(index);
}
constexpr std::size_t table_end(std::uint32_t chunk_count) noexcept {
  return row_position(chunk_count);
}

// --- entries -----------------------------------------------------------------------------------
inline constexpr std::size_t entry_header_size = 4;
inline constexpr std::size_t entry_alignment = 4;
inline constexpr std::uint32_t entry_committed_bit = 1U << 31;
inline constexpr std::uint32_t entry_length_mask = entry_committed_bit - 1;
inline constexpr std::uint32_t length_no_data = 0;
inline constexpr std::uint32_t length_wrap_marker = 1;
inline constexpr std::uint32_t length_min_entry = 4;  // 2 and 3 are reserved

constexpr std::size_t align_up(std::size_t value, std::size_t alignment) noexcept {
  return (value + alignment - 1) & ~(alignment - 1);
}

// --- extension block (optional; lives between the chunk table and row 0's offset) ---------------
// A plain v1 reader never sees it: it follows row 0 to the first entry. All fields are written
// before the block magic is stored (release); a reader that sees the magic (acquire) and a size it
// understands may use the fields. Fields marked [live] change while the writer runs and are read
// with single aligned atomic loads.
struct extension_layout {
  static constexpr std::uint64_t magic = 0x3158454F52554F00ULL;  // "\0OUROEX1" in memory
  static constexpr std::uint32_t version = 1;

  static constexpr std::size_t magic_offset = 0;          // u64
  static constexpr std::size_t size_offset = 8;           // u32 block size in bytes (>= min_size)
  static constexpr std::size_t version_offset = 12;       // u32 block layout version
  static constexpr std::size_t writer_pid_offset = 16;    // u64 process id of the writer
  static constexpr std::size_t writer_start_offset = 24;  // u64 writer process start (unix ns)
  static constexpr std::size_t incarnation_offset = 32;   // u64 random, != 0, new per creation
  static constexpr std::size_t heartbeat_offset = 40;     // u64 [live] unix ns of last beat
  static constexpr std::size_t encoding_offset = 48;      // u32 payload encoding id
  static constexpr std::size_t flags_offset = 52;         // u32 [live] flag bits below
  static constexpr std::size_t chunk_target_offset = 56;  // u64 chunk target size in bytes
  // Clock calibration, published as a seqlock: [live] sequence word is odd while the writer
  // updates the three values below it. wall_ns = wall_base + (ticks - tick_base) * mult >> 32.
  static constexpr std::size_t clock_seq_offset = 64;        // u64 [live]
  static constexpr std::size_t clock_tick_base_offset = 72;  // u64 [live]
  static constexpr std::size_t clock_wall_base_offset = 80;  // u64 [live] unix ns
  static constexpr std::size_t clock_mult_offset = 88;       // u64 [live] ns per tick, 32.32 fixed
  // Append-only dictionary (interned strings for records), inside this block's size.
  static constexpr std::size_t dict_offset_offset = 96;     // u32 offset from buffer start
  static constexpr std::size_t dict_capacity_offset = 100;  // u32 bytes
  static constexpr std::size_t dict_used_offset = 104;      // u32 [live] bytes committed (release)
  static constexpr std::size_t reserved_offset = 108;       // u32 zero
  static constexpr std::size_t min_size = 112;

  // flags
  static constexpr std::uint32_t flag_closed = 1U << 0;  // writer shut down cleanly

  // payload encodings
  static constexpr std::uint32_t encoding_raw = 0;     // opaque bytes
  static constexpr std::uint32_t encoding_record = 1;  // ouroboros log records (docs/format.md)
};

inline constexpr std::size_t extension_block_offset(std::uint32_t chunk_count) noexcept {
  return align_up(table_end(chunk_count), 8);
}

}  // namespace ouroboros::layout
