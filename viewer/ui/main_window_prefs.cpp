// main_window: highlight rules, theme and session restore (kept apart from the window's core
// wiring).
#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QMenu>
#include <QPalette>
#include <QSettings>
#include <QStyle>
#include <QStyleFactory>
#include <QTabWidget>

#include "ui/filter_bar.hpp"
#include "ui/highlight_dialog.hpp"
#include "ui/main_window.hpp"
#include "ui/segment_tab.hpp"

namespace ouroboros::viewer {

namespace {
QSettings prefs() {
  return QSettings(QStringLiteral("ouroboros"), QStringLiteral("viewer"));
}

QPalette dark_palette() {
  QPalette p;
  const QColor window(0x2b, 0x2b, 0x2b);
  const QColor base(0x1e, 0x1e, 0x1e);
  const QColor text(0xe6, 0xe6, 0xe6);
  const QColor disabled(0x80, 0x80, 0x80);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
  p.setColor(QPalette::ToolTipBase, QColor(0x3c, 0x3c, 0x3c));
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::PlaceholderText, disabled);
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, QColor(0xff, 0x6e, 0x6e));
  p.setColor(QPalette::Light, QColor(0x4a, 0x4a, 0x4a));
  p.setColor(QPalette::Midlight, QColor(0x3e, 0x3e, 0x3e));
  p.setColor(QPalette::Mid, QColor(0x44, 0x44, 0x44));
  p.setColor(QPalette::Dark, QColor(0x18, 0x18, 0x18));
  p.setColor(QPalette::Shadow, QColor(0x0c, 0x0c, 0x0c));
  p.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Link, QColor(0x8a, 0xb4, 0xf8));
  p.setColor(QPalette::LinkVisited, QColor(0xc5, 0x8a, 0xf9));
  for (const auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
    p.setColor(QPalette::Disabled, role, disabled);
  }
  return p;
}

// The style the application started with: "system" goes back to it.
const QString& startup_style() {
  static const QString name = QApplication::style()->name();
  return name;
}

bool valid_theme(const QString& theme) {
  return theme == QLatin1String("system") || theme == QLatin1String("light") ||
         theme == QLatin1String("dark");
}
}  // namespace

void main_window::build_prefs(QMenu* view, QMenu* settings) {
  view->addSeparator();
  auto* theme_menu = view->addMenu(tr("&Theme"));
  themes_ = new QActionGroup(this);
  const std::pair<const char*, QString> themes[] = {
      {"system", tr("&System")}, {"light", tr("&Light")}, {"dark", tr("&Dark")}};
  for (const auto& [key, label] : themes) {
    auto* a = theme_menu->addAction(label);
    a->setObjectName(QStringLiteral("theme_") + QLatin1String(key));
    a->setCheckable(true);
    a->setData(QLatin1String(key));
    themes_->addAction(a);
    connect(a, &QAction::triggered, this, [this, a] { set_theme(a->data().toString()); });
  }
  auto* rules =
      settings->addAction(tr("Highlight &rules\u2026"), this, &main_window::edit_highlight_rules);
  rules->setObjectName(QStringLiteral("highlight_rules"));

  QSettings s = prefs();
  highlight_rules_ = load_highlight_rules(s);
  const QString saved = s.value(QStringLiteral("view/theme"), QStringLiteral("system")).toString();
  set_theme(valid_theme(saved) ? saved : QStringLiteral("system"));
}

void main_window::set_theme(const QString& theme) {
  if (!valid_theme(theme)) return;
  const QString& system = startup_style();  // read before the first change
  for (QAction* a : themes_->actions()) a->setChecked(a->data().toString() == theme);
  const bool changed = theme != theme_;
  theme_ = theme;
  QSettings s = prefs();
  s.setValue(QStringLiteral("view/theme"), theme_);
  // Untouched "system" at start-up: leave the platform's choice alone.
  if (!changed && theme == QLatin1String("system")) return;
  if (theme == QLatin1String("system")) {
    QApplication::setStyle(QStyleFactory::create(system));
    QApplication::setPalette(QApplication::style()->standardPalette());
    return;
  }
  QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
  QApplication::setPalette(
      theme == QLatin1String("dark") ? dark_palette() : QApplication::style()->standardPalette());
}

void main_window::set_highlight_rules(std::vector<highlight_rule> rules) {
  highlight_rules_ = std::move(rules);
  QSettings s = prefs();
  save_highlight_rules(s, highlight_rules_);
  for (int i = 0; i < tabs_->count(); ++i) {
    if (auto* tab = qobject_cast<segment_tab*>(tabs_->widget(i))) {
      tab->model()->set_highlight_rules(highlight_rules_);
    }
  }
}

void main_window::edit_highlight_rules() {
  highlight_dialog dialog(highlight_rules_, this);
  if (dialog.exec() == QDialog::Accepted) set_highlight_rules(dialog.rules());
}

saved_session main_window::session_state() const {
  saved_session session;
  for (int i = 0; i < tabs_->count() && i < max_saved_views; ++i) {
    auto* tab = qobject_cast<segment_tab*>(tabs_->widget(i));
    if (tab == nullptr) continue;
    saved_view v;
    v.segments = tab->merged() ? tab->model()->sources() : QStringList{tab->name()};
    v.filter = *tab->filters()->spec();
    if (tab->merged()) v.filter.hidden_sources = tab->hidden_segments();
    if (i == tabs_->currentIndex()) session.current = static_cast<int>(session.views.size());
    session.views.push_back(std::move(v));
  }
  return session;
}

int main_window::restore_session() {
  QSettings s = prefs();
  const saved_session session = load_session(s);
  int opened = 0;
  int current = -1;
  for (std::size_t i = 0; i < session.views.size(); ++i) {
    const saved_view& v = session.views[i];
    segment_tab* tab = v.merged() ? open_merged(v.segments) : attach(v.segments.front());
    if (tab == nullptr) continue;
    ++opened;
    tab->filters()->set_spec(v.filter);
    if (v.merged()) tab->set_hidden_segments(v.filter.hidden_sources);
    if (static_cast<int>(i) == session.current) current = tabs_->indexOf(tab);
  }
  if (current >= 0) tabs_->setCurrentIndex(current);
  return opened;
}

void main_window::open_startup_views(bool restore, const QStringList& segments,
                                     const QStringList& merges) {
  if (restore) restore_session();
  for (const QString& name : segments) attach(name);
  for (const QString& names : merges)
    open_merged(names.split(QLatin1Char(','), Qt::SkipEmptyParts));
}

}  // namespace ouroboros::viewer
