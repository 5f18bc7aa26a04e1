#include "data/segment_poller.hpp"

#include <pthread.h>
#include <algorithm>
#include <cstring>

#include "data/format.hpp"
#include "ouroboros/detail/shared_words.hpp"
#include "ouroboros/layout.hpp"
#include "ouroboros/record_reader.hpp"
#include "ouroboros/segment.hpp"

namespace ouroboros::viewer {

namespace {
constexpr std::size_t text_block_size = 256 * 1024;
// Messages are bounded by the ring (a few GiB at most); a row keeps at most this much of one, so
// that its size, fields included, fits the row's u32.
constexpr std::size_t max_stored_message = UINT32_MAX - 65536;
constexpr int entries_per_pump = 65536;
constexpr auto publish_interval = std::chrono::milliseconds(5);
constexpr auto lag_interval = std::chrono::milliseconds(100);
constexpr auto not_a_log_grace = std::chrono::seconds(1);  // a writer stores the magic last

std::int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Estimated entries the ring holds, from the chunk table: tokens count entries, so the spread
// of committed tokens over the chunks that carry them gives entries per chunk.
std::uint64_t estimate_capacity(std::span<const std::byte> bytes) {
  if (bytes.size() < layout::header_size) return 0;
  const auto count = detail::load_shared<std::uint32_t>(bytes.data(), layout::chunk_count_offset);
  if (count == 0 || layout::table_end(count) > bytes.size()) return 0;
  const std::uint32_t rows = std::min<std::uint32_t>(count, 65536);
  std::uint64_t low = UINT64_MAX;
  std::uint64_t high = 0;
  std::uint32_t committed = 0;
  for (std::uint32_t i = 0; i < rows; ++i) {
    const std::size_t at = layout::row_position(i);
    const auto first =
        detail::load_shared<std::uint64_t>(bytes.data(), at + layout::row_offset_word);
    const auto token =
        detail::load_shared<std::uint64_t>(bytes.data(), at + layout::row_token_word);
    const auto again =
        detail::load_shared<std::uint64_t>(bytes.data(), at + layout::row_offset_word);
    if (first != again || (first & layout::row_committed_bit) == 0) continue;
    low = std::min(low, token);
    high = std::max(high, token);
    ++committed;
  }
  if (committed < 2 || high <= low) return 0;
  return (high - low) * count / (committed - 1);
}
}  // namespace

QString to_display(segment_state state) {
  switch (state) {
    case segment_state::waiting: return QStringLiteral("waiting for segment");
    case segment_state::attached: return QStringLiteral("attached");
    case segment_state::writer_gone: return QStringLiteral("writer gone");
    case segment_state::writer_closed: return QStringLiteral("writer closed");
    case segment_state::not_a_log: return QStringLiteral("not a log segment");
    case segment_state::unsupported_version: return QStringLiteral("unsupported version");
    case segment_state::failed: return QStringLiteral("cannot open");
    case segment_state::segment_truncated: return QStringLiteral("segment truncated");
  }
  return {};
}

segment_poller::segment_poller(poller_options options) : options_(std::move(options)) {
  next_spec_ = std::make_shared<filter_spec>();
  engine_ = std::make_unique<filter_engine>(next_spec_, tags_.get());
}

segment_poller::~segment_poller() {
  stop();
}

void segment_poller::start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ouro-poller");  // shows in top, perf and debuggers
    run();
  });
}

void segment_poller::stop() {
  {
    std::lock_guard lock(wake_mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void segment_poller::set_filter(std::shared_ptr<const filter_spec> spec, std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  next_spec_ = std::move(spec);
  next_generation_ = generation;
  filter_changes_.fetch_add(1, std::memory_order_release);
}

segment_poller::harvest segment_poller::take() {
  harvest out;
  std::lock_guard lock(mutex_);
  out.spans.assign(std::make_move_iterator(pending_.begin()),
                   std::make_move_iterator(pending_.end()));
  pending_.clear();
  pending_rows_ = 0;
  out.status = shared_status_;
  return out;
}

bool segment_poller::sleep_for(std::chrono::microseconds duration) {
  std::unique_lock lock(wake_mutex_);
  return !wake_.wait_for(lock, duration, [this] { return stop_.load(); });
}

void segment_poller::run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    if (!reader_) {
      try_open();
      if (!reader_) {
        // Nothing to read under that name as of now (a merged view needs to know).
        status_.caught_up = true;
        status_.caught_up_ns = now_unix_ns() - caught_up_margin_ns;
        publish();
        if (!sleep_for(options_.retry_interval)) break;
        continue;
      }
    }
    if (held_.load(std::memory_order_acquire)) {
      publish();
      if (!sleep_for(std::chrono::milliseconds(2))) break;
      continue;
    }
    pump();
  }
  publish();
  reader_.reset();
}

void segment_poller::try_open() {
  const auto now = std::chrono::steady_clock::now();
  try {
    // After the first attach (or a failure) history matters more than the start mode.
    const auto start = attached_once_ ? start_position::oldest : options_.start;
    reader_ = std::make_unique<shm_reader>(options_.name, start);
    const bool reopening = attached_once_;
    const std::uint64_t previous_incarnation = status_.incarnation;
    interpreter_ = std::make_unique<entry_interpreter>(reader_->bytes());
    kept_formats_.clear();
    attached_once_ = true;
    status_.state = segment_state::attached;
    status_.detail.clear();
    status_.records = interpreter_->records();
    status_.segment_bytes = reader_->bytes().size();
    status_.owner_uid = reader_->owner_uid();
    status_.foreign_owner = status_.owner_uid != static_cast<std::uint32_t>(::geteuid());
    const auto ext = reader_->extension();
    next_liveness_ = now;
    not_a_log_since_ = {};
    if (reopening && ext && previous_incarnation != 0 && ext->incarnation == previous_incarnation) {
      // The same segment back (its size restored after a truncation, say): read on after the
      // last entry read; what was overwritten meanwhile is a gap.
      skip_through_ = last_sequence_;
      return;
    }
    if (ext) {
      status_.writer_pid = ext->writer_pid;
      status_.incarnation = ext->incarnation;
    }
    last_sequence_ = reader_->ring().position_sequence();
    // Another segment under the name since the last attach: a restart, with the entries before
    // its oldest one counted as lost.
    if (reopening) note_restart(reader_->ring().start_sequence());
  } catch (const segment_error& e) {
    reader_.reset();
    const QString why = QString::fromUtf8(e.what());
    // A truncated segment stays "truncated" (with its cause) until the name holds a valid
    // segment again or disappears.
    if (status_.state == segment_state::segment_truncated && e.code() != segment_errc::missing) {
      return;
    }
    switch (e.code()) {
      case segment_errc::missing:
        status_.state = segment_state::waiting;
        status_.detail.clear();
        not_a_log_since_ = {};
        break;
      case segment_errc::not_a_log:
      case segment_errc::foreign_object:
        // A writer creating the segment stores the magic last: give it a moment.
        if (not_a_log_since_ == std::chrono::steady_clock::time_point{}) not_a_log_since_ = now;
        if (now - not_a_log_since_ >= not_a_log_grace) {
          status_.state = segment_state::not_a_log;
          status_.detail = why;
        }
        break;
      case segment_errc::unsupported_version:
        status_.state = segment_state::unsupported_version;
        status_.detail = why;
        break;
      default:
        status_.state = segment_state::failed;
        status_.detail = why;
        break;
    }
  } catch (const std::exception& e) {
    reader_.reset();
    status_.state = segment_state::failed;
    status_.detail = QString::fromUtf8(e.what());
  }
}

void segment_poller::refresh_filter() {
  const std::uint64_t changes = filter_changes_.load(std::memory_order_acquire);
  if (changes == seen_filter_changes_) return;
  publish();  // every span carries one generation
  std::shared_ptr<const filter_spec> spec;
  {
    std::lock_guard lock(mutex_);
    spec = next_spec_;
    generation_ = next_generation_;
    seen_filter_changes_ = filter_changes_.load(std::memory_order_relaxed);
  }
  engine_ = std::make_unique<filter_engine>(std::move(spec), tags_.get());
}

void segment_poller::pump() {
  refresh_filter();
  for (int i = 0; i < entries_per_pump; ++i) {
    // A hostile segment can make single reads slow: stop means now, not after the batch.
    if (stop_.load(std::memory_order_relaxed)) return;
    // A run of entries per call (one copy and one row re-check for all of them); any other
    // result is what read_next would have returned. `i` counts entries and other results.
    // Taken before the read: an entry written after a read that found nothing may carry a time
    // before any clock read taken after it, so only this time can say "all older was read".
    asked_at_ = now_unix_ns();
    const batch_result batch = reader_->read_batch();
    read_result result;
    result.status = batch.status;
    result.lost = batch.lost;
    result.detail = batch.detail;
    switch (result.status) {
      case read_status::ok:
        busy_retries_ = 0;
        for (std::size_t k = 0; k < batch.entries.size(); ++k) {
          result.sequence = batch.entries[k].sequence;
          result.payload = batch.entries[k].payload;
          if (skip_through_ != 0) {
            if (result.sequence <= skip_through_) continue;  // read before the segment shrank
            if (result.sequence > skip_through_ + 1) {
              const std::uint64_t lost = result.sequence - skip_through_ - 1;
              pending_gap_lost_ += lost;
              status_.entries_lost += lost;
              ++status_.gaps;
            }
            skip_through_ = 0;
          }
          append_read_entry(result);
          if (((i + static_cast<int>(k)) & 1023) == 1023) {
            last_data_ = std::chrono::steady_clock::now();  // per 1024: a clock read costs ~20 ns
            housekeeping(false);
          }
        }
        i += static_cast<int>(batch.entries.size()) - 1;
        continue;
      case read_status::lapped:
        pending_gap_lost_ += result.lost;
        status_.entries_lost += result.lost;
        ++status_.gaps;
        continue;
      case read_status::corrupt: {
        ++status_.corrupt_events;
        ++corrupt_unreported_;
        const auto now = std::chrono::steady_clock::now();
        // A hostile segment can be corrupt everywhere: one notice row per second at most.
        if (now - last_corrupt_notice_ >= std::chrono::seconds(1)) {
          last_corrupt_notice_ = now;
          append_event_row(row_kind::notice, last_sequence_, last_time_,
                           "corrupt data skipped (" + std::to_string(corrupt_unreported_) +
                               "\xC3\x97): " + std::string(result.detail));
          corrupt_unreported_ = 0;
        }
        continue;
      }
      case read_status::writer_restarted: {
        flush_pending_gap(0, no_time);
        note_restart(result.lost);
        continue;
      }
      case read_status::no_data: {
        // A reader lapped mid-resync can see "no data" while the writer is far ahead: retry
        // at once instead of napping while the writer overwrites another millisecond of data.
        const ring_reader& ring = reader_->ring();
        if (ring.newest_chunk_token() > ring.position_sequence() && ++busy_retries_ < 64) {
          std::this_thread::yield();
          continue;
        }
        busy_retries_ = 0;
        if (i != 0) last_data_ = std::chrono::steady_clock::now();
        flush_pending_restart(no_time);
        // The writer's block as of now: if the name is re-created before the next read, this
        // is what says whether the old writer closed or died.
        last_extension_ = reader_->extension();
        housekeeping(true);
        // Naps sized to the flow: long enough that about 128 entries wait at the rate of the
        // last nap, a few kilobytes that any ring holds, and between 1 and 50 ms. Each wake-up
        // costs tens of microseconds on a VM, and a 10/s writer needs no 1000 of them a second.
        const auto quiet = std::chrono::steady_clock::now() - last_data_;
        const bool busy = i >= 256 && quiet < std::chrono::milliseconds(200);
        using std::chrono::microseconds;
        microseconds nap = microseconds(50000);
        if (busy)
          nap = microseconds(1000);
        else if (i > 0)
          nap = std::clamp(microseconds(last_nap_.count() * 128 / i), microseconds(1000), nap);
        last_nap_ = nap;
        sleep_for(nap);
        return;
      }
      case read_status::segment_truncated: {
        // Another process shrank the segment under the mapping (the core's fault guard turned
        // the missing pages into zeros). Keep every row read, say so, drop the mapping and
        // re-attach once the name holds a valid segment again.
        flush_pending_gap(0, no_time);
        status_.state = segment_state::segment_truncated;
        status_.detail =
            QString::fromUtf8(result.detail.data(), static_cast<qsizetype>(result.detail.size()));
        append_event_row(row_kind::notice, last_sequence_, now_unix_ns(),
                         "segment truncated by another process: " + std::string(result.detail) +
                             "; the rows read so far stay here");
        reader_.reset();
        publish();
        sleep_for(options_.retry_interval);
        return;
      }
      case read_status::not_a_log:
      case read_status::unsupported_version:
        status_.state = result.status == read_status::not_a_log
                            ? segment_state::not_a_log
                            : segment_state::unsupported_version;
        status_.detail =
            QString::fromUtf8(result.detail.data(), static_cast<qsizetype>(result.detail.size()));
        reader_.reset();
        publish();
        sleep_for(options_.retry_interval);
        return;
    }
  }
  housekeeping(false);
}

void segment_poller::housekeeping(bool idle) {
  const auto now = std::chrono::steady_clock::now();
  status_.caught_up = idle;
  // Writers stamp entries with their own clock (a calibrated TSC), readers compare with the
  // system clock: the margin keeps a writer clock running slightly behind from slipping an
  // entry under a point already declared read.
  if (idle) status_.caught_up_ns = asked_at_ - caught_up_margin_ns;
  if (now >= next_lag_) {
    next_lag_ = now + lag_interval;
    const std::uint64_t newest = reader_->ring().newest_chunk_token();
    const std::uint64_t position = reader_->ring().position_sequence();
    status_.lag_entries = newest > position ? newest - position : 0;
    status_.ring_capacity_entries = estimate_capacity(reader_->bytes());
  }
  if (idle && now >= next_liveness_) {
    next_liveness_ = now + options_.liveness_interval;
    switch (reader_->liveness()) {
      case writer_liveness::gone: status_.state = segment_state::writer_gone; break;
      case writer_liveness::closed: status_.state = segment_state::writer_closed; break;
      default: status_.state = segment_state::attached; break;
    }
  }
  if (idle || now - last_publish_ >= publish_interval) publish();
}

entry& segment_poller::new_row() {
  if (!page_ || written_ == page_capacity) {
    publish();
    page_ = std::make_shared<page>(next_serial_);
    written_ = 0;
    published_ = 0;
    if (block_ && block_used_ < block_->capacity) page_->blocks.push_back(block_);
  }
  entry& row = page_->rows[written_];
  row = entry{};
  return row;
}

void segment_poller::keep_format(std::uint32_t id, const deferred_format* format) {
  // Once per format and page: the page keeps the format its rows point to.
  const std::size_t slot = id / 4;
  if (slot >= kept_formats_.size()) kept_formats_.resize(slot + 1);
  kept_format& kept = kept_formats_[slot];
  if (kept.format == format && kept.page_serial == page_->first_serial) return;
  page_->formats.push_back(interpreter_->format_owner(id));
  kept = {format, page_->first_serial};
}

char* segment_poller::allocate_text(std::size_t size) {
  if (size == 0) return nullptr;
  if (!block_ || block_used_ + size > block_->capacity) {
    block_ = std::make_shared<text_block>(std::max(text_block_size, size));
    block_used_ = 0;
    page_->blocks.push_back(block_);
  }
  char* at = block_->bytes.get() + block_used_;
  block_used_ += size;
  return at;
}

void segment_poller::note_restart(std::uint64_t lost_before_attach) {
  const std::optional<extension_snapshot> previous = last_extension_;
  const std::int64_t previous_last_entry = status_.last_entry_ns;
  const bool previous_closed =
      status_.state == segment_state::writer_closed || (previous && previous->closed());
  interpreter_->attach(reader_->bytes());
  kept_formats_.clear();
  ++status_.restarts;
  status_.state = segment_state::attached;
  status_.records = interpreter_->records();
  status_.segment_bytes = reader_->bytes().size();
  const std::optional<extension_snapshot> now = reader_->extension();
  last_extension_ = now;
  std::string text = "writer restarted";
  std::int64_t started = no_time;
  if (now) {
    status_.writer_pid = now->writer_pid;
    status_.incarnation = now->incarnation;
    text += " (pid " + std::to_string(now->writer_pid) + ")";
    if (now->writer_start_unix_ns != 0 && now->writer_start_unix_ns <= INT64_MAX)
      started = static_cast<std::int64_t>(now->writer_start_unix_ns);
  }
  text += ": re-attached; sequence numbers start again";
  // A previous writer that neither closed nor lives any more died: the tab keeps saying so.
  if (!previous_closed && previous && liveness_of(*previous) == writer_liveness::gone) {
    ++status_.writer_deaths;
    status_.dead_writer_pid = previous->writer_pid;
    status_.dead_writer_last_entry_ns = previous_last_entry;
    status_.restart_ns = started != no_time ? started : now_unix_ns();
  }
  // The marker row is written with the first entry of the new writer (or when it is found
  // idle), so its time is never later than the entries after it.
  pending_restart_ = true;
  pending_restart_text_ = std::move(text);
  pending_restart_ns_ = started;
  if (lost_before_attach != 0) {
    // Entries of the new incarnation overwritten before the re-attach: a gap after the marker.
    pending_gap_lost_ += lost_before_attach;
    status_.entries_lost += lost_before_attach;
    ++status_.gaps;
  }
  last_sequence_ = reader_->ring().position_sequence();
  last_time_ = no_time;
  next_liveness_ = {};
}

void segment_poller::flush_pending_restart(std::int64_t next_time) {
  if (!pending_restart_) return;
  pending_restart_ = false;
  std::int64_t time = pending_restart_ns_;
  if (next_time != no_time && (time == no_time || next_time < time)) time = next_time;
  if (time == no_time) time = now_unix_ns();
  append_event_row(row_kind::separator, 0, time, pending_restart_text_);
}

void segment_poller::flush_pending_gap(std::uint64_t next_sequence, std::int64_t next_time) {
  if (pending_gap_lost_ == 0) return;
  const std::uint64_t lost = pending_gap_lost_;
  pending_gap_lost_ = 0;
  // The reader reports the loss just before the entry that follows it.
  const std::uint64_t first = next_sequence > lost ? next_sequence - lost : last_sequence_ + 1;
  const std::uint64_t last = first + lost - 1;
  const std::int64_t duration =
      (next_time != no_time && last_time_ != no_time && next_time >= last_time_)
          ? next_time - last_time_
          : -1;
  std::string extra;
  append_field(extra, "first", std::to_string(first));
  append_field(extra, "last", std::to_string(last));
  append_field(extra, "lost", std::to_string(lost));
  if (duration >= 0) append_field(extra, "duration_ns", std::to_string(duration));
  append_event_row(row_kind::gap, first, last_time_, gap_text(first, last, duration), extra);
}

void segment_poller::append_event_row(row_kind kind, std::uint64_t sequence, std::int64_t time_ns,
                                      const std::string& text, const std::string& extra) {
  entry& row = new_row();
  row.sequence = sequence;
  row.time_ns = time_ns;
  row.bits = static_cast<std::uint8_t>(kind) | flag_visible;
  row.message_size = static_cast<std::uint32_t>(text.size());
  row.extra_size = static_cast<std::uint16_t>(extra.size());
  char* bytes = allocate_text(text.size() + extra.size());
  row.text = bytes;
  if (!text.empty()) std::memcpy(bytes, text.data(), text.size());
  if (!extra.empty()) std::memcpy(bytes + text.size(), extra.data(), extra.size());
  ++written_;
  ++next_serial_;
}

void segment_poller::append_read_entry(const read_result& result) {
  // Deferred records are formatted when shown, unless the filter reads every message now anyway:
  // then formatting once here (with the interpreter's memo) is the cheaper of the two.
  entry_view view =
      interpreter_->interpret(result.payload, engine_->reads_messages() ? deferred_rendering::eager
                                                                        : deferred_rendering::lazy);
  // Arguments too large for a row (only a forged or multi-GiB entry): kept as text, cut.
  if (view.format != nullptr && view.record.arguments.size() > max_stored_message - deferred_prefix)
      [[unlikely]]
    view = interpreter_->interpret(result.payload, deferred_rendering::eager);
  std::int64_t time = no_time;
  if (view.unix_ns && *view.unix_ns <= static_cast<std::uint64_t>(INT64_MAX)) {
    time = static_cast<std::int64_t>(*view.unix_ns);
  }
  flush_pending_restart(time);
  flush_pending_gap(result.sequence, time);

  scratch_.clear();
  if (view.kind == entry_kind::record) {
    for (std::size_t i = 0; i < view.record.field_count && scratch_.size() < 60000; ++i) {
      const record_field f = view.record.field(i);
      append_field(scratch_, f.key, f.value);
    }
    if (scratch_.size() > 65535) scratch_.resize(0);
  }
  const std::size_t message_size =
      view.format != nullptr ? deferred_prefix + view.record.arguments.size()
                             : std::min<std::size_t>(view.message.size(), max_stored_message);

  entry& row = new_row();
  row.sequence = result.sequence;
  row.time_ns = time;
  row.thread = view.thread;
  switch (view.kind) {
    case entry_kind::record:
      row.bits = static_cast<std::uint8_t>(row_kind::record);
      row.level = view.severity ? static_cast<std::uint8_t>(*view.severity) : no_level;
      row.tag = tags_->intern(view.tag);
      if (view.truncated) row.bits |= flag_truncated;
      break;
    case entry_kind::plain: row.bits = static_cast<std::uint8_t>(row_kind::plain); break;
    case entry_kind::malformed:
      row.bits = static_cast<std::uint8_t>(row_kind::malformed);
      row.level = no_level;
      break;
  }
  row.message_size = static_cast<std::uint32_t>(message_size);
  row.extra_size = static_cast<std::uint16_t>(scratch_.size());
  char* text = allocate_text(message_size + scratch_.size());
  row.text = text;
  if (view.format != nullptr) {
    row.bits |= flag_deferred;
    keep_format(view.record.format_id, view.format);
    std::memcpy(text, &view.format, deferred_prefix);
    // Inline moves, not a memcpy call: a call per row for these few bytes measured 2x the
    // reader's whole cost per row (docs/performance.md, "Lazy formatting in the viewer").
    format_sink::copy_small(text + deferred_prefix,
                            reinterpret_cast<const char*>(view.record.arguments.data()),
                            view.record.arguments.size());
  } else {
    format_sink::copy_small(text, view.message.data(), message_size);
  }
  if (!scratch_.empty()) std::memcpy(text + message_size, scratch_.data(), scratch_.size());
  if (engine_->accepts(row)) row.bits |= flag_visible;
  ++written_;
  ++next_serial_;

  ++status_.entries_read;
  last_sequence_ = result.sequence;
  last_time_ = time;
  status_.last_entry_ns = time != no_time ? time : now_unix_ns();
  if (status_.state != segment_state::attached) status_.state = segment_state::attached;
}

void segment_poller::publish() {
  last_publish_ = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (page_ && written_ > published_) {
    pending_.push_back(row_span{page_, published_, written_, generation_});
    pending_rows_ += written_ - published_;
    published_ = written_;
    // Nobody is taking rows: drop the oldest; the bounded history would have evicted them.
    while (pending_rows_ > options_.max_pending_rows && pending_.size() > 1) {
      const row_span& oldest = pending_.front();
      pending_rows_ -= oldest.end - oldest.begin;
      status_.dropped_rows += oldest.end - oldest.begin;
      pending_.pop_front();
    }
  }
  shared_status_ = status_;
}

}  // namespace ouroboros::viewer
