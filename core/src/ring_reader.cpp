// The reader's algorithm follows docs/format.md "Reader obligations" step by step; the order of
// the steps in step() is what makes it correct, so each step names the rule it implements.
#include "ouroboros/ring_reader.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <new>

#include "ouroboros/detail/shared_words.hpp"
#include "ouroboros/layout.hpp"

namespace ouroboros {

using detail::load_shared;
namespace lay = layout;

namespace {
// The private copy's size after attach: entries up to this size never allocate.
constexpr std::size_t min_scratch = 4096;
// How far ahead of a run's header walk the next bytes are fetched.
constexpr std::size_t walk_prefetch_distance = 512;
// A run is copied in pieces of at least this many bytes while its headers are walked.
constexpr std::size_t copy_piece = 512;
}  // namespace

std::string_view to_string(read_status status) noexcept {
  switch (status) {
    case read_status::ok: return "ok";
    case read_status::no_data: return "no data yet";
    case read_status::lapped: return "lapped: entries were overwritten before they were read";
    case read_status::not_a_log: return "not a log buffer";
    case read_status::unsupported_version: return "unsupported format version";
    case read_status::corrupt: return "corrupt buffer";
    case read_status::writer_restarted: return "segment re-created by a new writer; re-attached";
    case read_status::segment_truncated:
      return "segment truncated by another process; re-open it to read on";
  }
  return "unknown read status";
}

std::size_t ring_reader::row_snapshot::offset() const noexcept {
  return static_cast<std::size_t>(offset_word & lay::row_offset_mask);
}

// Inlined: a read calls it up to three times per entry and the call overhead was a third of the
// reader's cost (docs/performance.md).
__attribute__((always_inline)) inline ring_reader::row_snapshot ring_reader::load_row(
    std::uint32_t index) const noexcept {
  // Offset, token, offset again: equal committed offsets bracket a token that belongs to them.
  const std::size_t at = lay::row_position(index);
  row_snapshot row;
  const auto first = load_shared<std::uint64_t>(base_, at + lay::row_offset_word);
  row.token = load_shared<std::uint64_t>(base_, at + lay::row_token_word);
  const auto second = load_shared<std::uint64_t>(base_, at + lay::row_offset_word);
  row.offset_word = first;
  if (first != second || (first & lay::row_committed_bit) == 0) return row;
  const std::uint64_t offset = first & lay::row_offset_mask;
  // Offsets come from untrusted bytes: inside the data area, room for a header, 4-aligned.
  // A row with the largest token could hold no entry (its first would overflow the sequence):
  // it is corrupt, and treating it as usable would let a reader re-enter it forever.
  row.usable = offset >= table_end_ && offset % lay::entry_alignment == 0 &&
               offset <= size_ - lay::entry_header_size &&
               row.token != std::numeric_limits<std::uint64_t>::max();
  return row;
}

read_result ring_reader::attach(std::span<const std::byte> buffer, start_position start) {
  detach();
  read_result result;
  if (buffer.data() == nullptr || buffer.size() < lay::header_size ||
      reinterpret_cast<std::uintptr_t>(buffer.data()) % 8 != 0) {
    result.status = read_status::not_a_log;
    result.detail = "buffer smaller than the 16-byte header or not 8-byte aligned";
    return result;
  }
  const std::byte* base = buffer.data();
  if (load_shared<std::uint64_t>(base, lay::magic_offset) != lay::buffer_magic) {
    result.status = read_status::not_a_log;
    result.detail = "no ring buffer magic";
    return result;
  }
  const auto version = load_shared<std::uint32_t>(base, lay::version_offset);
  const auto count = load_shared<std::uint32_t>(base, lay::chunk_count_offset);
  if (version != lay::format_version) {
    result.status = read_status::unsupported_version;
    result.detail = "format version is not 1";
    return result;
  }
  if (count == 0) {
    result.status = read_status::corrupt;
    result.detail = "chunk count is 0";
    return result;
  }
  if (buffer.size() < lay::table_end(count) + lay::entry_header_size) {
    result.status = read_status::not_a_log;
    result.detail = "buffer too small for its chunk table";
    return result;
  }
  base_ = base;
  size_ = buffer.size();
  chunk_count_ = count;
  table_end_ = lay::table_end(count);
  sequence_ = 0;
  delivered_ = lost_ = 0;
  rows_rejected_ = rows_scanned_ = 0;
  snapshot_taken_ = false;
  snapshots_ = 0;
  if (scratch_size_ == 0) grow_scratch(min_scratch);
  set_far(chunk_count_, std::numeric_limits<std::size_t>::max());

  std::uint32_t index = 0;
  row_snapshot row;
  bool found = false;
  found = start == start_position::oldest ? find_row(0, chunk_count_, index, row)
                                          : newest_row(index, row);
  if (found) {
    enter(index, row);
  } else {
    // Only during a writer's row restart: pick the start on the first read instead.
    schedule_resync(0);
    resync_reports_loss_ = false;
  }
  if (start == start_position::now) skip_to_end();
  start_sequence_ = sequence_;
  result.status = read_status::ok;
  return result;
}

void ring_reader::detach() noexcept {
  base_ = nullptr;
  start_sequence_ = 0;
  size_ = 0;
  chunk_count_ = 0;
  resync_pending_ = false;
  resync_reports_loss_ = true;
  resync_exclude_current_ = false;
  stop_ = 0;  // no fast path while detached
  entered_ = {};
  snapshot_taken_ = false;
  table_.clear();
  candidates_.clear();
  newest_rows_.clear();
}

void ring_reader::enter(std::uint32_t index, const row_snapshot& row) noexcept {
  row_index_ = index;
  entered_ = row;
  position_ = row.offset();
  sequence_ = row.token;
  row_word_ = lay::row_position(index) + lay::row_offset_word;
  // No row after the last: the magic's word, whose bit 63 is clear, never equals a committed
  // offset word, so read_next's step d needs no bounds test.
  next_word_ = index + 1 < chunk_count_ ? lay::row_position(index + 1) + lay::row_offset_word
                                        : lay::magic_offset;
  static_assert((lay::buffer_magic & lay::row_committed_bit) == 0);
  // The first row after index + 1 that the snapshot saw usable: reading on must not pass its
  // start unnoticed when the rows in between are not usable (step d looks at index + 1 only).
  const auto after =
      std::upper_bound(table_.begin(), table_.end(), index + 1,
                       [](std::uint64_t i, const table_entry& entry) { return i < entry.index; });
  if (after != table_.end()) {
    set_far(after->index, static_cast<std::size_t>(after->offset_word & lay::row_offset_mask));
  } else {
    set_far(chunk_count_, std::numeric_limits<std::size_t>::max());
  }
}

void ring_reader::set_far(std::uint32_t index, std::size_t offset) noexcept {
  far_index_ = index;
  far_offset_ = offset;
  // Step a's "fewer than 4 bytes left" is position > size - 4, i.e. position >= size - 3.
  // While a resync is pending, 0: read_next's fast path leaves everything to step().
  stop_ = resync_pending_ ? 0 : std::min(offset, size_ - (lay::entry_header_size - 1));
}

ring_reader::meeting ring_reader::meet_row(std::uint32_t index, const row_snapshot& row) noexcept {
  if (row.token == sequence_) {
    enter(index, row);  // the header just loaded is its first entry
    return meeting::entered;
  }
  if (row.token > sequence_) {
    schedule_resync(sequence_);  // lapped
    return meeting::resync;
  }
  // A chunk starts here whose entries are numbered below the ones just read: one of the two
  // rows lies about its numbering (no correct writer leaves a row of an earlier lap where it
  // writes: it invalidates the row first). Reading on would deliver that chunk's entries again
  // under new numbers.
  return meeting::corrupt;
}

void ring_reader::schedule_resync(std::uint64_t min_token, bool exclude_current) noexcept {
  resync_pending_ = true;
  stop_ = 0;
  resync_min_token_ = min_token;
  resync_exclude_current_ = exclude_current;
}

bool ring_reader::copy_table(std::vector<table_entry>& rows, std::uint64_t& loaded) const {
  // Two passes: copy the usable rows, then load every row again. If each row read the same
  // both times, each held that value from its first load to its second, and all those intervals
  // overlap (every first load precedes every second load): the copy is the table as it was at
  // one instant. Only such a consistent copy is judged for plausibility; a copy torn by a
  // writer that moved on meanwhile rejects nothing.
  bool consistent = false;
  for (int attempt = 0; attempt < 2 && !consistent; ++attempt) {
    rows.clear();
    for (std::uint32_t i = 0; i < chunk_count_; ++i) {
      const row_snapshot row = load_row(i);
      if (row.usable) rows.push_back({row.offset_word, row.token, i, true});
    }
    consistent = true;
    std::size_t k = 0;
    for (std::uint32_t i = 0; i < chunk_count_ && consistent; ++i) {
      const row_snapshot row = load_row(i);
      if (k < rows.size() && rows[k].index == i) {
        consistent =
            row.usable && row.offset_word == rows[k].offset_word && row.token == rows[k].token;
        ++k;
      } else {
        consistent = !row.usable;
      }
    }
    loaded += 2 * static_cast<std::uint64_t>(chunk_count_);
  }
  return consistent;
}

void ring_reader::take_snapshot() {
  ++snapshots_;
  if (copy_table(table_, rows_scanned_)) classify_rows(table_);
  candidates_.clear();
  for (std::uint32_t k = 0; k < table_.size(); ++k) {
    if (table_[k].plausible) {
      candidates_.push_back(k);
    } else {
      ++rows_rejected_;
    }
  }
  std::sort(candidates_.begin(), candidates_.end(), [&](std::uint32_t a, std::uint32_t b) {
    return table_[a].token != table_[b].token ? table_[a].token < table_[b].token
                                              : table_[a].index < table_[b].index;
  });
  snapshot_taken_ = true;
}

bool ring_reader::plausible(const table_entry* p, const table_entry& c,
                            const table_entry* q) noexcept {
  // docs/format.md, "Implausible rows": c is a usable row of one consistent copy of the table,
  // judged against its neighbours in index order: p, the usable row before it, and q, the
  // usable row after it (either may be missing). What a correct writer leaves at any
  // instant: a chunk holds at least one entry of at least 4 bytes; offsets increase with the
  // row index (a lap fills rows 0, 1, 2, ... left to right, and what survives of an older lap
  // lies beyond the newer lap's end); tokens increase with the index within a lap, and every
  // row of an older lap (higher index) has a smaller token than every row of a newer one.
  const auto offset_of = [](const table_entry& e) { return e.offset_word & lay::row_offset_mask; };
  const std::uint64_t oc = offset_of(c);
  // (1) rows 0 .. i-1 of its lap each hold an entry before row i starts
  bool plausible = c.token >= c.index;
  if (p != nullptr) {
    const std::uint64_t op = offset_of(*p);
    // (2) a row of the same lap as p: later, and no more entries than the bytes between them
    // can hold; an equal token would mean an empty chunk
    if (c.token == p->token) plausible = false;
    if (c.token > p->token && (oc <= op || c.token - p->token > (oc - op) / 4)) plausible = false;
  }
  if (p != nullptr && q != nullptr) {
    // (3) between two rows that agree with each other, in offset and, if they are of one lap,
    // in token
    const std::uint64_t op = offset_of(*p);
    const std::uint64_t oq = offset_of(*q);
    if (op < oq && !(op < oc && oc < oq)) plausible = false;
    if (p->token < q->token && !(p->token < c.token && c.token < q->token)) plausible = false;
  } else if (p != nullptr) {
    if (oc <= offset_of(*p)) plausible = false;  // (4) the last row lies after the one before
  } else if (q != nullptr) {
    // (4) the first row lies before the next. (An exact copy of it there is judged by (2) as
    // the later row; the first of the two is kept.)
    if (oc > offset_of(*q)) plausible = false;
  }
  return plausible;
}

void ring_reader::classify_rows(std::vector<table_entry>& rows) noexcept {
  // A row is judged against its neighbours as they are (their verdicts are not read), so the
  // verdicts can be written in place.
  const std::size_t m = rows.size();
  for (std::size_t k = 0; k < m; ++k) {
    rows[k].plausible =
        plausible(k > 0 ? &rows[k - 1] : nullptr, rows[k], k + 1 < m ? &rows[k + 1] : nullptr);
  }
}

bool ring_reader::known_implausible(std::uint32_t index, const row_snapshot& row) const noexcept {
  const auto at =
      std::lower_bound(table_.begin(), table_.end(), index,
                       [](const table_entry& entry, std::uint32_t i) { return entry.index < i; });
  return at != table_.end() && at->index == index && !at->plausible &&
         at->offset_word == row.offset_word && at->token == row.token;
}

bool ring_reader::revalidate(const table_entry& entry, row_snapshot& row) const noexcept {
  ++rows_scanned_;
  row = load_row(entry.index);
  return row.usable && row.offset_word == entry.offset_word && row.token == entry.token;
}

ring_reader::pick ring_reader::pick_from_snapshot(std::uint64_t min_token, std::uint32_t exclude,
                                                  std::uint32_t& index,
                                                  row_snapshot& row) noexcept {
  auto it = std::lower_bound(
      candidates_.begin(), candidates_.end(), min_token,
      [&](std::uint32_t at, std::uint64_t token) { return table_[at].token < token; });
  for (; it != candidates_.end(); ++it) {
    const table_entry& entry = table_[*it];
    if (entry.index == exclude) continue;  // at most one entry has that index
    if (!revalidate(entry, row)) return pick::stale;
    index = entry.index;
    return pick::found;
  }
  return pick::none;
}

bool ring_reader::find_row(std::uint64_t min_token, std::uint32_t exclude, std::uint32_t& index,
                           row_snapshot& row) {
  if (snapshot_taken_) {
    const pick picked = pick_from_snapshot(min_token, exclude, index, row);
    if (picked == pick::found) return true;
    // Nothing in the snapshot: a new snapshot only if some row qualifies now.
    if (picked == pick::none && !scan_rows(min_token, exclude, index, row)) return false;
  }
  take_snapshot();
  const pick picked = pick_from_snapshot(min_token, exclude, index, row);
  if (picked != pick::stale) return picked == pick::found;
  // The rows change faster than a snapshot is taken: one live scan decides.
  return scan_rows(min_token, exclude, index, row);
}

bool ring_reader::scan_rows(std::uint64_t min_token, std::uint32_t exclude, std::uint32_t& index,
                            row_snapshot& row) const noexcept {
  bool found = false;
  for (std::uint32_t i = 0; i < chunk_count_; ++i) {
    if (i == exclude) continue;
    ++rows_scanned_;
    const row_snapshot candidate = load_row(i);
    if (candidate.usable && candidate.token >= min_token &&
        (!found || candidate.token < row.token)) {
      found = true;
      index = i;
      row = candidate;
    }
  }
  return found;
}

bool ring_reader::any_row_continuing(std::uint64_t token, std::uint32_t exclude) {
  // The newest plausible row (other than `exclude`) is the best witness.
  const auto newest = [&]() {
    for (auto it = candidates_.rbegin(); it != candidates_.rend(); ++it) {
      const table_entry& entry = table_[*it];
      if (entry.index == exclude) continue;
      if (entry.token < token) return pick::none;
      row_snapshot row;
      return revalidate(entry, row) ? pick::found : pick::stale;
    }
    return pick::none;
  };
  const auto live = [&]() {
    for (std::uint32_t i = 0; i < chunk_count_; ++i) {
      if (i == exclude) continue;
      ++rows_scanned_;
      const row_snapshot candidate = load_row(i);
      if (candidate.usable && candidate.token >= token) return true;
    }
    return false;
  };
  if (snapshot_taken_) {
    const pick picked = newest();
    if (picked == pick::found) return true;
    if (picked == pick::none && !live()) return false;
  }
  take_snapshot();
  const pick picked = newest();
  if (picked != pick::stale) return picked == pick::found;
  return live();
}

bool ring_reader::newest_row(std::uint32_t& index, row_snapshot& row) {
  take_snapshot();
  if (!candidates_.empty()) {
    // The largest token; among equal ones the lowest index.
    const std::uint64_t newest = table_[candidates_.back()].token;
    const auto first = std::lower_bound(
        candidates_.begin(), candidates_.end(), newest,
        [&](std::uint32_t at, std::uint64_t token) { return table_[at].token < token; });
    if (revalidate(table_[*first], row)) {
      index = table_[*first].index;
      return true;
    }
  } else {
    return false;
  }
  bool found = false;
  for (std::uint32_t i = 0; i < chunk_count_; ++i) {
    ++rows_scanned_;
    const row_snapshot candidate = load_row(i);
    if (candidate.usable && (!found || candidate.token > row.token)) {
      found = true;
      index = i;
      row = candidate;
    }
  }
  return found;
}

std::uint64_t ring_reader::newest_chunk_token() const noexcept {
  // The judgement of a resync (docs/format.md "Implausible rows"), so that a single forged row
  // cannot claim 2^60 entries, on rows of its own: the reader's snapshot, which decides where it
  // reads on, stays as it is. One pass finds the row with the largest token (the lowest index
  // among equal ones) and its usable neighbours; if these and the rows between them load the
  // same again, they held those values together at one instant, and if the row is plausible
  // against them it is the answer, as it is of a consistent copy of the whole table: the
  // largest token, plausible. Only when it is not (a hostile table) or the rows around it are
  // moving, the whole table is copied and judged.
  if (base_ == nullptr) return 0;
  constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  table_entry top;
  table_entry before;  // the usable row before top
  table_entry after;   // the usable row after top
  table_entry last;    // the usable row seen last
  top.index = before.index = after.index = last.index = none;
  for (std::uint32_t i = 0; i < chunk_count_; ++i) {
    const row_snapshot row = load_row(i);
    if (!row.usable) continue;
    const table_entry entry{row.offset_word, row.token, i, true};
    if (top.index != none && after.index == none) after = entry;
    if (top.index == none || entry.token > top.token) {
      top = entry;
      before = last;
      after.index = none;
    }
    last = entry;
  }
  if (top.index == none) return 0;
  const auto same = [&](const table_entry& entry) {
    const row_snapshot row = load_row(entry.index);
    return row.usable && row.offset_word == entry.offset_word && row.token == entry.token;
  };
  bool settled = true;
  const std::uint32_t from = before.index != none ? before.index : top.index;
  const std::uint32_t to = after.index != none ? after.index : top.index;
  for (std::uint32_t i = from; i <= to && settled; ++i) {
    if (i == before.index) {
      settled = same(before);
    } else if (i == top.index) {
      settled = same(top);
    } else if (i == after.index) {
      settled = same(after);
    } else {
      settled = !load_row(i).usable;
    }
  }
  if (settled && plausible(before.index != none ? &before : nullptr, top,
                           after.index != none ? &after : nullptr)) {
    return top.token;
  }
  try {
    std::uint64_t loaded = 0;
    const bool consistent = copy_table(newest_rows_, loaded);
    std::uint64_t newest = 0;
    const std::size_t m = newest_rows_.size();
    for (std::size_t k = 0; k < m; ++k) {
      const table_entry& c = newest_rows_[k];
      // A torn copy rejects nothing (as in take_snapshot); only a row with a larger token than
      // the best so far can change the answer.
      if (c.token > newest &&
          (!consistent || plausible(k > 0 ? &newest_rows_[k - 1] : nullptr, c,
                                    k + 1 < m ? &newest_rows_[k + 1] : nullptr))) {
        newest = c.token;
      }
    }
    return newest;
  } catch (const std::bad_alloc&) {
    return top.token;  // no memory for the copy: as a torn copy, nothing rejected
  }
}

read_result ring_reader::fail_corrupt(std::string_view why) noexcept {
  // Skip the rest of this chunk: resume at the next chunk that starts after the bad entry. The
  // skipped entries are counted as lost, so the accounting stays exact.
  schedule_resync(sequence_ == std::numeric_limits<std::uint64_t>::max() ? sequence_
                                                                         : sequence_ + 1);
  read_result result;
  result.status = read_status::corrupt;
  result.detail = why;
  return result;
}

void ring_reader::grow_scratch(std::size_t size) {
  // Not zero-filled: only bytes copied from the buffer are ever handed out.
  const std::size_t grown = std::max(size, 2 * scratch_size_);
  scratch_ = std::unique_ptr<std::byte[]>(new std::byte[grown]);
  scratch_size_ = grown;
}

read_result ring_reader::read_next_slow() {
  if (base_ == nullptr) {
    read_result result;
    result.status = read_status::not_a_log;
    result.detail = "reader is not attached";
    return result;
  }
  return step(true);
}

ring_reader::pass_state ring_reader::current_pass_state() const noexcept {
  return {row_index_,
          entered_.offset_word,
          entered_.token,
          far_index_,
          far_offset_,
          position_,
          sequence_,
          resync_pending_,
          resync_reports_loss_,
          resync_exclude_current_,
          resync_min_token_,
          snapshots_};
}

void ring_reader::loop_watch::start(const pass_state& now) noexcept {
  saved = now;
  power = 1;
  steps = 0;
}

std::uint64_t ring_reader::loop_watch::observe(const pass_state& now) noexcept {
  // Brent's algorithm: compare with a saved state, saved again after 1, 2, 4, ... passes. Once
  // the saved state lies in the loop and the power has reached its length, the next round
  // finds it.
  ++steps;
  if (now == saved) return steps;
  if (steps == power) {
    saved = now;
    power *= 2;
    steps = 0;
  }
  return 0;
}

namespace {

// Passes after which a call starts watching for a loop. A read needs one to three passes; only
// a hostile table or a writer that moves rows under the reader takes more.
constexpr std::uint64_t loop_watch_from = 8;
static_assert(loop_watch_from < 16, "the watch starts before the smallest pass bound");

}  // namespace

// Out of line and cold: the hot path of step() only compares the pass with loop_watch_from.
__attribute__((noinline, cold)) bool ring_reader::another_pass(std::uint64_t pass) noexcept {
  if (pass == loop_watch_from) {
    watch_.bound = 2 * static_cast<std::uint64_t>(chunk_count_) + 16;
    watch_.watching = true;
    watch_.start(current_pass_state());
    return true;
  }
  if (pass == watch_.bound) return false;
  if (watch_.watching) {
    if (const std::uint64_t loop = watch_.observe(current_pass_state())) {
      // The passes from here repeat the last `loop` ones without returning: run only those that
      // take the call to where the bound stops.
      watch_.bound = pass + (watch_.bound - pass) % loop;
      watch_.watching = false;
      return pass != watch_.bound;
    }
  }
  return true;
}

read_result ring_reader::step(bool copy_payload) {
  read_result result;
  if (position_ > size_) position_ = size_;  // the fast path leaves the clamp to here
  // Each pass either returns or moves the reader (into the next chunk, to chunk 0, or to a
  // resync point). A well-formed buffer needs a handful of moves per entry; a hostile one could
  // chain moves forever, so the passes are bounded (2N + 16), and a loop is cut short: a pass
  // depends only on the pass state and the buffer, so once a state repeats in an unchanged
  // buffer, the passes go round that loop to the bound without returning. The call then runs
  // only the passes that take it to where the bound would have stopped (fewer than one more
  // round), so it ends with the bound's verdict in the bound's state (another_pass()).
  for (std::uint64_t pass = 0;; ++pass) {
    // One comparison with a constant per pass: a read that returns within a few passes pays
    // nothing for the bound or the watch.
    if (pass >= loop_watch_from) [[unlikely]] {
      if (!another_pass(pass)) break;
    }
    if (resync_pending_) {
      std::uint32_t index = 0;
      row_snapshot row;
      const std::uint32_t exclude = resync_exclude_current_ ? row_index_ : chunk_count_;
      if (!find_row(resync_min_token_, exclude, index, row)) {
        result.status = read_status::no_data;
        return result;
      }
      const bool deferred_start = !resync_reports_loss_;
      const std::uint64_t lost = deferred_start ? 0 : row.token - sequence_;
      resync_pending_ = false;
      resync_reports_loss_ = true;
      enter(index, row);
      if (deferred_start) start_sequence_ = sequence_;  // the start attach() could not fix
      if (lost > 0) {
        lost_ += lost;
        result.status = read_status::lapped;
        result.lost = lost;
        return result;
      }
      continue;
    }

    bool wrap = false;
    std::uint32_t header = 0;
    std::uint32_t length = 0;
    // One comparison covers both rare cases: fewer than 4 bytes left, and the far row's start.
    if (position_ >= stop_) [[unlikely]] {
      if (position_ == far_offset_) {
        // (d, far row) the rows after the current one up to here are not usable and the next
        // usable one starts here. Meeting it before the header load is safe: a correct writer
        // never has a row start where a reader reads other than row_index + 1 (step d).
        const row_snapshot far = load_row(far_index_);
        if (far.usable && far.offset() == position_) {
          const meeting met = meet_row(far_index_, far);
          if (met == meeting::resync) continue;
          if (met == meeting::corrupt) {
            return fail_corrupt("a chunk starts here with a token below the sequence read so far");
          }
        }
      }
      // Met, or not there (any more), or passed inside an entry: done with it until the next
      // row is entered. (Entering the far row above has set the next one.)
      if (position_ >= far_offset_) set_far(chunk_count_, std::numeric_limits<std::size_t>::max());
      wrap = size_ - position_ < lay::entry_header_size;  // (a) implicit wrap
    }
    if (!wrap) {
      // (b) the header first, with acquire: everything below is judged against this one load.
      header = load_shared<std::uint32_t>(base_, position_);
      length = header & lay::entry_length_mask;
      if ((header & lay::entry_committed_bit) == 0 || length == lay::length_no_data) {
        // (c) a lapped reader must not report "no data" forever
        if (!load_row(row_index_).same_as(entered_)) {
          schedule_resync(sequence_);
          continue;
        }
        // (5) never stall while newer data exists: a chunk that ended with neither a wrap nor
        // an advance. The second header load matters: entry s+1 was committed before any row
        // with a larger token, so if it is still absent now, it will never come here. Another
        // row with token exactly s is newer data too (a correct writer opens one only here, by
        // an advance, which the resync then enters without loss, or at chunk 0 after storing a
        // wrap marker here, which the second load sees); without it a foreign writer that starts
        // a chunk elsewhere with the continuing token would stall this reader for good.
        if (header == 0 && any_row_continuing(sequence_, row_index_) &&
            load_shared<std::uint32_t>(base_, position_) == 0) {
          schedule_resync(sequence_, true);
          continue;
        }
        result.status = read_status::no_data;
        return result;
      }
      // (c) the current row must still be the one we entered
      if (!load_row(row_index_).same_as(entered_)) {
        schedule_resync(sequence_);
        continue;
      }
      // (d) only now the next row: a chunk that starts exactly here. One load of its offset word
      // rules out the common case (no chunk starts here) before the full three-load snapshot;
      // it is still loaded after the header, so the order b-before-d holds.
      if (row_index_ + 1 < chunk_count_ &&
          load_shared<std::uint64_t>(base_,
                                     lay::row_position(row_index_ + 1) + lay::row_offset_word) ==
              (static_cast<std::uint64_t>(position_) | lay::row_committed_bit)) {
        const row_snapshot next = load_row(row_index_ + 1);
        if (next.usable && next.offset() == position_) {
          const meeting met = meet_row(row_index_ + 1, next);
          if (met == meeting::resync) continue;
          if (met == meeting::corrupt) {
            return fail_corrupt("a chunk starts here with a token below the sequence read so far");
          }
        }
      }
      wrap = length == lay::length_wrap_marker;
    }

    if (wrap) {
      // (e) continue at chunk 0 only if it continues the sequence exactly
      const row_snapshot first = load_row(0);
      if (first.usable && first.token == sequence_ && !known_implausible(0, first)) {
        if (row_index_ == 0 && position_ == first.offset()) {
          return fail_corrupt("wrap marker at the start of chunk 0");
        }
        enter(0, first);
      } else {
        schedule_resync(sequence_);
      }
      continue;
    }

    // (f) validate, copy, fence, re-check the whole row
    if (length < lay::length_min_entry) return fail_corrupt("reserved entry length 2 or 3");
    if (length > size_ - position_) return fail_corrupt("entry runs past the end of the buffer");
    const std::size_t payload_size = length - lay::entry_header_size;
    // An empty payload (length 4) is legal; memcpy with the null data() of an empty scratch
    // buffer would be undefined even for 0 bytes, so there is nothing to copy then.
    if (copy_payload && payload_size > 0) {
      if (scratch_size_ < payload_size) grow_scratch(payload_size);
      detail::copy_from_shared(scratch_.get(), base_ + position_ + lay::entry_header_size,
                               payload_size);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (!load_row(row_index_).same_as(entered_)) {
      schedule_resync(sequence_);  // the copy may be torn: discard it
      continue;
    }
    if (sequence_ == std::numeric_limits<std::uint64_t>::max()) {
      return fail_corrupt("sequence number overflow");
    }
    ++sequence_;
    ++delivered_;
    const std::size_t next = lay::align_up(position_ + length, lay::entry_alignment);
    position_ = next < size_ ? next : size_;
    result.status = read_status::ok;
    result.sequence = sequence_;
    result.payload = std::span<const std::byte>(scratch_.get(), copy_payload ? payload_size : 0);
    return result;
  }
  return fail_corrupt("no progress: the chunk table forms a loop");
}

batch_result ring_reader::read_batch(std::size_t max_entries, std::size_t max_bytes) {
  batch_result batch;
  // The run: committed entries from the position on, each validated as read_next's fast path
  // does (step a's stop, committed with a length of at least 4 that fits the buffer); it ends
  // at the first that is not, at the far row or the buffer's end (stop_, 0 while a resync is
  // pending or detached), or at the limits.
  max_entries = std::max<std::size_t>(max_entries, 1);
  max_entries =
      std::min<std::uint64_t>(max_entries, std::numeric_limits<std::uint64_t>::max() - sequence_);
  if (views_.size() < max_entries) views_.resize(max_entries);
  const std::size_t start = position_;
  const std::size_t stop = stop_;
  if (start < stop && scratch_size_ < max_bytes) grow_scratch(max_bytes);
  std::byte* const copy = scratch_.get();  // buffer byte p lands at copy + (p - start)
  // The walk works on locals: its stores into views_ (and the copy calls) could otherwise alias
  // the members it reads, which the compiler would then re-load at every entry.
  const std::byte* const base = base_;
  const std::size_t size = size_;
  const std::uint64_t first_sequence = sequence_ + 1;
  batch_entry* const views = views_.data();
  // The limits hold for the headers too: a run never loads a byte past start + max_bytes (a
  // caller can keep a run inside one page, see shm_reader::read_batch). Headers start below
  // walk_limit (step a's stop, and room for a header within max_bytes); entries end at or
  // before end_limit (the buffer's end, and max_bytes).
  const std::size_t walk_limit =
      max_bytes < lay::entry_header_size
          ? start
          : std::min(stop, start + std::min(max_bytes - lay::entry_header_size, size) + 1);
  const std::size_t end_limit = start + std::min(max_bytes, size - start);
  std::size_t position = start;
  std::size_t end = start;     // one past the run's last payload byte
  std::size_t copied = start;  // bytes [start, copied) are copied
  std::size_t n = 0;
  while (n < max_entries && position < walk_limit) {
    // Each header's address depends on the previous header: without a prefetch the walk waits
    // a full cache miss per entry (three times the cost of the copy of a 64-byte entry).
    // A prefetch is a hint, not a load: it may run past the buffer's end harmlessly.
    __builtin_prefetch(base + position + walk_prefetch_distance);
    // (b) one acquire load per header; everything about the entry is judged against it.
    const auto header = load_shared<std::uint32_t>(base, position);
    if (header < (lay::entry_committed_bit | lay::length_min_entry)) break;
    const std::uint32_t length = header & lay::entry_length_mask;
    if (position + length > end_limit) break;
    views[n].sequence = first_sequence + n;
    views[n].payload = std::span<const std::byte>(
        copy + (position - start) + lay::entry_header_size, length - lay::entry_header_size);
    ++n;
    end = position + length;
    // Past `size` only when the buffer's size is not a multiple of 4 and this entry ends it:
    // then position >= walk_limit, the walk stops, and position is clamped after it. Kept off
    // the chain from one header load to the next, which sets the walk's pace.
    position = lay::align_up(end, lay::entry_alignment);
    // (f) the copy, a piece at a time behind the walk: each piece only after the headers of its
    // entries were loaded, and the copy's independent loads overlap the walk's dependent ones.
    // The first entry is copied at once: a reader that keeps up finds one entry per call, and
    // the next header load (on the line the writer stored last) would otherwise wait for its
    // line before the copy could start, one cross-core transfer after another (docs/
    // performance.md, issue 12: 75 ns per call).
    if (n == 1 || end - copied >= copy_piece) {
      detail::copy_from_shared(copy + (copied - start), base + copied, end - copied);
      copied = end;
    }
  }
  position = std::min(position, size);
  if (n > 0) {
    // (d) after every header load of the run: a committed next row that starts at one of the
    // run's entries ends the run there (step() meets it). A row start anywhere else matches no
    // entry, as in read_next.
    const auto word = load_shared<std::uint64_t>(base_, next_word_);
    const std::size_t at = static_cast<std::size_t>(word & lay::row_offset_mask);
    if ((word & lay::row_committed_bit) != 0 && at >= start && at < position) {
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t entry_at = start +
                                     static_cast<std::size_t>(views_[k].payload.data() - copy) -
                                     lay::entry_header_size;
        if (entry_at == at) {
          n = k;
          if (n > 0) {
            const batch_entry& last = views_[n - 1];
            end =
                start + static_cast<std::size_t>(last.payload.data() + last.payload.size() - copy);
            position = std::min(lay::align_up(end, lay::entry_alignment), size_);
          }
          break;
        }
      }
    }
  }
  if (n > 0) {
    // (f) the rest of the copy of the run (headers and padding included; bytes copied past a
    // cut are not handed out), one fence, one re-check of the whole row for every entry of it.
    if (end > copied)
      detail::copy_from_shared(copy + (copied - start), base_ + copied, end - copied);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (row_unchanged(base_ + row_word_)) {
      sequence_ += n;
      delivered_ += n;
      position_ = position;
      batch.status = read_status::ok;
      batch.entries = std::span<const batch_entry>(views_.data(), n);
      return batch;
    }
    schedule_resync(sequence_);  // the copy may be torn: discard the whole run
  }
  // Not a run: one step, exactly as read_next.
  const read_result one = read_next_slow();
  batch.status = one.status;
  batch.lost = one.lost;
  batch.detail = one.detail;
  if (one.status == read_status::ok) {
    views_[0].sequence = one.sequence;
    views_[0].payload = one.payload;
    batch.entries = std::span<const batch_entry>(views_.data(), 1);
  }
  return batch;
}

void ring_reader::skip_to_end() {
  // Walk without copying until "no data"; the walk is cheaper than the writer's writes, so it
  // catches up. Entries skipped here are not reported as lost: the caller asked to start now.
  constexpr std::uint64_t max_skips = std::uint64_t{1} << 26;
  for (std::uint64_t i = 0; i < max_skips; ++i) {
    const read_result r = step(false);
    if (r.status != read_status::ok && r.status != read_status::lapped) break;
  }
  delivered_ = 0;
  lost_ = 0;
}

}  // namespace ouroboros
