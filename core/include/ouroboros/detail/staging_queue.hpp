// The per-thread queue of a logger with producers::staged.
//
// A producer thread builds each record here with plain stores and publishes it with one release
// store of its write position: no atomic read-modify-write, no shared cache line written per
// call. The logger's drain moves records from every thread's queue into the ring (it is the
// ring's single writer), oldest stamp first. Records are the ring payload bytes already, behind
// a private 16-byte header that never reaches the segment:
//
//   +0  u32 size of the record (0xFFFFFFFF: nothing more before the end, continue at offset 0)
//   +4  u32 unused
//   +8  u64 merge key (the call's clock reading)
//   +16 the record, padded to 8 bytes
//
// Records never straddle the end, so a producer formats straight into its claimed room.
//
// Thread-safety: one producer thread calls claim()/commit(); one consumer at a time calls the
// consumer functions (the logger serialises consumers with its producer lock); abandon() from
// the producer thread when it exits.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "ouroboros/detail/attributes.hpp"

namespace ouroboros::detail {

class staging_queue {
 public:
  static constexpr std::size_t header_size = 16;
  static constexpr std::uint32_t wrap_marker = 0xFFFFFFFFU;

  // capacity: a power of two of at least 2 * (header_size + the largest record rounded to 8),
  // so that an empty queue always has room for one record wherever its position is.
  explicit staging_queue(std::size_t capacity)
      : buffer_(std::make_unique<std::byte[]>(capacity)),
        capacity_(capacity),
        mask_(capacity - 1) {}

  static constexpr std::size_t padded(std::size_t size) noexcept {
    return (size + 7) & ~std::size_t{7};
  }

  // Producer: room for a record of up to `max_size` bytes, or nullptr when the queue is too full.
  std::byte* claim(std::size_t max_size) noexcept {
    const std::size_t need = header_size + padded(max_size);
    const std::size_t at = write_ & mask_;
    const std::size_t skip = at + need > capacity_ ? capacity_ - at : 0;
    if (write_ + skip + need - read_cache_ > capacity_) [[unlikely]] {
      read_cache_ = read_.load(std::memory_order_acquire);
      if (write_ + skip + need - read_cache_ > capacity_) return nullptr;
    }
    if (skip != 0) [[unlikely]] {
      // Published with the record that follows (the consumer sees neither before the commit).
      std::memcpy(buffer_.get() + at, &wrap_marker, sizeof wrap_marker);
      write_ += skip;
    }
    // try_claim's bound: the end of this lap, or where the consumer's space ends.
    limit_ = std::min((write_ | mask_) + 1, read_cache_ + capacity_);
    return buffer_.get() + (write_ & mask_) + header_size;
  }

  // Producer: claim() for the common case in one comparison: nullptr when the record would
  // reach past the end of the queue or into space the consumer has not handed back as last seen
  // (then claim(), which wraps and looks again).
  // Inlined into every log call, as is publish(): out of line each would cost a call.
  OUROBOROS_ALWAYS_INLINE
  std::byte* try_claim(std::size_t max_size) noexcept {
    if (write_ + header_size + padded(max_size) > limit_) [[unlikely]]
      return nullptr;
    return buffer_.get() + (write_ & mask_) + header_size;
  }

  // Producer: publishes the record claimed at `record`, at its real size (<= the claimed size).
  OUROBOROS_ALWAYS_INLINE
  void commit(std::byte* record, std::uint64_t key, std::size_t size) noexcept {
    std::byte* header = record - header_size;
    const auto size32 = static_cast<std::uint32_t>(size);
    std::memcpy(header, &size32, sizeof size32);
    std::memcpy(header + 8, &key, sizeof key);
    write_ += header_size + padded(size);
    committed_.store(write_, std::memory_order_release);
  }

  // Producer, at thread exit: nothing more will be committed.
  void abandon() noexcept { abandoned_.store(true, std::memory_order_release); }

  // The logger that drains this queue is gone; its producer thread may let the queue go.
  void retire() noexcept { retired_.store(true, std::memory_order_release); }
  bool retired() const noexcept { return retired_.load(std::memory_order_acquire); }

  // Consumer: fixes the end of this drain pass at what is committed now.
  void snapshot() noexcept {
    // Read first: a queue abandoned before its snapshot holds every record it ever will.
    final_ = abandoned_.load(std::memory_order_acquire);
    end_ = committed_.load(std::memory_order_acquire);
  }
  // Consumer: the producer has exited and this pass took all it wrote.
  bool finished() const noexcept { return final_ && consumed_ == end_; }

  // Consumer: the oldest record before the snapshot's end, or false when there is none.
  bool front(std::uint64_t& key, const std::byte*& record, std::size_t& size) noexcept {
    while (consumed_ != end_) {
      const std::byte* header = buffer_.get() + (consumed_ & mask_);
      std::uint32_t size32 = 0;
      std::memcpy(&size32, header, sizeof size32);
      if (size32 == wrap_marker) {
        consumed_ += capacity_ - (consumed_ & mask_);
        continue;
      }
      std::memcpy(&key, header + 8, sizeof key);
      record = header + header_size;
      size = size32;
      return true;
    }
    return false;
  }

  // Consumer: drops the record front() returned.
  void pop(std::size_t size) noexcept { consumed_ += header_size + padded(size); }

  // Consumer: hands the space of the records popped so far back to the producer.
  void release() noexcept { read_.store(consumed_, std::memory_order_release); }

 private:
  std::unique_ptr<std::byte[]> buffer_;
  std::size_t capacity_;
  std::size_t mask_;
  // Producer's line.
  alignas(64) std::size_t write_ = 0;  // end of the last committed record
  std::size_t limit_ = 0;              // try_claim's bound (0: claim() first)
  std::size_t read_cache_ = 0;         // the consumer's position, as last seen
  // Shared: written by one side each.
  alignas(64) std::atomic<std::size_t> committed_{0};
  alignas(64) std::atomic<std::size_t> read_{0};
  std::atomic<bool> abandoned_{false};
  std::atomic<bool> retired_{false};
  // Consumer's line.
  alignas(64) std::size_t consumed_ = 0;
  std::size_t end_ = 0;
  bool final_ = false;
};

}  // namespace ouroboros::detail
