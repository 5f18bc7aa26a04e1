#include "ui/log_view.hpp"

#include <QAbstractTableModel>
#include <QContextMenuEvent>
#include <QHeaderView>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QPainter>
#include <QScrollBar>
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

void log_view::set_log_model(log_model* model) {
  model_ = model;
  delete header_model_;
  header_model_ = new column_model(model, this);
  header_->setModel(header_model_);
  const int widths[] = {80, 130, 72, 90, 64};
  for (int c = 0; c < 5; ++c) header_->resizeSection(c, widths[c]);

  connect(model, &QAbstractItemModel::rowsRemoved, this, [this] { on_rows_removed(); });
  connect(model, &QAbstractItemModel::rowsInserted, this,
          [this](const QModelIndex&, int first, int last) { on_rows_inserted(first, last); });
  connect(model, &QAbstractItemModel::modelReset, this, [this] { on_reset(); });
  connect(model, &QAbstractItemModel::dataChanged, this, [this] { viewport()->update(); });
  connect(model, &QAbstractItemModel::headerDataChanged, this, [this] { viewport()->update(); });
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

void log_view::update_scrollbars() {
  adjusting_ = true;
  const int page = page_rows();
  QScrollBar* bar = verticalScrollBar();
  bar->setPageStep(page);
  bar->setRange(0, model_ ? viewport_anchor::bottom_top_row(*model_, page) : 0);
  if (bar->value() != top_) bar->setValue(top_);
  QScrollBar* across = horizontalScrollBar();
  across->setPageStep(viewport()->width());
  across->setRange(0, std::max(0, header_->length() - viewport()->width()));
  adjusting_ = false;
}

void log_view::set_top(int row, bool repaint) {
  top_ = std::max(0, row);
  update_scrollbars();
  if (repaint) viewport()->update();
}

void log_view::reposition(bool force_repaint) {
  if (!model_) return;
  // What is on screen before and after: repaint only if it differs. Stripes follow
  // removed_rows() + row, so rows that stay also keep their look.
  const int rows = model_->rowCount();
  const int page = page_rows() + 1;
  auto screen = [&](int top) {
    const int last = std::min(rows, top + page) - 1;
    return std::array<std::uint64_t, 4>{
        top < rows ? model_->serial_at(top) : 0, last >= top ? model_->serial_at(last) : 0,
        static_cast<std::uint64_t>(last - top), top == 0 ? 1ULL : 0ULL};
  };
  const int top = anchor_.top_row(*model_, page_rows());
  const bool changed = force_repaint || top != top_ || screen(top) != last_screen_;
  set_top(top, false);
  last_screen_ = screen(top_);
  if (changed) viewport()->update();
  const int below = rows_below();
  if (below != last_rows_below_ || anchor_.anchor_evicted() != last_evicted_) {
    last_rows_below_ = below;
    last_evicted_ = anchor_.anchor_evicted();
    emit positionChanged();
  }
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
  reposition(true);
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

void log_view::contextMenuEvent(QContextMenuEvent* event) {
  if (context_actions_.empty()) return;
  QMenu menu(this);
  for (QAction* action : context_actions_) {
    if (action == nullptr) {
      menu.addSeparator();
    } else {
      menu.addAction(action);
    }
  }
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
    Qt::Alignment align;
  };
  std::vector<column_geometry> columns;
  for (int visual = 0; visual < header_->count(); ++visual) {
    const int logical = header_->logicalIndex(visual);
    if (header_->isSectionHidden(logical)) continue;
    const int x = header_->sectionViewportPosition(logical);
    const int w = header_->sectionSize(logical);
    if (x + w < area.left() || x > area.right()) continue;
    const bool right = logical == log_model::col_sequence || logical == log_model::col_thread;
    columns.push_back({logical, x, w, right ? Qt::AlignRight : Qt::AlignLeft});
  }

  QFont normal = font();
  QFont bold = normal;
  bold.setBold(true);
  QFont italic = normal;
  italic.setItalic(true);
  const QFontMetrics normal_metrics(normal);
  const QFontMetrics bold_metrics(bold);
  const QFontMetrics italic_metrics(italic);
  // No character is narrower than this: text beyond width / narrowest cannot be on screen, so
  // it is cut before it is measured (a message can be thousands of characters long).
  const int narrowest = std::max(1, normal_metrics.horizontalAdvance(QLatin1Char('i')) / 2);
  const bool show_focus = hasFocus();
  const bool dates = model_->time_display() == time_mode::time_of_day;
  const QColor base = colors.color(QPalette::Base);
  // Some styles give AlternateBase the colour of Base: stripes must still show.
  QColor alternate = colors.color(QPalette::AlternateBase);
  if (alternate == colors.color(QPalette::Base))
    alternate = dark_ ? alternate.lighter(112) : alternate.darker(104);
  const QColor highlight = colors.color(QPalette::Highlight);
  const QColor highlighted_text = colors.color(QPalette::HighlightedText);
  const QColor text_color = colors.color(QPalette::Text);
  const QColor rule = colors.color(QPalette::Mid);

  int y = (first - top_) * row_height_;
  for (int row = first; row <= last; ++row, y += row_height_) {
    const std::uint64_t serial = model_->serial_at(row);
    const entry& e = model_->entry_at(row);
    const bool selected = selection_.contains(serial);
    const bool odd = ((model_->removed_rows() + static_cast<std::uint64_t>(row)) & 1) != 0;
    const QRect line(0, y, width, row_height_);
    const row_look row_style = look_of(e, -1, dark_);
    QColor background =
        row_style.background.isValid() ? row_style.background : (odd ? alternate : base);
    if (selected) background = highlight;
    painter.fillRect(line, background);

    for (const column_geometry& c : columns) {
      const row_look look = look_of(e, c.logical, dark_);
      if (!selected && look.background.isValid() && look.background != row_style.background) {
        painter.fillRect(QRect(c.x, y, c.width, row_height_), look.background);
      }
      const QFont& font = look.bold ? bold : (look.italic ? italic : normal);
      const QFontMetrics& metrics =
          look.bold ? bold_metrics : (look.italic ? italic_metrics : normal_metrics);
      const QRect cell(c.x + cell_padding, y, c.width - 2 * cell_padding, row_height_);
      if (cell.width() <= 0) continue;
      QString text = model_->cell_text(row, c.logical);
      if (text.isEmpty()) continue;
      const int room = cell.width() / narrowest + 2;
      if (text.size() > room) text.truncate(room);
      if (metrics.horizontalAdvance(text) > cell.width()) {
        text = metrics.elidedText(text, Qt::ElideRight, cell.width());
      }
      painter.setFont(font);
      painter.setPen(selected ? highlighted_text : (look.text.isValid() ? look.text : text_color));
      painter.drawText(cell, static_cast<int>(c.align | Qt::AlignVCenter) | Qt::TextSingleLine,
                       text);
    }
    if (dates && row > 0 && model_->date_changes_at(row)) {
      painter.setPen(rule);
      painter.drawLine(0, y, width, y);
    }
    if (serial == current_ && show_focus) {
      painter.setPen(QPen(selected ? highlighted_text : highlight, 1, Qt::DotLine));
      painter.setBrush(Qt::NoBrush);
      painter.drawRect(line.adjusted(0, 0, -1, -1));
    }
  }
  // Below the last row.
  if (y < area.bottom() + 1) painter.fillRect(QRect(0, y, width, area.bottom() + 1 - y), base);
}

}  // namespace ouroboros::viewer
