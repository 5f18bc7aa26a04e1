// The writer's rare paths, and the safety invariant they keep.
//
// Invariant (docs/format.md, writer obligation 4): before any byte inside the region a committed
// chunk row still describes is overwritten, that row is invalidated (or restarted with a new
// token) and a release fence orders the invalidation before the overwriting stores. A reader
// copies, issues an acquire fence and re-checks the row; if the copy saw any overwritten byte,
// the fence pair guarantees the re-check sees the invalidation, so a torn entry is never
// delivered.
//
// Keeping that cheap: the rows committed by the current lap lie behind position_. Every other
// committed row describes older data ahead of position_, and those rows have increasing offsets
// in index order (each lap fills rows 0, 1, 2... left to right and only ever stops early, so what
// survives of an older lap lies beyond the newer lap's end). The lowest-indexed of them is the
// guard: writes that stay below its offset need no check at all, and each row is passed at most
// once per lap. This covers entries larger than a chunk (several guards fall at once), chunks
// whose start moved between laps and early wraps caused by large entries.
#include "ouroboros/ring_writer.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <stdexcept>
#include <string>

namespace ouroboros {

using detail::store_shared;
namespace lay = layout;

namespace {
constexpr std::size_t no_guard = std::numeric_limits<std::size_t>::max();

std::size_t extension_bytes(const writer_config& config) {
  if (config.extension == nullptr) return 0;
  return lay::align_up(lay::extension_layout::min_size + config.extension->dictionary_capacity, 8);
}

std::size_t first_entry_offset_for(const writer_config& config) {
  return lay::align_up(lay::extension_block_offset(config.chunk_count) + extension_bytes(config),
                       8);
}
}  // namespace

std::string_view to_string(write_status status) noexcept {
  switch (status) {
    case write_status::ok: return "ok";
    case write_status::empty_payload: return "empty payload refused";
    case write_status::too_large: return "payload larger than the ring's data region";
  }
  return "unknown write status";
}

std::size_t required_buffer_size(const writer_config& config) noexcept {
  return lay::align_up(first_entry_offset_for(config) +
                           static_cast<std::size_t>(config.chunk_count) * config.chunk_target_size,
                       8);
}

ring_writer::ring_writer(std::span<std::byte> buffer, const writer_config& config)
    : base_(buffer.data()),
      // Readers take the span's end as the buffer end and wrap implicitly only when fewer than
      // 4 bytes remain; rounding down by more than 3 would leave a tail the writer never writes
      // (and never marks), which a reader would load as an entry header.
      size_(buffer.size() & ~std::size_t{3}),
      chunk_count_(config.chunk_count),
      chunk_target_(config.chunk_target_size) {
  if (reinterpret_cast<std::uintptr_t>(base_) % 8 != 0) {
    throw std::invalid_argument("ring buffer must start at an 8-byte aligned address");
  }
  if (chunk_count_ == 0) throw std::invalid_argument("chunk count must be at least 1");
  if (chunk_target_ == 0) throw std::invalid_argument("chunk target size must be at least 1 byte");
  if (config.extension != nullptr && config.extension->incarnation == 0) {
    throw std::invalid_argument("extension block needs a non-zero incarnation id");
  }
  first_entry_ = first_entry_offset_for(config);
  // At least one minimal entry plus the slot after it must fit.
  if (size_ < first_entry_ + 2 * lay::entry_header_size) {
    throw std::invalid_argument("buffer of " + std::to_string(buffer.size()) +
                                " bytes is too small: header, chunk table and extension need " +
                                std::to_string(first_entry_) + " bytes before the first entry");
  }
  if (first_entry_ > lay::row_offset_mask) throw std::invalid_argument("chunk table too large");
  max_payload_ =
      std::min<std::size_t>(size_ - first_entry_, lay::entry_length_mask) - lay::entry_header_size;
  row_start_ = std::make_unique<std::size_t[]>(chunk_count_);

  // Everything a reader may trust once it sees the magic is written first; the magic goes last
  // with release ordering. Clear the magic first in case the buffer held an older ring.
  store_shared<std::uint64_t>(base_, lay::magic_offset, 0, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_release);
  for (std::size_t offset = lay::version_offset; offset < first_entry_; offset += 4) {
    store_shared<std::uint32_t>(base_, offset, 0, std::memory_order_relaxed);
  }
  store_shared<std::uint32_t>(base_, lay::version_offset, lay::format_version,
                              std::memory_order_relaxed);
  store_shared<std::uint32_t>(base_, lay::chunk_count_offset, chunk_count_,
                              std::memory_order_relaxed);
  if (config.extension != nullptr) {
    using ext = lay::extension_layout;
    const std::size_t at = lay::extension_block_offset(chunk_count_);
    const std::size_t block_size = first_entry_ - at;
    extension_ = buffer.subspan(at, block_size);
    std::byte* b = extension_.data();
    const extension_info& info = *config.extension;
    store_shared<std::uint32_t>(b, ext::size_offset, static_cast<std::uint32_t>(block_size),
                                std::memory_order_relaxed);
    store_shared<std::uint32_t>(b, ext::version_offset, ext::version, std::memory_order_relaxed);
    store_shared<std::uint64_t>(b, ext::writer_pid_offset, info.writer_pid,
                                std::memory_order_relaxed);
    store_shared<std::uint64_t>(b, ext::writer_start_offset, info.writer_start_unix_ns,
                                std::memory_order_relaxed);
    store_shared<std::uint64_t>(b, ext::incarnation_offset, info.incarnation,
                                std::memory_order_relaxed);
    store_shared<std::uint64_t>(b, ext::heartbeat_offset, info.writer_start_unix_ns,
                                std::memory_order_relaxed);
    store_shared<std::uint32_t>(b, ext::encoding_offset, info.payload_encoding,
                                std::memory_order_relaxed);
    store_shared<std::uint64_t>(b, ext::chunk_target_offset, chunk_target_,
                                std::memory_order_relaxed);
    store_shared<std::uint32_t>(b, ext::dict_offset_offset,
                                static_cast<std::uint32_t>(at + ext::min_size),
                                std::memory_order_relaxed);
    store_shared<std::uint32_t>(b, ext::dict_capacity_offset,
                                static_cast<std::uint32_t>(block_size - ext::min_size),
                                std::memory_order_relaxed);
    store_shared<std::uint64_t>(b, ext::magic_offset, ext::magic, std::memory_order_release);
  }
  // The first entry slot must read "no data" before row 0 is committed.
  store_shared<std::uint32_t>(base_, first_entry_, 0, std::memory_order_relaxed);
  store_shared<std::uint64_t>(base_, lay::row_position(0) + lay::row_token_word, 0,
                              std::memory_order_release);
  store_shared<std::uint64_t>(base_, lay::row_position(0) + lay::row_offset_word, first_entry_,
                              std::memory_order_release);
  store_shared<std::uint64_t>(base_, lay::row_position(0) + lay::row_offset_word,
                              first_entry_ | lay::row_committed_bit, std::memory_order_release);
  row_start_[0] = first_entry_;
  position_ = chunk_start_ = first_entry_;
  chunk_ = 0;
  guard_row_ = 1;
  guard_offset_ = no_guard;
  update_limit();
  store_shared<std::uint64_t>(base_, lay::magic_offset, lay::buffer_magic,
                              std::memory_order_release);
}

ring_writer::~ring_writer() = default;
ring_writer::ring_writer(ring_writer&&) noexcept = default;
ring_writer& ring_writer::operator=(ring_writer&&) noexcept = default;

void ring_writer::claim_rare(std::size_t length) noexcept {
  // The decisions in the format's order: first the wrap, then the advance, then the guard.
  if (length > size_ - position_) {
    wrap();
  } else if (position_ - chunk_start_ >= chunk_target_ && chunk_ + 1 < chunk_count_) {
    advance();
  }
  const std::size_t next = position_ + lay::align_up(length, lay::entry_alignment);
  if (next + lay::entry_header_size > guard_offset_) protect(next + lay::entry_header_size);
  if (next + lay::entry_header_size <= size_) {
    store_shared<std::uint32_t>(base_, next, 0, std::memory_order_relaxed);
  }
  update_limit();
}

void ring_writer::update_limit() noexcept {
  std::size_t advance_at = std::numeric_limits<std::size_t>::max();
  if (chunk_ + 1 < chunk_count_ && chunk_target_ <= advance_at - chunk_start_) {
    advance_at = chunk_start_ + chunk_target_;
  }
  limit_ = std::min({size_, guard_offset_, advance_at});
}

void ring_writer::wrap() noexcept {
  // Wrap before advance: advancing first would open an empty chunk carrying chunk 0's next token.
  if (size_ - position_ >= lay::entry_header_size) {
    store_shared<std::uint32_t>(base_, position_,
                                lay::length_wrap_marker | lay::entry_committed_bit,
                                std::memory_order_release);
  }
  // Every other row now describes older data ahead of the new position: restart the guard chain.
  guard_row_ = 1;
  refresh_guard();
  start_chunk(0, first_entry_);
}

void ring_writer::advance() noexcept {
  start_chunk(chunk_ + 1, position_);
}

void ring_writer::start_chunk(std::uint32_t index, std::size_t offset) noexcept {
  const std::size_t row = lay::row_position(index);
  if (row_start_[index] != 0) {
    // Restart: uncommit first, so no reader pairs the new token with the old offset.
    invalidate_row(index);
  }
  if (guard_row_ <= index) {
    guard_row_ = index + 1;
    refresh_guard();
  }
  // The slot we are about to zero may belong to an older row's region.
  protect(offset + lay::entry_header_size);
  // After a wrap this slot still holds the previous lap's committed entry; a caught-up reader
  // entering the row must find "no data" there, so zero it before the commit below.
  store_shared<std::uint32_t>(base_, offset, 0, std::memory_order_relaxed);
  store_shared<std::uint64_t>(base_, row + lay::row_token_word, entries_written_,
                              std::memory_order_release);
  store_shared<std::uint64_t>(base_, row + lay::row_offset_word, offset, std::memory_order_release);
  store_shared<std::uint64_t>(base_, row + lay::row_offset_word, offset | lay::row_committed_bit,
                              std::memory_order_release);
  row_start_[index] = offset;
  chunk_ = index;
  chunk_start_ = position_ = offset;
}

void ring_writer::invalidate_row(std::uint32_t index) noexcept {
  const std::size_t row = lay::row_position(index);
  store_shared<std::uint64_t>(base_, row + lay::row_offset_word, 0, std::memory_order_release);
  store_shared<std::uint64_t>(base_, row + lay::row_token_word, 0, std::memory_order_release);
  row_start_[index] = 0;
  // Orders the invalidation before whatever overwriting store follows (the seqlock writer's
  // release fence); a reader's acquire fence after its copy pairs with it.
  std::atomic_thread_fence(std::memory_order_release);
}

void ring_writer::protect(std::size_t end) noexcept {
  while (guard_offset_ < end) {
    invalidate_row(guard_row_);
    ++guard_row_;
    refresh_guard();
  }
}

void ring_writer::refresh_guard() noexcept {
  while (guard_row_ < chunk_count_ && row_start_[guard_row_] == 0) ++guard_row_;
  guard_offset_ = guard_row_ < chunk_count_ ? row_start_[guard_row_] : no_guard;
}

#ifdef OUROBOROS_TSAN
std::byte* ring_writer::staging_for(std::size_t size) noexcept {
  if (size > staging_size_) {
    staging_ = std::make_unique<std::byte[]>(max_payload_);
    staging_size_ = max_payload_;
  }
  return staging_.get();
}
#endif

}  // namespace ouroboros
