#include "ui/segment_tab.hpp"

#include <QCheckBox>
#include <QFontDatabase>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTime>
#include <QToolButton>
#include <QVBoxLayout>

#include "data/exporter.hpp"
#include "data/format.hpp"
#include "data/segment_catalog.hpp"
#include "ui/filter_bar.hpp"
#include "ui/log_view.hpp"
#include "ui/stable_text.hpp"
#include "ui/timeline_strip.hpp"

namespace ouroboros::viewer {

namespace {
QString number(std::uint64_t n) {
  return QLocale().toString(static_cast<qulonglong>(n));
}

QString rate(double per_second) {
  if (per_second >= 1e6) return QStringLiteral("%1 M/s").arg(per_second / 1e6, 0, 'f', 2);
  if (per_second >= 1e4) return QStringLiteral("%1 k/s").arg(per_second / 1e3, 0, 'f', 0);
  if (per_second > 0 && per_second < 10) return QStringLiteral("%1/s").arg(per_second, 0, 'f', 1);
  return QStringLiteral("%1/s").arg(per_second, 0, 'f', 0);
}

bool is_dark(const QWidget* widget) {
  return widget->palette().color(QPalette::Window).lightness() < 128;
}

// Severity of a state: 0 fine, 1 neutral (waiting, closed), 2 warning (gone), 3 error.
int severity_of(segment_state state) {
  switch (state) {
    case segment_state::attached: return 0;
    case segment_state::waiting:
    case segment_state::writer_closed: return 1;
    case segment_state::writer_gone: return 2;
    default: return 3;
  }
}

QColor state_color(segment_state state, bool dark) {
  switch (severity_of(state)) {
    case 0: return dark ? QColor(0x81, 0xc7, 0x84) : QColor(0x2e, 0x7d, 0x32);
    case 1: return dark ? QColor(0xb0, 0xb0, 0xb0) : QColor(0x75, 0x75, 0x75);
    case 2: return dark ? QColor(0xff, 0xb7, 0x4d) : QColor(0xe6, 0x51, 0x00);
    default: return dark ? QColor(0xff, 0x6e, 0x6e) : QColor(0xc6, 0x28, 0x28);
  }
}
}  // namespace

segment_tab::segment_tab(session_options options, QWidget* parent)
    : QWidget(parent), session_(std::make_unique<segment_session>(std::move(options))) {
  build();
}

segment_tab::segment_tab(merged_options options, QWidget* parent)
    : QWidget(parent), merged_(std::make_unique<merged_session>(std::move(options))) {
  build();
}

log_model* segment_tab::model() const noexcept {
  return session_ ? session_->model() : merged_->model();
}

const poll_status& segment_tab::poller_status() const {
  return session_ ? session_->stats().poller : merged_->stats().poller;
}

void segment_tab::set_limits(const history_limits& limits) {
  if (session_) {
    session_->set_limits(limits);
  } else {
    merged_->set_limits(limits);
  }
}

void segment_tab::apply_filter() {
  auto spec = std::make_shared<filter_spec>(*filters_->spec());
  spec->hidden_sources = hidden_segments_;
  spec->time_from = range_from_;
  spec->time_to = range_to_;
  spec->hide_gaps = hide_gaps_;
  if (session_) {
    session_->set_filter(std::move(spec));
  } else {
    merged_->set_filter(std::move(spec));
  }
  filters_->set_error(model()->filter_error());
}

void segment_tab::update_strip_band() {
  const log_model& model = *this->model();
  const int top = view_->top_row();
  const int bottom = view_->bottom_visible_row();
  if (model.rowCount() == 0 || bottom < 0 || top >= model.rowCount()) {
    strip_->set_view_range(no_time, no_time);
    return;
  }
  // The nearest rows with a time (gap and notice rows may have none).
  std::int64_t from = no_time;
  for (int r = top; r <= bottom && from == no_time; ++r) from = model.entry_at(r).time_ns;
  std::int64_t to = no_time;
  for (int r = bottom; r >= top && to == no_time; --r) to = model.entry_at(r).time_ns;
  strip_->set_view_range(from, to);
}

void segment_tab::set_time_range(std::int64_t from_ns, std::int64_t to_ns) {
  if (from_ns == range_from_ && to_ns == range_to_) return;
  range_from_ = from_ns;
  range_to_ = to_ns;
  strip_->set_selection(from_ns, to_ns);
  clear_range_->setVisible(from_ns != no_time);
  apply_filter();
}

void segment_tab::go_to_time(std::int64_t time_ns) {
  const log_model& model = *this->model();
  const int rows = model.rowCount();
  if (rows == 0) return;
  // Rows are in time order but for a few (threads, merges): a binary search lands close enough;
  // rows without a time count as the row before them.
  int low = 0;
  int high = rows;
  while (low < high) {
    const int mid = low + (high - low) / 2;
    std::int64_t t = no_time;
    for (int r = mid; r >= 0 && r > mid - 16 && t == no_time; --r) t = model.entry_at(r).time_ns;
    if (t != no_time && t < time_ns) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  view_->go_to_row(std::min(low, rows - 1));
}

void segment_tab::set_hidden_segments(std::uint64_t mask) {
  if (!merged_ || mask == hidden_segments_) return;
  hidden_segments_ = mask;
  for (std::size_t i = 0; i < segment_toggles_.size(); ++i) {
    const QSignalBlocker block(segment_toggles_[i]);
    segment_toggles_[i]->setChecked(((mask >> i) & 1U) == 0);
  }
  apply_filter();
}

void segment_tab::build() {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 2);
  layout->setSpacing(4);

  banner_ = new QFrame(this);
  auto* banner_layout = new QHBoxLayout(banner_);
  banner_layout->setContentsMargins(8, 4, 4, 4);
  banner_text_ = new QLabel(banner_);
  banner_text_->setWordWrap(true);
  banner_text_->setTextFormat(Qt::RichText);
  banner_close_ = new QToolButton(banner_);
  banner_close_->setText(QStringLiteral("\u2715"));
  banner_close_->setAutoRaise(true);
  banner_close_->setToolTip(tr("Dismiss"));
  banner_layout->addWidget(banner_text_, 1);
  banner_layout->addWidget(banner_close_, 0, Qt::AlignTop);
  banner_->hide();
  layout->addWidget(banner_);
  connect(banner_close_, &QToolButton::clicked, this, [this] {
    dismissed_deaths_ = poller_status().writer_deaths;
    update_banner();
  });

  filters_ = new filter_bar(this);
  layout->addWidget(filters_);
  if (merged_) {
    // One toggle per segment, in the colour of its Segment cells.
    auto* segments = new QHBoxLayout;
    segments->setContentsMargins(0, 0, 0, 0);
    segments->addWidget(new QLabel(tr("Segments:"), this));
    const bool dark = is_dark(this);
    for (std::size_t i = 0; i < merged_->source_count(); ++i) {
      auto* toggle = new QToolButton(this);
      toggle->setObjectName(QStringLiteral("segment_toggle_%1").arg(i));
      toggle->setText(QStringLiteral("\u25A0 ") + merged_->source(i).name);
      toggle->setCheckable(true);
      toggle->setChecked(true);
      toggle->setAutoRaise(true);
      toggle->setToolTip(tr("Show or hide the rows of %1 (its gap and restart rows too)")
                             .arg(merged_->source(i).name));
      toggle->setStyleSheet(QStringLiteral("QToolButton { color: %1; } QToolButton:!checked { "
                                           "color: palette(mid); }")
                                .arg(segment_color(static_cast<int>(i), dark).name()));
      connect(toggle, &QToolButton::toggled, this, [this, i](bool on) {
        const std::uint64_t bit = std::uint64_t{1} << i;
        hidden_segments_ = on ? (hidden_segments_ & ~bit) : (hidden_segments_ | bit);
        apply_filter();
      });
      segment_toggles_.push_back(toggle);
      segments->addWidget(toggle);
    }
    segments->addStretch(1);
    layout->addLayout(segments);
  }

  search_bar_ = new QWidget(this);
  auto* search_layout = new QHBoxLayout(search_bar_);
  search_layout->setContentsMargins(0, 0, 0, 0);
  search_text_ = new QLineEdit(search_bar_);
  search_text_->setPlaceholderText(tr("Find in visible rows (F3 next, Shift+F3 previous)"));
  search_text_->setClearButtonEnabled(true);
  search_case_ = new QCheckBox(tr("Case"), search_bar_);
  auto* previous = new QToolButton(search_bar_);
  previous->setArrowType(Qt::UpArrow);
  previous->setToolTip(tr("Previous match (Shift+F3)"));
  auto* next = new QToolButton(search_bar_);
  next->setArrowType(Qt::DownArrow);
  next->setToolTip(tr("Next match (F3)"));
  search_result_ = new QLabel(search_bar_);
  search_result_->setMinimumWidth(90);
  auto* close = new QToolButton(search_bar_);
  close->setText(QStringLiteral("\u2715"));
  close->setAutoRaise(true);
  close->setToolTip(tr("Close (Esc)"));
  search_layout->addWidget(new QLabel(tr("Find:"), search_bar_));
  search_layout->addWidget(search_text_, 1);
  search_layout->addWidget(search_case_);
  search_layout->addWidget(previous);
  search_layout->addWidget(next);
  search_layout->addWidget(search_result_);
  search_layout->addWidget(close);
  search_bar_->hide();
  layout->addWidget(search_bar_);
  connect(search_text_, &QLineEdit::returnPressed, this, [this] { find(true); });
  connect(next, &QToolButton::clicked, this, [this] { find(true); });
  connect(previous, &QToolButton::clicked, this, [this] { find(false); });
  connect(close, &QToolButton::clicked, this, [this] {
    search_bar_->hide();
    view_->setFocus();
  });

  // The timeline above the table, and the button that clears a range chosen on it.
  auto* strip_row = new QHBoxLayout;
  strip_row->setContentsMargins(0, 0, 0, 0);
  strip_ =
      new timeline_strip(session_ ? &session_->time_buckets() : &merged_->time_buckets(), this);
  clear_range_ = new QToolButton(this);
  clear_range_->setObjectName(QStringLiteral("clear_time_range"));
  clear_range_->setText(tr("\u2715 Time range"));
  clear_range_->setToolTip(tr("Show every time again"));
  clear_range_->hide();
  strip_row->addWidget(strip_, 1);
  strip_row->addWidget(clear_range_);
  layout->addLayout(strip_row);
  connect(strip_, &timeline_strip::timeClicked, this, &segment_tab::go_to_time);
  connect(strip_, &timeline_strip::rangeSelected, this, &segment_tab::set_time_range);
  connect(clear_range_, &QToolButton::clicked, this, [this] { set_time_range(no_time, no_time); });

  splitter_ = new QSplitter(Qt::Vertical, this);
  view_ = new log_view(splitter_);
  view_->set_log_model(model());
  view_->set_context_extras([this](QMenu& menu) { fill_row_menu(menu); });
  // Holding, paused or evicted: a chip over the table's bottom right corner says so (a click
  // follows again). Over the table it takes no room from anything, so nothing moves when it
  // comes and goes; following, it is hidden.
  hold_ = new stable_label(tr("Holding \u2014 999,999,999 new below \u00b7 End follows"), view_);
  hold_->setObjectName(QStringLiteral("hold_indicator"));
  hold_->setCursor(Qt::PointingHandCursor);
  hold_->set_opaque(true);
  hold_->on_click([this] { follow(); });
  view_->set_overlay(hold_);
  detail_ = new QPlainTextEdit(splitter_);
  detail_->setReadOnly(true);
  detail_->setPlaceholderText(tr("Select a row to see its full message and fields."));
  detail_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  // Below the table: the detail pane and, once there are bookmarks, their list.
  auto* lower = new QSplitter(Qt::Horizontal, splitter_);
  lower->setObjectName(QStringLiteral("detail_splitter"));
  lower->addWidget(detail_);
  bookmark_panel_ = new QWidget(lower);
  auto* marks = new QVBoxLayout(bookmark_panel_);
  marks->setContentsMargins(0, 0, 0, 0);
  marks->setSpacing(2);
  bookmark_note_ = new QLabel(tr("Bookmarks (Ctrl+B, F2, Shift+F2)"), bookmark_panel_);
  bookmark_note_->setWordWrap(true);
  bookmark_list_ = new QListWidget(bookmark_panel_);
  bookmark_list_->setObjectName(QStringLiteral("bookmark_list"));
  bookmark_list_->setToolTip(tr("Click a bookmark to go to its row"));
  marks->addWidget(bookmark_note_);
  marks->addWidget(bookmark_list_, 1);
  lower->addWidget(bookmark_panel_);
  lower->setStretchFactor(0, 3);
  lower->setStretchFactor(1, 1);
  bookmark_panel_->hide();
  connect(bookmark_list_, &QListWidget::itemClicked, this,
          [this](QListWidgetItem* item) { go_to_serial(item->data(Qt::UserRole).toULongLong()); });
  connect(model(), &log_model::bookmarksChanged, this, &segment_tab::update_bookmark_list);
  connect(model(), &log_model::refilterFinished, this, [this] {
    if (pending_serial_ == 0) return;
    const int row = model()->row_at_or_after(pending_serial_);
    pending_serial_ = 0;
    if (row >= 0) view_->go_to_row(row);
  });
  splitter_->addWidget(view_);
  splitter_->addWidget(lower);
  splitter_->setStretchFactor(0, 4);
  splitter_->setStretchFactor(1, 1);
  splitter_->setSizes({600, 120});
  layout->addWidget(splitter_, 1);

  // Bottom line: the status strip, and the re-filter progress which keeps its room while
  // hidden so the strip never moves.
  auto* bottom = new QHBoxLayout;
  bottom->setContentsMargins(0, 0, 0, 0);
  status_ = new status_strip(this);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  progress_->setFormat(tr("Re-filtering\u2026 %p%"));
  progress_->setFixedSize(170, 16);
  QSizePolicy keep = progress_->sizePolicy();
  keep.setRetainSizeWhenHidden(true);
  progress_->setSizePolicy(keep);
  progress_->hide();
  bottom->addWidget(status_, 1);
  bottom->addWidget(progress_);
  layout->addLayout(bottom);

  connect(filters_, &filter_bar::changed, this, [this] { apply_filter(); });
  if (session_) {
    connect(session_.get(), &segment_session::ticked, this, &segment_tab::on_tick);
  } else {
    connect(merged_.get(), &merged_session::ticked, this, &segment_tab::on_tick);
  }
  connect(view_, &log_view::currentChanged, this, &segment_tab::show_detail);
  connect(view_, &log_view::followingChanged, this, [this](bool on) {
    update_hold_indicator();
    emit followingChanged(on);
  });
  connect(view_, &log_view::positionChanged, this, [this] {
    // Rows below change every tick while holding: the count follows at the text pace, a change
    // of state (the anchored rows evicted) at once.
    // While following, the frame on the timeline moves with the counters (twice a second); a
    // user who scrolls sees it move at once.
    if (!view_->following()) update_strip_band();
    if (view_->anchor_evicted() == shown_evicted_ && text_clock_.isValid() &&
        text_clock_.elapsed() < text_interval_ms) {
      return;
    }
    update_hold_indicator();
  });
  connect(model(), &log_model::refilterStarted, this, [this] {
    progress_->setValue(0);
    progress_->show();
  });
  connect(model(), &log_model::refilterFinished, this, [this] { progress_->hide(); });

  update_banner();
  update_hold_indicator();
  update_status();
  if (session_) {
    session_->start();
  } else {
    merged_->start();
  }
}

segment_tab::~segment_tab() {
  if (session_) {
    session_->stop();
  } else {
    merged_->stop();
  }
}

void segment_tab::on_tick() {
  ++ticks_;
  log_model& model = *this->model();
  if (model.refiltering()) progress_->setValue(static_cast<int>(model.refilter_progress() * 1000));
  // Counters and rates are read, not watched: two updates a second, and widgets repaint only
  // when their text changed.
  if (!text_clock_.isValid() || text_clock_.elapsed() >= text_interval_ms) {
    text_clock_.start();
    filters_->set_counts(model.visible_levels(), model.total_levels());
    // The timeline moves by a pixel in seconds: once a second is enough.
    if ((++strip_updates_ & 1) == 0) {
      strip_->refresh();
      update_strip_band();
    }
    update_hold_indicator();
    update_banner();
    update_status();
    emit statusChanged();
  }
}

void segment_tab::update_hold_indicator() {
  const log_model& model = *this->model();
  const bool dark = is_dark(this);
  shown_evicted_ = view_->anchor_evicted();
  if (model.paused()) {
    hold_->set_text(
        tr("Paused \u2014 %1 new \u00b7 Space resumes").arg(number(model.arrivals_since_pause())),
        Qt::white);
    hold_->set_badge(QColor(0xe6, 0x51, 0x00));
  } else if (view_->anchor_evicted()) {
    hold_->set_text(tr("Evicted \u2014 at the oldest kept row \u00b7 End follows"), Qt::white);
    hold_->set_badge(QColor(0xc6, 0x28, 0x28));
  } else if (!view_->following()) {
    hold_->set_text(
        tr("Holding \u2014 %1 new below \u00b7 End follows").arg(number(view_->rows_below())),
        Qt::white);
    hold_->set_badge(dark ? QColor(0x15, 0x65, 0xc0) : QColor(0x19, 0x76, 0xd2));
  } else {
    hold_->set_text(tr("Following newest"));
    hold_->set_badge({});
  }
  // Hidden while following: the chip would only cover rows (and keep the table from moving its
  // rows as pixels).
  const bool show = model.paused() || !view_->following();
  if (hold_->isVisibleTo(view_) != show) hold_->setVisible(show);
}

QString segment_tab::state_text() const {
  QString text = to_display(poller_status().state);
  const poll_status& s = poller_status();
  if (!s.detail.isEmpty() && severity_of(s.state) == 3) text += QStringLiteral(": ") + s.detail;
  return text;
}

QString segment_tab::state_mark() const {
  switch (poller_status().state) {
    case segment_state::attached: return QStringLiteral("\u25CF");
    case segment_state::waiting: return QStringLiteral("\u25CB");
    case segment_state::writer_closed: return QStringLiteral("\u25A0");
    case segment_state::writer_gone: return QStringLiteral("\u26A0");
    default: return QStringLiteral("\u2716");
  }
}

void segment_tab::update_status() {
  if (merged_) {
    update_merged_status();
    return;
  }
  const session_stats& st = session_->stats();
  const poll_status& s = st.poller;
  const bool dark = is_dark(this);
  const QColor muted = palette().color(QPalette::PlaceholderText);
  const QColor alert = dark ? QColor(0xff, 0x6e, 0x6e) : QColor(0xc6, 0x28, 0x28);
  const QColor warn = dark ? QColor(0xff, 0xb7, 0x4d) : QColor(0xe6, 0x51, 0x00);
  const QString dot = QStringLiteral("  \u00B7  ");
  std::vector<status_strip::piece> pieces;
  QString state = to_display(s.state);
  if ((s.state == segment_state::attached || s.state == segment_state::writer_gone ||
       s.state == segment_state::writer_closed) &&
      s.writer_pid != 0) {
    state += tr(" (pid %1)").arg(s.writer_pid);
  }
  pieces.push_back({state_mark() + QLatin1Char(' ') + state, state_color(s.state, dark), true});
  if (s.foreign_owner) {
    pieces.push_back({dot + tr("\u26A0 owner %1").arg(user_name(s.owner_uid)), warn, true});
  }
  pieces.push_back({dot + tr("%1 in").arg(rate(st.ingest_per_second)), {}, false});
  QString lag = tr("lag %1").arg(number(s.lag_entries));
  bool lagging = false;
  if (s.ring_capacity_entries != 0) {
    const double percent =
        100.0 * static_cast<double>(s.lag_entries) / static_cast<double>(s.ring_capacity_entries);
    lag += tr(" (%1 % of ring)").arg(percent, 0, 'f', percent < 10 ? 1 : 0);
    lagging = percent >= 50;
  }
  pieces.push_back({dot + lag, lagging ? warn : QColor(), lagging});
  pieces.push_back({dot + tr("read %1").arg(number(s.entries_read)), {}, false});
  QString lost = tr("lost %1").arg(number(s.entries_lost));
  if (st.lost_per_second > 0) lost += tr(" (%1)").arg(rate(st.lost_per_second));
  pieces.push_back({dot + lost, s.entries_lost != 0 ? alert : QColor(), false});
  pieces.push_back({dot + tr("evicted %1").arg(number(st.evicted)), {}, false});
  if (!cleared_note_.isEmpty()) pieces.push_back({dot + cleared_note_, muted, false});
  const log_model& model = *this->model();
  if (model.paused()) {
    pieces.push_back({dot + tr("showing %1 (paused)").arg(number(model.view().size())), {}, false});
  } else {
    // Formatted text a filter pass kept for deferred rows is part of the memory, said apart
    // because it is dropped first when the history needs the room.
    const QString kept =
        st.formatted_bytes == 0
            ? tr("kept %1 (%2)").arg(number(st.retained), human_bytes(st.retained_bytes))
            : tr("kept %1 (%2, %3 of it formatted text)")
                  .arg(number(st.retained), human_bytes(st.retained_bytes),
                       human_bytes(st.formatted_bytes));
    pieces.push_back({dot + kept, {}, false});
  }
  if (hide_gaps_) pieces.push_back({dot + tr("gap rows hidden"), muted, false});
  pieces.push_back({dot + tr("tick p99 %1 ms").arg(st.tick_p99_ms, 0, 'f', 1), muted, false});
  status_->set_pieces(std::move(pieces));
}

void segment_tab::update_merged_status() {
  // Per segment: its state, rate and loss in its colour; then what the merged table holds.
  const session_stats& st = merged_->stats();
  const bool dark = is_dark(this);
  const QColor muted = palette().color(QPalette::PlaceholderText);
  const QColor alert = dark ? QColor(0xff, 0x6e, 0x6e) : QColor(0xc6, 0x28, 0x28);
  const QString dot = QStringLiteral("  \u00B7  ");
  std::vector<status_strip::piece> pieces;
  for (std::size_t i = 0; i < merged_->source_count(); ++i) {
    const source_stats& s = merged_->source(i);
    QString text = (i == 0 ? QString() : dot) + QStringLiteral("\u25A0 ") + s.name;
    if (s.poller.state != segment_state::attached)
      text += QStringLiteral(" (") + to_display(s.poller.state) + QLatin1Char(')');
    text += QLatin1Char(' ') + rate(s.ingest_per_second);
    if (s.by_arrival) text += tr(" by arrival");
    pieces.push_back({text, segment_color(static_cast<int>(i), dark), true});
    if (s.poller.entries_lost != 0) {
      QString lost = tr(" lost %1").arg(number(s.poller.entries_lost));
      if (s.lost_per_second > 0) lost += tr(" (%1)").arg(rate(s.lost_per_second));
      pieces.push_back({lost, alert, false});
    }
  }
  const log_model& model = *merged_->model();
  pieces.push_back({dot + tr("merged %1").arg(number(model.view().size())), {}, false});
  if (model.rowCount() != static_cast<int>(model.view().size()))
    pieces.push_back({dot + tr("showing %1").arg(number(model.rowCount())), {}, false});
  pieces.push_back({dot + tr("evicted %1").arg(number(st.evicted)), {}, false});
  if (!cleared_note_.isEmpty()) pieces.push_back({dot + cleared_note_, muted, false});
  if (hide_gaps_) pieces.push_back({dot + tr("gap rows hidden"), muted, false});
  pieces.push_back({dot + tr("tick p99 %1 ms").arg(st.tick_p99_ms, 0, 'f', 1), muted, false});
  status_->set_pieces(std::move(pieces));
}

void segment_tab::update_banner() {
  if (merged_) return;  // each segment's state is in the status strip
  const poll_status& s = session_->stats().poller;
  const QString name = session_->name().toHtmlEscaped();
  const bool utc = model()->utc();
  QString text;
  int severity = 0;  // 0 info, 1 warning, 2 error
  bool dismissable = false;
  switch (s.state) {
    case segment_state::waiting:
      text = tr("Waiting for segment <b>%1</b> to appear\u2026 Start a writer, e.g. "
                "<code>ouroboros-demo-writer --segment %1</code>; the viewer attaches by itself.")
                 .arg(name);
      break;
    case segment_state::attached: break;
    case segment_state::writer_gone:
      text = tr("The writer of <b>%1</b> (pid %2) died. Last entry: %3. What it wrote stays "
                "here; a new writer on this name is picked up automatically.")
                 .arg(name)
                 .arg(s.writer_pid)
                 .arg(format_time(s.last_entry_ns, utc));
      severity = 1;
      break;
    case segment_state::writer_closed:
      text = tr("The writer of <b>%1</b> closed the segment. Last entry: %2. A new writer on this "
                "name is picked up automatically.")
                 .arg(name, format_time(s.last_entry_ns, utc));
      break;
    case segment_state::not_a_log:
      text =
          tr("<b>%1</b> is not an ouroboros log segment. %2").arg(name, s.detail.toHtmlEscaped());
      severity = 2;
      break;
    case segment_state::unsupported_version:
      text = tr("<b>%1</b> uses a format version this viewer does not read. %2")
                 .arg(name, s.detail.toHtmlEscaped());
      severity = 2;
      break;
    case segment_state::failed:
      text = tr("Cannot open <b>%1</b>: %2").arg(name, s.detail.toHtmlEscaped());
      severity = 2;
      break;
    case segment_state::segment_truncated:
      text = tr("Another process truncated <b>%1</b> under this viewer (%2). The rows read so far "
                "stay here; the viewer attaches again once the name holds a valid segment.")
                 .arg(name, s.detail.toHtmlEscaped());
      severity = 2;
      break;
  }
  // Someone else's segment under the expected name: the rows may not come from the writer the
  // user thinks of.
  if (text.isEmpty() && s.foreign_owner) {
    text = tr("<b>%1</b> belongs to user <b>%2</b>, not to you: make sure it is the writer you "
              "expect.")
               .arg(name, user_name(s.owner_uid).toHtmlEscaped());
    severity = 1;
  }
  // A writer that died and was replaced stays news until the user dismisses it.
  if (text.isEmpty() && s.writer_deaths > dismissed_deaths_) {
    text = tr("The previous writer of <b>%1</b> (pid %2) died; its last entry was at %3. A new "
              "writer (pid %4) took over at %5.")
               .arg(name)
               .arg(s.dead_writer_pid)
               .arg(format_time(s.dead_writer_last_entry_ns, utc))
               .arg(s.writer_pid)
               .arg(format_time(s.restart_ns, utc));
    severity = 1;
    dismissable = true;
  }
  if (text == last_banner_) return;
  last_banner_ = text;
  if (text.isEmpty()) {
    banner_->hide();
    return;
  }
  const bool dark = is_dark(this);
  static const char* const light_bg[] = {"#e3f2fd", "#fff3e0", "#ffebee"};
  static const char* const dark_bg[] = {"#123049", "#4a3000", "#4a1515"};
  banner_->setStyleSheet(QStringLiteral(".QFrame { background: %1; border-radius: 4px; }")
                             .arg(QLatin1String((dark ? dark_bg : light_bg)[severity])));
  banner_text_->setText(text);
  banner_close_->setVisible(dismissable);
  banner_->show();
}

void segment_tab::show_detail(std::uint64_t serial) {
  log_model& model = *this->model();
  detail_serial_ = serial;
  const int row = serial != 0 ? model.row_of(serial) : -1;
  if (row < 0) {
    detail_->clear();
    return;
  }
  const entry& e = model.entry_at(row);
  const auto tags = model.tags();
  QStringList head;
  if (e.kind() != row_kind::separator && e.kind() != row_kind::notice)
    head << tr("seq %1").arg(e.sequence);
  if (e.time_ns != no_time) {
    head << format_time(e.time_ns, false) + tr(" local");
    head << format_time(e.time_ns, true) + tr(" UTC");
  }
  QStringList second;
  if (e.source < model.sources().size()) second << tr("segment %1").arg(model.sources()[e.source]);
  if (e.level != no_level) second << tr("level %1").arg(level_name(e.level));
  if (e.tag != 0) {
    const std::string_view tag = tags->name(e.tag);
    second << tr("tag %1").arg(QString::fromUtf8(tag.data(), static_cast<qsizetype>(tag.size())));
  }
  if (e.kind() == row_kind::record) second << tr("thread %1").arg(e.thread);
  if (e.kind() == row_kind::plain) second << tr("plain payload (%1 bytes)").arg(e.message_size);
  if (e.kind() == row_kind::malformed) second << tr("malformed record: shown as raw bytes");
  if (e.truncated()) second << tr("message truncated by the writer");
  QString text = head.join(QStringLiteral("   ")) + QLatin1Char('\n');
  if (!second.isEmpty()) text += second.join(QStringLiteral("   ")) + QLatin1Char('\n');
  text += QLatin1Char('\n') + full_message(e) + QLatin1Char('\n');
  const auto fields = decode_fields(e.extra());
  if (!fields.empty()) {
    text += tr("\nfields:\n");
    for (const field_pair& f : fields)
      text += QStringLiteral("  %1 = %2\n").arg(full_text(f.key), full_text(f.value));
  }
  if (e.deferred())
    text += tr("\nformat string (deferred record): %1\n").arg(full_text(deferred_format_text(e)));
  detail_->setPlainText(text);
}

void segment_tab::set_paused(bool paused) {
  if (paused == model()->paused()) return;
  model()->set_paused(paused);
  update_hold_indicator();
  emit pausedChanged(paused);
}

void segment_tab::follow() {
  set_paused(false);
  view_->follow();
  update_hold_indicator();
}

void segment_tab::next_gap(bool forward) {
  const int current = view_->current_row();
  const int from = current >= 0 ? current : (forward ? -1 : 0);
  const int row = model()->find_gap(from, forward);
  if (row >= 0) view_->go_to_row(row);
}

void segment_tab::toggle_bookmark() {
  const std::uint64_t serial = view_->current_serial();
  if (serial == 0 || model()->row_of(serial) < 0) return;
  model()->toggle_bookmark(serial);
}

void segment_tab::next_bookmark(bool forward) {
  const std::uint64_t current = view_->current_serial();
  const std::uint64_t from = current != 0 ? current : (forward ? 0 : ~std::uint64_t{0});
  const int row = model()->next_bookmark(from, forward);
  if (row >= 0) view_->go_to_row(row);
}

void segment_tab::go_to_serial(std::uint64_t serial) {
  const int row = model()->row_of(serial);
  if (row >= 0) {
    view_->go_to_row(row);
    return;
  }
  bookmark_note_->setText(tr("That row is hidden by the filter."));
}

void segment_tab::update_bookmark_list() {
  const log_model& m = *model();
  const bookmark_set& marks = m.bookmarks();
  bookmark_list_->clear();
  for (const std::uint64_t serial : marks.serials()) {
    if (!m.view().contains(serial)) continue;
    const entry& e = m.view().at(serial);
    QString text = e.time_ns != no_time ? format_time(e.time_ns, m.utc()).mid(11, 12) : QString();
    text += QLatin1Char(' ') + message_line(e, 80);
    auto* item = new QListWidgetItem(text.trimmed(), bookmark_list_);
    item->setData(Qt::UserRole, QVariant::fromValue<qulonglong>(serial));
    const QString where = e.source < m.sources().size()
                              ? m.sources()[e.source] + QStringLiteral(" \u00b7 ")
                              : QString();
    item->setToolTip(where + tr("seq %1").arg(e.sequence));
  }
  QString note = tr("Bookmarks (Ctrl+B, F2, Shift+F2)");
  if (marks.dropped() != 0) {
    const QString went = marks.dropped() == 1
                             ? tr("1 bookmark went with its row (evicted or cleared)")
                             : tr("%1 bookmarks went with their rows (evicted or cleared)")
                                   .arg(number(marks.dropped()));
    note += QLatin1Char('\n') + went;
  }
  bookmark_note_->setText(note);
  bookmark_panel_->setVisible(!marks.empty() || marks.dropped() != 0);
}

std::uint64_t segment_tab::clear_history() {
  const std::uint64_t count = session_ ? session_->clear() : merged_->clear();
  detail_->clear();
  detail_serial_ = 0;
  cleared_note_ =
      tr("cleared %1 rows at %2")
          .arg(number(count), QTime::currentTime().toString(QStringLiteral("HH:mm:ss")));
  update_status();
  view_->follow();
  return count;
}

void segment_tab::set_hide_gaps(bool hide) {
  if (hide == hide_gaps_) return;
  hide_gaps_ = hide;
  apply_filter();
  update_status();
}

void segment_tab::show_around(std::uint64_t serial, int seconds) {
  if (!model()->view().contains(serial)) return;
  const std::int64_t t = model()->view().at(serial).time_ns;
  if (t == no_time) return;
  const std::int64_t span = static_cast<std::int64_t>(seconds) * 1'000'000'000;
  {
    // One re-filter for all of it, not one per cleared field.
    const QSignalBlocker quiet(filters_);
    filters_->reset();
  }
  if (hidden_segments_ != 0) set_hidden_segments(0);
  pending_serial_ = serial;
  range_from_ = no_time;  // set_time_range applies even when the range is the same
  set_time_range(t - span, t + span);
  if (!model()->refiltering() && pending_serial_ != 0) {
    const int row = model()->row_at_or_after(pending_serial_);
    pending_serial_ = 0;
    if (row >= 0) view_->go_to_row(row);
  }
}

void segment_tab::fill_row_menu(QMenu& menu) {
  const log_model& m = *model();
  const int row = view_->current_row();
  if (row < 0) return;
  const std::uint64_t serial = m.serial_at(row);
  const entry& e = m.entry_at(row);
  auto add = [&](const char* name, const QString& text, auto slot) {
    QAction* action = menu.addAction(text, this, slot);
    action->setObjectName(QLatin1String(name));
    return action;
  };
  menu.addSeparator();
  if (e.tag != 0) {
    const std::string_view raw = m.tags()->name(e.tag);
    const QString tag = QString::fromUtf8(raw.data(), static_cast<qsizetype>(raw.size()));
    add("only_tag", tr("Only tag \u201c%1\u201d").arg(tag),
        [this, tag] { filters_->only_tag(tag); });
    add("exclude_tag", tr("Hide tag \u201c%1\u201d").arg(tag),
        [this, tag] { filters_->exclude_tag(tag); });
  }
  if (e.kind() == row_kind::record) {
    const std::uint32_t thread = e.thread;
    add("only_thread", tr("Only thread %1").arg(thread),
        [this, thread] { filters_->only_thread(thread); });
  }
  if (!e.always_visible()) {
    const int slot = e.level_slot();
    const QString name = slot == unleveled_slot ? tr("rows without a level") : level_name(e.level);
    add("only_level", tr("Only level %1").arg(name), [this, slot] { filters_->only_level(slot); });
  }
  if (e.time_ns != no_time) {
    QMenu* around = menu.addMenu(tr("Show entries around this time (filters off)"));
    around->setObjectName(QStringLiteral("show_around"));
    for (const int seconds : {1, 5, 30, 300}) {
      QAction* action =
          around->addAction(tr("\u00b1 %1 s").arg(seconds), this,
                            [this, serial, seconds] { show_around(serial, seconds); });
      action->setObjectName(QStringLiteral("around_%1").arg(seconds));
    }
  }
}

void segment_tab::show_search() {
  search_bar_->show();
  search_text_->setFocus();
  search_text_->selectAll();
}

void segment_tab::find(bool forward) {
  if (search_text_->text().isEmpty()) {
    show_search();
    return;
  }
  const int current = view_->current_row();
  const int from = current >= 0 ? current : (forward ? -1 : 0);
  const int row =
      model()->find_text(from, forward, search_text_->text(), search_case_->isChecked());
  if (row < 0) {
    search_result_->setText(tr("not found"));
    return;
  }
  search_result_->setText(tr("row %1").arg(number(static_cast<std::uint64_t>(row) + 1)));
  view_->go_to_row(row);
}

std::vector<std::uint64_t> segment_tab::selected_serials() const {
  return view_->selected_serials();
}

std::vector<std::uint64_t> segment_tab::visible_serials() const {
  return model()->visible_serials();
}

QString segment_tab::rows_text(const std::vector<std::uint64_t>& serials,
                               bool messages_only) const {
  const log_model& model = *this->model();
  const store_view& view = model.view();
  QStringList lines;
  for (const std::uint64_t serial : serials) {
    if (!view.contains(serial)) continue;
    const entry& row = view.at(serial);
    lines << (messages_only ? full_message(row) : text_line(row, *model.tags(), model.utc()));
  }
  return lines.join(QLatin1Char('\n'));
}

void segment_tab::set_time_options(time_mode mode, bool utc) {
  model()->set_time_options(mode, utc);
}

QByteArray segment_tab::splitter_state() const {
  return splitter_->saveState();
}
void segment_tab::restore_splitter(const QByteArray& state) {
  splitter_->restoreState(state);
}

}  // namespace ouroboros::viewer
