#include "ui/stable_text.hpp"

#include <cmath>

#include <QEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

namespace ouroboros::viewer {

namespace {
constexpr int badge_padding = 8;
}

stable_label::stable_label(const QString& width_template, QWidget* parent)
    : QWidget(parent), template_(width_template) {
  setSizePolicy(template_.isEmpty() ? QSizePolicy::Expanding : QSizePolicy::Fixed,
                QSizePolicy::Fixed);
}

void stable_label::set_text(const QString& text, const QColor& color) {
  if (text == text_ && color == color_) return;
  text_ = text;
  color_ = color;
  setToolTip(text_);
  update();
}

void stable_label::set_badge(const QColor& background) {
  if (background == badge_) return;
  badge_ = background;
  update();
}

QSize stable_label::sizeHint() const {
  const QFontMetrics metrics(font());
  const int width = template_.isEmpty() ? 80 : metrics.horizontalAdvance(template_);
  return {width + 2 * badge_padding, metrics.height() + 4};
}

QSize stable_label::minimumSizeHint() const {
  return template_.isEmpty() ? QSize(20, sizeHint().height()) : sizeHint();
}

void stable_label::set_opaque(bool opaque) {
  opaque_ = opaque;
  setAttribute(Qt::WA_OpaquePaintEvent, opaque);
  update();
}

void stable_label::mousePressEvent(QMouseEvent* event) {
  if (on_click_) {
    on_click_();
    return;
  }
  QWidget::mousePressEvent(event);
}

void stable_label::changeEvent(QEvent* event) {
  // A font change is the one legitimate reason to change size.
  if (event->type() == QEvent::FontChange) updateGeometry();
  QWidget::changeEvent(event);
}

void stable_label::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  QRect area = rect();
  if (opaque_) {
    painter.fillRect(area, badge_.isValid() ? badge_ : palette().color(QPalette::Base));
  } else if (text_.isEmpty()) {
    return;
  } else if (badge_.isValid()) {
    painter.setRenderHint(QPainter::Antialiasing);
    QPainterPath shape;
    shape.addRoundedRect(QRectF(area).adjusted(0.5, 0.5, -0.5, -0.5), area.height() / 2.0,
                         area.height() / 2.0);
    painter.fillPath(shape, badge_);
  }
  area.adjust(badge_padding, 0, -badge_padding, 0);
  const QString shown = fontMetrics().elidedText(text_, Qt::ElideRight, area.width());
  painter.setPen(color_.isValid() ? color_ : palette().color(QPalette::WindowText));
  painter.drawText(area, Qt::AlignVCenter | Qt::AlignLeft | Qt::TextSingleLine, shown);
}

status_strip::status_strip(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
}

void status_strip::set_pieces(std::vector<piece> pieces) {
  if (pieces == pieces_) return;
  pieces_ = std::move(pieces);
  setToolTip(plain_text());
  update();
}

QString status_strip::plain_text() const {
  QString text;
  for (const piece& p : pieces_) text += p.text;
  return text;
}

QSize status_strip::sizeHint() const {
  return {200, fontMetrics().height() + 6};
}

QSize status_strip::minimumSizeHint() const {
  return {40, fontMetrics().height() + 6};
}

void status_strip::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  const QFont normal = font();
  QFont bold = normal;
  bold.setBold(true);
  const int right = width() - 4;
  int x = 4;
  layouts_.resize(pieces_.size());
  for (std::size_t i = 0; i < pieces_.size(); ++i) {
    const piece& p = pieces_[i];
    laid_out& cached = layouts_[i];
    if (cached.text != p.text || cached.bold != p.bold || cached.layout.text().isEmpty()) {
      cached.text = p.text;
      cached.bold = p.bold;
      cached.layout = QStaticText(p.text);
      cached.layout.setTextFormat(Qt::PlainText);
      cached.layout.prepare(QTransform(), p.bold ? bold : normal);
    }
    painter.setFont(p.bold ? bold : normal);
    painter.setPen(p.color.isValid() ? p.color : palette().color(QPalette::WindowText));
    const QSizeF size = cached.layout.size();
    const int advance = static_cast<int>(std::ceil(size.width()));
    if (x + advance > right) {
      const QString elided =
          painter.fontMetrics().elidedText(p.text, Qt::ElideRight, std::max(0, right - x));
      painter.drawText(QRect(x, 0, right - x, height()),
                       Qt::AlignVCenter | Qt::AlignLeft | Qt::TextSingleLine, elided);
      break;
    }
    painter.drawStaticText(QPointF(x, (height() - size.height()) / 2.0), cached.layout);
    x += advance;
  }
}

void status_strip::changeEvent(QEvent* event) {
  if (event->type() == QEvent::FontChange || event->type() == QEvent::StyleChange) layouts_.clear();
  QWidget::changeEvent(event);
}

}  // namespace ouroboros::viewer
