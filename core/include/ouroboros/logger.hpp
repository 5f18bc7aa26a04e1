// The publishing API: an application links core and logs into a named shared-memory segment.
//
//   ouroboros::logger log("my-app");
//   log.info("net", "sent {} bytes to {}", n, peer);
//   log.warn("db", {{"table", "users"}, {"rows", 12}}, "slow query took {} ms", ms);
//
// Each call below the threshold costs one relaxed load. Otherwise it stamps the time (TSC ticks
// or realtime, see clock.hpp), takes the producer lock, claims room for the largest record in
// the ring, builds and formats the record in place (format strings are parsed and checked at
// compile time, see format.hpp) and publishes it at its real size. No heap allocation. With
// producers::staged each thread builds its records in a queue of its own instead, without any
// lock or atomic read-modify-write, and a drain moves them into the ring (see producers). A message
// that does not fit the record limit is cut at a UTF-8 boundary, ends with truncation_marker and
// carries flag_truncated; records are never dropped (a full ring overwrites its oldest entries,
// which readers count as lost). Invalid UTF-8 from arguments is replaced by '?', so every record
// decodes.
//
// Thread-safety: all member functions may be called from any number of threads at once, unless
// the logger was created with producers::single (then one thread at a time). Producers are
// serialised by a spin-then-yield lock (docs/performance.md explains the choice), or with
// producers::staged write to per-thread queues.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "ouroboros/clock.hpp"
#include "ouroboros/detail/attributes.hpp"
#include "ouroboros/detail/staging_queue.hpp"
#include "ouroboros/format.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/segment.hpp"

namespace ouroboros {

enum class producers {
  many,    // any thread may log (default)
  single,  // the caller promises that one thread at a time logs: no lock at all
  // Any thread may log; each logging thread gets a staging queue of staging_bytes, builds its
  // records there with plain stores and publishes them with one release store (no lock, no
  // atomic read-modify-write, no cache line shared with other producers). The maintenance
  // thread drains every queue into the ring, oldest stamp first, every staging_drain_interval
  // (backing off to 16 times that while nothing is logged); a thread whose queue is full drains
  // all queues itself, so nothing is dropped. Records reach readers up to that interval later
  // than with `many`, and each logging thread holds its queue's memory until it exits.
  // Without the maintenance thread, records move when a queue fills or on flush()/maintain().
  staged,
};

struct logger_options {
  // Segment geometry and ownership. payload_encoding is always set to the record encoding.
  shm_writer_options segment;
  level threshold = level::info;
  // Largest record (header, tag, fields and message) in bytes; also bounded by the ring.
  std::size_t max_record_size = 4096;
  producers threading = producers::many;
  // producers::staged: bytes of each thread's queue (rounded up to a power of two, at least
  // twice the largest record) and how often the maintenance thread drains the queues.
  std::size_t staging_bytes = std::size_t{1} << 20;
  std::chrono::microseconds staging_drain_interval{1000};
  clock_source clock = clock_source::automatic;
  // Where records are formatted: straight into the ring under the producer lock (true), or on
  // the stack outside the lock and then copied in (false). See docs/performance.md.
  bool format_in_ring = true;
  // Deferred formatting (docs/format.md §11.5): a call whose arguments are all built-in types
  // (integers, floats, bool, char, strings, pointers) and that has no fields stores its format
  // string once per segment in the extension block's dictionary, and per call only the format's
  // id and the arguments; readers format. Other calls, and every call once the dictionary is
  // full, write text records. Needs readers that know record version 2 (C++ entry_interpreter).
  bool deferred_format = false;
  // Dictionary bytes reserved when deferred_format is on and segment.dictionary_capacity is 0.
  std::uint32_t deferred_dictionary_capacity = 64 * 1024;
  // A background thread refreshes the heartbeat and the clock calibration every interval.
  // Without it, call maintain() yourself about once a second.
  bool maintenance_thread = true;
  std::chrono::milliseconds maintenance_interval{1000};
};

// A key=value field of a record. Values are stored as text (numbers formatted on write) with
// their type: a record with an integer, double or bool field is a typed-field record.
// Thread-safety: plain value type.
class field {
 public:
  field(std::string_view key, std::string_view value) noexcept : key_(key), kind_(kind::text) {
    text_ = value;
  }
  field(std::string_view key, const char* value) noexcept
      : field(key, std::string_view(value ? value : "")) {}
  field(std::string_view key, bool value) noexcept : key_(key), kind_(kind::boolean) {
    unsigned_ = value;
  }
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
      field(std::string_view key, T value)
  noexcept : key_(key) {
    if constexpr (std::is_signed_v<T>) {
      kind_ = kind::signed_int;
      signed_ = value;
    } else {
      kind_ = kind::unsigned_int;
      unsigned_ = value;
    }
  }
  field(std::string_view key, double value) noexcept : key_(key), kind_(kind::floating) {
    floating_ = value;
  }

  std::string_view key() const noexcept { return key_; }
  field_type type() const noexcept {
    switch (kind_) {
      case kind::signed_int: return field_type::i64;
      case kind::unsigned_int: return field_type::u64;
      case kind::floating: return field_type::f64;
      case kind::boolean: return field_type::boolean;
      case kind::text: break;
    }
    return field_type::string;
  }
  // Writes the value's text (for strings: the bytes as given).
  void write_value(format_sink& out) const noexcept;

 private:
  enum class kind : std::uint8_t { text, signed_int, unsigned_int, floating, boolean };
  std::string_view key_;
  kind kind_;
  union {
    std::string_view text_;
    std::int64_t signed_;
    std::uint64_t unsigned_;
    double floating_;
  };
};

namespace detail {

// Test-and-test-and-set lock: one atomic exchange when free (the common case), a short pause
// loop, then yielding, because with more producer threads than cores the holder may have been
// preempted and spinning would only burn its time slice.
class producer_lock {
 public:
  void lock() noexcept {
    if (!locked_.exchange(true, std::memory_order_acquire)) [[likely]]
      return;
    contended();
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  void contended() noexcept;
  std::atomic<bool> locked_{false};
};

std::uint32_t os_thread_id() noexcept;

// The calling thread's staging queue for the logger it last logged to with producers::staged.
// Trivially destructible on purpose: reading them costs no thread-local guard. Logger ids are
// never reused, so a destroyed logger's queue is never matched again.
inline thread_local std::uint64_t staging_owner = 0;
inline thread_local staging_queue* staging_of_thread = nullptr;
inline thread_local std::uint32_t cached_thread_id = 0;
inline std::uint32_t current_thread_id() noexcept {
  std::uint32_t id = cached_thread_id;
  if (id == 0) [[unlikely]]
    cached_thread_id = id = os_thread_id();
  return id;
}

// Arguments of deferred records: how many bytes each takes and how it is stored (record.hpp).
template <class T>
inline constexpr bool deferrable_v = format_detail::kind_of<T>() != format_detail::arg_kind::custom;

inline void store_le(std::byte* p, std::uint64_t v, std::size_t bytes) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, bytes);
  } else {
    for (std::size_t i = 0; i < bytes; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFU);
  }
}

template <class T>
inline std::string_view deferred_text(const T& value) noexcept {
  if constexpr (std::is_pointer_v<T>)
    return value != nullptr ? std::string_view(value) : std::string_view("(null)");
  else
    return std::string_view(value);
}

template <class T>
inline std::size_t deferred_size(const T& value) noexcept {
  constexpr format_detail::arg_kind kind = format_detail::kind_of<T>();
  if constexpr (kind == format_detail::arg_kind::string)
    return 5 + deferred_text(value).size();
  else if constexpr (kind == format_detail::arg_kind::boolean ||
                     kind == format_detail::arg_kind::character)
    return 2;
  else if constexpr (std::is_same_v<T, float>)
    return 5;
  else
    return 9;
}

template <class T>
inline std::byte* put_deferred(std::byte* p, const T& value) noexcept {
  using format_detail::arg_kind;
  constexpr arg_kind kind = format_detail::kind_of<T>();
  if constexpr (std::is_enum_v<T>) {
    return put_deferred(p, static_cast<std::underlying_type_t<T>>(value));
  } else if constexpr (kind == arg_kind::signed_int) {
    p[0] = std::byte{static_cast<std::uint8_t>(arg_type::i64)};
    store_le(p + 1, static_cast<std::uint64_t>(static_cast<std::int64_t>(value)), 8);
    return p + 9;
  } else if constexpr (kind == arg_kind::unsigned_int) {
    p[0] = std::byte{static_cast<std::uint8_t>(arg_type::u64)};
    store_le(p + 1, static_cast<std::uint64_t>(value), 8);
    return p + 9;
  } else if constexpr (kind == arg_kind::boolean || kind == arg_kind::character) {
    p[0] = std::byte{static_cast<std::uint8_t>(kind == arg_kind::boolean ? arg_type::boolean
                                                                         : arg_type::character)};
    p[1] = static_cast<std::byte>(static_cast<unsigned char>(value));
    return p + 2;
  } else if constexpr (std::is_same_v<T, float>) {
    p[0] = std::byte{static_cast<std::uint8_t>(arg_type::f32)};
    store_le(p + 1, std::bit_cast<std::uint32_t>(value), 4);
    return p + 5;
  } else if constexpr (kind == arg_kind::floating) {
    p[0] = std::byte{static_cast<std::uint8_t>(arg_type::f64)};
    store_le(p + 1, std::bit_cast<std::uint64_t>(static_cast<double>(value)), 8);
    return p + 9;
  } else if constexpr (kind == arg_kind::string) {
    const std::string_view text = deferred_text(value);
    p[0] = std::byte{static_cast<std::uint8_t>(arg_type::string)};
    store_le(p + 1, text.size(), 4);
    // Log arguments are short: inline moves instead of a memcpy call.
    // Records always decode: bytes that are not UTF-8 become '?', as in text records.
    if (!format_sink::copy_small_ascii(reinterpret_cast<char*>(p + 5), text.data(), text.size()))
        [[unlikely]]
      replace_invalid_utf8(reinterpret_cast<char*>(p + 5), text.size());
    return p + 5 + text.size();
  } else {
    static_assert(kind == arg_kind::pointer);
    p[0] = std::byte{static_cast<std::uint8_t>(arg_type::pointer)};
    store_le(p + 1, reinterpret_cast<std::uintptr_t>(static_cast<const void*>(value)), 8);
    return p + 9;
  }
}

// Format strings already interned in this logger's dictionary, keyed by the literal's address
// (a log_format is built only from string literals, whose storage lives as long as the
// program). Readers never lock: a slot's id is stored before its key (release).
// Thread-safety: find() from any thread; insert() under the caller's mutex.
class intern_table {
 public:
  static constexpr std::uint32_t none = 0xFFFFFFFFU;
  static constexpr std::size_t size = 4096;
  static constexpr std::size_t probes = 8;
  static std::size_t home(const char* key) noexcept {
    return static_cast<std::size_t>(
        (reinterpret_cast<std::uintptr_t>(key) * 0x9E3779B97F4A7C15ULL) >> 52);
  }
  // The id, none when the key is interned as "not possible", or nullopt-like `missing`.
  static constexpr std::uint64_t missing = ~std::uint64_t{0};
  std::uint64_t find(const char* key) const noexcept {
    for (std::size_t i = 0, at = home(key); i < probes; ++i, at = (at + 1) % size) {
      const char* k = slots_[at].key.load(std::memory_order_acquire);
      if (k == key) [[likely]]
        return slots_[at].id.load(std::memory_order_relaxed);
      if (k == nullptr) return missing;
    }
    return missing;
  }
  // Returns false when the key's probe window is full.
  bool insert(const char* key, std::uint32_t id) noexcept {
    for (std::size_t i = 0, at = home(key); i < probes; ++i, at = (at + 1) % size) {
      if (slots_[at].key.load(std::memory_order_relaxed) != nullptr) continue;
      slots_[at].id.store(id, std::memory_order_relaxed);
      slots_[at].key.store(key, std::memory_order_release);
      return true;
    }
    return false;
  }

 private:
  struct slot {
    std::atomic<const char*> key{nullptr};
    std::atomic<std::uint32_t> id{none};
  };
  std::array<slot, size> slots_{};
};

// Builds one record in a caller-provided buffer (the stack, or the claimed ring memory).
class record_builder {
 public:
  record_builder(std::byte* buffer, std::size_t capacity) noexcept
      : buffer_(buffer), capacity_(capacity) {}
  // Writes the fixed part, the tag and the fields; returns false when not even they fit.
  bool begin(level severity, std::uint8_t flags, std::uint64_t timestamp, std::uint32_t thread,
             std::string_view tag, std::span<const field> fields) noexcept {
    namespace rl = record_layout;
    if (capacity_ < rl::fixed_size) [[unlikely]]
      return false;
    // A tag longer than the format allows, or than this record can hold, is cut (UTF-8 safe).
    if (tag.size() > rl::max_tag_size || tag.size() > capacity_ - rl::fixed_size) [[unlikely]]
      tag = tag.substr(0, utf8_prefix(tag, std::min(rl::max_tag_size, capacity_ - rl::fixed_size)));
    std::byte* p = buffer_;
    p[0] = std::byte{rl::marker};
    p[1] = std::byte{rl::version};
    p[2] = static_cast<std::byte>(severity);
    p[3] = std::byte{flags};
    store_u32(p + 4, thread);
    store_u64(p + 8, timestamp);
    p[16] = static_cast<std::byte>(tag.size());
    p[17] = static_cast<std::byte>(std::min(fields.size(), rl::max_fields));
    if (!tag.empty()) std::memcpy(p + rl::fixed_size, tag.data(), tag.size());
    if (!is_ascii(tag.data(), tag.size())) [[unlikely]]
      sanitize(p + rl::fixed_size, tag.size());
    prefix_ = rl::fixed_size + tag.size();
    if (!fields.empty()) [[unlikely]]
      return add_fields(fields);
    return true;
  }
  format_sink message_sink() noexcept {
    return {reinterpret_cast<char*>(buffer_) + prefix_, capacity_ - prefix_};
  }
  // Sanitises the message if needed, applies the visible truncation; returns the record's size.
  std::size_t finish(const format_sink& message) noexcept {
    if (!message.overflowed() && !message.unchecked()) [[likely]]
      return prefix_ + message.size();
    return finish_slow(message);
  }
  void mark_truncated() noexcept { buffer_[3] |= std::byte{record_layout::flag_truncated}; }
  bool truncated() const noexcept {
    return (std::to_integer<std::uint8_t>(buffer_[3]) & record_layout::flag_truncated) != 0;
  }

 private:
  static void store_u32(std::byte* p, std::uint32_t v) noexcept {
    if constexpr (std::endian::native != std::endian::little) v = byteswap32(v);
    std::memcpy(p, &v, 4);
  }
  static void store_u64(std::byte* p, std::uint64_t v) noexcept {
    if constexpr (std::endian::native != std::endian::little) v = byteswap64(v);
    std::memcpy(p, &v, 8);
  }
  static constexpr std::uint32_t byteswap32(std::uint32_t v) noexcept {
    return (v >> 24) | ((v >> 8) & 0xFF00U) | ((v << 8) & 0xFF0000U) | (v << 24);
  }
  static constexpr std::uint64_t byteswap64(std::uint64_t v) noexcept {
    return (std::uint64_t{byteswap32(static_cast<std::uint32_t>(v))} << 32) |
           byteswap32(static_cast<std::uint32_t>(v >> 32));
  }
  static void sanitize(std::byte* text, std::size_t size) noexcept;
  bool add_fields(std::span<const field> fields) noexcept;
  std::size_t finish_slow(const format_sink& message) noexcept;

  std::byte* buffer_;
  std::size_t capacity_;
  std::size_t prefix_ = 0;
};

}  // namespace detail

class logger {
 public:
  // Appended to a message that was cut ("…[truncated]").
  static constexpr std::string_view truncation_marker = "\xE2\x80\xA6[truncated]";
  // With format_in_ring = false, records up to this size are formatted on the stack outside the
  // producer lock and then copied in; larger ones are formatted straight into the ring.
  static constexpr std::size_t stack_record_size = 2048;

  // Creates (or takes over, per options.segment) the named segment. Throws segment_error.
  explicit logger(std::string_view segment_name, const logger_options& options = {});
  ~logger();
  logger(const logger&) = delete;
  logger& operator=(const logger&) = delete;

  bool enabled(level severity) const noexcept {
    return static_cast<std::uint8_t>(severity) >= threshold_.load(std::memory_order_relaxed);
  }
  void set_threshold(level severity) noexcept {
    threshold_.store(static_cast<std::uint8_t>(severity), std::memory_order_relaxed);
  }
  level threshold() const noexcept {
    return static_cast<level>(threshold_.load(std::memory_order_relaxed));
  }

  template <class... Args>
  void log(level severity, std::string_view tag, log_format<Args...> format,
           Args&&... args) noexcept {
    if (enabled(severity))
      emit_record<std::remove_cvref_t<Args>...>(severity, tag, {}, format, args...);
  }
  template <class... Args>
  void log(level severity, std::string_view tag, std::initializer_list<field> fields,
           log_format<Args...> format, Args&&... args) noexcept {
    if (enabled(severity))
      emit_record<std::remove_cvref_t<Args>...>(severity, tag, fields, format, args...);
  }

#define OUROBOROS_LOGGER_LEVEL(name)                                                               \
  template <class... Args>                                                                         \
  void name(std::string_view tag, log_format<Args...> format, Args&&... args) noexcept {           \
    if (enabled(level::name))                                                                      \
      emit_record<std::remove_cvref_t<Args>...>(level::name, tag, {}, format, args...);            \
  }                                                                                                \
  template <class... Args>                                                                         \
  void name(std::string_view tag, std::initializer_list<field> fields, log_format<Args...> format, \
            Args&&... args) noexcept {                                                             \
    if (enabled(level::name))                                                                      \
      emit_record<std::remove_cvref_t<Args>...>(level::name, tag, fields, format, args...);        \
  }
  OUROBOROS_LOGGER_LEVEL(trace)
  OUROBOROS_LOGGER_LEVEL(debug)
  OUROBOROS_LOGGER_LEVEL(info)
  OUROBOROS_LOGGER_LEVEL(warn)
  OUROBOROS_LOGGER_LEVEL(error)
  OUROBOROS_LOGGER_LEVEL(critical)
#undef OUROBOROS_LOGGER_LEVEL

  // An already formatted message (integrations use this). Checks the threshold too.
  void write(level severity, std::string_view tag, std::string_view message,
             std::span<const field> fields = {}) noexcept;
  // As write(), with the caller's timestamp (unix ns) and thread id, e.g. from another logging
  // library that took them already (or runs its sinks on a worker thread).
  void write_at(std::uint64_t unix_ns, std::uint32_t thread, level severity, std::string_view tag,
                std::string_view message, std::span<const field> fields = {}) noexcept;

  // Refreshes the heartbeat and re-publishes the clock calibration (the maintenance thread does
  // this every interval); with producers::staged also drains the queues.
  void maintain() noexcept;

  // producers::staged: moves every record committed so far from the threads' queues into the
  // ring, oldest stamp first. Nothing to do with the other producer modes.
  void flush() noexcept;

  // Records written into the ring so far (takes the producer lock briefly); with
  // producers::staged, records still in a thread's queue are not counted yet (flush() first).
  std::uint64_t records_written() const noexcept;
  std::uint64_t records_truncated() const noexcept {
    return truncated_.load(std::memory_order_relaxed);
  }
  std::size_t max_record_size() const noexcept {
    return max_record_;
  }
  const record_clock& clock() const noexcept {
    return clock_;
  }
  const std::string& segment_name() const noexcept {
    return writer_.name();
  }
  // The underlying segment (e.g. for extension().append_dictionary). Not synchronised with
  // producers: use it only while no thread logs.
  shm_writer& segment() noexcept {
    return writer_;
  }

 private:
  // Inline at the call site: the common staged deferred call (a thread with its queue, a
  // format string already interned, room before the queue's end) takes no function call; every
  // other case goes to emit_any, out of line.
  template <class... Args>
  OUROBOROS_ALWAYS_INLINE void emit_record(level severity, std::string_view tag,
                                           std::span<const field> fields,
                                           const basic_log_format<Args...>& format,
                                           const Args&... args) noexcept {
    if constexpr ((detail::deferrable_v<Args> && ...)) {
      if (fields.empty() && interned_ != nullptr) [[likely]] {
        if (threading_ == producers::staged) {
          if (detail::staging_owner == id_ &&
              emit_deferred_inline<true>(severity, tag, format.text(), args...)) [[likely]]
            return;
        } else if (emit_deferred_inline<false>(severity, tag, format.text(), args...)) [[likely]] {
          return;
        }
      }
    }
    emit_any(severity, tag, fields, format, args...);
  }
  // The inline paths' common part: the format's id (already interned) and the record's size;
  // size 0 when the call must take emit_any (format not interned yet or never, tag or record
  // too long).
  struct deferred_plan {
    std::uint32_t id;
    std::size_t size;
  };
  template <class... Args>
  OUROBOROS_ALWAYS_INLINE deferred_plan plan_deferred(std::string_view tag, std::string_view text,
                                                      const Args&... args) const noexcept {
    const std::uint64_t id = interned_->find(text.data());
    if (id >= detail::intern_table::none) [[unlikely]]
      return {0, 0};
    return {static_cast<std::uint32_t>(id), deferred_record_size(tag, args...)};
  }
  // The size of the deferred record of this call, or 0 when the tag or the record is too long
  // for one (the call then writes a text record).
  template <class... Args>
  std::size_t deferred_record_size(std::string_view tag, const Args&... args) const noexcept {
    namespace rl = record_layout;
    if (tag.size() > rl::max_tag_size) [[unlikely]]
      return 0;
    const std::size_t size =
        rl::deferred_fixed_size + tag.size() + (std::size_t{0} + ... + detail::deferred_size(args));
    return size > max_record_ ? 0 : size;
  }

  // Staged: into the thread's queue (false when try_claim finds no room); else the ring under
  // the lock.
  template <bool Staged, class... Args>
  bool emit_deferred_inline(level severity, std::string_view tag, std::string_view text,
                            const Args&... args) noexcept {
    const std::uint64_t timestamp = clock_.now();
    const deferred_plan plan = plan_deferred(tag, text, args...);
    if (plan.size == 0) [[unlikely]]
      return false;
    if constexpr (Staged) {
      detail::staging_queue& queue = *detail::staging_of_thread;
      std::byte* at = queue.try_claim(plan.size);
      if (at == nullptr) [[unlikely]]
        return false;
      put_deferred_record(at, severity, timestamp, tag, plan.id, args...);
      queue.commit(at, timestamp, plan.size);
    } else {
      std::byte* at = claim_locked(plan.size);
      put_deferred_record(at, severity, timestamp, tag, plan.id, args...);
      writer_.ring().publish();  // claimed at its exact size
      unlock_producers();
    }
    return true;
  }

  template <class... Args>
  OUROBOROS_NOINLINE void emit_any(level severity, std::string_view tag,
                                   std::span<const field> fields,
                                   const basic_log_format<Args...>& format,
                                   const Args&... args) noexcept {
    const std::uint64_t timestamp = clock_.now();
    if constexpr ((detail::deferrable_v<Args> && ...)) {
      if (interned_ != nullptr && fields.empty()) [[likely]] {
        if (emit_deferred(severity, timestamp, tag, format.text(), args...)) [[likely]]
          return;
      }
    }
    const std::uint32_t thread = detail::current_thread_id();
    if (in_ring_) {
      auto step = [&](format_sink& out) noexcept { format_to(out, format, args...); };
      emit_in_ring(severity, tick_flag_, timestamp, thread, tag, fields, step);
      return;
    }
    emit_on_stack(severity, timestamp, thread, tag, fields, format, args...);
  }

  // format_in_ring = false: formats on the stack outside the lock. Out of line, so that its
  // 2 KiB frame is not set up by every call that never comes here.
  template <class... Args>
  OUROBOROS_NOINLINE void emit_on_stack(level severity, std::uint64_t timestamp,
                                        std::uint32_t thread, std::string_view tag,
                                        std::span<const field> fields,
                                        const basic_log_format<Args...>& format,
                                        const Args&... args) noexcept {
    auto step = [&](format_sink& out) noexcept { format_to(out, format, args...); };
    alignas(8) std::byte staging[stack_record_size];
    detail::record_builder builder(staging, stack_capacity_);
    if (!builder.begin(severity, tick_flag_, timestamp, thread, tag, fields)) [[unlikely]] {
      emit_large_erased(severity, tick_flag_, timestamp, thread, tag, fields, format_step(step));
      return;
    }
    format_sink message = builder.message_sink();
    if (format.verbatim())
      message.append(format.text());
    else
      format_to(message, format, args...);
    if (message.overflowed() && max_record_ > stack_capacity_) [[unlikely]] {
      emit_large_erased(severity, tick_flag_, timestamp, thread, tag, fields, format_step(step));
      return;
    }
    const std::size_t size = builder.finish(message);
    if (builder.truncated()) [[unlikely]]
      truncated_.fetch_add(1, std::memory_order_relaxed);
    publish(staging, size, tick_flag_, timestamp);
  }

  // A deferred record (record version 2): the format's id and the arguments, no formatting.
  // Returns false when the text record must be written instead (dictionary full, a tag longer
  // than a record allows, arguments larger than the record limit).
  template <class... Args>
  OUROBOROS_ALWAYS_INLINE bool emit_deferred(level severity, std::uint64_t timestamp,
                                             std::string_view tag, std::string_view text,
                                             const Args&... args) noexcept {
    std::uint64_t id = interned_->find(text.data());
    if (id > detail::intern_table::none) [[unlikely]]
      id = intern(text);
    const std::size_t size = deferred_record_size(tag, args...);
    if (id == detail::intern_table::none || size == 0) [[unlikely]]
      return false;
    const record_room room = begin_record(size);
    put_deferred_record(room.at, severity, timestamp, tag, static_cast<std::uint32_t>(id), args...);
    end_record(room, tick_flag_, timestamp, size);
    return true;
  }
  template <class... Args>
  OUROBOROS_ALWAYS_INLINE void put_deferred_record(std::byte* p, level severity,
                                                   std::uint64_t timestamp, std::string_view tag,
                                                   std::uint32_t id, const Args&... args) noexcept {
    namespace rl = record_layout;
    p[0] = std::byte{rl::marker};
    p[1] = std::byte{rl::deferred_version};
    p[2] = static_cast<std::byte>(severity);
    p[3] = std::byte{tick_flag_};
    detail::store_le(p + 4, detail::current_thread_id(), 4);
    detail::store_le(p + 8, timestamp, 8);
    p[16] = static_cast<std::byte>(tag.size());
    p[17] = std::byte{0};
    detail::store_le(p + 18, id, 4);
    std::byte* at = p + rl::deferred_fixed_size;
    if (!format_sink::copy_small_ascii(reinterpret_cast<char*>(at), tag.data(), tag.size()))
        [[unlikely]]
      replace_invalid_utf8(reinterpret_cast<char*>(at), tag.size());
    at += tag.size();
    ((at = detail::put_deferred(at, args)), ...);
  }
  // Interns a format string (once per literal; equal texts share one dictionary entry).
  std::uint32_t intern(std::string_view text) noexcept;

  // Claims the largest record in the ring and formats straight into it under the lock.
  template <class F>
  void emit_in_ring(level severity, std::uint8_t flags, std::uint64_t timestamp,
                    std::uint32_t thread, std::string_view tag, std::span<const field> fields,
                    F& step) noexcept {
    const record_room room = begin_record(max_record_);
    detail::record_builder builder(room.at, max_record_);
    std::size_t size = 0;
    if (builder.begin(severity, flags, timestamp, thread, tag, fields)) [[likely]] {
      format_sink message = builder.message_sink();
      step(message);
      size = builder.finish(message);
    } else {
      size = fields_too_large(builder, severity, flags, timestamp, thread, tag, format_step(step));
    }
    if (builder.truncated()) [[unlikely]]
      truncated_.fetch_add(1, std::memory_order_relaxed);
    end_record(room, flags, timestamp, size);
  }

  void publish(const std::byte* record, std::size_t size, std::uint8_t flags,
               std::uint64_t timestamp) noexcept {
    const record_room room = begin_record(size);
    detail::copy_to_shared(room.at, record, size);
    end_record(room, flags, timestamp, size);
  }

  // Where a record is built: the calling thread's staging queue (producers::staged), or the
  // ring under the producer lock. end_record publishes it at its real size.
  struct record_room {
    std::byte* at;
    detail::staging_queue* queue;  // null: `at` is in the ring and the lock is held
  };
  // Inlined into every call site: the staged path is a few instructions, and out of line it
  // measured as a call of its own.
  OUROBOROS_ALWAYS_INLINE
  record_room begin_record(std::size_t max_size) noexcept {
    if (threading_ == producers::staged) {
      detail::staging_queue* queue =
          detail::staging_owner == id_ ? detail::staging_of_thread : attach_thread();
      if (queue != nullptr) [[likely]] {
        std::byte* at = queue->try_claim(max_size);
        if (at == nullptr) [[unlikely]]
          at = claim_staged_slow(*queue, max_size);
        return {at, queue};
      }
    }
    return {claim_locked(max_size), nullptr};
  }
  // The ring under the producer lock (none with producers::single): claim_locked, publish,
  // unlock_producers.
  std::byte* claim_locked(std::size_t max_size) noexcept {
    if (threading_ != producers::single) lock_.lock();
    return writer_.ring().claim(max_size);
  }
  void unlock_producers() noexcept {
    if (threading_ != producers::single) lock_.unlock();
  }
  void end_record(record_room room, std::uint8_t flags, std::uint64_t timestamp,
                  std::size_t size) noexcept {
    if (room.queue != nullptr) {
      // Records are merged by the logger's clock; a caller's unix time (write_at) is not on it.
      room.queue->commit(room.at, flags == tick_flag_ ? timestamp : clock_.now(), size);
      return;
    }
    writer_.ring().publish(size);
    unlock_producers();
  }
  detail::staging_queue* attach_thread() noexcept;
  // After try_claim found no room: wraps to the queue's start, looks for the consumer's progress,
  // and drains all queues itself when this one is full.
  std::byte* claim_staged_slow(detail::staging_queue& queue, std::size_t max_size) noexcept;
  // Under lock_: moves what the queues hold into the ring; returns the number of records.
  std::uint64_t drain_staged() noexcept;
  std::uint64_t drain_unmerged() noexcept;

  // A type-erased reference to the formatting step, for the rare large-record path.
  class format_step {
   public:
    template <class F>
    explicit format_step(F& f) noexcept
        : object_(&f),
          call_([](void* o, format_sink& out) noexcept { (*static_cast<F*>(o))(out); }) {}
    void operator()(format_sink& out) const noexcept { call_(object_, out); }

   private:
    void* object_;
    void (*call_)(void*, format_sink&) noexcept;
  };
  std::size_t fields_too_large(detail::record_builder& builder, level severity, std::uint8_t flags,
                               std::uint64_t timestamp, std::uint32_t thread, std::string_view tag,
                               format_step step) noexcept;
  void emit_large_erased(level severity, std::uint8_t flags, std::uint64_t timestamp,
                         std::uint32_t thread, std::string_view tag, std::span<const field> fields,
                         format_step step) noexcept;
  void emit_text(std::uint8_t flags, std::uint64_t timestamp, std::uint32_t thread, level severity,
                 std::string_view tag, std::string_view message,
                 std::span<const field> fields) noexcept;
  void maintenance_loop();

  mutable shm_writer writer_;
  record_clock clock_;
  std::uint8_t tick_flag_ = 0;
  producers threading_;
  bool in_ring_ = true;
  std::size_t max_record_ = 0;
  std::size_t stack_capacity_ = 0;
  std::atomic<std::uint8_t> threshold_;
  std::atomic<std::uint64_t> truncated_{0};
  alignas(64) mutable detail::producer_lock lock_;
  // producers::staged. Queues are shared with their threads, which keep them until they exit.
  std::uint64_t id_;  // unique per logger in the process, never 0
  std::size_t staging_capacity_ = 0;
  std::chrono::microseconds drain_interval_;
  std::mutex staging_mutex_;  // guards staging_queues_ (taken after lock_ when both are held)
  std::vector<std::shared_ptr<detail::staging_queue>> staging_queues_;
  std::vector<detail::staging_queue*> draining_;  // under lock_: the queues of one drain pass
  struct merge_head {
    std::uint64_t key;
    std::size_t queue;
  };
  std::vector<merge_head> heads_;                   // under lock_
  std::unique_ptr<detail::intern_table> interned_;  // null: deferred formatting is off
  std::mutex intern_mutex_;                         // serialises intern()
  std::unordered_map<std::string_view, std::uint32_t> interned_texts_;  // under intern_mutex_

  std::mutex maintenance_mutex_;  // guards stop_ and serialises maintain()
  std::condition_variable maintenance_wake_;
  bool stop_ = false;
  std::chrono::milliseconds maintenance_interval_;
  std::thread maintenance_;
};

}  // namespace ouroboros
