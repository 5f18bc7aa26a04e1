// The strip above a tab's table: entries per time bucket of the retained history, stacked by
// level, with the entries lost (gap rows) on top in hatched amber in the same column, restarts as
// blue lines, the rows on screen as a framed band and a chosen time range shaded. A column's
// height grows with the square root of its entries + lost; its parts share it by their counts.
//
// A click asks the tab to jump to that time; a drag chooses a time range (the tab filters the
// table to it). It reads the session's timeline when the counts changed and renders the bars into
// an image (O(buckets + width)); refresh() repaints only when the counts or the band moved.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QImage>
#include <QWidget>
#include <cstdint>

#include "data/entry.hpp"
#include "data/timeline.hpp"

namespace ouroboros::viewer {

class timeline_strip : public QWidget {
  Q_OBJECT

 public:
  explicit timeline_strip(const timeline* counts, QWidget* parent = nullptr);

  // Repaints if the counts changed since the last frame.
  void refresh();
  // The time span of the rows on screen (no_time: none).
  void set_view_range(std::int64_t from_ns, std::int64_t to_ns);
  // The chosen time range (no_time: none).
  void set_selection(std::int64_t from_ns, std::int64_t to_ns);

  // The time span the strip shows, [start, end); start == end when there is nothing.
  std::int64_t start_ns() const;
  std::int64_t end_ns() const;
  std::int64_t time_at(int x) const;
  int x_of(std::int64_t time_ns) const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 signals:
  void timeClicked(std::int64_t time_ns);
  void rangeSelected(std::int64_t from_ns, std::int64_t to_ns);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void render_bars(bool dark);

  const timeline* counts_;
  QImage bars_;  // the bars as of bars_version_ (the frame and range are drawn over them)
  std::uint64_t bars_version_ = ~std::uint64_t{0};
  bool bars_dark_ = false;
  std::uint64_t painted_version_ = ~std::uint64_t{0};
  std::int64_t view_from_ = no_time;
  std::int64_t view_to_ = no_time;
  std::int64_t selection_from_ = no_time;
  std::int64_t selection_to_ = no_time;
  int press_x_ = -1;
  int drag_x_ = -1;
  bool dragging_ = false;
};

}  // namespace ouroboros::viewer
