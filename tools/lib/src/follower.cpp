#include "ouroboros/tools/follower.hpp"

#ifndef OUROBOROS_NO_RE2
#include <re2/re2.h>
#endif

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <utility>

namespace ouroboros::tools {

using clock = std::chrono::steady_clock;

#ifdef OUROBOROS_NO_RE2
// The Windows cross build has no RE2 (Debian ships it for the build machine only, and std::regex
// must never see untrusted messages): --grep is refused there, with this reason.
void entry_filter::set_pattern(const std::string&, bool) {
  throw std::invalid_argument(
      "--grep is not available in this build: it was built without RE2 (the Windows "
      "cross build; see docs/windows.md)");
}
#else
void entry_filter::set_pattern(const std::string& pattern, bool ignore_case) {
  RE2::Options options;
  options.set_case_sensitive(!ignore_case);
  options.set_log_errors(false);
  // Messages are UTF-8 by contract but untrusted: RE2 treats an invalid byte as matching no
  // character, which is what a filter wants. The default memory budget (8 MiB) bounds the DFA;
  // past it RE2 falls back to its NFA, still linear in the input.
  auto compiled = std::make_shared<const RE2>(pattern, options);
  if (!compiled->ok()) throw std::invalid_argument(compiled->error());
  pattern_ = std::move(compiled);
}
#endif

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
#ifndef OUROBOROS_NO_RE2
  if (pattern_ &&
      !RE2::PartialMatch(re2::StringPiece(entry.message.data(), entry.message.size()), *pattern_)) {
    return false;
  }
#endif
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
      // A writer that has just created the name may not have formatted it yet (reserving its
      // pages takes a moment): "not a log" is transient too, within the grace period.
      const bool transient =
          e.code() == segment_errc::missing || e.code() == segment_errc::not_a_log;
      if (!transient || clock::now() >= give_up) throw;
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
  handed_over_ = 0;
}

segment_event segment_follower::writer_end_event(
    writer_liveness liveness, const std::optional<extension_snapshot>& ext) const {
  segment_event event = make_event(liveness == writer_liveness::gone ? event_kind::writer_gone
                                                                     : event_kind::writer_closed);
  if (ext && liveness == writer_liveness::gone) {
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

segment_event segment_follower::make_event(event_kind kind) const {
  segment_event event;
  event.kind = kind;
  event.segment = name_;
  event.pid = pid_;
  event.incarnation = incarnation_;
  return event;
}

std::optional<std::uint32_t> segment_follower::owner_uid() const noexcept {
  if (!reader_) return std::nullopt;
  return reader_->owner_uid();
}

std::optional<follow_end> segment_follower::reopen_after_truncation(
    const std::atomic<bool>& stop, const std::function<bool(const segment_event&)>& emit,
    const std::function<void()>& on_idle) {
  const std::uint64_t old_incarnation = incarnation_;
  const std::size_t old_size = reader_->bytes().size();
  reader_.reset();  // the mapping is unreadable past the new end: let it go
  while (true) {
    // What was given so far (the writer's end, told below) goes out before each wait.
    if (on_idle) on_idle();
    for (int i = 0; i < 10; ++i) {
      if (stop.load(std::memory_order_relaxed)) return follow_end::stopped;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::unique_ptr<shm_reader> fresh;
    try {
      fresh = std::make_unique<shm_reader>(name_, start_position::oldest);
    } catch (const segment_error&) {
      continue;  // missing, half-written, not a log (yet): the name may become valid again
    }
    const auto ext = read_extension(fresh->bytes());
    const std::uint64_t incarnation = ext ? ext->incarnation : 0;
    const bool same = incarnation == old_incarnation;
    // Still shrunk (the same segment, smaller than it was), or shrinking again.
    if (fresh->truncated() || (same && fresh->bytes().size() < old_size)) {
      if (!same || fresh->truncated()) continue;
      // The header survives a shrink: the writer's end can still be told.
      const writer_liveness now = ext ? liveness_of(*ext) : writer_liveness::unknown;
      if ((now == writer_liveness::gone || now == writer_liveness::closed) && now != reported_) {
        reported_ = now;
        if (!emit(writer_end_event(now, ext))) return follow_end::stopped;
        if (options_.exit_on_close) return follow_end::writer_ended;
      }
      continue;
    }
    reader_ = std::move(fresh);
    const writer_liveness reported = reported_;
    refresh_context();
    if (same) {
      // Restored: read on after what was shown; what the writer wrote meanwhile into its
      // private pages is lost to every reader, and comes out as a gap.
      reported_ = reported;  // its end, if reported while shrunk, is not news
      expect_next_ = last_sequence_ + 1;
      if (!emit(make_event(event_kind::attached))) return follow_end::stopped;
      return std::nullopt;
    }
    ++restarts_;
    last_sequence_ = 0;
    expect_next_ = 1;  // everything of the new incarnation before its oldest entry is a gap
    if (!emit(make_event(event_kind::writer_restarted))) return follow_end::stopped;
    return std::nullopt;
  }
}

std::optional<segment_event> segment_follower::check_writer() {
  next_liveness_ = clock::now() + options_.liveness_interval;
  const writer_liveness now = reader_->liveness();
  if (now == reported_ || now == writer_liveness::unknown || now == writer_liveness::alive) {
    return std::nullopt;
  }
  reported_ = now;
  return writer_end_event(now, reader_->extension());
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
  auto emit_gap = [&](const gap_marker& gap) {
    ++gaps_;
    lost_ += gap.lost;
    last_sequence_ = gap.last;
    follow_item item;
    item.gap = &gap;
    return on_item(item);
  };
  auto gap_between = [](std::uint64_t first, std::uint64_t last) {
    gap_marker gap;
    gap.first = first;
    gap.last = last;
    gap.lost = last - first + 1;
    return gap;
  };
  // Corrupt reads are reported at most once per corrupt_interval, each event counting the reads
  // it covers; `force` reports what is pending regardless (the reader is about to stop).
  auto report_corrupt = [&](bool force) {
    if (corrupt_pending_ == 0) return true;
    const auto now = clock::now();
    if (!force && now < next_corrupt_report_) return true;
    segment_event event = make_event(event_kind::corrupt);
    event.detail = corrupt_detail_;
    event.count = corrupt_pending_;
    corrupt_pending_ = 0;
    next_corrupt_report_ = now + options_.corrupt_interval;
    return emit_event(event);
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
    if (!emit_event(make_event(event_kind::attached))) return follow_end::stopped;
  }

  bool ending = false;
  clock::time_point ending_at{};
  // Work since the last look at `stop`, in entries plus KiB of payload, so a stream of huge
  // messages (each one filtered by a regex) still notices Ctrl-C promptly.
  std::uint64_t since_check = 0;
  while (true) {
    if (since_check >= 1024) {
      since_check = 0;
      if (stop.load(std::memory_order_relaxed)) return follow_end::stopped;
    }
    // A run of entries per call (one copy and one row re-check for all of them); every other
    // result is what read_next would have returned.
    const batch_result batch = reader_->read_batch();
    read_result result;
    result.status = batch.status;
    result.lost = batch.lost;
    result.detail = batch.detail;
    switch (result.status) {
      case read_status::ok: {
        for (const batch_entry& view : batch.entries) {
          since_check += 1 + view.payload.size() / 1024;
          ++handed_over_;
          if (expect_next_ != 0) {
            const std::uint64_t expected = std::exchange(expect_next_, 0);
            if (view.sequence < expected) {
              expect_next_ = expected;  // shown before the segment was truncated
              continue;
            }
            if (view.sequence > expected && !emit_gap(gap_between(expected, view.sequence - 1))) {
              return follow_end::stopped;
            }
          }
          ++entries_;
          last_sequence_ = view.sequence;
          const decoded_entry entry = decode_entry(view.sequence, view.payload, interpreter_);
          if (filter.matches(entry)) {
            follow_item item;
            item.entry = &entry;
            if (!on_item(item)) return follow_end::stopped;
          }
        }
        break;
      }
      case read_status::lapped: {
        ++since_check;
        // The lost entries end right before the next one. That is the reader's position, unless
        // shm_reader has read that entry already and holds it back behind this report (the
        // first entry of a new incarnation found before its first chunk was committed): then
        // the position is that entry's own sequence number.
        const ring_reader& ring = reader_->ring();
        std::uint64_t end = ring.position_sequence();
        if (ring.entries_delivered() > handed_over_ && end > 0) --end;
        gap_marker gap = gap_from_lapped(result.lost, end);
        if (expect_next_ != 0) {
          const std::uint64_t expected = std::exchange(expect_next_, 0);
          if (gap.last < expected) {
            expect_next_ = expected;
            break;
          }
          gap = gap_between(expected, gap.last);
        }
        if (!emit_gap(gap)) return follow_end::stopped;
        break;
      }
      case read_status::writer_restarted: {
        ++restarts_;
        ending = false;
        last_sequence_ = 0;
        expect_next_ = 0;
        refresh_context();
        if (!emit_event(make_event(event_kind::writer_restarted))) return follow_end::stopped;
        // The new incarnation's first `lost` entries were overwritten before the reader found
        // it: a gap from sequence 1, so delivered + lost == written across incarnations too.
        if (result.lost > 0) {
          gap_marker gap;
          gap.lost = result.lost;
          gap.first = 1;
          gap.last = result.lost;
          if (!emit_gap(gap)) return follow_end::stopped;
        }
        break;
      }
      case read_status::corrupt: {
        ++since_check;
        ++corrupt_pending_;
        corrupt_detail_ = std::string(result.detail);
        if (!report_corrupt(false)) return follow_end::stopped;
        break;
      }
      case read_status::segment_truncated: {
        if (!report_corrupt(true)) return follow_end::stopped;
        segment_event event = make_event(event_kind::segment_truncated);
        if (options_.follow) event.detail = "waiting for it to be restored or re-created";
        if (!emit_event(event)) return follow_end::stopped;
        if (on_idle) on_idle();
        if (!options_.follow) return follow_end::truncated;
        ending = false;
        if (const auto end = reopen_after_truncation(stop, emit_event, on_idle)) return *end;
        break;
      }
      case read_status::not_a_log:
      case read_status::unsupported_version:
        throw segment_error(segment_errc::not_a_log,
                            fmt::format("segment '{}' stopped being readable: {} ({})", name_,
                                        to_string(result.status), result.detail));
      case read_status::no_data: {
        since_check = 0;
        if (!report_corrupt(false)) return follow_end::stopped;
        if (on_idle) on_idle();
        const auto now = clock::now();
        if (!options_.follow) {
          // Everything there was has been read: say how the writer ended, if it did.
          if (!report_corrupt(true)) return follow_end::stopped;
          if (auto event = check_writer(); event) {
            if (!emit_event(*event)) return follow_end::stopped;
          }
          return follow_end::end_of_data;
        }
        if (stop.load(std::memory_order_relaxed)) return follow_end::stopped;
        // The writer ended and everything written before that has been read. A restarting
        // writer closes its old segment before creating the new one: the grace period lets
        // shm_reader notice the new one first (a restart clears `ending`).
        if (ending && now >= ending_at) {
          if (!report_corrupt(true)) return follow_end::stopped;
          return follow_end::writer_ended;
        }
        if (now >= next_liveness_) {
          // Reported once per incarnation, when the reader has caught up with the writer, and
          // written before the wait below like everything else given so far.
          if (auto event = check_writer(); event) {
            if (!emit_event(*event)) return follow_end::stopped;
            if (on_idle) on_idle();
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
