#include "data/viewport_anchor.hpp"

#include <algorithm>

#include "data/log_model.hpp"

namespace ouroboros::viewer {

void viewport_anchor::follow() noexcept {
  following_ = true;
  evicted_ = false;
}

void viewport_anchor::hold(const log_model& model, int top_row) {
  following_ = false;
  evicted_ = false;
  const int rows = model.rowCount();
  anchor_ = rows == 0 ? model.view().end : model.serial_at(std::clamp(top_row, 0, rows - 1));
}

int viewport_anchor::bottom_top_row(const log_model& model, int page_rows) {
  return std::max(0, model.rowCount() - std::max(1, page_rows));
}

int viewport_anchor::rows_below(const log_model& model, int top_row, int page_rows) {
  return std::max(0, model.rowCount() - top_row - std::max(1, page_rows));
}

int viewport_anchor::top_row(const log_model& model, int page_rows) {
  const int bottom = bottom_top_row(model, page_rows);
  if (following_) return bottom;
  const int rows = model.rowCount();
  if (rows == 0) return 0;
  // Evicted, as opposed to hidden by a filter: the history no longer has the anchored entry.
  // The view then stays with the oldest retained row, and keeps doing so as eviction goes on.
  if (anchor_ < model.view().first) {
    evicted_ = true;
    anchor_ = model.view().first;
  }
  const int row = model.row_at_or_after(anchor_);
  return row < 0 ? bottom : std::min(row, bottom);
}

}  // namespace ouroboros::viewer
