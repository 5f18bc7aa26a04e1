// The single writer of a v1 ring buffer over caller-owned memory.
//
// Knows nothing of the operating system: it formats and writes a byte span. Entries are
// variable-sized; when the ring is full the oldest chunks are overwritten. The write path is
// inline and allocation-free; the rare cases (wrap, chunk advance, invalidating old chunks) are
// out of line in ring_writer.cpp, which also explains the safety invariant they maintain.
//
// Thread-safety: not thread-safe; exactly one thread (in one process) may write a ring at a time.
// Readers in any thread or process may read concurrently (see ring_reader).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "ouroboros/detail/shared_words.hpp"
#include "ouroboros/layout.hpp"

namespace ouroboros {

// What the optional extension block records; the OS-facing layer fills in the process facts.
struct extension_info {
  std::uint64_t writer_pid = 0;
  std::uint64_t writer_start_unix_ns = 0;
  std::uint64_t incarnation = 0;  // must be non-zero; new for every creation of a segment
  std::uint32_t payload_encoding = layout::extension_layout::encoding_raw;
  std::uint32_t dictionary_capacity = 0;  // bytes reserved for interned strings
};

struct writer_config {
  std::uint32_t chunk_count = 64;
  std::size_t chunk_target_size = 64 * 1024;
  // When set, an extension block is placed between the chunk table and the first entry.
  const extension_info* extension = nullptr;
};

enum class write_status { ok, empty_payload, too_large };

std::string_view to_string(write_status status) noexcept;

// Bytes a buffer needs so that `count` chunks of `target` bytes fit after the table and the
// optional extension block.
std::size_t required_buffer_size(const writer_config& config) noexcept;

class ring_writer {
 public:
  // Formats `buffer` as an empty ring (the magic is stored last, with release ordering) and
  // prepares to write. Throws std::invalid_argument if the buffer is misaligned, too small for
  // the table, or the configuration is unusable. The buffer must outlive the writer.
  ring_writer(std::span<std::byte> buffer, const writer_config& config);
  ~ring_writer();
  ring_writer(const ring_writer&) = delete;
  ring_writer& operator=(const ring_writer&) = delete;
  ring_writer(ring_writer&&) noexcept;
  ring_writer& operator=(ring_writer&&) noexcept;

  // Appends one entry. Rejects empty payloads and payloads larger than max_payload_size();
  // nothing is written in either case.
  write_status write(std::span<const std::byte> payload) noexcept {
    if (payload.empty()) return write_status::empty_payload;
    if (payload.size() > max_payload_) return write_status::too_large;
    std::byte* destination = claim(payload.size());
    detail::copy_to_shared(destination, payload.data(), payload.size());
    publish();
    return write_status::ok;
  }

  // Zero-copy form: claim room for `payload_size` bytes (1..max_payload_size(), caller checks),
  // fill exactly that many bytes at the returned pointer, then publish(). Nothing else may be
  // called on the writer in between. Readers see the entry only once it is published.
  std::byte* claim(std::size_t payload_size) noexcept {
    const std::size_t length = layout::entry_header_size + payload_size;
    const std::size_t slot_end =
        position_ + layout::align_up(length, layout::entry_alignment) + layout::entry_header_size;
    // One comparison for the three rare cases: an entry (and the slot after it) that ends at or
    // before limit_ needs no wrap (it fits before the end), no advance (it starts before the
    // chunk's advance point) and no guard (it stays below the oldest row ahead). An entry that
    // crosses the advance point takes the exact path once per chunk.
    if (slot_end > limit_) [[unlikely]] {
      claim_rare(length);
    } else {
      // The slot after this entry may still hold a committed header from an earlier lap; zero
      // it so a reader that catches up never mistakes it for a new entry.
      detail::store_shared<std::uint32_t>(base_, slot_end - layout::entry_header_size, 0,
                                          std::memory_order_relaxed);
    }
    // No uncommitted header store: the slot at position_ already reads 0 ("no data"), zeroed as
    // the previous entry's next slot, by start_chunk, or when the ring was formatted.
    pending_length_ = static_cast<std::uint32_t>(length);
#ifdef OUROBOROS_TSAN
    return staging_for(payload_size);
#else
    return base_ + position_ + layout::entry_header_size;
#endif
  }

  void publish() noexcept {
#ifdef OUROBOROS_TSAN
    detail::copy_to_shared(base_ + position_ + layout::entry_header_size, staging_.get(),
                           pending_length_ - layout::entry_header_size);
#endif
    commit_pending();
  }

  // Publishes only the first `payload_size` bytes (1..claimed size) of the claimed room, for
  // callers that encode straight into the ring and learn the final size only at the end.
  void publish(std::size_t payload_size) noexcept {
    const std::size_t length = layout::entry_header_size + payload_size;
    const std::size_t next = position_ + layout::align_up(length, layout::entry_alignment);
    if (length < pending_length_ && next + layout::entry_header_size <= size_) {
      detail::store_shared<std::uint32_t>(base_, next, 0, std::memory_order_relaxed);
    }
    pending_length_ = static_cast<std::uint32_t>(length);
    publish();
  }

  std::uint64_t entries_written() const noexcept {
    return entries_written_;
  }
  std::size_t max_payload_size() const noexcept {
    return max_payload_;
  }
  std::size_t first_entry_offset() const noexcept {
    return first_entry_;
  }
  std::size_t buffer_size() const noexcept {
    return size_;
  }
  std::uint32_t chunk_count() const noexcept {
    return chunk_count_;
  }
  std::size_t chunk_target_size() const noexcept {
    return chunk_target_;
  }
  // The extension block's bytes (empty when configured without one).
  std::span<std::byte> extension_block() const noexcept {
    return extension_;
  }

 private:
  void commit_pending() noexcept {
    detail::store_shared<std::uint32_t>(
        base_, position_, pending_length_ | layout::entry_committed_bit, std::memory_order_release);
    position_ += layout::align_up(pending_length_, layout::entry_alignment);
    ++entries_written_;
  }
  void claim_rare(std::size_t length) noexcept;
  void update_limit() noexcept;
  void wrap() noexcept;
  void advance() noexcept;
  void start_chunk(std::uint32_t index, std::size_t offset) noexcept;
  void protect(std::size_t end) noexcept;
  void invalidate_row(std::uint32_t index) noexcept;
  void refresh_guard() noexcept;
#ifdef OUROBOROS_TSAN
  std::byte* staging_for(std::size_t size) noexcept;
  std::unique_ptr<std::byte[]> staging_;
  std::size_t staging_size_ = 0;
#endif

  std::byte* base_ = nullptr;
  std::size_t size_ = 0;  // usable size: the span's size rounded down to a multiple of 4
  std::uint32_t chunk_count_ = 0;
  std::size_t chunk_target_ = 0;
  std::size_t first_entry_ = 0;
  std::size_t max_payload_ = 0;
  std::span<std::byte> extension_;

  std::size_t position_ = 0;     // where the next entry (or wrap marker) goes
  std::size_t chunk_start_ = 0;  // offset of the current chunk's first entry
  std::uint32_t chunk_ = 0;      // index of the current chunk's row
  std::uint64_t entries_written_ = 0;
  std::uint32_t pending_length_ = 0;

  // Start offset of every row this writer has committed and not yet invalidated (0 = none).
  std::unique_ptr<std::size_t[]> row_start_;
  // The lowest-indexed committed row after the current chunk: it describes older data that lies
  // ahead of position_, so no byte below guard_offset_ is described by another committed row.
  std::uint32_t guard_row_ = 0;
  std::size_t guard_offset_ = 0;
  // min(size_, guard_offset_, chunk_start_ + chunk_target_ unless the chunk is the last): the
  // end below which claim() needs none of its rare paths.
  std::size_t limit_ = 0;
};

}  // namespace ouroboros
