// Reading a named segment the way a tool does: attach (optionally waiting for it to appear),
// decode entries with the segment's encoding, turn lapped reads into gap markers, notice writer
// restarts, crashes and clean shutdowns, and filter by level, tag and message regex.
//
// Thread-safety: segment_follower and entry_filter are not thread-safe (one thread each);
// run() polls `stop` (an atomic another thread or a signal handler may set).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ouroboros/segment.hpp"
#include "ouroboros/tools/entry_format.hpp"

namespace re2 {
class RE2;
}

namespace ouroboros::tools {

class entry_filter {
 public:
  // Entries below `min_level` are dropped; plain entries (no level) too once a level is set.
  std::optional<level> min_level;
  std::vector<std::string> tags;          // keep only these tags (plain entries have none)
  std::vector<std::string> exclude_tags;  // drop these tags

  // `pattern` is RE2 syntax, matched anywhere in the message in time linear in its length (no
  // back-references or look-around, which would need backtracking). Throws
  // std::invalid_argument with RE2's reason when it does not compile.
  void set_pattern(const std::string& pattern, bool ignore_case);
  bool matches(const decoded_entry& entry) const;
  bool active() const noexcept;

 private:
  std::shared_ptr<const re2::RE2> pattern_;  // immutable once built: copies share it
};

struct follow_options {
  start_position start = start_position::newest;
  bool follow = false;            // keep reading after the end; otherwise stop there
  bool wait_for_segment = false;  // a missing segment is waited for instead of an error
  bool exit_on_close = false;     // in follow mode: stop once the writer closed or is gone
  // Without wait_for_segment: how long a missing (or created but not yet formatted) segment may
  // take to become readable before it is an error (a writer started a moment ago, e.g. by a
  // script, has not finished creating it yet).
  std::chrono::milliseconds missing_grace{0};
  std::chrono::milliseconds idle_sleep{5};           // sleep between polls when there is no data
  std::chrono::milliseconds liveness_interval{250};  // how often an idle reader checks the writer
  std::chrono::milliseconds corrupt_interval{1000};  // at most one corrupt event per interval
};

enum class follow_end {
  end_of_data,   // not following and everything was read
  stopped,       // `stop` was set, or the callback asked to stop
  writer_ended,  // exit_on_close and the writer closed or is gone
  truncated,     // not following, and the segment shrank under the reader (another process
                 // truncated it): what was read stands, the rest is unreadable
};

// What run() hands to the callback: exactly one of entry, gap or event is set.
struct follow_item {
  const decoded_entry* entry = nullptr;
  const gap_marker* gap = nullptr;
  const segment_event* event = nullptr;
};

class segment_follower {
 public:
  // Attaches now (throws segment_error: missing, not a log, ...) unless wait_for_segment is set,
  // in which case the first run() waits for the segment to appear.
  segment_follower(std::string name, follow_options options);
  ~segment_follower();

  // Reads until the end (or forever when following), calling `on_item` for each entry that
  // passes `filter`, each gap and each event. `on_idle` is called whenever the reader caught up
  // (flush output there). Return false from on_item to stop.
  follow_end run(const entry_filter& filter, const std::function<bool(const follow_item&)>& on_item,
                 const std::function<void()>& on_idle, const std::atomic<bool>& stop);

  const std::string& name() const noexcept { return name_; }
  std::uint64_t entries_read() const noexcept { return entries_; }
  std::uint64_t entries_lost() const noexcept { return lost_; }
  std::uint64_t gaps() const noexcept { return gaps_; }
  std::uint64_t restarts() const noexcept { return restarts_; }
  std::uint64_t writer_pid() const noexcept { return pid_; }  // 0 when unknown
  // The user owning the segment file; nullopt while not attached (waiting for the segment).
  std::optional<std::uint32_t> owner_uid() const noexcept;

 private:
  void attach();
  void refresh_context();
  std::optional<segment_event> check_writer();
  segment_event make_event(event_kind kind) const;
  // writer_gone (with the age of the last heartbeat, when the block has one) or writer_closed.
  segment_event writer_end_event(writer_liveness liveness,
                                 const std::optional<extension_snapshot>& ext) const;
  // After segment_truncated in follow mode: waits until the name is a readable segment again
  // (the same incarnation restored to at least its old size, or a new one) and attaches,
  // reporting that (attached or writer_restarted) through `emit`. Meanwhile the writer's end is
  // reported once as well (its header is still readable), and ends the wait under
  // exit_on_close; `on_idle` is called before each wait, so that report is written at once.
  // Returns nullopt once attached again, else how the run ends.
  std::optional<follow_end> reopen_after_truncation(
      const std::atomic<bool>& stop, const std::function<bool(const segment_event&)>& emit,
      const std::function<void()>& on_idle);

  std::string name_;
  follow_options options_;
  std::unique_ptr<shm_reader> reader_;
  entry_interpreter interpreter_;
  std::uint64_t pid_ = 0;
  std::uint64_t incarnation_ = 0;
  writer_liveness reported_ = writer_liveness::alive;
  std::chrono::steady_clock::time_point next_liveness_{};
  std::uint64_t entries_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t gaps_ = 0;
  std::uint64_t restarts_ = 0;
  // Sequence number of the last entry delivered or reported lost (this incarnation).
  std::uint64_t last_sequence_ = 0;
  // After re-opening a truncated segment: the sequence number the next entry or gap should
  // start at (0: no expectation). Earlier ones were shown already; a later start is a gap.
  std::uint64_t expect_next_ = 0;
  // Entries shm_reader has handed over since it (re-)attached its ring: fewer than the ring
  // delivered means one is held back behind a loss report (see the lapped case in run()).
  std::uint64_t handed_over_ = 0;
  // Corrupt reads not yet reported, and when the next corrupt event may be given.
  std::uint64_t corrupt_pending_ = 0;
  std::string corrupt_detail_;
  std::chrono::steady_clock::time_point next_corrupt_report_{};
};

}  // namespace ouroboros::tools
