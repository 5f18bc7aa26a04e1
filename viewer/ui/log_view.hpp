// The log table: a view of its own that paints only the rows on screen.
//
// A QTableView pays per row of the model (its vertical header keeps one section per row, and
// every eviction shifts a million of them); this view pays per row on screen. It keeps its
// position as a viewport_anchor (follow the newest row, or hold an entry while rows arrive and
// are evicted) and its selection as serial ranges, so neither moves when rows go away above.
// Rows are repainted only when what is on screen changed, at most once per event-loop pass.
// Columns come from a QHeaderView (resize, move, hide through its context menu).
//
// Thread-safety: GUI thread only.
#pragma once

#include <QAbstractScrollArea>
#include <QElapsedTimer>
#include <QTimer>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "data/log_model.hpp"
#include "data/row_selection.hpp"
#include "data/viewport_anchor.hpp"

class QHeaderView;
class QMenu;

namespace ouroboros::viewer {

// The colour of segment `index` of a merged view (its Segment cells, toggle and status).
QColor segment_color(int index, bool dark);

class log_view : public QAbstractScrollArea {
  Q_OBJECT

 public:
  explicit log_view(QWidget* parent = nullptr);
  ~log_view() override;
  void set_log_model(log_model* model);
  log_model* model() const noexcept { return model_; }
  QHeaderView* header() const noexcept { return header_; }

  // Following and holding.
  bool following() const noexcept { return anchor_.following(); }
  bool anchor_evicted() const noexcept { return anchor_.anchor_evicted(); }
  void follow();  // resume following: jump to the newest row
  // Scrolls as the user would with the scroll bar: the view holds with `row` on top, or follows
  // when that is the bottom.
  void scroll_to(int row);
  // Rows below the last one on screen (0 while following).
  int rows_below() const;

  // Rows on screen.
  int top_row() const noexcept { return top_; }
  int page_rows() const;  // rows that fit completely
  int row_height() const noexcept { return row_height_; }
  int row_at(int y) const;         // -1 below the last row
  int bottom_visible_row() const;  // last row at least partly on screen, -1 when empty

  // Current row and selection (both by serial; rows are looked up when needed).
  int current_row() const;
  std::uint64_t current_serial() const noexcept { return current_; }
  void go_to_row(int row);  // make it current, select it, show it centred; holds the view
  void select_all();
  void clear_selection();
  const row_selection& selection() const noexcept { return selection_; }
  std::uint64_t selected_count() const;
  // Serials of the selected rows in table order; the current row when nothing is selected.
  std::vector<std::uint64_t> selected_serials() const;

  // Font zoom (Ctrl+plus/minus/0): steps of one point from the default size.
  void zoom(int steps);
  void reset_zoom();
  int zoom_steps() const noexcept { return zoom_; }

  // Painted frames so far (for tests and the benchmark: "nothing repainted when nothing changed").
  std::uint64_t paints() const noexcept { return paints_; }
  // Rows drawn so far (what a frame costs is about proportional to it).
  std::uint64_t painted_rows() const noexcept { return painted_rows_; }

  // A widget kept at the bottom right corner of the rows (the hold indicator).
  void set_overlay(QWidget* overlay);

  // Extra actions for the row context menu (the tab adds copy, filters, ...).
  void set_context_actions(std::vector<QAction*> actions) { context_actions_ = std::move(actions); }
  // Adds entries that depend on the row (built each time the menu opens, after the actions).
  void set_context_extras(std::function<void(QMenu&)> fill) { context_extras_ = std::move(fill); }
  // The row context menu as a right click shows it (tests trigger its actions).
  void fill_context_menu(QMenu& menu);

 signals:
  void followingChanged(bool following);
  // The current row moved to another entry (0 = none).
  void currentChanged(std::uint64_t serial);
  // The selection changed (count or rows).
  void selectionChanged();
  // rows_below() or anchor_evicted() may have changed (the hold indicator reads them).
  void positionChanged();

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void scrollContentsBy(int dx, int dy) override;
  bool viewportEvent(QEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void contextMenuEvent(QContextMenuEvent* event) override;
  void changeEvent(QEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;
  void focusInEvent(QFocusEvent* event) override;
  void focusOutEvent(QFocusEvent* event) override;

 private:
  void on_rows_removed();
  void on_rows_inserted(int first, int last);
  void on_reset();
  // Re-reads the anchor's top row and brings the scroll bar and the screen up to date.
  void reposition(bool force_repaint);
  void update_scrollbars(bool exact = true);
  void set_top(int row, bool exact);
  void request_paint(bool full);
  void flush_paint();
  int rows_moved() const;  // rows the screen moved up since it was last drawn
  bool blit_possible() const;
  void hold_here();
  void set_current(int row, Qt::KeyboardModifiers modifiers, bool from_mouse);
  void ensure_visible(int row, bool centre);
  void update_metrics();
  void update_palette();
  void header_menu(const QPoint& at);
  QString tooltip_at(const QPoint& at) const;

  class text_painter;
  std::array<std::unique_ptr<text_painter>, 3> faces_;  // normal, bold, italic
  log_model* model_ = nullptr;
  QHeaderView* header_;
  QAbstractItemModel* header_model_ = nullptr;
  viewport_anchor anchor_;
  row_selection selection_;
  std::uint64_t current_ = 0;      // serial of the current row, 0 = none
  std::uint64_t range_start_ = 0;  // serial where a Shift-extended selection starts
  int top_ = 0;                    // row shown at the top
  bool adjusting_ = false;         // the scroll bar is being set to match top_
  bool dragging_ = false;
  int row_height_ = 20;
  int zoom_ = 0;
  int base_point_size_ = 0;
  bool dark_ = false;
  std::uint64_t paints_ = 0;
  std::uint64_t painted_rows_ = 0;
  // What a screen shows: its first and last row, how many, and whether it starts at row 0
  // (whose time cell carries the date).
  struct screen_state {
    std::uint64_t top_serial = 0;
    std::uint64_t last_serial = 0;
    std::uint64_t rows = 0;
    bool at_start = false;
    bool operator==(const screen_state&) const = default;
  };
  screen_state screen_at(int top) const;
  screen_state wanted_;   // what the next frame must show
  screen_state painted_;  // what the backing store shows (or will once its dirty part is drawn)
  bool full_pending_ = false;
  QTimer paint_timer_;
  QElapsedTimer paint_clock_;
  QElapsedTimer scrollbar_clock_;
  static constexpr qint64 min_follow_frame_ms = 50;    // rows scroll in: blit + new rows
  static constexpr qint64 min_replace_frame_ms = 100;  // whole screens are replaced
  int last_rows_below_ = -1;
  bool last_evicted_ = false;
  std::vector<QAction*> context_actions_;
  std::function<void(QMenu&)> context_extras_;
  QWidget* overlay_ = nullptr;
  void place_overlay();
  QTimer drag_scroll_;
  int drag_direction_ = 0;
};

}  // namespace ouroboros::viewer
