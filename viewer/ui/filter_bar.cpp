#include "ui/filter_bar.hpp"

#include <QAbstractButton>
#include <QCheckBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QStyleOptionToolButton>
#include <QStylePainter>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "data/format.hpp"

namespace ouroboros::viewer {

namespace {
const char* const slot_names[level_slots] = {"Trace", "Debug",    "Info", "Warn",
                                             "Error", "Critical", "Plain"};

// At most five characters, so a counter never needs more room than its button has.
QString compact(std::uint64_t n) {
  if (n >= 100'000'000) return QStringLiteral("%1M").arg(n / 1'000'000);
  if (n >= 10'000'000) return QStringLiteral("%1M").arg(static_cast<double>(n) / 1e6, 0, 'f', 1);
  if (n >= 100'000) return QStringLiteral("%1k").arg(n / 1000);
  return QString::number(n);
}

// A level toggle that shows "Info 12k/40k". Its size is fixed by the widest text a counter can
// produce, and a new count only repaints it: QToolButton::setText() would relayout the row.
class level_toggle : public QAbstractButton {
 public:
  level_toggle(const QString& name, QWidget* parent) : QAbstractButton(parent), name_(name) {
    setCheckable(true);
    setChecked(true);
    setText(name);  // for accessibility; the painted text adds the counts
    setFocusPolicy(Qt::TabFocus);
    // Its width comes from the widest counts it can show, never from the counts of now; in a
    // narrow window it may shrink (the counts elide) rather than push the window's docks away.
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
  }
  void set_counts(const QString& counts) {
    if (counts == counts_) return;
    counts_ = counts;
    update();
  }
  QSize sizeHint() const override {
    // Measured once per font and style: measuring shapes the text, which cost more than
    // painting the button.
    if (!hint_.isValid()) {
      QStyleOptionToolButton option = style_option();
      option.text = name_ + QStringLiteral(" 99999/99999");
      const QSize text = fontMetrics().size(Qt::TextSingleLine, option.text);
      hint_ = style()->sizeFromContents(QStyle::CT_ToolButton, &option, text, this);
      widest_text_ = fontMetrics().horizontalAdvance(option.text);
    }
    return hint_;
  }
  QSize minimumSizeHint() const override {
    QStyleOptionToolButton option = style_option();
    option.text = name_;
    const QSize text = fontMetrics().size(Qt::TextSingleLine, option.text);
    return style()->sizeFromContents(QStyle::CT_ToolButton, &option, text, this);
  }

 protected:
  void paintEvent(QPaintEvent*) override {
    QStylePainter painter(this);
    QStyleOptionToolButton option = style_option();
    option.text = counts_.isEmpty() ? name_ : name_ + QLatin1Char(' ') + counts_;
    // Narrower than its hint (a narrow window), the counts elide; at its hint any count fits.
    const int hint_width = sizeHint().width();
    if (width() < hint_width) {
      const int room = width() - (hint_width - widest_text_);
      option.text = fontMetrics().elidedText(option.text, Qt::ElideRight, std::max(0, room));
    }
    painter.drawComplexControl(QStyle::CC_ToolButton, option);
  }
  void changeEvent(QEvent* event) override {
    if (event->type() == QEvent::FontChange || event->type() == QEvent::StyleChange)
      hint_ = QSize();
    QAbstractButton::changeEvent(event);
  }

 private:
  QStyleOptionToolButton style_option() const {
    QStyleOptionToolButton option;
    option.initFrom(this);
    option.subControls = QStyle::SC_ToolButton;
    option.toolButtonStyle = Qt::ToolButtonTextOnly;
    option.features = QStyleOptionToolButton::None;
    option.state |= isChecked() ? QStyle::State_On : QStyle::State_Off;
    if (isDown()) option.state |= QStyle::State_Sunken;
    option.state |= QStyle::State_AutoRaise;
    if (isChecked() || isDown() || underMouse()) option.state |= QStyle::State_Raised;
    option.activeSubControls = isDown() ? QStyle::SC_ToolButton : QStyle::SC_None;
    return option;
  }
  QString name_;
  QString counts_;
  mutable QSize hint_;
  mutable int widest_text_ = 0;
};
}  // namespace

filter_bar::filter_bar(QWidget* parent) : QWidget(parent), debounce_(new QTimer(this)) {
  debounce_->setSingleShot(true);
  debounce_->setInterval(200);
  connect(debounce_, &QTimer::timeout, this, &filter_bar::changed);

  auto* rows = new QVBoxLayout(this);
  rows->setContentsMargins(0, 0, 0, 0);
  rows->setSpacing(4);

  // First row: what to match; second row: level toggles with their visible/total counts.
  auto* first = new QHBoxLayout;
  text_ = new QLineEdit(this);
  text_->setPlaceholderText(tr("Filter messages (text, or a regular expression)"));
  text_->setClearButtonEnabled(true);
  text_->setMinimumWidth(220);
  regex_ = new QCheckBox(tr("Regex"), this);
  case_ = new QCheckBox(tr("Case"), this);
  case_->setToolTip(tr("Case-sensitive"));
  include_ = new QLineEdit(this);
  include_->setPlaceholderText(tr("Only tags (net, db*)"));
  include_->setClearButtonEnabled(true);
  exclude_ = new QLineEdit(this);
  exclude_->setPlaceholderText(tr("Hide tags"));
  exclude_->setClearButtonEnabled(true);
  threads_ = new QLineEdit(this);
  threads_->setPlaceholderText(tr("Threads (ids)"));
  threads_->setClearButtonEnabled(true);
  threads_->setMaximumWidth(150);
  first->addWidget(text_, 3);
  first->addWidget(regex_);
  first->addWidget(case_);
  first->addWidget(include_, 1);
  first->addWidget(exclude_, 1);
  first->addWidget(threads_, 1);
  rows->addLayout(first);

  levels_row_ = new QHBoxLayout;
  levels_row_->setSpacing(2);
  for (int i = 0; i < level_slots; ++i) {
    auto* button = new level_toggle(QString::fromLatin1(slot_names[i]), this);
    button->setToolTip(
        i == unleveled_slot
            ? tr("Rows without a level (plain payloads): visible/total")
            : tr("Show %1 entries: visible/total").arg(QString::fromLatin1(slot_names[i])));
    connect(button, &QAbstractButton::toggled, this, &filter_bar::schedule);
    levels_[static_cast<std::size_t>(i)] = button;
    levels_row_->addWidget(button);
  }
  levels_row_->addStretch(1);
  rows->addLayout(levels_row_);

  for (QLineEdit* edit : {text_, include_, exclude_, threads_}) {
    connect(edit, &QLineEdit::textChanged, this, &filter_bar::schedule);
  }
  connect(regex_, &QCheckBox::toggled, this, &filter_bar::schedule);
  connect(case_, &QCheckBox::toggled, this, &filter_bar::schedule);
}

void filter_bar::schedule() {
  debounce_->start();
}

void filter_bar::set_text(const QString& text, bool regex) {
  regex_->setChecked(regex);
  text_->setText(text);
  debounce_->stop();
  emit changed();
}

void filter_bar::only_tag(const QString& tag) {
  include_->setText(tag);
  debounce_->stop();
  emit changed();
}

void filter_bar::set_spec(const filter_spec& spec) {
  {
    const QSignalBlocker b1(text_), b2(regex_), b3(case_), b4(include_), b5(exclude_), b6(threads_);
    text_->setText(spec.text);
    regex_->setChecked(spec.regex);
    case_->setChecked(spec.case_sensitive);
    include_->setText(spec.tags_include.join(QStringLiteral(", ")));
    exclude_->setText(spec.tags_exclude.join(QStringLiteral(", ")));
    QStringList threads;
    for (const std::uint32_t t : spec.threads) threads << QString::number(t);
    threads_->setText(threads.join(QStringLiteral(", ")));
    for (int i = 0; i < level_slots; ++i) {
      const QSignalBlocker b(levels_[static_cast<std::size_t>(i)]);
      levels_[static_cast<std::size_t>(i)]->setChecked((spec.level_mask >> i) & 1U);
    }
  }
  debounce_->stop();
  emit changed();
}

void filter_bar::exclude_tag(const QString& tag) {
  QStringList names = parse_tag_list(exclude_->text());
  if (!names.contains(tag)) names << tag;
  exclude_->setText(names.join(QStringLiteral(", ")));
  debounce_->stop();
  emit changed();
}

void filter_bar::only_thread(std::uint32_t thread) {
  threads_->setText(QString::number(thread));
  debounce_->stop();
  emit changed();
}

void filter_bar::only_level(int slot) {
  for (int i = 0; i < level_slots; ++i) levels_[static_cast<std::size_t>(i)]->setChecked(i == slot);
  debounce_->stop();
  emit changed();
}

void filter_bar::reset() {
  text_->clear();
  regex_->setChecked(false);
  case_->setChecked(false);
  for (QAbstractButton* level : levels_) level->setChecked(true);
  include_->clear();
  exclude_->clear();
  threads_->clear();
  debounce_->stop();
}

void filter_bar::focus_text() {
  text_->setFocus();
  text_->selectAll();
}

std::shared_ptr<const filter_spec> filter_bar::spec() const {
  auto spec = std::make_shared<filter_spec>();
  spec->text = text_->text();
  spec->regex = regex_->isChecked();
  spec->case_sensitive = case_->isChecked();
  spec->level_mask = 0;
  for (int i = 0; i < level_slots; ++i) {
    if (levels_[static_cast<std::size_t>(i)]->isChecked())
      spec->level_mask |= static_cast<std::uint8_t>(1U << i);
  }
  spec->tags_include = parse_tag_list(include_->text());
  spec->tags_exclude = parse_tag_list(exclude_->text());
  parse_thread_list(threads_->text(), spec->threads);
  return spec;
}

void filter_bar::set_counts(const std::array<std::uint64_t, level_slots>& visible,
                            const std::array<std::uint64_t, level_slots>& total) {
  if (visible == shown_visible_ && total == shown_total_) return;
  shown_visible_ = visible;
  shown_total_ = total;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    static_cast<level_toggle*>(levels_[i])
        ->set_counts(QStringLiteral("%1/%2").arg(compact(visible[i]), compact(total[i])));
  }
}

void filter_bar::set_error(const QString& error) {
  text_->setToolTip(error);
  QPalette palette = text_->palette();
  palette.setColor(QPalette::Text, error.isEmpty() ? this->palette().color(QPalette::Text)
                                                   : QColor(0xd3, 0x2f, 0x2f));
  text_->setPalette(palette);
}

}  // namespace ouroboros::viewer
