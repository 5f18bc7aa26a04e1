#include "ui/log_view.hpp"

#include <QAbstractTableModel>
#include <QContextMenuEvent>
#include <QGlyphRun>
#include <QHash>
#include <QHeaderView>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QPainter>
#include <QRawFont>
#include <QScrollBar>
#include <QStaticText>
#include <QToolTip>
#include <algorithm>

namespace ouroboros::viewer {

namespace {

// The header shows the log model's columns but must not see its rows: a QHeaderView attached
// to a model with a million rows pays for every row it is told about.
class column_model : public QAbstractTableModel {
 public:
  column_model(log_model* source, QObject* parent) : QAbstractTableModel(parent), source_(source) {
    connect(source, &QAbstractItemModel::headerDataChanged, this,
            &QAbstractItemModel::headerDataChanged);
  }
  int rowCount(const QModelIndex&) const override { return 0; }
  int columnCount(const QModelIndex& parent) const override {
    return parent.isValid() ? 0 : source_->columnCount();
  }
  QVariant data(const QModelIndex&, int) const override { return {}; }
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override {
    return source_->headerData(section, orientation, role);
  }

 private:
  log_model* source_;
};

struct row_look {
  QColor background;  // invalid: the striped base
  QColor text;        // invalid: the palette's text
  bool bold = false;
  bool italic = false;
};

// Colours of rows by kind and level; the level column carries the level colour on every row,
// the whole row only from warn up (and trace, which is dimmed).
row_look look_of(const entry& row, int column, bool dark) {
  row_look look;
  const row_kind kind = row.kind();
  if (kind == row_kind::gap) {
    look.background = dark ? QColor(0x5c, 0x3d, 0x00) : QColor(0xff, 0xe0, 0x9e);
    look.text = dark ? QColor(0xff, 0xd5, 0x80) : QColor(0x6d, 0x3a, 0x00);
    look.bold = true;
    return look;
  }
  if (kind == row_kind::separator || kind == row_kind::notice) {
    look.background = dark ? QColor(0x1e, 0x3a, 0x5f) : QColor(0xd6, 0xe6, 0xff);
    look.italic = true;
    return look;
  }
  if (kind == row_kind::malformed) {
    look.text = dark ? QColor(0xff, 0x8a, 0x80) : QColor(0xb7, 0x1c, 0x1c);
    return look;
  }
  static const QColor light[6] = {QColor(0x90, 0x90, 0x90), QColor(0x4f, 0x6d, 0x8a),
                                  QColor(0x1b, 0x7f, 0x3a), QColor(0xb2, 0x6a, 0x00),
                                  QColor(0xc6, 0x28, 0x28), QColor(0xff, 0xff, 0xff)};
  static const QColor night[6] = {QColor(0x8a, 0x8a, 0x8a), QColor(0x8f, 0xb3, 0xd0),
                                  QColor(0x81, 0xc7, 0x84), QColor(0xff, 0xb7, 0x4d),
                                  QColor(0xff, 0x6e, 0x6e), QColor(0xff, 0xff, 0xff)};
  const int level = row.level;
  if (level > 5) return look;
  const bool level_column = column == log_model::col_level;
  if (level == 5) {  // critical: the whole row stands out
    look.background = dark ? QColor(0x8b, 0x1a, 0x1a) : QColor(0xc6, 0x28, 0x28);
    look.text = QColor(0xff, 0xff, 0xff);
    look.bold = level_column;
    return look;
  }
  if (level_column || level >= 3 || level == 0) look.text = (dark ? night : light)[level];
  look.bold = level_column && level >= 3;
  return look;
}

constexpr int cell_padding = 4;

}  // namespace

QColor segment_color(int index, bool dark) {
  // Distinct hues that read on both bases and differ from the level colours' meaning.
  static const QColor light[8] = {QColor(0x15, 0x65, 0xc0), QColor(0x8e, 0x24, 0xaa),
                                  QColor(0x00, 0x83, 0x8f), QColor(0xad, 0x14, 0x57),
                                  QColor(0x55, 0x8b, 0x2f), QColor(0x6d, 0x4c, 0x41),
                                  QColor(0x30, 0x3f, 0x9f), QColor(0xef, 0x6c, 0x00)};
  static const QColor night[8] = {QColor(0x64, 0xb5, 0xf6), QColor(0xce, 0x93, 0xd8),
                                  QColor(0x4d, 0xd0, 0xe1), QColor(0xf4, 0x8f, 0xb1),
                                  QColor(0xae, 0xd5, 0x81), QColor(0xbc, 0xaa, 0xa4),
                                  QColor(0x9f, 0xa8, 0xda), QColor(0xff, 0xb7, 0x4d)};
  const int slot = ((index % 8) + 8) % 8;
  return (dark ? night : light)[slot];
}

log_view::log_view(QWidget* parent) : QAbstractScrollArea(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setFrameShape(QFrame::StyledPanel);
  viewport()->setAttribute(Qt::WA_OpaquePaintEvent);  // every pixel is painted by paintEvent
  viewport()->setMouseTracking(false);
  base_point_size_ = font().pointSize();

  header_ = new QHeaderView(Qt::Horizontal, this);
  header_->setSectionsMovable(true);
  header_->setSectionsClickable(false);
  header_->setHighlightSections(false);
  header_->setStretchLastSection(true);
  header_->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  header_->setContextMenuPolicy(Qt::CustomContextMenu);
  header_->setMinimumSectionSize(24);
  connect(header_, &QHeaderView::customContextMenuRequested, this, &log_view::header_menu);
  connect(header_, &QHeaderView::sectionResized, this, [this] {
    update_scrollbars();
    viewport()->update();
  });
  connect(header_, &QHeaderView::sectionMoved, this, [this] { viewport()->update(); });
  connect(header_, &QHeaderView::geometriesChanged, this, [this] { update_metrics(); });

  verticalScrollBar()->setSingleStep(1);
  horizontalScrollBar()->setSingleStep(20);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOn);

  paint_timer_.setSingleShot(true);
  connect(&paint_timer_, &QTimer::timeout, this, [this] { flush_paint(); });
  verticalScrollBar()->installEventFilter(this);

  // Dragging a selection past the top or bottom edge keeps scrolling.
  drag_scroll_.setInterval(40);
  connect(&drag_scroll_, &QTimer::timeout, this, [this] {
    if (!model_ || drag_direction_ == 0) return;
    const int target = drag_direction_ < 0 ? std::max(0, top_ - 1)
                                           : std::min(model_->rowCount() - 1, top_ + page_rows());
    if (target >= 0) set_current(target, Qt::ShiftModifier, true);
  });
  update_palette();
  update_metrics();
}

log_view::~log_view() = default;

void log_view::set_log_model(log_model* model) {
  model_ = model;
  delete header_model_;
  header_model_ = new column_model(model, this);
  header_->setModel(header_model_);
  const int widths[] = {96, 130, 72, 90, 64};
  for (int c = 0; c < 5; ++c) header_->resizeSection(c, widths[c]);
  if (model->merged()) {
    // Merged views: the segment right after the time, where the eye reads the order.
    header_->resizeSection(log_model::col_segment, 120);
    header_->moveSection(header_->visualIndex(log_model::col_segment), 2);
  }

  connect(model, &QAbstractItemModel::rowsRemoved, this, [this] { on_rows_removed(); });
  connect(model, &QAbstractItemModel::rowsInserted, this,
          [this](const QModelIndex&, int first, int last) { on_rows_inserted(first, last); });
  connect(model, &QAbstractItemModel::modelReset, this, [this] { on_reset(); });
  connect(model, &QAbstractItemModel::dataChanged, this, [this] { viewport()->update(); });
  connect(model, &QAbstractItemModel::headerDataChanged, this, [this] { viewport()->update(); });
  connect(model, &log_model::bookmarksChanged, this, [this] { viewport()->update(); });
  reposition(true);
}

// ---- geometry -------------------------------------------------------------------------------

void log_view::update_metrics() {
  const QFontMetrics metrics(font());
  row_height_ = std::max(8, metrics.height() + 6);
  const int header_height = header_->sizeHint().height();
  setViewportMargins(0, header_height, 0, 0);
  const QRect area = viewport()->geometry();
  header_->setGeometry(area.left(), area.top() - header_height, area.width(), header_height);
  update_scrollbars();
}

int log_view::page_rows() const {
  return std::max(1, viewport()->height() / std::max(1, row_height_));
}

int log_view::row_at(int y) const {
  if (!model_ || y < 0) return -1;
  const int row = top_ + y / row_height_;
  return row < model_->rowCount() ? row : -1;
}

int log_view::bottom_visible_row() const {
  if (!model_ || model_->rowCount() == 0) return -1;
  const int last = top_ + (viewport()->height() - 1) / row_height_;
  return std::min(last, model_->rowCount() - 1);
}

int log_view::rows_below() const {
  if (!model_ || anchor_.following()) return 0;
  return viewport_anchor::rows_below(*model_, top_, page_rows());
}

void log_view::update_scrollbars(bool exact) {
  const int page = page_rows();
  const int maximum = model_ ? viewport_anchor::bottom_top_row(*model_, page) : 0;
  QScrollBar* bar = verticalScrollBar();
  // A scroll bar repaints on every change of its range or value. Under a writer the range
  // changes with every row while the handle moves by a pixel or two: the bar is brought up to
  // date when its handle would move by more than a few pixels, else once a second, and always
  // exactly before the user touches it (eventFilter, wheelEvent).
  if (!exact && !bar->isSliderDown() && bar->pageStep() == page && scrollbar_clock_.isValid() &&
      scrollbar_clock_.elapsed() < 1000) {
    // Following, the handle sits at the bottom and only its length tells how much history
    // there is: once a second is enough (a Fusion scroll bar costs more to paint than the rows
    // that scrolled in).
    if (anchor_.following() && bar->value() == bar->maximum()) return;
    const int groove = std::max(1, bar->height() - 2 * bar->width());
    auto handle = [&](int max, int value) {
      if (max <= 0) return std::pair<int, int>{groove, 0};
      const int length = std::max(20, static_cast<int>(static_cast<double>(groove) * page /
                                                       (static_cast<double>(max) + page)));
      const int at = static_cast<int>(static_cast<double>(groove - length) * value / max + 0.5);
      return std::pair<int, int>{length, at};
    };
    const auto [old_length, old_at] = handle(bar->maximum(), bar->value());
    const auto [new_length, new_at] = handle(maximum, top_);
    if (std::abs(old_length - new_length) <= 4 && std::abs(old_at - new_at) <= 4) return;
  }
  scrollbar_clock_.start();
  adjusting_ = true;
  bar->setPageStep(page);
  bar->setRange(0, maximum);
  if (bar->value() != top_) bar->setValue(top_);
  QScrollBar* across = horizontalScrollBar();
  across->setPageStep(viewport()->width());
  across->setRange(0, std::max(0, header_->length() - viewport()->width()));
  adjusting_ = false;
}

bool log_view::eventFilter(QObject* watched, QEvent* event) {
  if (watched == verticalScrollBar()) {
    switch (event->type()) {
      case QEvent::MouseButtonPress:
      case QEvent::Wheel:
      case QEvent::KeyPress: update_scrollbars(true); break;
      default: break;
    }
  }
  return QAbstractScrollArea::eventFilter(watched, event);
}

void log_view::wheelEvent(QWheelEvent* event) {
  update_scrollbars(true);  // scroll from where the rows really are
  QAbstractScrollArea::wheelEvent(event);
}

void log_view::set_top(int row, bool exact) {
  top_ = std::max(0, row);
  update_scrollbars(exact);
}

log_view::screen_state log_view::screen_at(int top) const {
  const int rows = model_ ? model_->rowCount() : 0;
  const int page = page_rows() + 1;
  const int last = std::min(rows, top + page) - 1;
  return screen_state{top < rows ? model_->serial_at(top) : 0,
                      last >= top ? model_->serial_at(last) : 0,
                      static_cast<std::uint64_t>(last - top + 1), top == 0 && rows > 0};
}

void log_view::reposition(bool force_repaint) {
  if (!model_) return;
  // What is on screen before and after: repaint only if it differs. Stripes follow
  // removed_rows() + row, so rows that stay also keep their look.
  const int top = anchor_.top_row(*model_, page_rows());
  const screen_state next = screen_at(top);
  const bool changed = force_repaint || top != top_ || next != wanted_;
  set_top(top, force_repaint);
  wanted_ = next;
  if (changed) request_paint(force_repaint);
  const int below = rows_below();
  if (below != last_rows_below_ || anchor_.anchor_evicted() != last_evicted_) {
    last_rows_below_ = below;
    last_evicted_ = anchor_.anchor_evicted();
    emit positionChanged();
  }
}

void log_view::request_paint(bool full) {
  full_pending_ = full_pending_ || full;
  // Following a fast writer, the screen changes every tick; nobody reads text that changes 40
  // times a second. The view then repaints at most 20 times a second while rows scroll in (a
  // blit and the new rows), and 10 times a second when whole screens of new rows replace each
  // other, which costs a full frame of text each time.
  if (!full && anchor_.following() && paint_clock_.isValid()) {
    const qint64 interval = blit_possible() ? min_follow_frame_ms : min_replace_frame_ms;
    if (paint_clock_.elapsed() < interval) {
      if (!paint_timer_.isActive())
        paint_timer_.start(static_cast<int>(interval - paint_clock_.elapsed()));
      return;
    }
  }
  paint_timer_.stop();
  flush_paint();
}

int log_view::rows_moved() const {
  const int painted_row = painted_.top_serial != 0 ? model_->row_of(painted_.top_serial) : -1;
  return painted_row >= 0 ? top_ - painted_row : 0;
}

bool log_view::blit_possible() const {
  const int moved = rows_moved();
  const int visible = viewport()->height() / row_height_ + 1;
  return !full_pending_ && moved > 0 && moved < visible - 1 && painted_.top_serial != 0 &&
         !wanted_.at_start && !painted_.at_start;
}

void log_view::flush_paint() {
  if (!model_) return;
  paint_clock_.start();
  const int visible = viewport()->height() / row_height_ + 1;
  // Rows that moved up since the last frame are moved as pixels (a blit of the backing
  // store); only the rows new on screen are drawn.
  if (blit_possible()) {
    const int moved = rows_moved();
    viewport()->scroll(0, -moved * row_height_);
    // The row that was cut at the bottom is now whole: draw it again with the new ones.
    const int kept = visible - moved - 1;
    viewport()->update(
        QRect(0, std::max(0, kept - 1) * row_height_, viewport()->width(), viewport()->height()));
  } else {
    viewport()->update();
  }
  // The backing store now holds (or will, once the dirty part is drawn) this screen: the next
  // blit is measured from here, even if no paint event came in between.
  painted_ = wanted_;
  full_pending_ = false;
}

void log_view::on_rows_removed() {
  reposition(false);
}

void log_view::on_rows_inserted(int, int) {
  reposition(false);
}

void log_view::on_reset() {
  reposition(true);
  emit selectionChanged();
}

void log_view::resizeEvent(QResizeEvent* event) {
  QAbstractScrollArea::resizeEvent(event);
  update_metrics();
  place_overlay();
  reposition(true);
}

void log_view::set_overlay(QWidget* overlay) {
  overlay_ = overlay;
  overlay_->setParent(this);
  place_overlay();
}

void log_view::place_overlay() {
  if (!overlay_) return;
  const QSize size = overlay_->sizeHint();
  const QRect area = viewport()->geometry();
  overlay_->setGeometry(area.right() - size.width() - 10, area.bottom() - size.height() - 8,
                        size.width(), size.height());
  overlay_->raise();
}

void log_view::scrollContentsBy(int dx, int dy) {
  if (dx != 0) {
    header_->setOffset(horizontalScrollBar()->value());
    viewport()->update();
  }
  if (dy == 0 || adjusting_ || !model_) return;
  // The user moved the vertical scroll bar (drag, wheel, keys on the bar).
  const int value = verticalScrollBar()->value();
  const bool was_following = anchor_.following();
  if (value >= verticalScrollBar()->maximum()) {
    anchor_.follow();
  } else {
    anchor_.hold(*model_, value);
  }
  top_ = value;
  if (was_following != anchor_.following()) emit followingChanged(anchor_.following());
  reposition(true);
}

// ---- following and holding ------------------------------------------------------------------

void log_view::follow() {
  const bool was_following = anchor_.following();
  anchor_.follow();
  if (!was_following) emit followingChanged(true);
  reposition(true);
}

void log_view::scroll_to(int row) {
  update_scrollbars(true);
  verticalScrollBar()->setValue(row);
}

void log_view::hold_here() {
  if (!model_) return;
  const bool was_following = anchor_.following();
  anchor_.hold(*model_, top_);
  if (was_following) emit followingChanged(false);
}

void log_view::ensure_visible(int row, bool centre) {
  if (!model_ || row < 0) return;
  const int page = page_rows();
  int top = top_;
  if (centre && (row < top_ || row >= top_ + page)) {
    top = row - page / 2;
  } else if (row < top_) {
    top = row;
  } else if (row >= top_ + page) {
    top = row - page + 1;
  }
  top = std::clamp(top, 0, viewport_anchor::bottom_top_row(*model_, page));
  const bool was_following = anchor_.following();
  anchor_.hold(*model_, top);
  if (was_following) emit followingChanged(false);
  reposition(top != top_);
}

// ---- current row and selection --------------------------------------------------------------

int log_view::current_row() const {
  return model_ && current_ != 0 ? model_->row_of(current_) : -1;
}

std::uint64_t log_view::selected_count() const {
  return model_ ? selection_.count(*model_) : 0;
}

std::vector<std::uint64_t> log_view::selected_serials() const {
  if (!model_) return {};
  std::vector<std::uint64_t> serials = selection_.serials(*model_);
  if (serials.empty() && current_row() >= 0) serials.push_back(current_);
  return serials;
}

void log_view::set_current(int row, Qt::KeyboardModifiers modifiers, bool from_mouse) {
  if (!model_ || row < 0 || row >= model_->rowCount()) return;
  const std::uint64_t serial = model_->serial_at(row);
  if ((modifiers & Qt::ShiftModifier) && range_start_ != 0) {
    if (modifiers & Qt::ControlModifier) {
      selection_.add(range_start_, serial);
    } else {
      selection_.select(range_start_, serial);
    }
  } else if ((modifiers & Qt::ControlModifier) && from_mouse) {
    selection_.toggle(serial);
    range_start_ = serial;
  } else {
    selection_.select(serial, serial);
    range_start_ = serial;
  }
  const bool moved = serial != current_;
  current_ = serial;
  hold_here();
  ensure_visible(row, false);
  viewport()->update();
  if (moved) emit currentChanged(serial);
  emit selectionChanged();
}

void log_view::go_to_row(int row) {
  if (!model_ || row < 0 || row >= model_->rowCount()) return;
  const std::uint64_t serial = model_->serial_at(row);
  selection_.select(serial, serial);
  range_start_ = serial;
  const bool moved = serial != current_;
  current_ = serial;
  ensure_visible(row, true);
  viewport()->update();
  if (moved) emit currentChanged(serial);
  emit selectionChanged();
}

void log_view::select_all() {
  if (!model_ || model_->rowCount() == 0) return;
  selection_.select(model_->serial_at(0), model_->serial_at(model_->rowCount() - 1));
  hold_here();
  viewport()->update();
  emit selectionChanged();
}

void log_view::clear_selection() {
  if (selection_.empty()) return;
  selection_.clear();
  viewport()->update();
  emit selectionChanged();
}

// ---- input ----------------------------------------------------------------------------------

void log_view::keyPressEvent(QKeyEvent* event) {
  if (!model_) return QAbstractScrollArea::keyPressEvent(event);
  const int rows = model_->rowCount();
  const Qt::KeyboardModifiers mods = event->modifiers();
  const int current = current_row();
  auto move_to = [&](int row) {
    if (rows == 0) return;
    set_current(std::clamp(row, 0, rows - 1), mods & Qt::ShiftModifier, false);
  };
  // Without a current row, keys start from what is on screen.
  const int from = current >= 0 ? current : -1;
  switch (event->key()) {
    case Qt::Key_Up: move_to(from < 0 ? bottom_visible_row() : from - 1); return;
    case Qt::Key_Down: move_to(from < 0 ? top_ : from + 1); return;
    case Qt::Key_PageUp: move_to((from < 0 ? top_ : from) - page_rows()); return;
    case Qt::Key_PageDown: move_to((from < 0 ? top_ : from) + page_rows()); return;
    case Qt::Key_Home: move_to(0); return;
    case Qt::Key_End:
      if (mods & Qt::ShiftModifier) {
        move_to(rows - 1);
      } else {
        follow();
      }
      return;
    case Qt::Key_Left:
      horizontalScrollBar()->triggerAction(QAbstractSlider::SliderSingleStepSub);
      return;
    case Qt::Key_Right:
      horizontalScrollBar()->triggerAction(QAbstractSlider::SliderSingleStepAdd);
      return;
    case Qt::Key_Escape: clear_selection(); return;
    default: break;
  }
  if (event->matches(QKeySequence::SelectAll)) {
    select_all();
    return;
  }
  QAbstractScrollArea::keyPressEvent(event);
}

void log_view::mousePressEvent(QMouseEvent* event) {
  setFocus(Qt::MouseFocusReason);
  const int row = row_at(event->position().toPoint().y());
  if (row < 0) return;
  if (event->button() == Qt::LeftButton) {
    set_current(row, event->modifiers(), true);
    dragging_ = true;
  } else if (event->button() == Qt::RightButton) {
    // A right click on an unselected row makes it the selection the menu acts on.
    if (!selection_.contains(model_->serial_at(row))) set_current(row, Qt::NoModifier, true);
  }
}

void log_view::mouseMoveEvent(QMouseEvent* event) {
  if (!dragging_ || !model_) return;
  const int y = event->position().toPoint().y();
  drag_direction_ = y < 0 ? -1 : (y >= viewport()->height() ? 1 : 0);
  if (drag_direction_ != 0) {
    if (!drag_scroll_.isActive()) drag_scroll_.start();
    return;
  }
  drag_scroll_.stop();
  const int row = row_at(y);
  if (row >= 0 && model_->serial_at(row) != current_) set_current(row, Qt::ShiftModifier, true);
}

void log_view::mouseReleaseEvent(QMouseEvent*) {
  dragging_ = false;
  drag_scroll_.stop();
  drag_direction_ = 0;
}

void log_view::mouseDoubleClickEvent(QMouseEvent* event) {
  mousePressEvent(event);
}

void log_view::fill_context_menu(QMenu& menu) {
  for (QAction* action : context_actions_) {
    if (action == nullptr) {
      menu.addSeparator();
    } else {
      menu.addAction(action);
    }
  }
  if (context_extras_) context_extras_(menu);
}

void log_view::contextMenuEvent(QContextMenuEvent* event) {
  if (context_actions_.empty() && !context_extras_) return;
  QMenu menu(this);
  fill_context_menu(menu);
  menu.exec(event->globalPos());
}

void log_view::header_menu(const QPoint& at) {
  if (!model_) return;
  QMenu menu(this);
  menu.setTitle(tr("Columns"));
  int shown = 0;
  for (int c = 0; c < header_->count(); ++c) shown += header_->isSectionHidden(c) ? 0 : 1;
  for (int c = 0; c < header_->count(); ++c) {
    QAction* action = menu.addAction(model_->headerData(c, Qt::Horizontal).toString());
    action->setCheckable(true);
    action->setChecked(!header_->isSectionHidden(c));
    // The last visible column cannot be hidden, and the message is what the table is for.
    action->setEnabled(c != log_model::col_message && (header_->isSectionHidden(c) || shown > 1));
    connect(action, &QAction::toggled, this, [this, c](bool on) {
      header_->setSectionHidden(c, !on);
      update_scrollbars();
      viewport()->update();
    });
  }
  menu.exec(header_->mapToGlobal(at));
}

bool log_view::viewportEvent(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const QString text = tooltip_at(help->pos());
    if (text.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(help->globalPos(), text, viewport());
    }
    return true;
  }
  return QAbstractScrollArea::viewportEvent(event);
}

QString log_view::tooltip_at(const QPoint& at) const {
  const int row = row_at(at.y());
  if (row < 0) return {};
  const int column = header_->logicalIndexAt(at.x());
  if (column < 0) return {};
  return model_->data(model_->index(row, column), Qt::ToolTipRole).toString();
}

void log_view::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange) {
    update_palette();
  }
  if (event->type() == QEvent::FontChange) {
    header_->setFont(font());
    update_metrics();
    reposition(true);
  }
  QAbstractScrollArea::changeEvent(event);
}

void log_view::focusInEvent(QFocusEvent* event) {
  QAbstractScrollArea::focusInEvent(event);
  viewport()->update();
}

void log_view::focusOutEvent(QFocusEvent* event) {
  QAbstractScrollArea::focusOutEvent(event);
  viewport()->update();
}

void log_view::update_palette() {
  dark_ = palette().color(QPalette::Base).lightness() < 128;
  viewport()->update();
}

void log_view::zoom(int steps) {
  zoom_ = std::clamp(zoom_ + steps, 6 - base_point_size_, 40 - base_point_size_);
  QFont f = font();
  f.setPointSize(base_point_size_ + zoom_);
  setFont(f);
}

void log_view::reset_zoom() {
  zoom_ = 0;
  zoom(0);
}

// ---- painting -------------------------------------------------------------------------------

// Text drawing for the table, cheap enough to repaint a full screen of rows many times a
// second. Glyph blending is the irreducible cost; shaping (a third of drawText) is skipped for
// ASCII text, which is drawn as glyph runs from a per-character table of glyphs and advances
// (log text needs no kerning or ligatures). Strings that repeat (levels, tags, thread ids) are
// shaped once and drawn as QStaticText. Text is elided only when it does not fit, and long
// messages are cut to what the cell can show and clipped.
class log_view::text_painter {
 public:
  explicit text_painter(const QFont& font)
      : font_(font), metrics_(font), raw_(QRawFont::fromFont(font)) {
    QString printable;
    for (int c = 32; c < 127; ++c) printable += QLatin1Char(static_cast<char>(c));
    const QList<quint32> glyphs =
        raw_.isValid() ? raw_.glyphIndexesForString(printable) : QList<quint32>();
    const QList<QPointF> advances =
        glyphs.size() == printable.size() ? raw_.advancesForGlyphIndexes(glyphs) : QList<QPointF>();
    glyph_runs_ = advances.size() == printable.size();
    for (int c = 0; c < 128; ++c) {
      const auto slot = static_cast<std::size_t>(c);
      if (c >= 32 && c < 127 && glyph_runs_) {
        glyph_[slot] = glyphs[c - 32];
        ascii_[slot] = advances[c - 32].x();
        if (glyph_[slot] == 0) glyph_runs_ = false;  // the font lacks it: shape as usual
      } else {
        ascii_[slot] = metrics_.horizontalAdvance(QChar(0xFFFD));
      }
    }
    narrowest_ = std::max(1.0, metrics_.horizontalAdvance(QLatin1Char('i')) * 0.75);
    ascent_ = metrics_.ascent();
    height_ = metrics_.height();
  }
  const QFont& font() const noexcept { return font_; }

  void draw(QPainter& painter, const QRect& cell, QString text, bool right, bool repeated) {
    const qreal top = cell.top() + (cell.height() - height_) / 2.0;
    if (repeated) {
      const QStaticText& shaped = static_text(text);
      const qreal width = shaped.size().width();
      if (width <= cell.width()) {
        painter.drawStaticText(QPointF(right ? cell.right() + 1 - width : cell.left(), top),
                               shaped);
        return;
      }
    }
    // More characters than could ever fit are not worth measuring.
    const auto room = static_cast<qsizetype>(cell.width() / narrowest_) + 2;
    if (text.size() > room) text.truncate(room);
    qreal width = measure(text);
    bool clip = false;
    if (width > cell.width()) {
      if (right || text.size() < 64) {
        text = metrics_.elidedText(text, Qt::ElideRight, cell.width());
        width = measure(text);
      } else {
        clip = true;  // a long message: cut at the cell's edge
      }
    }
    const QPointF at(right ? cell.right() + 1 - width : cell.left(), top + ascent_);
    if (clip) {
      painter.save();
      painter.setClipRect(cell);
      draw_line(painter, at, text);
      painter.restore();
    } else {
      draw_line(painter, at, text);
    }
  }

 private:
  void draw_line(QPainter& painter, const QPointF& at, const QString& text) {
    if (glyph_runs_ && text.size() <= 512) {
      glyphs_.resize(text.size());
      positions_.resize(text.size());
      qreal x = 0;
      qsizetype i = 0;
      for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u < 32 || u >= 127) break;
        glyphs_[i] = glyph_[u];
        positions_[i] = QPointF(x, 0);
        x += ascii_[u];
        ++i;
      }
      if (i == text.size()) {
        QGlyphRun run;
        run.setRawFont(raw_);
        run.setGlyphIndexes(glyphs_);
        run.setPositions(positions_);
        painter.drawGlyphRun(at, run);
        return;
      }
    }
    painter.drawText(at, text);
  }

  qreal measure(const QString& text) const {
    qreal width = 0;
    for (const QChar c : text) {
      if (c.unicode() >= 128) return metrics_.horizontalAdvance(text);
      width += ascii_[c.unicode()];
    }
    return width;
  }
  const QStaticText& static_text(const QString& text) {
    auto it = statics_.find(text);
    if (it == statics_.end()) {
      if (statics_.size() > 4096) statics_.clear();
      QStaticText shaped(text);
      shaped.setTextFormat(Qt::PlainText);
      shaped.setPerformanceHint(QStaticText::AggressiveCaching);
      shaped.prepare(QTransform(), font_);
      it = statics_.insert(text, shaped);
    }
    return *it;
  }

  QFont font_;
  QFontMetricsF metrics_;
  QRawFont raw_;
  bool glyph_runs_ = false;
  std::array<quint32, 128> glyph_{};
  QList<quint32> glyphs_;
  QList<QPointF> positions_;
  std::array<qreal, 128> ascii_{};
  qreal narrowest_ = 1;
  qreal ascent_ = 0;
  qreal height_ = 0;
  QHash<QString, QStaticText> statics_;
};

void log_view::paintEvent(QPaintEvent* event) {
  ++paints_;
  QPainter painter(viewport());
  const QRect area = event->rect();
  const QPalette& colors = palette();
  if (!model_) {
    painter.fillRect(area, colors.base());
    return;
  }
  const int rows = model_->rowCount();
  const int first = top_ + std::max(0, area.top()) / row_height_;
  const int last = std::min(rows - 1, top_ + area.bottom() / row_height_);
  const int width = viewport()->width();

  struct column_geometry {
    int logical;
    int x;
    int width;
    bool right;
    bool repeated;
  };
  std::vector<column_geometry> columns;
  for (int visual = 0; visual < header_->count(); ++visual) {
    const int logical = header_->logicalIndex(visual);
    if (header_->isSectionHidden(logical)) continue;
    const int x = header_->sectionViewportPosition(logical);
    const int w = header_->sectionSize(logical);
    if (x + w < area.left() || x > area.right()) continue;
    const bool right = logical == log_model::col_sequence || logical == log_model::col_thread;
    const bool repeated = logical == log_model::col_level || logical == log_model::col_tag ||
                          logical == log_model::col_thread || logical == log_model::col_segment;
    columns.push_back({logical, x, w, right, repeated});
  }

  if (!faces_[0] || faces_[0]->font() != font()) {
    QFont bold = font();
    bold.setBold(true);
    QFont italic = font();
    italic.setItalic(true);
    faces_[0] = std::make_unique<text_painter>(font());
    faces_[1] = std::make_unique<text_painter>(bold);
    faces_[2] = std::make_unique<text_painter>(italic);
  }
  const bool show_focus = hasFocus();
  const bool dates = model_->time_display() == time_mode::time_of_day;
  const QColor base = colors.color(QPalette::Base);
  // Some styles give AlternateBase the colour of Base: stripes must still show.
  QColor alternate = colors.color(QPalette::AlternateBase);
  if (alternate == base) alternate = dark_ ? alternate.lighter(112) : alternate.darker(104);
  const QColor highlight = colors.color(QPalette::Highlight);
  const QColor highlighted_text = colors.color(QPalette::HighlightedText);
  const QColor text_color = colors.color(QPalette::Text);
  const QColor rule = colors.color(QPalette::Mid);
  int face_in_use = -1;
  QColor pen_in_use;

  // Bookmarked rows carry a bar at their left edge (one lookup a row; none without bookmarks).
  const bookmark_set& marks = model_->bookmarks();
  const QColor bookmark_colour = dark_ ? QColor(0x4f, 0xc3, 0xf7) : QColor(0x15, 0x65, 0xc0);
  constexpr int bookmark_bar = 5;
  int y = (first - top_) * row_height_;
  if (last >= first) painted_rows_ += static_cast<std::uint64_t>(last - first + 1);
  for (int row = first; row <= last; ++row, y += row_height_) {
    const std::uint64_t serial = model_->serial_at(row);
    const entry& e = model_->entry_at(row);
    const bool selected = selection_.contains(serial);
    const bool odd = ((model_->removed_rows() + static_cast<std::uint64_t>(row)) & 1) != 0;
    const QRect line(0, y, width, row_height_);
    const row_look row_style = look_of(e, -1, dark_);
    QColor background =
        row_style.background.isValid() ? row_style.background : (odd ? alternate : base);
    // A highlight rule's colour replaces the stripes (not the gap/restart/critical colours);
    // its text colour is chosen for contrast so the row reads in light and dark themes.
    QColor marked_text;
    if (!row_style.background.isValid()) {
      if (const std::int64_t rgb = model_->highlight_at(row); rgb >= 0) {
        background = QColor::fromRgb(static_cast<QRgb>(rgb));
        marked_text = background.lightness() < 140 ? QColor(Qt::white) : QColor(Qt::black);
      }
    }
    if (selected) background = highlight;
    painter.fillRect(line, background);

    for (const column_geometry& c : columns) {
      const QRect cell(c.x + cell_padding, y, c.width - 2 * cell_padding, row_height_);
      if (cell.width() <= 0) continue;
      QString text = model_->cell_text(row, c.logical);
      if (text.isEmpty()) continue;
      const row_look look = look_of(e, c.logical, dark_);
      if (!selected && look.background.isValid() && look.background != row_style.background) {
        painter.fillRect(QRect(c.x, y, c.width, row_height_), look.background);
      }
      int face = look.bold ? 1 : (look.italic ? 2 : 0);
      QColor pen = selected ? highlighted_text : (look.text.isValid() ? look.text : text_color);
      if (!selected && marked_text.isValid()) {
        pen = marked_text;
      }
      if (c.logical == log_model::col_segment) {
        const QColor colour = segment_color(e.source, dark_);
        painter.fillRect(QRect(c.x, y + 1, 3, row_height_ - 2), colour);
        // On rows with a background of their own (gap, restart, critical) the text keeps their
        // colour; the bar still names the segment.
        if (!selected && !row_style.background.isValid()) pen = colour;
        face = 1;
      }
      if (face != face_in_use) {
        painter.setFont(faces_[static_cast<std::size_t>(face)]->font());
        face_in_use = face;
      }
      if (pen != pen_in_use) {
        painter.setPen(pen);
        pen_in_use = pen;
      }
      faces_[static_cast<std::size_t>(face)]->draw(painter, cell, std::move(text), c.right,
                                                   c.repeated);
    }
    if (marks.contains(serial)) {
      painter.fillRect(QRect(0, y + 1, bookmark_bar, row_height_ - 2), bookmark_colour);
    }
    if (dates && row > 0 && model_->date_changes_at(row)) {
      painter.setPen(rule);
      pen_in_use = rule;
      painter.drawLine(0, y, width, y);
    }
    if (serial == current_ && show_focus) {
      const QColor focus = selected ? highlighted_text : highlight;
      painter.setPen(QPen(focus, 1, Qt::DotLine));
      pen_in_use = QColor();
      painter.setBrush(Qt::NoBrush);
      painter.drawRect(line.adjusted(0, 0, -1, -1));
    }
  }
  // Below the last row.
  if (y < area.bottom() + 1) painter.fillRect(QRect(0, y, width, area.bottom() + 1 - y), base);
}

}  // namespace ouroboros::viewer
