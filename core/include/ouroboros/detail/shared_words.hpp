// Access to words that another process may be writing or reading at the same time.
//
// Every shared word goes through std::atomic_ref so the compiler emits one aligned load or store
// and never tears, fuses or re-reads it. Payload bytes are copied with memcpy: the seqlock protocol
// (copy, acquire fence, re-check the chunk row) makes a torn copy harmless because it is discarded.
// ThreadSanitizer cannot see that protocol (it ignores fences), so in TSan builds the copies use
// relaxed atomic byte accesses instead; the memory-ordering argument is identical.
//
// Thread-safety: stateless functions; safe from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SANITIZE_THREAD__)
#define OUROBOROS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define OUROBOROS_TSAN 1
#endif
#endif

namespace ouroboros::detail {

template <class Word>
inline Word load_shared(const std::byte* base, std::size_t offset,
                        std::memory_order order = std::memory_order_acquire) noexcept {
  // atomic_ref needs a non-const object even for loads; the mapping may be PROT_READ, which is
  // fine because a load never writes.
  auto* word = reinterpret_cast<Word*>(const_cast<std::byte*>(base + offset));
  return std::atomic_ref<Word>(*word).load(order);
}

template <class Word>
inline void store_shared(std::byte* base, std::size_t offset, Word value,
                         std::memory_order order = std::memory_order_release) noexcept {
  auto* word = reinterpret_cast<Word*>(base + offset);
  std::atomic_ref<Word>(*word).store(value, order);
}

inline void copy_to_shared(std::byte* destination, const void* source, std::size_t size) noexcept {
#ifdef OUROBOROS_TSAN
  const auto* from = static_cast<const unsigned char*>(source);
  for (std::size_t i = 0; i < size; ++i) {
    std::atomic_ref<unsigned char>(*reinterpret_cast<unsigned char*>(destination + i))
        .store(from[i], std::memory_order_relaxed);
  }
#else
  std::memcpy(destination, source, size);
#endif
}

inline void copy_from_shared(void* destination, const std::byte* source,
                             std::size_t size) noexcept {
#ifdef OUROBOROS_TSAN
  auto* to = static_cast<unsigned char*>(destination);
  for (std::size_t i = 0; i < size; ++i) {
    to[i] = std::atomic_ref<unsigned char>(
                *reinterpret_cast<unsigned char*>(const_cast<std::byte*>(source + i)))
                .load(std::memory_order_relaxed);
  }
#else
  std::memcpy(destination, source, size);
#endif
}

}  // namespace ouroboros::detail
