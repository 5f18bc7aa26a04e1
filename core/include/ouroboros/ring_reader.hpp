// A reader of a v1 ring buffer over read-only bytes that another process may be writing.
//
// Never blocks the writer and never trusts the buffer: every length, offset and token is checked
// before use, each entry is copied and then re-validated (a seqlock read), and a reader that was
// lapped resumes at the oldest intact entry and reports exactly how many entries it lost.
//
// Thread-safety: not thread-safe; one reader object per thread. Any number of readers may read
// the same buffer concurrently, in any processes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "ouroboros/detail/shared_words.hpp"
#include "ouroboros/layout.hpp"

namespace ouroboros {

enum class read_status {
  ok,                   // an entry: sequence and payload are set
  no_data,              // nothing new yet; call again later
  lapped,               // entries were overwritten before they could be read: `lost` says how many
  not_a_log,            // no v1 magic (yet), or the buffer is too small for its header and table
  unsupported_version,  // the magic is there but the version is not 1
  corrupt,              // the buffer broke the format; `detail` says how. The reader resyncs
  writer_restarted,     // (shm_reader only) the segment was re-created under the same name; the
                        // reader re-attached at its oldest entry and sequence numbers restart;
                        // `lost` counts the new incarnation's entries already overwritten
  segment_truncated,    // (shm_reader only) the segment shrank under the reader (another process
                        // truncated it): nothing more can be read from this mapping; re-open
                        // the name later. ring_reader itself never returns it
};

std::string_view to_string(read_status status) noexcept;

enum class start_position {
  oldest,  // the oldest entry still intact (full history)
  newest,  // the start of the newest chunk (recent entries)
  now,     // only entries written after attaching (tail)
};

struct read_result {
  read_status status = read_status::no_data;
  std::uint64_t sequence = 0;          // ok: the entry's global sequence number (1-based)
  std::uint64_t lost = 0;              // lapped: entries lost immediately before the next one;
                                       // writer_restarted: entries of the new incarnation lost
                                       // before its first delivered one (that one is lost + 1)
  std::span<const std::byte> payload;  // ok: valid until the next call on this reader
  std::string_view detail;  // corrupt, not_a_log, unsupported_version, segment_truncated: why
};

// read_batch's default limits per call. 8 KiB of entries keeps the run's copy, its views and the
// source lines in the 32 KiB L1 data cache together: 16 KiB runs cost 5.3 ns per 64-byte entry
// and 31 ns per 1 KiB entry against 4.4 and 25 ns (docs/performance.md, "Reader speed, fourth
// pass").
inline constexpr std::size_t batch_max_entries = 1024;
inline constexpr std::size_t batch_max_bytes = 8 * 1024;

// One entry of a batch (ring_reader::read_batch): its sequence number and a view of its payload in
// the reader's private copy.
struct batch_entry {
  std::uint64_t sequence = 0;
  std::span<const std::byte> payload;
};

struct batch_result {
  read_status status = read_status::no_data;  // ok: `entries` holds at least one entry
  std::span<const batch_entry> entries;       // ok: in order, consecutive sequence numbers
  std::uint64_t lost = 0;                     // as read_result::lost
  std::string_view detail;                    // as read_result::detail
};

class ring_reader {
 public:
  ring_reader() = default;

  // Validates the header and positions the reader. Re-attaching (to the same or another buffer)
  // starts clean. Returns ok, not_a_log, unsupported_version or corrupt; on anything but ok the
  // reader is detached and read_next() keeps returning that status.
  read_result attach(std::span<const std::byte> buffer,
                     start_position start = start_position::oldest);
  void detach() noexcept;

  // The next entry, or why there is none. Bounded work per call whatever the buffer holds.
  // Inline: the common case (a committed entry inside the current chunk, no chunk starting at
  // it) is a header load, one load of the next row's offset word, the copy, an acquire fence and
  // the row re-check; everything else goes to the out-of-line step() (docs/format.md 7.6).
  read_result read_next() {
    read_result result;
    if (next_in_chunk(result)) return result;
    return read_next_slow();
  }

  // Many entries per call: the run of committed entries that follows in the current chunk (at
  // most `max_entries`, and at most `max_bytes` of entries, headers included, unless the first
  // alone is larger: then it is read as by read_next),
  // copied with one memcpy and validated with one row re-check after the copy (a run whose row
  // changed is discarded whole: more may be lost to a lapping writer than entry by entry, and
  // the loss is counted exactly). Where the run cannot start (no data, a chunk or wrap
  // transition, a resync, anything corrupt) it returns exactly what read_next() would, an `ok`
  // as a batch of one. The same entries, sequence numbers and losses as read_next() calls.
  // Lifetime: the views point into this reader's private buffer and stay valid until the next
  // call of read_next, read_batch, attach or detach on this reader, or its destruction; they
  // never point into the shared buffer. Thread-safety: as the reader's (one thread).
  batch_result read_batch(std::size_t max_entries = batch_max_entries,
                          std::size_t max_bytes = batch_max_bytes);

  bool attached() const noexcept { return base_ != nullptr; }
  // Sequence number of the last entry delivered (or of the start position before the first).
  std::uint64_t position_sequence() const noexcept { return sequence_; }
  // Where this attachment's accounting starts: entries_delivered() + entries_lost() ==
  // position_sequence() - start_sequence() at all times. Usually fixed by attach(); if the writer
  // was restarting every row at that instant, the first read_next() fixes it instead.
  std::uint64_t start_sequence() const noexcept { return start_sequence_; }
  // True while the start is still to be fixed by read_next (see start_sequence).
  bool start_deferred() const noexcept { return resync_pending_ && !resync_reports_loss_; }
  std::uint64_t entries_delivered() const noexcept { return delivered_; }
  std::uint64_t entries_lost() const noexcept { return lost_; }
  // Committed rows this reader refused to enter because they were implausible (docs/format.md
  // "Implausible rows"); always 0 on a buffer written by a correct writer.
  std::uint64_t rows_rejected() const noexcept { return rows_rejected_; }
  // Rows loaded to choose where to go on (attach, resync, rule 5) since attach: whole-table
  // passes and the re-load of each row picked from the snapshot. The work that must stay
  // O(N log N) over a full pass, whatever the table holds. For tests.
  std::uint64_t choice_rows_loaded() const noexcept { return rows_scanned_; }
  std::uint32_t chunk_count() const noexcept { return chunk_count_; }
  // Byte offset of the next entry to read (meaningful while attached).
  std::size_t position() const noexcept { return position_ < size_ ? position_ : size_; }
  std::span<const std::byte> buffer() const noexcept { return {base_, size_}; }

  // The number of entries the writer has committed as far as the chunk table tells (the largest
  // token of a row that is not implausible, docs/format.md "Implausible rows"; exact at chunk
  // granularity, a lower bound otherwise). For "how far behind". Costs one pass over the table
  // (two on a hostile one, never a sort); it does not touch the reader's position or snapshot.
  std::uint64_t newest_chunk_token() const noexcept;

 private:
  struct row_snapshot {
    std::uint64_t offset_word = 0;
    std::uint64_t token = 0;
    bool usable = false;  // committed, read consistently, and its offset lies inside the buffer
    std::size_t offset() const noexcept;
    bool same_as(const row_snapshot& other) const noexcept {
      return usable && other.usable && offset_word == other.offset_word && token == other.token;
    }
  };

  row_snapshot load_row(std::uint32_t index) const noexcept;

  // read_next's common case (see there); false leaves everything to step(). Step c (re-load the
  // current row before the copy) is deferred to the re-check after the copy, which covers every
  // copy (docs/format.md 7.6); any header that does not validate goes to step(), which re-checks
  // the row first, so a lapped reader still reports lapped, never corrupt.
  bool next_in_chunk(read_result& result) noexcept {
    const std::size_t position = position_;
    // base_ and the row's address are held in registers across the copy: after each acquire load
    // the compiler would re-load them from the object (0.3-0.5 ns per entry at 16-256 B).
    const std::byte* const base = base_;
    // stop_ is 0 while detached or a resync is pending; else min(far row, size - 3) (step a).
    if (position >= stop_) return false;
    // (b) committed with a length of at least 4, and inside the buffer.
    const auto header = detail::load_shared<std::uint32_t>(base, position);
    if (header < (layout::entry_committed_bit | layout::length_min_entry)) return false;
    const std::uint32_t length = header & layout::entry_length_mask;
    if (length > size_ - position) return false;
    // (d) after the header: no chunk starts here (one load; next_word_ is the magic, never a
    // committed offset word, when the current row is the last).
    if (detail::load_shared<std::uint64_t>(base, next_word_) ==
        (static_cast<std::uint64_t>(position) | layout::row_committed_bit)) {
      return false;
    }
    const std::size_t payload_size = length - layout::entry_header_size;
    if (payload_size > scratch_size_ || sequence_ == std::numeric_limits<std::uint64_t>::max()) {
      return false;
    }
    // The next position is stored before the copy and taken back if the re-check fails. The
    // chain from this header load to the next call's (whose address is this store) then holds
    // no value kept across the copy call (such values are spilled to the stack and re-loaded).
    // Not clamped to size_ either, for the same chain: an entry ending in the last bytes of a
    // buffer whose size is not a multiple of 4 leaves the position up to 3 past size_, which is
    // past stop_ too, so the next call goes to step(), which clamps it first.
    position_ = layout::align_up(position + length, layout::entry_alignment);
    // (f) copy, fence, re-check the whole row (offset word, token, offset word).
    const std::byte* const row = base + row_word_;
    detail::copy_from_shared(scratch_.get(), base + position + layout::entry_header_size,
                             payload_size);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (!row_unchanged(row)) {
      position_ = position;
      schedule_resync(sequence_);  // the copy may be torn: discard it; step() reports the loss
      return false;
    }
    ++sequence_;
    ++delivered_;
    result.status = read_status::ok;
    result.sequence = sequence_;
    result.payload = std::span<const std::byte>(scratch_.get(), payload_size);
    return true;
  }
  // The entered row (at `row`, its offset word), loaded as in docs/format.md 3.2, still holds the
  // values it was entered with (which were usable, so equal values are usable too).
  bool row_unchanged(const std::byte* row) const noexcept {
    const auto first = detail::load_shared<std::uint64_t>(row, 0);
    const auto token = detail::load_shared<std::uint64_t>(row, layout::row_token_word);
    const auto second = detail::load_shared<std::uint64_t>(row, 0);
    return first == entered_.offset_word && token == entered_.token && second == first;
  }
  read_result read_next_slow();
  void grow_scratch(std::size_t size);

  // Resync, rule 5 and the start of attach choose rows from one sorted snapshot of the table
  // instead of scanning all N rows each time (a scan per corrupt entry made a pass O(N^2)). The
  // snapshot is kept across calls and checked lazily: a chosen row is re-loaded and used only if
  // it is unchanged; if it changed, a new snapshot is taken. A correct writer only adds rows with
  // tokens larger than every committed one, so an unchanged row that was the best choice in the
  // snapshot is still the best choice. See docs/format.md, "Bounded work".
  struct table_entry {
    std::uint64_t offset_word = 0;
    std::uint64_t token = 0;
    std::uint32_t index = 0;
    bool plausible = true;
  };
  enum class pick { found, none, stale };
  void take_snapshot();
  // Copies the usable rows into `rows` (index order), loading every row twice; true if every
  // row read the same both times (the copy is the table at one instant). Tries twice.
  bool copy_table(std::vector<table_entry>& rows, std::uint64_t& loaded) const;
  // Whether c is plausible between its usable neighbours p and q (either may be null) in one
  // consistent copy (docs/format.md "Implausible rows"); and all rows of a copy marked so.
  static bool plausible(const table_entry* p, const table_entry& c, const table_entry* q) noexcept;
  static void classify_rows(std::vector<table_entry>& rows) noexcept;
  pick pick_from_snapshot(std::uint64_t min_token, std::uint32_t exclude, std::uint32_t& index,
                          row_snapshot& row) noexcept;
  bool revalidate(const table_entry& entry, row_snapshot& row) const noexcept;
  // Whether the last snapshot judged row `index`, holding exactly `row`, implausible.
  bool known_implausible(std::uint32_t index, const row_snapshot& row) const noexcept;
  // Finds the usable row with the smallest token >= min_token (skipping `exclude`; ties: the
  // lowest index) among the rows that are not implausible.
  bool find_row(std::uint64_t min_token, std::uint32_t exclude, std::uint32_t& index,
                row_snapshot& row);
  // The same by one scan of the live table, ignoring plausibility (the fallback while the writer
  // rewrites rows faster than a snapshot can be taken).
  bool scan_rows(std::uint64_t min_token, std::uint32_t exclude, std::uint32_t& index,
                 row_snapshot& row) const noexcept;
  // Whether a row other than `exclude` has a token >= `token` (rule 5).
  bool any_row_continuing(std::uint64_t token, std::uint32_t exclude);
  bool newest_row(std::uint32_t& index, row_snapshot& row);
  void enter(std::uint32_t index, const row_snapshot& row) noexcept;
  void set_far(std::uint32_t index, std::size_t offset) noexcept;
  // Step d for a usable row that starts exactly at the position.
  enum class meeting { entered, resync, corrupt };
  meeting meet_row(std::uint32_t index, const row_snapshot& row) noexcept;
  void schedule_resync(std::uint64_t min_token, bool exclude_current = false) noexcept;
  read_result fail_corrupt(std::string_view why) noexcept;
  // Everything a pass of step() depends on besides the buffer's bytes (the snapshot stands in
  // by its number): in a buffer that does not change, a state seen twice in one call repeats
  // forever. See docs/format.md "Bounded work".
  struct pass_state {
    std::uint32_t row_index;
    std::uint64_t entered_offset_word;
    std::uint64_t entered_token;
    std::uint32_t far_index;
    std::size_t far_offset;
    std::size_t position;
    std::uint64_t sequence;
    bool resync_pending;
    bool resync_reports_loss;
    bool resync_exclude_current;
    std::uint64_t resync_min_token;
    std::uint64_t snapshots;
    bool operator==(const pass_state&) const = default;
  };
  pass_state current_pass_state() const noexcept;
  // The pass bound of one call and Brent's cycle detection over its pass states: O(1) memory;
  // a loop of L passes entered by pass P is found by pass P + 2L or so. A member, so a call
  // that never needs it pays nothing to set it up.
  struct loop_watch {
    std::uint64_t bound = 0;  // the passes this call may still make end here
    bool watching = false;
    pass_state saved{};
    std::uint64_t power = 1;
    std::uint64_t steps = 0;
    void start(const pass_state& now) noexcept;
    std::uint64_t observe(const pass_state& now) noexcept;  // the loop's length, or 0
  };
  // Whether pass number `pass` (from the first one that is watched on) may run.
  bool another_pass(std::uint64_t pass) noexcept;
  read_result step(bool copy_payload);
  void skip_to_end();

  const std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  std::uint32_t chunk_count_ = 0;
  std::size_t table_end_ = 0;

  std::uint32_t row_index_ = 0;
  row_snapshot entered_;
  std::uint32_t far_index_ = 0;  // see enter()
  std::size_t far_offset_ = 0;
  std::size_t stop_ = 0;       // min(far_offset_, size_ - 3): where step a leaves the fast path;
                               // 0 while detached or a resync is pending
  std::size_t row_word_ = 0;   // the current row's offset word
  std::size_t next_word_ = 0;  // the next row's offset word (the magic's when there is none)
  std::size_t position_ = 0;
  std::uint64_t sequence_ = 0;  // s: the current chunk's token plus entries read from it
  std::uint64_t start_sequence_ = 0;
  bool resync_pending_ = false;
  bool resync_reports_loss_ = true;
  bool resync_exclude_current_ = false;
  std::uint64_t resync_min_token_ = 0;

  std::uint64_t delivered_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t rows_rejected_ = 0;
  mutable std::uint64_t rows_scanned_ = 0;
  // The snapshot: usable rows in index order, and the plausible ones by (token, index).
  std::vector<table_entry> table_;
  std::vector<std::uint32_t> candidates_;  // positions in table_
  bool snapshot_taken_ = false;
  std::uint64_t snapshots_ = 0;  // snapshots taken since attach: names the one in use
  loop_watch watch_;
  mutable std::vector<table_entry> newest_rows_;  // newest_chunk_token's copy of the table
  // The private copy read_next and read_batch hand out (never zero-filled: only copied bytes are
  // handed out).
  std::unique_ptr<std::byte[]> scratch_;
  std::size_t scratch_size_ = 0;
  std::vector<batch_entry> views_;  // read_batch's entries
};

}  // namespace ouroboros
