// Drains one named segment on its own thread and hands rows to the GUI thread in batches.
//
// The worker reads continuously (never waiting for the GUI), decodes each entry once into the
// compact page/text-block storage, applies the current filter once, and turns reader events into
// rows: "N entries overwritten" gaps, "writer restarted" separators, corrupt-data notices. The
// GUI thread calls take() on its timer and receives every row published since the last call,
// plus a status snapshot. If the GUI stops taking, rows beyond max_pending_rows are dropped
// oldest first and counted (they would have been evicted from the bounded history anyway).
//
// Thread-safety: all public member functions may be called from any one controlling thread
// (usually the GUI thread) while the worker runs; tags() may be read from any thread.
#pragma once

#include <QString>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/entry.hpp"
#include "data/filter.hpp"
#include "ouroboros/extension.hpp"
#include "ouroboros/ring_reader.hpp"

namespace ouroboros {
class shm_reader;
class entry_interpreter;
}  // namespace ouroboros

namespace ouroboros::viewer {

enum class segment_state {
  waiting,              // no segment of that name yet
  attached,             // reading; the writer is alive (or cannot be checked)
  writer_gone,          // the writer process died; what it wrote stays readable
  writer_closed,        // the writer shut down cleanly
  not_a_log,            // the name exists but is not a log segment
  unsupported_version,  // a log segment of a format version this viewer does not read
  segment_truncated,    // another process shrank the segment: what was read stays, the viewer
                        // re-attaches once the name holds a valid segment again
  failed,               // cannot open at all (invalid name, permission, ...): see detail
};
QString to_display(segment_state state);

struct poll_status {
  segment_state state = segment_state::waiting;
  QString detail;  // why, for the error states
  std::uint64_t writer_pid = 0;
  std::uint64_t incarnation = 0;
  std::uint32_t owner_uid = 0;  // the user owning the segment file
  bool foreign_owner = false;   // owned by another user than this viewer's (squatting?)
  bool records = false;         // the segment carries log records (else plain payloads)
  std::size_t segment_bytes = 0;
  std::int64_t last_entry_ns = no_time;  // wall-clock time of the newest entry read
  std::uint64_t entries_read = 0;        // entries delivered by the reader (all incarnations)
  std::uint64_t entries_lost = 0;        // overwritten in shared memory before they could be read
  std::uint64_t gaps = 0;
  std::uint64_t corrupt_events = 0;
  std::uint64_t restarts = 0;
  std::uint64_t dropped_rows = 0;  // rows the GUI did not take in time (counted as evicted)
  std::uint64_t lag_entries = 0;   // entries written but not read yet (chunk granularity)
  // The reader had read everything when this status was published (its last read found no
  // data, or no segment was there to open), at wall-clock caught_up_ns: whatever the segment
  // holds later was written after that.
  bool caught_up = false;
  std::int64_t caught_up_ns = no_time;
  std::uint64_t ring_capacity_entries = 0;  // estimated entries the ring holds; 0 = unknown
  // The last restart that followed a writer's death (not a clean close): who died, its last
  // entry, and when the new writer started. `writer_deaths` counts such restarts, so a tab can
  // tell a new one from one the user dismissed.
  std::uint64_t writer_deaths = 0;
  std::uint64_t dead_writer_pid = 0;
  std::int64_t dead_writer_last_entry_ns = no_time;
  std::int64_t restart_ns = no_time;
};

// A contiguous run of published rows of one page, filtered with filter `generation`.
struct row_span {
  std::shared_ptr<const page> rows;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint64_t generation = 0;
  std::uint64_t first_serial() const noexcept { return rows->first_serial + begin; }
  std::uint64_t end_serial() const noexcept { return rows->first_serial + end; }
};

struct poller_options {
  std::string name;
  start_position start = start_position::oldest;
  std::size_t max_pending_rows = 2'000'000;
  std::chrono::milliseconds retry_interval{200};  // while waiting for the segment
  std::chrono::milliseconds liveness_interval{500};
};

class segment_poller {
 public:
  explicit segment_poller(poller_options options);
  ~segment_poller();
  segment_poller(const segment_poller&) = delete;
  segment_poller& operator=(const segment_poller&) = delete;

  void start();
  void stop();

  // Rows published after this call are filtered with `spec`, tagged with `generation`.
  void set_filter(std::shared_ptr<const filter_spec> spec, std::uint64_t generation);

  struct harvest {
    std::vector<row_span> spans;
    poll_status status;
  };
  harvest take();

  std::shared_ptr<const tag_table> tags() const noexcept { return tags_; }
  const std::string& name() const noexcept { return options_.name; }

  // Test hook: while held, the worker reads nothing (so a writer can lap it on purpose).
  void hold(bool on) noexcept { held_.store(on, std::memory_order_release); }

 private:
  void run();
  void try_open();
  void pump();
  void housekeeping(bool idle);
  // How far behind the system clock a writer's entry times may run without reordering a merge.
  static constexpr std::int64_t caught_up_margin_ns = 5'000'000;
  std::int64_t asked_at_ = 0;  // system time just before the last read
  void append_read_entry(const read_result& result);
  void append_event_row(row_kind kind, std::uint64_t sequence, std::int64_t time_ns,
                        const std::string& text, const std::string& extra = {});
  void flush_pending_gap(std::uint64_t next_sequence, std::int64_t next_time);
  void note_restart(std::uint64_t lost_before_attach);
  void flush_pending_restart(std::int64_t next_time);
  entry& new_row();
  char* allocate_text(std::size_t size);
  void keep_format(std::uint32_t id, const deferred_format* format);
  void publish();
  void refresh_filter();
  bool sleep_for(std::chrono::microseconds duration);

  poller_options options_;
  std::shared_ptr<tag_table> tags_ = std::make_shared<tag_table>();

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> held_{false};
  std::mutex wake_mutex_;
  std::condition_variable wake_;

  // Shared with the controlling thread, under mutex_.
  std::mutex mutex_;
  std::deque<row_span> pending_;
  std::size_t pending_rows_ = 0;
  poll_status shared_status_;
  std::shared_ptr<const filter_spec> next_spec_;
  std::uint64_t next_generation_ = 0;
  std::atomic<std::uint64_t> filter_changes_{0};

  // Worker thread only.
  std::unique_ptr<shm_reader> reader_;
  std::unique_ptr<entry_interpreter> interpreter_;
  poll_status status_;
  bool attached_once_ = false;
  std::chrono::steady_clock::time_point not_a_log_since_{};
  std::chrono::steady_clock::time_point next_liveness_{};
  std::chrono::steady_clock::time_point next_lag_{};
  std::chrono::steady_clock::time_point last_publish_{};
  std::chrono::steady_clock::time_point last_data_{};
  std::chrono::steady_clock::time_point last_corrupt_notice_{};
  std::uint64_t corrupt_unreported_ = 0;
  std::uint64_t last_sequence_ = 0;
  std::int64_t last_time_ = no_time;
  std::uint64_t pending_gap_lost_ = 0;
  bool pending_restart_ = false;
  std::string pending_restart_text_;
  std::int64_t pending_restart_ns_ = no_time;
  std::optional<extension_snapshot> last_extension_;
  std::uint64_t seen_filter_changes_ = 0;
  std::uint64_t generation_ = 0;
  std::unique_ptr<filter_engine> engine_;
  std::shared_ptr<page> page_;
  std::uint32_t written_ = 0;
  std::uint32_t published_ = 0;
  std::uint64_t next_serial_ = 1;
  std::shared_ptr<text_block> block_;
  std::size_t block_used_ = 0;
  // By format id / 4: the format last kept alive by a page, and that page's first serial.
  struct kept_format {
    const deferred_format* format = nullptr;
    std::uint64_t page_serial = 0;
  };
  std::vector<kept_format> kept_formats_;
  std::string scratch_;
  int busy_retries_ = 0;
  std::chrono::microseconds last_nap_{1000};  // what the last "no data" nap lasted
  // After re-opening the same segment (its size restored), entries up to this sequence number
  // were read already; 0 = none to skip.
  std::uint64_t skip_through_ = 0;
};

}  // namespace ouroboros::viewer
