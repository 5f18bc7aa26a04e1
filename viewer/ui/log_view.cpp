#include "ui/log_view.hpp"

#include <QEvent>
#include <QHeaderView>
#include <QScrollBar>

namespace ouroboros::viewer {

void log_delegate::initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const {
  QStyledItemDelegate::initStyleOption(option, index);
  const auto kind = static_cast<row_kind>(index.data(log_model::kind_role).toInt());
  const int level = index.data(log_model::level_role).toInt();
  if (kind == row_kind::gap) {
    option->backgroundBrush = dark_ ? QColor(0x5c, 0x3d, 0x00) : QColor(0xff, 0xe0, 0x9e);
    option->palette.setColor(QPalette::Text,
                             dark_ ? QColor(0xff, 0xd5, 0x80) : QColor(0x6d, 0x3a, 0x00));
    option->font.setBold(true);
    return;
  }
  if (kind == row_kind::separator || kind == row_kind::notice) {
    option->backgroundBrush = dark_ ? QColor(0x1e, 0x3a, 0x5f) : QColor(0xd6, 0xe6, 0xff);
    option->font.setItalic(true);
    return;
  }
  if (kind == row_kind::malformed) {
    option->palette.setColor(QPalette::Text,
                             dark_ ? QColor(0xff, 0x8a, 0x80) : QColor(0xb7, 0x1c, 0x1c));
    return;
  }
  static const QColor light[6] = {QColor(0x90, 0x90, 0x90), QColor(0x4f, 0x6d, 0x8a),
                                  QColor(0x1b, 0x7f, 0x3a), QColor(0xb2, 0x6a, 0x00),
                                  QColor(0xc6, 0x28, 0x28), QColor(0xff, 0xff, 0xff)};
  static const QColor dark[6] = {QColor(0x8a, 0x8a, 0x8a), QColor(0x8f, 0xb3, 0xd0),
                                 QColor(0x81, 0xc7, 0x84), QColor(0xff, 0xb7, 0x4d),
                                 QColor(0xff, 0x6e, 0x6e), QColor(0xff, 0xff, 0xff)};
  if (level < 0 || level > 5) return;
  const bool level_column = index.column() == log_model::col_level;
  if (level == 5) {  // critical: the whole row stands out
    option->backgroundBrush = dark_ ? QColor(0x8b, 0x1a, 0x1a) : QColor(0xc6, 0x28, 0x28);
    option->palette.setColor(QPalette::Text, QColor(0xff, 0xff, 0xff));
    if (level_column) option->font.setBold(true);
    return;
  }
  if (level_column || level >= 3 || level == 0) {
    option->palette.setColor(QPalette::Text, (dark_ ? dark : light)[level]);
  }
  if (level_column) option->font.setBold(level >= 3);
}

log_view::log_view(QWidget* parent) : QTableView(parent), delegate_(new log_delegate(this)) {
  setItemDelegate(delegate_);
  setSelectionBehavior(QAbstractItemView::SelectRows);
  setSelectionMode(QAbstractItemView::ExtendedSelection);
  setWordWrap(false);
  setShowGrid(false);
  setAlternatingRowColors(true);
  setCornerButtonEnabled(false);
  setTextElideMode(Qt::ElideRight);
  setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
  // Uniform rows: the view never measures a million rows.
  verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
  verticalHeader()->hide();
  horizontalHeader()->setStretchLastSection(true);
  horizontalHeader()->setHighlightSections(false);
  horizontalHeader()->setSectionsMovable(true);
  update_palette();

  connect(verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int value) {
    if (programmatic_) return;
    set_following(value >= verticalScrollBar()->maximum());
  });
}

void log_view::set_log_model(log_model* model) {
  model_ptr_ = model;
  setModel(model);
  const int widths[] = {90, 235, 80, 90, 70};
  for (int c = 0; c < 5; ++c) setColumnWidth(c, widths[c]);

  connect(model, &QAbstractItemModel::rowsInserted, this, [this] {
    if (following_) scroll_to_end();
  });
  connect(model, &QAbstractItemModel::rowsAboutToBeRemoved, this,
          [this](const QModelIndex&, int first, int last) {
            if (following_ || first != 0) return;
            // Keep what the user reads in place while rows above it go away.
            const int shift = last - first + 1;
            QMetaObject::invokeMethod(
                this,
                [this, shift] {
                  programmatic_ = true;
                  verticalScrollBar()->setValue(std::max(0, verticalScrollBar()->value() - shift));
                  programmatic_ = false;
                },
                Qt::QueuedConnection);
          });
  connect(model, &QAbstractItemModel::modelAboutToBeReset, this, [this] {
    saved_current_ = current_serial();
    const QModelIndex top = indexAt(QPoint(0, 0));
    saved_top_ = top.isValid() ? model_ptr_->serial_at(top.row()) : 0;
  });
  connect(model, &QAbstractItemModel::modelReset, this, [this] {
    if (saved_current_ != 0) {
      const int row = model_ptr_->row_of(saved_current_);
      if (row >= 0) {
        programmatic_ = true;
        selectionModel()->setCurrentIndex(
            model_ptr_->index(row, 0),
            QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        programmatic_ = false;
      }
    }
    if (following_) {
      scroll_to_end();
    } else if (saved_top_ != 0) {
      const int row = model_ptr_->row_at_or_after(saved_top_);
      if (row >= 0) {
        programmatic_ = true;
        scrollTo(model_ptr_->index(row, 0), QAbstractItemView::PositionAtTop);
        programmatic_ = false;
      }
    }
  });
  connect(selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            emit currentRowChanged(current.isValid() ? current.row() : -1);
          });
}

void log_view::set_following(bool on) {
  if (on == following_) return;
  following_ = on;
  emit followingChanged(on);
}

void log_view::scroll_to_end() {
  programmatic_ = true;
  scrollToBottom();
  programmatic_ = false;
}

void log_view::follow() {
  set_following(true);
  scroll_to_end();
}

void log_view::go_to_row(int row) {
  if (!model_ptr_ || row < 0 || row >= model_ptr_->rowCount()) return;
  set_following(false);
  programmatic_ = true;
  selectionModel()->setCurrentIndex(
      model_ptr_->index(row, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  scrollTo(model_ptr_->index(row, 0), QAbstractItemView::PositionAtCenter);
  programmatic_ = false;
}

std::uint64_t log_view::current_serial() const {
  const QModelIndex current = currentIndex();
  return current.isValid() && model_ptr_ ? model_ptr_->serial_at(current.row()) : 0;
}

QString log_view::selected_text() const {
  if (!model_ptr_) return {};
  QModelIndexList rows = selectionModel()->selectedRows();
  std::sort(rows.begin(), rows.end(),
            [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
  QStringList lines;
  for (const QModelIndex& index : rows) lines << model_ptr_->row_text(index.row());
  if (lines.isEmpty() && currentIndex().isValid())
    lines << model_ptr_->row_text(currentIndex().row());
  return lines.join(QLatin1Char('\n'));
}

void log_view::update_palette() {
  delegate_->set_dark(palette().color(QPalette::Base).lightness() < 128);
  viewport()->update();
}

void log_view::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange) {
    update_palette();
  }
  QTableView::changeEvent(event);
}

}  // namespace ouroboros::viewer
