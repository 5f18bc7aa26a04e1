#include "ouroboros/tools/follower.hpp"

#include <algorithm>
#include <thread>

namespace ouroboros::tools {

using clock = std::chrono::steady_clock;

void entry_filter::set_pattern(const std::string& pattern, bool ignore_case) {
  auto flags = std::regex::ECMAScript | std::regex::optimize;
  if (ignore_case) flags |= std::regex::icase;
  pattern_.emplace(pattern, flags);
}

bool entry_filter::active() const noexcept {
  return min_level || !tags.empty() || !exclude_tags.empty() || pattern_;
}

bool entry_filter::matches(const decoded_entry& entry) const {
  if (min_level && (!entry.is_record || entry.severity < *min_level)) return false;
  if (!tags.empty()) {
    if (!entry.is_record) return false;
    if (std::find(tags.begin(), tags.end(), entry.tag) == tags.end()) return false;
  }
  if (!exclude_tags.empty() && entry.is_record &&
      std::find(exclude_tags.begin(), exclude_tags.end(), entry.tag) != exclude_tags.end()) {
    return false;
  }
  if (pattern_ && !std::regex_search(entry.message.begin(), entry.message.end(), *pattern_)) {
    return false;
  }
  return true;
}

segment_follower::segment_follower(std::string name, follow_options options)
    : name_(canonical_segment_name(name)), options_(options) {
  if (options_.wait_for_segment) return;
  const auto give_up = clock::now() + options_.missing_grace;
  while (true) {
    try {
      attach();
      return;
    } catch (const segment_error& e) {
      if (e.code() != segment_errc::missing || clock::now() >= give_up) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

segment_follower::~segment_follower() = default;

void segment_follower::attach() {
  reader_ = std::make_unique<shm_reader>(name_, options_.start);
  refresh_context();
}

void segment_follower::refresh_context() {
  const auto bytes = reader_->bytes();
  const auto ext = read_extension(bytes);
  interpreter_.attach(bytes);
  pid_ = ext ? ext->writer_pid : 0;
  incarnation_ = ext ? ext->incarnation : 0;
  reported_ = writer_liveness::alive;
  next_liveness_ = clock::now();
}

std::optional<segment_event> segment_follower::check_writer() {
  next_liveness_ = clock::now() + options_.liveness_interval;
  const writer_liveness now = reader_->liveness();
  if (now == reported_ || now == writer_liveness::unknown || now == writer_liveness::alive) {
    return std::nullopt;
  }
  reported_ = now;
  segment_event event;
  event.kind = now == writer_liveness::gone ? event_kind::writer_gone : event_kind::writer_closed;
  event.segment = name_;
  event.pid = pid_;
  event.incarnation = incarnation_;
  if (const auto ext = reader_->extension(); ext && now == writer_liveness::gone) {
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    const auto now_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count());
    if (ext->heartbeat_unix_ns != 0 && now_ns > ext->heartbeat_unix_ns) {
      event.detail = fmt::format("last heartbeat {:.1f} s ago",
                                 static_cast<double>(now_ns - ext->heartbeat_unix_ns) / 1e9);
    }
  }
  return event;
}

follow_end segment_follower::run(const entry_filter& filter,
                                 const std::function<bool(const follow_item&)>& on_item,
                                 const std::function<void()>& on_idle,
                                 const std::atomic<bool>& stop) {
  auto emit_event = [&](const segment_event& event) {
    follow_item item;
    item.event = &event;
    return on_item(item);
  };

  if (!reader_) {
    // Waiting: a name that is missing, or created but not yet formatted, is retried. A name that
    // stays "not a log" for two seconds is someone else's object: report it.
    int not_a_log_attempts = 0;
    while (!reader_) {
      if (stop.load(std::memory_order_relaxed)) return follow_end::stopped;
      try {
        attach();
      } catch (const segment_error& e) {
        const bool transient = e.code() == segment_errc::missing ||
                               (e.code() == segment_errc::not_a_log && ++not_a_log_attempts < 20);
        if (!transient) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    segment_event event;
    event.kind = event_kind::attached;
    event.segment = name_;
    event.pid = pid_;
    event.incarnation = incarnation_;
    if (!emit_event(event)) return follow_end::stopped;
  }

  // A writer that is already gone or closed is said up front, so nobody waits in vain.
  if (auto event = check_writer(); event) {
    if (!emit_event(*event)) return follow_end::stopped;
  }

  bool ending = false;
  clock::time_point ending_at{};
  std::uint32_t since_check = 0;
  while (true) {
    if (++since_check >= 1024) {
      since_check = 0;
      if (stop.load(std::memory_order_relaxed)) return follow_end::stopped;
    }
    const read_result result = reader_->read_next();
    switch (result.status) {
      case read_status::ok: {
        ++entries_;
        const decoded_entry entry = decode_entry(result.sequence, result.payload, interpreter_);
        if (filter.matches(entry)) {
          follow_item item;
          item.entry = &entry;
          if (!on_item(item)) return follow_end::stopped;
        }
        break;
      }
      case read_status::lapped: {
        ++gaps_;
        lost_ += result.lost;
        const gap_marker gap = gap_from_lapped(result.lost, reader_->ring().position_sequence());
        follow_item item;
        item.gap = &gap;
        if (!on_item(item)) return follow_end::stopped;
        break;
      }
      case read_status::writer_restarted: {
        ++restarts_;
        ending = false;
        refresh_context();
        segment_event event;
        event.kind = event_kind::writer_restarted;
        event.segment = name_;
        event.pid = pid_;
        event.incarnation = incarnation_;
        if (!emit_event(event)) return follow_end::stopped;
        break;
      }
      case read_status::corrupt: {
        segment_event event;
        event.kind = event_kind::corrupt;
        event.segment = name_;
        event.detail = std::string(result.detail);
        if (!emit_event(event)) return follow_end::stopped;
        break;
      }
      case read_status::not_a_log:
      case read_status::unsupported_version:
        throw segment_error(segment_errc::not_a_log,
                            fmt::format("segment '{}' stopped being readable: {} ({})", name_,
                                        to_string(result.status), result.detail));
      case read_status::no_data: {
        since_check = 0;
        if (on_idle) on_idle();
        if (!options_.follow) return follow_end::end_of_data;
        if (stop.load(std::memory_order_relaxed)) return follow_end::stopped;
        const auto now = clock::now();
        // The writer ended and everything written before that has been read. A restarting
        // writer closes its old segment before creating the new one: the grace period lets
        // shm_reader notice the new one first (a restart clears `ending`).
        if (ending && now >= ending_at) return follow_end::writer_ended;
        if (now >= next_liveness_) {
          if (auto event = check_writer(); event) {
            if (!emit_event(*event)) return follow_end::stopped;
          }
          // One more pass first: entries written just before the close are still to be read.
          if (options_.exit_on_close && reported_ != writer_liveness::alive && !ending) {
            ending = true;
            ending_at = now + 2 * reader_->replaced_check_interval;
            continue;
          }
        }
        std::this_thread::sleep_for(options_.idle_sleep);
        break;
      }
    }
  }
}

}  // namespace ouroboros::tools
