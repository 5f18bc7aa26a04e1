// The filter controls of a tab: message text/regex, level toggles with counts, tags, threads.
//
// Only wiring: it turns edits into a filter_spec (debounced) and shows counts it is given.
//
// Thread-safety: GUI thread only.
#pragma once

#include <QWidget>
#include <array>
#include <memory>

#include "data/entry.hpp"
#include "data/filter.hpp"

class QCheckBox;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QTimer;
class QAbstractButton;

namespace ouroboros::viewer {

class filter_bar : public QWidget {
  Q_OBJECT

 public:
  explicit filter_bar(QWidget* parent = nullptr);

  std::shared_ptr<const filter_spec> spec() const;
  void set_counts(const std::array<std::uint64_t, level_slots>& visible,
                  const std::array<std::uint64_t, level_slots>& total);
  void set_error(const QString& error);
  void focus_text();
  QLineEdit* text_field() const noexcept { return text_; }
  // Sets the message filter as if typed (e.g. from the command line).
  void set_text(const QString& text, bool regex);
  // Narrows to one tag / thread / level slot, or hides a tag (a row's context menu); added to
  // what the fields hold, applied at once.
  void only_tag(const QString& tag);
  void exclude_tag(const QString& tag);
  void only_thread(std::uint32_t thread);
  void only_level(int slot);
  // Every filter off, applied at once.
  void reset();
  // Shows `spec` in the controls (a restored session); applies it at once.
  void set_spec(const filter_spec& spec);
  // The level row has room on its right for the tab's badges.
  QHBoxLayout* levels_row() const noexcept { return levels_row_; }

 signals:
  void changed();

 private:
  void schedule();

  QLineEdit* text_;
  QCheckBox* regex_;
  QCheckBox* case_;
  std::array<QAbstractButton*, level_slots> levels_{};
  QLineEdit* include_;
  QLineEdit* exclude_;
  QLineEdit* threads_;
  QHBoxLayout* levels_row_;
  QTimer* debounce_;
  std::array<std::uint64_t, level_slots> shown_visible_{};
  std::array<std::uint64_t, level_slots> shown_total_{};
};

}  // namespace ouroboros::viewer
