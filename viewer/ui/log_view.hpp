// The log table: follow mode, level colours, stable selection and scroll position.
//
// Follow mode sticks to the newest row; scrolling up leaves it, scrolling back to the bottom
// (or follow()) resumes. Rows evicted from the top do not move what the user is reading: the
// scroll position is shifted by the rows removed above it. After a re-filter (model reset) the
// current row is found again by serial.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QStyledItemDelegate>
#include <QTableView>

#include "data/log_model.hpp"

namespace ouroboros::viewer {

class log_delegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void set_dark(bool dark) { dark_ = dark; }

 protected:
  void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override;

 private:
  bool dark_ = false;
};

class log_view : public QTableView {
  Q_OBJECT

 public:
  explicit log_view(QWidget* parent = nullptr);
  void set_log_model(log_model* model);
  log_model* model_() const { return model_ptr_; }

  bool following() const noexcept { return following_; }
  void follow();                  // resume following: jump to the newest row
  void go_to_row(int row);        // select and show a row (leaves follow mode)
  QString selected_text() const;  // selected rows as text lines
  std::uint64_t current_serial() const;

 signals:
  void followingChanged(bool following);
  void currentRowChanged(int row);

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void set_following(bool on);
  void scroll_to_end();
  void update_palette();

  log_model* model_ptr_ = nullptr;
  log_delegate* delegate_;
  bool following_ = true;
  bool programmatic_ = false;
  std::uint64_t saved_current_ = 0;
  std::uint64_t saved_top_ = 0;
};

}  // namespace ouroboros::viewer
