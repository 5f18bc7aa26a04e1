// The "Highlight rules" dialog: a table of rules (match on, pattern, case, colour) that can be
// added, removed and reordered; the first matching rule wins. An invalid rule is named in an
// error line and the dialog refuses to close with OK until it is fixed or removed.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QDialog>
#include <vector>

#include "data/highlight.hpp"

class QLabel;
class QTableWidget;

namespace ouroboros::viewer {

class highlight_dialog : public QDialog {
  Q_OBJECT

 public:
  explicit highlight_dialog(const std::vector<highlight_rule>& rules, QWidget* parent = nullptr);

  std::vector<highlight_rule> rules() const;
  // The first invalid rule's problem ("rule 2: invalid regular expression: ..."), or empty.
  QString error() const;
  QTableWidget* table() const noexcept { return table_; }
  QLabel* error_label() const noexcept { return error_; }

  void add_rule(const highlight_rule& rule);
  void accept() override;

 private:
  void move_current(int by);
  void validate();
  void set_row(int row, const highlight_rule& rule);
  highlight_rule rule_at(int row) const;

  QTableWidget* table_ = nullptr;
  QLabel* error_ = nullptr;
};

}  // namespace ouroboros::viewer
