#include "ui/highlight_dialog.hpp"

#include <QCheckBox>
#include <QColorDialog>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace ouroboros::viewer {

namespace {
enum column { col_on, col_pattern, col_case, col_colour, column_count };

QString swatch_style(std::uint32_t rgb) {
  return QStringLiteral("background-color: #%1;").arg(rgb & 0xFFFFFFU, 6, 16, QLatin1Char('0'));
}
}  // namespace

highlight_dialog::highlight_dialog(const std::vector<highlight_rule>& rules, QWidget* parent)
    : QDialog(parent) {
  setWindowTitle(tr("Highlight rules"));
  auto* layout = new QVBoxLayout(this);
  auto* hint = new QLabel(
      tr("Rows get the colour of the first rule they match. Message patterns are regular "
         "expressions; tags take names or wildcards (*, ?); levels are TRACE … CRITICAL."),
      this);
  hint->setWordWrap(true);
  layout->addWidget(hint);

  table_ = new QTableWidget(0, column_count, this);
  table_->setHorizontalHeaderLabels({tr("Match on"), tr("Pattern"), tr("Case"), tr("Colour")});
  table_->horizontalHeader()->setSectionResizeMode(col_pattern, QHeaderView::Stretch);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->verticalHeader()->setVisible(true);
  layout->addWidget(table_);

  error_ = new QLabel(this);
  error_->setObjectName(QStringLiteral("highlight_error"));
  error_->setStyleSheet(QStringLiteral("color: #c62828;"));
  error_->setWordWrap(true);
  layout->addWidget(error_);

  auto* buttons_row = new QHBoxLayout;
  auto* add = new QPushButton(tr("&Add"), this);
  auto* remove = new QPushButton(tr("&Remove"), this);
  auto* up = new QPushButton(tr("Move &up"), this);
  auto* down = new QPushButton(tr("Move &down"), this);
  for (QPushButton* b : {add, remove, up, down}) buttons_row->addWidget(b);
  buttons_row->addStretch();
  layout->addLayout(buttons_row);
  connect(add, &QPushButton::clicked, this, [this] {
    add_rule({});
    table_->setCurrentCell(table_->rowCount() - 1, col_pattern);
    table_->editItem(table_->item(table_->rowCount() - 1, col_pattern));
  });
  connect(remove, &QPushButton::clicked, this, [this] {
    if (table_->currentRow() >= 0) table_->removeRow(table_->currentRow());
    validate();
  });
  connect(up, &QPushButton::clicked, this, [this] { move_current(-1); });
  connect(down, &QPushButton::clicked, this, [this] { move_current(+1); });

  auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(box, &QDialogButtonBox::accepted, this, &highlight_dialog::accept);
  connect(box, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(box);

  for (const highlight_rule& rule : rules) add_rule(rule);
  connect(table_, &QTableWidget::itemChanged, this, [this] { validate(); });
  validate();
  resize(640, 360);
}

void highlight_dialog::add_rule(const highlight_rule& rule) {
  const int row = table_->rowCount();
  table_->insertRow(row);
  set_row(row, rule);
  validate();
}

void highlight_dialog::set_row(int row, const highlight_rule& rule) {
  const QSignalBlocker block(table_);
  auto* on = new QComboBox(table_);
  on->addItems({tr("Message"), tr("Tag"), tr("Level")});
  on->setCurrentIndex(static_cast<int>(rule.on));
  connect(on, &QComboBox::currentIndexChanged, this, [this] { validate(); });
  table_->setCellWidget(row, col_on, on);
  table_->setItem(row, col_pattern, new QTableWidgetItem(rule.pattern));
  auto* case_item = new QTableWidgetItem;
  case_item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled | Qt::ItemIsSelectable);
  case_item->setCheckState(rule.case_sensitive ? Qt::Checked : Qt::Unchecked);
  table_->setItem(row, col_case, case_item);
  auto* colour = new QPushButton(table_);
  colour->setProperty("rgb", static_cast<uint>(rule.rgb & 0xFFFFFFU));
  colour->setStyleSheet(swatch_style(rule.rgb));
  colour->setToolTip(tr("Choose the background colour"));
  connect(colour, &QPushButton::clicked, this, [this, colour] {
    const QColor chosen =
        QColorDialog::getColor(QColor::fromRgb(static_cast<QRgb>(colour->property("rgb").toUInt())),
                               this, tr("Highlight colour"));
    if (!chosen.isValid()) return;
    const std::uint32_t rgb = chosen.rgb() & 0xFFFFFFU;
    colour->setProperty("rgb", static_cast<uint>(rgb));
    colour->setStyleSheet(swatch_style(rgb));
  });
  table_->setCellWidget(row, col_colour, colour);
}

highlight_rule highlight_dialog::rule_at(int row) const {
  highlight_rule rule;
  if (auto* on = qobject_cast<QComboBox*>(table_->cellWidget(row, col_on))) {
    rule.on = static_cast<highlight_rule::field>(std::clamp(on->currentIndex(), 0, 2));
  }
  if (auto* item = table_->item(row, col_pattern)) rule.pattern = item->text();
  if (auto* item = table_->item(row, col_case)) {
    rule.case_sensitive = item->checkState() == Qt::Checked;
  }
  if (auto* colour = table_->cellWidget(row, col_colour)) {
    rule.rgb = colour->property("rgb").toUInt() & 0xFFFFFFU;
  }
  return rule;
}

std::vector<highlight_rule> highlight_dialog::rules() const {
  std::vector<highlight_rule> out;
  for (int row = 0; row < table_->rowCount(); ++row) out.push_back(rule_at(row));
  return out;
}

QString highlight_dialog::error() const {
  if (table_->rowCount() > max_highlight_rules) {
    return tr("at most %1 rules").arg(max_highlight_rules);
  }
  for (int row = 0; row < table_->rowCount(); ++row) {
    const QString why = highlight_rule_error(rule_at(row));
    if (!why.isEmpty()) return tr("rule %1: %2").arg(row + 1).arg(why);
  }
  return {};
}

void highlight_dialog::validate() {
  error_->setText(error());
}

void highlight_dialog::move_current(int by) {
  const int from = table_->currentRow();
  const int to = from + by;
  if (from < 0 || to < 0 || to >= table_->rowCount()) return;
  const highlight_rule a = rule_at(from);
  const highlight_rule b = rule_at(to);
  set_row(from, b);
  set_row(to, a);
  table_->setCurrentCell(to, table_->currentColumn());
  validate();
}

void highlight_dialog::accept() {
  validate();
  if (!error_->text().isEmpty()) return;  // nothing is saved while a rule is invalid
  QDialog::accept();
}

}  // namespace ouroboros::viewer
