// Named shared-memory segments: the transport between a writer process and reader processes.
//
// shm_writer creates a segment and writes a ring into it; shm_reader maps it read-only and reads.
// The ring algorithms live in ring_writer/ring_reader; this layer adds names, ownership,
// liveness (writer pid + start time, heartbeat) and re-attachment when a segment is re-created.
//
// Thread-safety: shm_writer and shm_reader are not thread-safe (one thread each); the free
// functions are safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ouroboros/extension.hpp"
#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"

namespace ouroboros {

enum class segment_errc {
  invalid_name,
  missing,
  owned_by_live_writer,
  foreign_object,  // the name exists and is not a log segment
  not_a_log,
  unsupported_version,
  corrupt,
  permission,
  invalid_config,
  system,
  not_regular_file,  // the name is a FIFO, symbolic link, directory, socket or device
};

class segment_error : public std::runtime_error {
 public:
  segment_error(segment_errc code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  segment_errc code() const noexcept { return code_; }

 private:
  segment_errc code_;
};

// Returns the canonical name (with a leading '/'), or throws segment_error(invalid_name) saying
// what is wrong: empty, longer than 255 bytes, or containing '/' after the first character.
std::string canonical_segment_name(std::string_view name);

struct shm_writer_options {
  std::uint32_t chunk_count = 64;
  std::size_t chunk_target_size = 64 * 1024;
  unsigned mode = 0600;
  bool take_over = false;      // replace a segment whose writer is still alive
  bool keep_on_close = false;  // leave the segment in place on clean shutdown
  std::uint32_t payload_encoding = layout::extension_layout::encoding_raw;
  std::uint32_t dictionary_capacity = 0;
};

class shm_writer {
 public:
  // Creates the segment (replacing a stale one left by a dead writer). Throws segment_error.
  shm_writer(std::string_view name, const shm_writer_options& options = {});
  ~shm_writer();
  shm_writer(const shm_writer&) = delete;
  shm_writer& operator=(const shm_writer&) = delete;

  write_status write(std::span<const std::byte> payload) noexcept { return ring_->write(payload); }
  ring_writer& ring() noexcept { return *ring_; }
  extension_writer& extension() noexcept { return extension_; }

  // Refreshes the heartbeat (one clock read and one store). Call it every second or so from any
  // one thread; readers treat a writer whose heartbeat stopped as stalled, not gone.
  void heartbeat() noexcept;

  // Marks the segment closed and unlinks it (unless keep_on_close). Idempotent; the destructor
  // calls it. The mapping stays valid until destruction.
  void close() noexcept;

  const std::string& name() const noexcept { return name_; }
  std::uint64_t incarnation() const noexcept { return incarnation_; }

  // True once another process truncated the segment under this writer: the pages past the new
  // end were replaced by private zero pages (so the application does not die of SIGBUS), and
  // what is written there reaches no reader. Re-creating the writer starts a new segment.
  bool truncated() const noexcept;

 private:
  struct platform_state;
  std::string name_;
  bool keep_ = false;
  bool closed_ = false;
  std::uint64_t incarnation_ = 0;
  std::unique_ptr<platform_state> platform_;
  std::optional<ring_writer> ring_;  // always engaged after construction
  extension_writer extension_;
};

enum class writer_liveness {
  unknown,  // no extension block (another v1 writer): cannot tell
  alive,    // the writer process exists (same pid and start time)
  closed,   // the writer shut down cleanly
  gone,     // the writer process no longer exists
};
std::string_view to_string(writer_liveness liveness) noexcept;

writer_liveness liveness_of(const extension_snapshot& snapshot) noexcept;

class shm_reader {
 public:
  // Maps `name` read-only and attaches. Throws segment_error (missing, not_a_log,
  // unsupported_version, permission, ...) with a message naming the segment.
  explicit shm_reader(std::string_view name, start_position start = start_position::oldest);
  ~shm_reader();
  shm_reader(const shm_reader&) = delete;
  shm_reader& operator=(const shm_reader&) = delete;

  // As ring_reader::read_next. Additionally, while there is no data, checks at most every
  // `replaced_check_interval` whether the name now refers to a new segment (the writer
  // restarted); if so it re-attaches at the new segment's oldest entry and returns
  // writer_restarted once, after every entry of the old segment was read. Sequence numbers
  // restart with the new incarnation; `lost` = k says that the new incarnation's entries 1..k
  // were overwritten before the reader got there (its first delivered entry has sequence
  // k + 1), so delivered + lost == written holds across incarnations. (If the new segment had
  // no committed chunk at that instant, k is not known yet: it is reported as a `lapped`
  // result right before the first entry instead.)
  // Once another process truncated the segment under the reader, returns segment_truncated
  // (and keeps returning it): the mapping no longer reflects the segment; construct a new
  // shm_reader to read on.
  read_result read_next();

  // As ring_reader::read_batch, with read_next's additions above (the same results, a run of
  // entries per call, each run inside one 4 KiB page so that a shrink is attributed as by
  // read_next). The views stay valid until the next read_next or read_batch call on this
  // reader (or a re-attach by check_replaced), never longer than the reader.
  batch_result read_batch(std::size_t max_entries = batch_max_entries,
                          std::size_t max_bytes = batch_max_bytes);

  // Re-checks the name now; returns true (and re-attaches) if it refers to a new segment.
  bool check_replaced();

  writer_liveness liveness() const;
  std::optional<extension_snapshot> extension() const;
  const ring_reader& ring() const noexcept { return ring_; }
  std::span<const std::byte> bytes() const noexcept;
  const std::string& name() const noexcept { return name_; }
  // The user id owning the mapped segment (from fstat of the descriptor it was mapped from).
  std::uint32_t owner_uid() const noexcept;
  // Whether the segment shrank under this reader (see read_next).
  bool truncated() const noexcept;

  std::chrono::milliseconds replaced_check_interval{250};

 private:
  struct platform_state;
  void open_and_attach(start_position start);
  read_result truncated_result() const;
  void check_replaced_on_no_data(read_status& status, std::uint64_t& lost);
  std::string name_;
  std::unique_ptr<platform_state> platform_;
  std::string truncated_detail_;
  ring_reader ring_;
  std::chrono::steady_clock::time_point next_check_{};
  bool restart_loss_pending_ = false;  // a re-attach whose start (and loss) is not known yet
  std::uint64_t incarnation_ = 0;      // of the segment attached (0: no extension block)
  std::optional<read_result> held_;    // an entry held back behind that loss report
  batch_entry single_;                 // read_batch's view of an entry read_next handed over
};

struct segment_info {
  std::string name;  // with leading '/'
  std::size_t size = 0;
  std::uint32_t chunk_count = 0;
  std::optional<extension_snapshot> extension;
  writer_liveness liveness = writer_liveness::unknown;
  std::uint64_t newest_token = 0;  // entries written, at chunk granularity
  std::uint32_t owner_uid = 0;     // the user id owning the shared-memory object
};

// The current user as segment_info::owner_uid names owners (the effective uid on POSIX; 0 on
// Windows, where a segment's DACL admits only its creator's user), and a user's login name ("" if
// unknown; on Windows the current user's name). For programs that must not call the OS directly.
std::uint32_t current_user_id() noexcept;
std::string user_name_of(std::uint32_t uid);

// Every shared-memory object on this machine that holds a v1 log; others are skipped silently.
// On Windows: every segment registered by a writer whose section still exists (docs/format.md).
std::vector<segment_info> list_segments();
// Details of one segment; throws segment_error like shm_reader.
segment_info inspect_segment(std::string_view name);

}  // namespace ouroboros
