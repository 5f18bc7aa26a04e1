#include "ouroboros/extension.hpp"

#include <atomic>
#include <cstring>

#include "ouroboros/detail/shared_words.hpp"
#include "ouroboros/layout.hpp"

namespace ouroboros {

using detail::load_shared;
using detail::store_shared;
using ext = layout::extension_layout;

namespace {
__extension__ using int128 = __int128;
constexpr std::size_t dictionary_entry_header = 4;

// Locates a well-formed block; returns its offset and size, or nothing.
bool locate(std::span<const std::byte> buffer, std::size_t& at, std::size_t& size) noexcept {
  if (buffer.size() < layout::header_size ||
      load_shared<std::uint64_t>(buffer.data(), layout::magic_offset) != layout::buffer_magic) {
    return false;
  }
  const auto count = load_shared<std::uint32_t>(buffer.data(), layout::chunk_count_offset);
  at = layout::extension_block_offset(count);
  if (count == 0 || buffer.size() < at + ext::min_size) return false;
  if (load_shared<std::uint64_t>(buffer.data(), at + ext::magic_offset) != ext::magic) return false;
  size = load_shared<std::uint32_t>(buffer.data(), at + ext::size_offset);
  return size >= ext::min_size && size <= buffer.size() - at && size % 8 == 0;
}

// The dictionary of a located block: it must lie inside the block, 4-aligned (its entry headers
// are loaded as aligned words; an odd offset from a hostile buffer would make those loads
// misaligned). Leaves offset and capacity untouched and returns false otherwise.
bool dictionary_bounds(std::span<const std::byte> buffer, std::size_t at, std::size_t size,
                       std::size_t& offset, std::size_t& capacity) noexcept {
  const std::byte* b = buffer.data() + at;
  const std::size_t dict_at = load_shared<std::uint32_t>(b, ext::dict_offset_offset);
  const std::size_t dict_capacity = load_shared<std::uint32_t>(b, ext::dict_capacity_offset);
  if (dict_at % 4 != 0 || dict_at < at + ext::min_size || dict_at > at + size ||
      dict_capacity > at + size - dict_at) {
    return false;
  }
  offset = dict_at;
  capacity = dict_capacity;
  return true;
}
}  // namespace

bool extension_snapshot::closed() const noexcept {
  return (flags & ext::flag_closed) != 0;
}

std::uint64_t clock_calibration::to_unix_ns(std::uint64_t ticks) const noexcept {
  // Signed delta: a record stamped just before a re-calibration has ticks below tick_base.
  const auto delta = static_cast<int128>(static_cast<std::int64_t>(ticks - tick_base));
  const int128 scaled = (delta * static_cast<int128>(mult)) >> 32;
  return static_cast<std::uint64_t>(static_cast<int128>(wall_base_ns) + scaled);
}

std::optional<extension_snapshot> read_extension(std::span<const std::byte> buffer) noexcept {
  std::size_t at = 0;
  std::size_t size = 0;
  if (!locate(buffer, at, size)) return std::nullopt;
  const std::byte* b = buffer.data() + at;
  extension_snapshot s;
  s.writer_pid = load_shared<std::uint64_t>(b, ext::writer_pid_offset);
  s.writer_start_unix_ns = load_shared<std::uint64_t>(b, ext::writer_start_offset);
  s.incarnation = load_shared<std::uint64_t>(b, ext::incarnation_offset);
  s.heartbeat_unix_ns = load_shared<std::uint64_t>(b, ext::heartbeat_offset);
  s.payload_encoding = load_shared<std::uint32_t>(b, ext::encoding_offset);
  s.flags = load_shared<std::uint32_t>(b, ext::flags_offset);
  s.chunk_target_size = load_shared<std::uint64_t>(b, ext::chunk_target_offset);
  dictionary_bounds(buffer, at, size, s.dictionary_offset, s.dictionary_capacity);
  return s;
}

std::optional<std::uint64_t> read_heartbeat(std::span<const std::byte> buffer) noexcept {
  std::size_t at = 0;
  std::size_t size = 0;
  if (!locate(buffer, at, size)) return std::nullopt;
  return load_shared<std::uint64_t>(buffer.data() + at, ext::heartbeat_offset);
}

std::optional<clock_calibration> read_clock(std::span<const std::byte> buffer) noexcept {
  std::size_t at = 0;
  std::size_t size = 0;
  if (!locate(buffer, at, size)) return std::nullopt;
  const std::byte* b = buffer.data() + at;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const auto before = load_shared<std::uint64_t>(b, ext::clock_seq_offset);
    if (before % 2 != 0) continue;
    clock_calibration c;
    c.tick_base =
        load_shared<std::uint64_t>(b, ext::clock_tick_base_offset, std::memory_order_relaxed);
    c.wall_base_ns =
        load_shared<std::uint64_t>(b, ext::clock_wall_base_offset, std::memory_order_relaxed);
    c.mult = load_shared<std::uint64_t>(b, ext::clock_mult_offset, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (load_shared<std::uint64_t>(b, ext::clock_seq_offset, std::memory_order_relaxed) == before) {
      if (before == 0) return clock_calibration{};  // never published: ticks are unix ns
      return c;
    }
  }
  return std::nullopt;
}

std::optional<dictionary_entry> read_dictionary_entry(std::span<const std::byte> buffer,
                                                      std::uint32_t id) noexcept {
  std::size_t at = 0;
  std::size_t size = 0;
  std::size_t dict_at = 0;
  std::size_t dict_capacity = 0;
  if (!locate(buffer, at, size) || !dictionary_bounds(buffer, at, size, dict_at, dict_capacity)) {
    return std::nullopt;
  }
  const std::size_t used = load_shared<std::uint32_t>(buffer.data() + at, ext::dict_used_offset);
  if (used > dict_capacity || id % 4 != 0 ||
      static_cast<std::size_t>(id) + dictionary_entry_header > used) {
    return std::nullopt;
  }
  const std::byte* entry = buffer.data() + dict_at + id;
  const std::uint32_t head = load_shared<std::uint32_t>(entry, 0, std::memory_order_relaxed);
  const std::size_t length = head & 0xFFFFU;
  if (id + dictionary_entry_header + length > used) return std::nullopt;
  dictionary_entry result;
  result.kind = static_cast<std::uint8_t>((head >> 16) & 0xFFU);
  result.bytes =
      std::string_view(reinterpret_cast<const char*>(entry + dictionary_entry_header), length);
  return result;
}

void extension_writer::beat(std::uint64_t unix_ns) noexcept {
  if (valid()) store_shared<std::uint64_t>(block_.data(), ext::heartbeat_offset, unix_ns);
}

void extension_writer::set_flags(std::uint32_t flags) noexcept {
  if (valid()) store_shared<std::uint32_t>(block_.data(), ext::flags_offset, flags);
}

void extension_writer::publish_clock(const clock_calibration& calibration) noexcept {
  if (!valid()) return;
  std::byte* b = block_.data();
  const auto seq = load_shared<std::uint64_t>(b, ext::clock_seq_offset, std::memory_order_relaxed);
  store_shared<std::uint64_t>(b, ext::clock_seq_offset, seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  store_shared<std::uint64_t>(b, ext::clock_tick_base_offset, calibration.tick_base,
                              std::memory_order_relaxed);
  store_shared<std::uint64_t>(b, ext::clock_wall_base_offset, calibration.wall_base_ns,
                              std::memory_order_relaxed);
  store_shared<std::uint64_t>(b, ext::clock_mult_offset, calibration.mult,
                              std::memory_order_relaxed);
  store_shared<std::uint64_t>(b, ext::clock_seq_offset, seq + 2, std::memory_order_release);
}

std::optional<std::uint32_t> extension_writer::append_dictionary(std::uint8_t kind,
                                                                 std::string_view bytes) noexcept {
  if (!valid() || bytes.size() > 0xFFFFU) return std::nullopt;
  std::byte* b = block_.data();
  const std::size_t capacity =
      load_shared<std::uint32_t>(b, ext::dict_capacity_offset, std::memory_order_relaxed);
  const std::size_t used =
      load_shared<std::uint32_t>(b, ext::dict_used_offset, std::memory_order_relaxed);
  const std::size_t need = layout::align_up(dictionary_entry_header + bytes.size(), 4);
  if (capacity < used || need > capacity - used) return std::nullopt;
  // ring_writer places the dictionary right after the fixed fields.
  std::byte* dictionary = b + ext::min_size;
  store_shared<std::uint32_t>(
      dictionary, used, static_cast<std::uint32_t>(bytes.size()) | (std::uint32_t{kind} << 16),
      std::memory_order_relaxed);
  detail::copy_to_shared(dictionary + used + dictionary_entry_header, bytes.data(), bytes.size());
  // Release: a reader that sees the new "used" sees the entry's bytes.
  store_shared<std::uint32_t>(b, ext::dict_used_offset, static_cast<std::uint32_t>(used + need));
  return static_cast<std::uint32_t>(used);
}

}  // namespace ouroboros
