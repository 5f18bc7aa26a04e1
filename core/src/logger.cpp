#include "ouroboros/logger.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "platform/shared_memory.hpp"

namespace ouroboros {

namespace rl = record_layout;

namespace {
std::atomic<std::uint64_t> next_logger_id{1};
// Records in one drain pass above which the next pass starts without waiting.
constexpr std::uint64_t busy_pass_records = 1024;
}  // namespace

namespace {
void sanitize_utf8(char* text, std::size_t size) noexcept {
  replace_invalid_utf8(text, size);
}
}  // namespace

void field::write_value(format_sink& out) const noexcept {
  char digits[32];
  switch (kind_) {
    case kind::text: out.append(text_); return;
    case kind::boolean:
      out.append(unsigned_ != 0 ? std::string_view("true") : std::string_view("false"));
      return;
    case kind::signed_int: {
      const auto r = std::to_chars(digits, digits + sizeof digits, signed_);
      out.append(digits, static_cast<std::size_t>(r.ptr - digits));
      return;
    }
    case kind::unsigned_int: {
      const auto r = std::to_chars(digits, digits + sizeof digits, unsigned_);
      out.append(digits, static_cast<std::size_t>(r.ptr - digits));
      return;
    }
    case kind::floating: {
      const auto r = std::to_chars(digits, digits + sizeof digits, floating_);
      if (r.ec == std::errc{}) out.append(digits, static_cast<std::size_t>(r.ptr - digits));
      return;
    }
  }
}

namespace detail {

void producer_lock::contended() noexcept {
  for (unsigned spins = 0;; ++spins) {
    if (!locked_.load(std::memory_order_relaxed) &&
        !locked_.exchange(true, std::memory_order_acquire))
      return;
    if (spins < 64) {
#ifdef OUROBOROS_HAS_TSC
      _mm_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

std::uint32_t os_thread_id() noexcept {
  return platform::current_thread_id();
}

void record_builder::sanitize(std::byte* text, std::size_t size) noexcept {
  sanitize_utf8(reinterpret_cast<char*>(text), size);
}

bool record_builder::add_fields(std::span<const field> fields) noexcept {
  std::byte* p = buffer_;
  const std::size_t count = std::min(fields.size(), rl::max_fields);
  const bool typed =
      std::any_of(fields.begin(), fields.begin() + static_cast<std::ptrdiff_t>(count),
                  [](const field& f) { return f.type() != field_type::string; });
  // Only records with a typed field are version 3: string-only records stay readable by
  // version 1 readers.
  if (typed) p[1] = std::byte{rl::typed_fields_version};
  const std::size_t type_size = typed ? 1 : 0;
  std::size_t at = prefix_;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string_view key =
        fields[i].key().substr(0, utf8_prefix(fields[i].key(), rl::max_key_size));
    if (capacity_ - at < 3 + type_size + key.size()) return false;
    p[at] = static_cast<std::byte>(key.size());
    if (!key.empty()) std::memcpy(p + at + 1, key.data(), key.size());
    sanitize_utf8(reinterpret_cast<char*>(p + at + 1), key.size());
    if (typed) p[at + 1 + key.size()] = static_cast<std::byte>(fields[i].type());
    const std::size_t value_at = at + 3 + type_size + key.size();
    format_sink value(reinterpret_cast<char*>(p + value_at),
                      std::min(capacity_ - value_at, rl::max_value_size));
    fields[i].write_value(value);
    if (value.overflowed()) return false;  // a field that does not fit: the large path drops fields
    sanitize_utf8(value.begin(), value.size());
    store_le(p + value_at - 2, value.size(), 2);
    at = value_at + value.size();
  }
  prefix_ = at;
  return true;
}

std::size_t record_builder::finish_slow(const format_sink& message) noexcept {
  char* text = message.begin();
  std::size_t size = message.size();
  sanitize_utf8(text, size);
  if (message.overflowed()) {
    buffer_[3] |= std::byte{rl::flag_truncated};
    const std::size_t room = capacity_ - prefix_;
    const std::string_view marker = logger::truncation_marker;
    if (room >= marker.size()) {
      size = utf8_prefix({text, size}, room - marker.size());
      std::memcpy(text + size, marker.data(), marker.size());
      size += marker.size();
    } else {
      size = utf8_prefix({text, size}, room);
    }
  }
  return prefix_ + size;
}

}  // namespace detail

logger::logger(std::string_view segment_name, const logger_options& options)
    : writer_(segment_name,
              [&] {
                shm_writer_options o = options.segment;
                o.payload_encoding = layout::extension_layout::encoding_record;
                if (options.deferred_format && o.dictionary_capacity == 0)
                  o.dictionary_capacity = options.deferred_dictionary_capacity;
                return o;
              }()),
      clock_(options.clock),
      tick_flag_(clock_.ticks() ? rl::flag_ticks : std::uint8_t{0}),
      threading_(options.threading),
      in_ring_(options.format_in_ring),
      threshold_(static_cast<std::uint8_t>(options.threshold)),
      id_(next_logger_id.fetch_add(1, std::memory_order_relaxed)),
      drain_interval_(std::max(options.staging_drain_interval, std::chrono::microseconds{1})),
      maintenance_interval_(options.maintenance_interval) {
  max_record_ = std::min(options.max_record_size, writer_.ring().max_payload_size());
  // The smallest record that can show anything: header, a short tag and the marker.
  max_record_ = std::max<std::size_t>(max_record_,
                                      std::min<std::size_t>(64, writer_.ring().max_payload_size()));
  stack_capacity_ = std::min(max_record_, stack_record_size);
  if (threading_ == producers::staged) {
    const std::size_t least =
        2 * (detail::staging_queue::header_size + detail::staging_queue::padded(max_record_));
    staging_capacity_ = std::bit_ceil(std::max({options.staging_bytes, least, std::size_t{4096}}));
  }
  if (clock_.ticks()) writer_.extension().publish_clock(clock_.calibration());
  if (options.deferred_format) interned_ = std::make_unique<detail::intern_table>();
  if (options.maintenance_thread) maintenance_ = std::thread([this] { maintenance_loop(); });
}

logger::~logger() {
  {
    std::lock_guard<std::mutex> guard(maintenance_mutex_);
    stop_ = true;
  }
  maintenance_wake_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
  if (threading_ == producers::staged) {
    flush();
    std::lock_guard<std::mutex> guard(staging_mutex_);
    for (const auto& queue : staging_queues_) queue->retire();
  }
}

std::uint64_t logger::records_written() const noexcept {
  if (threading_ != producers::single) lock_.lock();
  const std::uint64_t count = writer_.ring().entries_written();
  if (threading_ != producers::single) lock_.unlock();
  return count;
}

void logger::maintain() noexcept {
  flush();
  // The heartbeat and the clock words are separate from the ring's, so this runs concurrently
  // with producers; maintenance_mutex_ keeps two maintain() calls from interleaving.
  std::lock_guard<std::mutex> guard(maintenance_mutex_);
  writer_.heartbeat();
  if (clock_.ticks()) writer_.extension().publish_clock(clock_.recalibrate());
}

void logger::maintenance_loop() {
  using steady = std::chrono::steady_clock;
  const bool staged = threading_ == producers::staged;
  std::unique_lock<std::mutex> guard(maintenance_mutex_);
  steady::time_point next_beat = steady::now() + maintenance_interval_;
  // While nothing is logged the drain backs off to 16 intervals, so an idle program wakes
  // rarely; the first records after a pause wait at most that long.
  std::chrono::microseconds drain_wait = drain_interval_;
  while (!stop_) {
    const steady::time_point wake =
        staged ? std::min(next_beat, steady::now() + drain_wait) : next_beat;
    maintenance_wake_.wait_until(guard, wake, [this] { return stop_; });
    if (stop_) break;
    if (staged) {
      guard.unlock();
      lock_.lock();
      const std::uint64_t moved = drain_staged();
      lock_.unlock();
      // A pass that found many records goes again after a tenth of the interval: producers are
      // outpacing it and would otherwise fill their queues and drain them in their own calls.
      // Not at once: a drain that chases a producer reads the cache lines it is writing.
      if (moved >= busy_pass_records) {
        drain_wait = std::max(drain_interval_ / 10, std::chrono::microseconds{1});
      } else if (moved > 0) {
        drain_wait = drain_interval_;
      } else {
        drain_wait = std::min(std::max(drain_wait * 2, drain_interval_), drain_interval_ * 16);
      }
      guard.lock();
    }
    if (steady::now() >= next_beat) {
      writer_.heartbeat();
      if (clock_.ticks()) writer_.extension().publish_clock(clock_.recalibrate());
      next_beat = steady::now() + maintenance_interval_;
    }
  }
}

// Per thread: the queues this thread owns with every staged logger it has logged to. Its
// destructor runs at thread exit and tells each logger that nothing more will come.
namespace {
struct thread_staging {
  struct binding {
    std::uint64_t owner;
    std::shared_ptr<detail::staging_queue> queue;
  };
  std::vector<binding> bindings;
  ~thread_staging();
};
// Set when thread_staging is gone: a record logged later in this thread's exit (from another
// thread-local's destructor) goes to the ring under the lock instead.
thread_local bool staging_thread_exited = false;
thread_staging::~thread_staging() {
  staging_thread_exited = true;
  detail::staging_owner = 0;
  detail::staging_of_thread = nullptr;
  for (const binding& b : bindings) b.queue->abandon();
}
}  // namespace

detail::staging_queue* logger::attach_thread() noexcept {
  if (staging_thread_exited) return nullptr;
  thread_local thread_staging mine;
  auto& bindings = mine.bindings;
  // Queues of destroyed loggers are released here, so a long-lived thread does not keep them.
  std::erase_if(bindings, [](const thread_staging::binding& b) { return b.queue->retired(); });
  for (const auto& b : bindings) {
    if (b.owner == id_) {
      detail::staging_owner = id_;
      detail::staging_of_thread = b.queue.get();
      return b.queue.get();
    }
  }
  try {
    auto queue = std::make_shared<detail::staging_queue>(staging_capacity_);
    bindings.reserve(bindings.size() + 1);
    {
      std::lock_guard<std::mutex> guard(staging_mutex_);
      staging_queues_.push_back(queue);
    }
    bindings.push_back({id_, queue});
    detail::staging_owner = id_;
    detail::staging_of_thread = queue.get();
    return queue.get();
  } catch (...) {
    // Out of memory: this call goes to the ring under the lock.
    return nullptr;
  }
}

std::byte* logger::claim_staged_slow(detail::staging_queue& queue, std::size_t max_size) noexcept {
  // try_claim found no room before the end or as far as it knew: wrap, or look again.
  if (std::byte* at = queue.claim(max_size)) return at;
  for (;;) {
    lock_.lock();
    drain_staged();
    lock_.unlock();
    // The drain emptied this queue up to what it had committed, which is everything: its
    // producer is this thread. An empty queue always has room (see staging_capacity_).
    if (std::byte* at = queue.claim(max_size)) return at;
  }
}

void logger::flush() noexcept {
  if (threading_ != producers::staged) return;
  lock_.lock();
  drain_staged();
  lock_.unlock();
}

std::uint64_t logger::drain_staged() noexcept {
  try {
    std::lock_guard<std::mutex> guard(staging_mutex_);
    draining_.clear();
    for (const auto& queue : staging_queues_) draining_.push_back(queue.get());
    heads_.reserve(draining_.size());
  } catch (...) {
    return drain_unmerged();
  }
  for (detail::staging_queue* queue : draining_) queue->snapshot();
  std::uint64_t moved = 0;
  std::uint64_t key = 0;
  const std::byte* record = nullptr;
  std::size_t size = 0;
  // Oldest stamp first across the threads: a k-way merge on the queues' front records.
  heads_.clear();
  for (std::size_t i = 0; i < draining_.size(); ++i) {
    if (draining_[i]->front(key, record, size)) heads_.push_back({key, i});
  }
  const auto later = [](const merge_head& a, const merge_head& b) { return a.key > b.key; };
  std::make_heap(heads_.begin(), heads_.end(), later);
  while (!heads_.empty()) {
    std::pop_heap(heads_.begin(), heads_.end(), later);
    detail::staging_queue& queue = *draining_[heads_.back().queue];
    // The queue's records go in one run while none is later than another queue's front (one
    // busy thread, or threads taking turns, costs no heap operation per record).
    const std::uint64_t bound =
        heads_.size() > 1 ? heads_.front().key : std::numeric_limits<std::uint64_t>::max();
    queue.front(key, record, size);
    for (;;) {
      writer_.ring().write({record, size});
      queue.pop(size);
      // Hand space back as the pass goes, so that producers are not held up by a long pass.
      if ((++moved & 255) == 0) queue.release();
      if (!queue.front(key, record, size)) {
        heads_.pop_back();
        break;
      }
      if (key > bound) {
        heads_.back().key = key;
        std::push_heap(heads_.begin(), heads_.end(), later);
        break;
      }
    }
  }
  for (detail::staging_queue* queue : draining_) queue->release();
  // Queues of exited threads that this pass emptied are dropped (the thread let go of its share).
  if (std::any_of(draining_.begin(), draining_.end(),
                  [](const detail::staging_queue* q) { return q->finished(); })) {
    std::lock_guard<std::mutex> guard(staging_mutex_);
    std::erase_if(staging_queues_,
                  [](const std::shared_ptr<detail::staging_queue>& q) { return q->finished(); });
  }
  return moved;
}

std::uint64_t logger::drain_unmerged() noexcept {
  // No memory for the pass's list: each queue in turn, holding the list's mutex throughout (a
  // thread logging for the first time waits for the pass). Each thread's order is kept.
  std::lock_guard<std::mutex> guard(staging_mutex_);
  std::uint64_t moved = 0;
  std::uint64_t key = 0;
  const std::byte* record = nullptr;
  std::size_t size = 0;
  for (const auto& queue : staging_queues_) {
    queue->snapshot();
    for (; queue->front(key, record, size); ++moved) {
      writer_.ring().write({record, size});
      queue->pop(size);
    }
    queue->release();
  }
  return moved;
}

std::uint32_t logger::intern(std::string_view text) noexcept {
  std::lock_guard<std::mutex> guard(intern_mutex_);
  const std::uint64_t known = interned_->find(text.data());
  if (known <= detail::intern_table::none) return static_cast<std::uint32_t>(known);
  std::uint32_t id = detail::intern_table::none;
  try {
    if (const auto same = interned_texts_.find(text); same != interned_texts_.end()) {
      id = same->second;
    } else if (const auto added =
                   writer_.extension().append_dictionary(rl::dictionary_kind_format, text)) {
      id = *added;
      interned_texts_.emplace(text, id);
    }
  } catch (...) {  // out of memory in the map: write this call as text
    return detail::intern_table::none;
  }
  // Remembered even when the dictionary is full, so that the call site does not retry per call.
  // A full probe window leaves the literal un-remembered: it is looked up here each time.
  interned_->insert(text.data(), id);
  return id;
}

std::size_t logger::fields_too_large(detail::record_builder& builder, level severity,
                                     std::uint8_t flags, std::uint64_t timestamp,
                                     std::uint32_t thread, std::string_view tag,
                                     format_step step) noexcept {
  // Tag and fields alone exceed the record: keep the tag, drop the fields, say so visibly.
  builder.begin(severity, flags, timestamp, thread, tag, {});
  format_sink message = builder.message_sink();
  message.append("[fields too large] ");
  step(message);
  const std::size_t size = builder.finish(message);
  builder.mark_truncated();
  return size;
}

void logger::emit_large_erased(level severity, std::uint8_t flags, std::uint64_t timestamp,
                               std::uint32_t thread, std::string_view tag,
                               std::span<const field> fields, format_step step) noexcept {
  // Formats straight into the claimed room (under the lock when it is the ring). Only records
  // larger than the stack buffer come here.
  emit_in_ring(severity, flags, timestamp, thread, tag, fields, step);
}

void logger::emit_text(std::uint8_t flags, std::uint64_t timestamp, std::uint32_t thread,
                       level severity, std::string_view tag, std::string_view message,
                       std::span<const field> fields) noexcept {
  if (in_ring_) {
    auto step = [message](format_sink& out) noexcept {
      out.append(message);
      out.mark_unchecked();
    };
    emit_in_ring(severity, flags, timestamp, thread, tag, fields, step);
    return;
  }
  alignas(8) std::byte staging[stack_record_size];
  detail::record_builder builder(staging, stack_capacity_);
  if (builder.begin(severity, flags, timestamp, thread, tag, fields)) {
    format_sink sink = builder.message_sink();
    sink.append(message);
    sink.mark_unchecked();
    if (!sink.overflowed() || max_record_ <= stack_capacity_) {
      const std::size_t size = builder.finish(sink);
      if (builder.truncated()) truncated_.fetch_add(1, std::memory_order_relaxed);
      publish(staging, size, flags, timestamp);
      return;
    }
  }
  auto step = [message](format_sink& out) noexcept {
    out.append(message);
    out.mark_unchecked();
  };
  emit_large_erased(severity, flags, timestamp, thread, tag, fields, format_step(step));
}

void logger::write(level severity, std::string_view tag, std::string_view message,
                   std::span<const field> fields) noexcept {
  if (!enabled(severity)) return;
  emit_text(tick_flag_, clock_.now(), detail::current_thread_id(), severity, tag, message, fields);
}

void logger::write_at(std::uint64_t unix_ns, std::uint32_t thread, level severity,
                      std::string_view tag, std::string_view message,
                      std::span<const field> fields) noexcept {
  if (!enabled(severity)) return;
  emit_text(0, unix_ns, thread, severity, tag, message, fields);
}

}  // namespace ouroboros
