// Which rows of a live table are on screen: the newest ones (following), or the rows from one
// anchored entry on (holding).
//
// Following, the view sticks to the bottom as rows arrive. Holding, it is pinned to an entry (a
// serial), not to a row number, so rows appended below and rows evicted above never move what
// the user reads. If the anchored entry itself is evicted, the view stays at the oldest retained
// row and anchor_evicted() says so until the user moves. The widget asks top_row() after every
// model change and reports what the user did; this class holds no Qt state, so it is tested
// headless.
//
// Thread-safety: a value type; not thread-safe (GUI thread).
#pragma once

#include <cstdint>

namespace ouroboros::viewer {

class log_model;

class viewport_anchor {
 public:
  bool following() const noexcept { return following_; }
  bool anchor_evicted() const noexcept { return evicted_; }
  std::uint64_t anchor() const noexcept { return anchor_; }

  // Resume following the newest row.
  void follow() noexcept;
  // Hold the view with `top_row` at the top (the user scrolled up, selected or searched).
  void hold(const log_model& model, int top_row);
  // The row to show at the top of a view `page_rows` rows tall, after rows were appended,
  // evicted or re-filtered.
  int top_row(const log_model& model, int page_rows);
  // Rows below the last one on screen (what "N new below" counts while holding).
  static int rows_below(const log_model& model, int top_row, int page_rows);
  // The largest top row: the newest row sits on the last line.
  static int bottom_top_row(const log_model& model, int page_rows);

 private:
  bool following_ = true;
  bool evicted_ = false;
  std::uint64_t anchor_ = 0;
};

}  // namespace ouroboros::viewer
