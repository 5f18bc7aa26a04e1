#include "ui/timeline_strip.hpp"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "data/format.hpp"

namespace ouroboros::viewer {

namespace {
constexpr int strip_height = 44;
constexpr int drag_threshold = 4;

// Level slots bottom to top: trace, debug, info, warn, error, critical, no level.
QColor level_color(int slot, bool dark) {
  static const QColor light[level_slots] = {QColor(0xbd, 0xbd, 0xbd), QColor(0x90, 0xa4, 0xae),
                                            QColor(0x66, 0xbb, 0x6a), QColor(0xff, 0xa7, 0x26),
                                            QColor(0xe5, 0x39, 0x35), QColor(0x8e, 0x00, 0x00),
                                            QColor(0x9e, 0x9e, 0xc8)};
  static const QColor night[level_slots] = {QColor(0x61, 0x61, 0x61), QColor(0x54, 0x6e, 0x7a),
                                            QColor(0x43, 0xa0, 0x47), QColor(0xfb, 0x8c, 0x00),
                                            QColor(0xe5, 0x39, 0x35), QColor(0xff, 0x52, 0x52),
                                            QColor(0x7e, 0x7e, 0xb0)};
  return (dark ? night : light)[slot];
}

struct column {
  std::array<std::uint64_t, level_slots> levels{};
  std::uint64_t lost = 0;
  std::uint32_t restarts = 0;
  std::uint64_t height() const {
    std::uint64_t sum = lost;
    for (const std::uint64_t n : levels) sum += n;
    return sum;
  }
};
}  // namespace

timeline_strip::timeline_strip(const timeline* counts, QWidget* parent)
    : QWidget(parent), counts_(counts) {
  setObjectName(QStringLiteral("timeline"));
  setAttribute(Qt::WA_OpaquePaintEvent);
  setMouseTracking(false);
  setCursor(Qt::CrossCursor);
  setToolTip(
      tr("Entries per time over the kept history, by level; hatched amber: entries lost; "
         "blue lines: writer restarts; the frame: rows on screen.\nClick to jump to a "
         "time, drag to show only a time range."));
}

QSize timeline_strip::sizeHint() const {
  return {400, strip_height};
}
QSize timeline_strip::minimumSizeHint() const {
  return {100, strip_height};
}

std::int64_t timeline_strip::start_ns() const {
  return counts_->origin_ns();
}
std::int64_t timeline_strip::end_ns() const {
  return counts_->origin_ns() +
         static_cast<std::int64_t>(counts_->buckets().size()) * counts_->width_ns();
}

std::int64_t timeline_strip::time_at(int x) const {
  const std::int64_t start = start_ns();
  const std::int64_t span = end_ns() - start;
  if (span <= 0 || width() <= 0) return start;
  const double fraction = std::clamp(static_cast<double>(x) / width(), 0.0, 1.0);
  return start + static_cast<std::int64_t>(fraction * static_cast<double>(span));
}

int timeline_strip::x_of(std::int64_t time_ns) const {
  const std::int64_t start = start_ns();
  const std::int64_t span = end_ns() - start;
  if (span <= 0) return 0;
  const double fraction = static_cast<double>(time_ns - start) / static_cast<double>(span);
  return static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width());
}

void timeline_strip::refresh() {
  if (counts_->version() != painted_version_) update();
}

void timeline_strip::set_view_range(std::int64_t from_ns, std::int64_t to_ns) {
  if (from_ns == view_from_ && to_ns == view_to_) return;
  // The band moves by whole pixels: repaint only when it does.
  const bool moved = view_from_ == no_time || from_ns == no_time ||
                     x_of(from_ns) != x_of(view_from_) || x_of(to_ns) != x_of(view_to_);
  view_from_ = from_ns;
  view_to_ = to_ns;
  if (moved) update();
}

void timeline_strip::set_selection(std::int64_t from_ns, std::int64_t to_ns) {
  selection_from_ = from_ns;
  selection_to_ = to_ns;
  update();
}

void timeline_strip::render_bars(bool dark) {
  const int w = width();
  const int h = height();
  bars_ = QImage(std::max(1, w), std::max(1, h), QImage::Format_RGB32);
  bars_.fill(palette().color(QPalette::Base));
  bars_version_ = counts_->version();
  bars_dark_ = dark;
  const auto& buckets = counts_->buckets();
  if (w <= 2 || h <= 2 || buckets.empty()) return;
  // One column per pixel (buckets narrower than a pixel add up; wider ones repeat).
  std::vector<column> columns(static_cast<std::size_t>(w));
  const std::size_t n = buckets.size();
  for (std::size_t i = 0; i < n; ++i) {
    const timeline_bucket& b = buckets[i];
    if (b.empty()) continue;
    const auto x0 = static_cast<int>(i * static_cast<std::size_t>(w) / n);
    auto x1 = static_cast<int>((i + 1) * static_cast<std::size_t>(w) / n);
    if (x1 <= x0) x1 = x0 + 1;
    for (int x = x0; x < std::min(x1, w); ++x) {
      column& c = columns[static_cast<std::size_t>(x)];
      for (int l = 0; l < level_slots; ++l) c.levels[l] += b.levels[l];
      c.lost += b.lost;
      c.restarts += b.restarts;
      if (n > static_cast<std::size_t>(w)) break;  // summed, not repeated
    }
  }
  std::uint64_t tallest = 1;
  for (const column& c : columns) tallest = std::max(tallest, c.height());
  // A column's height grows with the square root of its count (a burst of loss next to a quiet
  // flow stays readable); within it, levels and loss share the height by their counts.
  const double top = std::sqrt(static_cast<double>(tallest));
  const int inner = h - 2;  // one pixel of border above and below

  // Pixels written straight into the image: a few tens of thousands of stores, far cheaper
  // than thousands of one-pixel rectangles through the paint engine.
  QRgb level_rgb[level_slots];
  for (int l = 0; l < level_slots; ++l) level_rgb[l] = level_color(l, dark).rgb();
  const QRgb amber = (dark ? QColor(0x5c, 0x3d, 0x00) : QColor(0xff, 0xe0, 0x9e)).rgb();
  const QRgb hatch = (dark ? QColor(0xff, 0xc1, 0x07) : QColor(0xff, 0x8f, 0x00)).rgb();
  const QRgb restart = (dark ? QColor(0x64, 0xb5, 0xf6) : QColor(0x15, 0x65, 0xc0)).rgb();
  auto pixel = [&](int x, int y) -> QRgb& { return reinterpret_cast<QRgb*>(bars_.scanLine(y))[x]; };
  for (int x = 0; x < w; ++x) {
    const column& c = columns[static_cast<std::size_t>(x)];
    const std::uint64_t count = c.height();
    if (count == 0) continue;
    const double scale = static_cast<double>(inner) * std::sqrt(static_cast<double>(count)) / top /
                         static_cast<double>(count);
    int y = h - 1;  // first row above the bottom border
    for (int l = 0; l < level_slots && y > 1; ++l) {
      if (c.levels[l] == 0) continue;
      const int rows =
          std::max(1, static_cast<int>(static_cast<double>(c.levels[l]) * scale + 0.5));
      for (int k = 0; k < rows && y > 1; ++k) pixel(x, --y) = level_rgb[l];
    }
    if (c.lost != 0) {
      const int rows = std::max(2, static_cast<int>(static_cast<double>(c.lost) * scale + 0.5));
      for (int k = 0; k < rows && y > 1; ++k) {
        --y;
        pixel(x, y) = ((x + y) & 3) < 2 ? hatch : amber;
      }
    }
  }
  for (int x = 0; x < w; ++x) {
    if (columns[static_cast<std::size_t>(x)].restarts == 0) continue;
    for (int y = 1; y < h - 1; ++y) {
      pixel(x, y) = restart;
      if (x + 1 < w) pixel(x + 1, y) = restart;
    }
  }
}

void timeline_strip::paintEvent(QPaintEvent*) {
  painted_version_ = counts_->version();
  QPainter painter(this);
  const QPalette& colors = palette();
  const bool dark = colors.color(QPalette::Window).lightness() < 128;
  const QRect area = rect();
  if (bars_.size() != area.size() || bars_version_ != counts_->version() || bars_dark_ != dark) {
    render_bars(dark);
  }
  painter.drawImage(0, 0, bars_);
  const int w = area.width();
  if (w <= 0 || counts_->buckets().empty()) {
    painter.setPen(colors.color(QPalette::Mid));
    painter.drawRect(area.adjusted(0, 0, -1, -1));
    return;
  }

  // The chosen range (or the one being dragged), then the rows on screen.
  const QColor highlight = colors.color(QPalette::Highlight);
  auto shade = [&](int a, int b) {
    QColor fill = highlight;
    fill.setAlpha(60);
    painter.fillRect(QRect(std::min(a, b), 0, std::max(2, std::abs(b - a)), area.height()), fill);
  };
  if (dragging_) {
    shade(press_x_, drag_x_);
  } else if (selection_from_ != no_time) {
    shade(x_of(selection_from_), x_of(selection_to_));
  }
  if (view_from_ != no_time && view_to_ != no_time) {
    const int a = x_of(view_from_);
    const int b = std::max(a + 2, x_of(view_to_));
    // In the text colour: blue lines are restarts.
    QColor frame = colors.color(QPalette::Text);
    frame.setAlpha(170);
    QColor inside = colors.color(QPalette::Text);
    inside.setAlpha(28);
    painter.fillRect(QRect(a, 1, b - a, area.height() - 2), inside);
    painter.setPen(QPen(frame, 2));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(QRect(a, 1, b - a, area.height() - 2));
  }
  painter.setPen(colors.color(QPalette::Mid));
  painter.setBrush(Qt::NoBrush);
  painter.drawRect(area.adjusted(0, 0, -1, -1));
}

void timeline_strip::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
  press_x_ = drag_x_ = static_cast<int>(event->position().x());
  dragging_ = false;
}

void timeline_strip::mouseMoveEvent(QMouseEvent* event) {
  if (press_x_ < 0) return;
  drag_x_ = static_cast<int>(event->position().x());
  if (std::abs(drag_x_ - press_x_) >= drag_threshold) dragging_ = true;
  if (dragging_) update();
}

void timeline_strip::mouseReleaseEvent(QMouseEvent* event) {
  if (press_x_ < 0 || event->button() != Qt::LeftButton) return;
  const int x = static_cast<int>(event->position().x());
  const bool range = dragging_ || std::abs(x - press_x_) >= drag_threshold;
  const int from = std::min(press_x_, x);
  const int to = std::max(press_x_, x);
  press_x_ = drag_x_ = -1;
  dragging_ = false;
  if (counts_->buckets().empty()) return;
  if (range) {
    emit rangeSelected(time_at(from), time_at(to));
  } else {
    emit timeClicked(time_at(x));
  }
  update();
}

bool timeline_strip::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip && !counts_->buckets().empty()) {
    auto* help = static_cast<QHelpEvent*>(event);
    const std::int64_t t = time_at(help->pos().x());
    const auto index =
        static_cast<std::size_t>(std::max<std::int64_t>(0, (t - start_ns()) / counts_->width_ns()));
    if (index < counts_->buckets().size()) {
      const timeline_bucket& b = counts_->buckets()[index];
      QString text = tr("%1: %2 entries").arg(format_time(t, false)).arg(b.entries());
      if (b.lost != 0) text += tr(", %1 lost").arg(b.lost);
      if (b.restarts != 0) text += tr(", %1 restart(s)").arg(b.restarts);
      text += tr("\n(%1 ms a bucket)").arg(counts_->width_ns() / 1'000'000);
      QToolTip::showText(help->globalPos(), text, this);
      return true;
    }
  }
  return QWidget::event(event);
}

}  // namespace ouroboros::viewer
