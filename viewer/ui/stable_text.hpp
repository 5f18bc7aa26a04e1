// Text widgets that never move their neighbours.
//
// A QLabel asks its layout for a new geometry on every setText(); a label that changes ten
// times a second under a live log (counters, rates, badges) keeps relaying out the window and
// squeezes whatever sits next to it. These widgets have a size fixed by a template text (or
// given by the layout), repaint only when their text really changes, elide what does not fit and
// never call updateGeometry() for a text change.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QColor>
#include <QStaticText>
#include <QString>
#include <QWidget>
#include <functional>
#include <vector>

namespace ouroboros::viewer {

// One line of text in a colour; its width is that of `width_template`, or whatever the layout
// gives it when the template is empty.
class stable_label : public QWidget {
 public:
  explicit stable_label(const QString& width_template = {}, QWidget* parent = nullptr);
  void set_text(const QString& text, const QColor& color = {});
  void set_badge(const QColor& background);  // rounded background behind the text; invalid: none
  // Paints every pixel (a square badge) so a widget beneath it, e.g. the table under an overlay,
  // is not repainted when the text changes.
  void set_opaque(bool opaque);
  const QString& text() const noexcept { return text_; }
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;
  // Makes the label clickable (e.g. "follow again").
  void on_click(std::function<void()> handler) { on_click_ = std::move(handler); }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void changeEvent(QEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  std::function<void()> on_click_;
  QString template_;
  QString text_;
  QColor color_;
  QColor badge_;
  bool opaque_ = false;
};

// A line made of coloured pieces (the status strip: state · rate · lag · lost ...), elided at the
// right. Takes any width the layout gives it and asks for little, so it never squeezes a dock.
class status_strip : public QWidget {
 public:
  struct piece {
    QString text;
    QColor color;  // invalid: the palette's text colour
    bool bold = false;
    bool operator==(const piece&) const = default;
  };
  explicit status_strip(QWidget* parent = nullptr);
  void set_pieces(std::vector<piece> pieces);
  const std::vector<piece>& pieces() const noexcept { return pieces_; }
  QString plain_text() const;
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  std::vector<piece> pieces_;
  // One laid-out text per piece, kept while the piece's text and weight stay: most pieces keep
  // their text from one update to the next, and laying text out costs more than drawing it.
  struct laid_out {
    QString text;
    bool bold = false;
    QStaticText layout;
  };
  std::vector<laid_out> layouts_;
};

}  // namespace ouroboros::viewer
