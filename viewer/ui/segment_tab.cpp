#include "ui/segment_tab.hpp"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QFile>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QSplitter>
#include <QThreadPool>
#include <QToolButton>
#include <QVBoxLayout>

#include "data/exporter.hpp"
#include "data/format.hpp"
#include "data/segment_catalog.hpp"
#include "ui/filter_bar.hpp"
#include "ui/log_view.hpp"

namespace ouroboros::viewer {

namespace {
QString number(std::uint64_t n) {
  return QLocale().toString(static_cast<qulonglong>(n));
}

QString rate(double per_second) {
  if (per_second >= 1e6) return QStringLiteral("%1 M/s").arg(per_second / 1e6, 0, 'f', 2);
  if (per_second >= 1e4) return QStringLiteral("%1 k/s").arg(per_second / 1e3, 0, 'f', 0);
  return QStringLiteral("%1/s").arg(per_second, 0, 'f', 0);
}

bool is_dark(const QWidget* widget) {
  return widget->palette().color(QPalette::Window).lightness() < 128;
}
}  // namespace

segment_tab::segment_tab(session_options options, QWidget* parent)
    : QWidget(parent), session_(std::make_unique<segment_session>(std::move(options))) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 6);
  layout->setSpacing(4);

  banner_ = new QLabel(this);
  banner_->setWordWrap(true);
  banner_->setTextFormat(Qt::RichText);
  banner_->setMargin(6);
  banner_->hide();
  layout->addWidget(banner_);

  filters_ = new filter_bar(this);
  layout->addWidget(filters_);

  auto* info_row = filters_->levels_row();
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  progress_->setFormat(tr("Re-filtering history\u2026 %p%"));
  progress_->setMaximumHeight(18);
  progress_->hide();
  pause_badge_ = new QLabel(this);
  pause_badge_->setStyleSheet(
      QStringLiteral("QLabel { background: #e65100; color: white; border-radius: 8px; padding: 1px "
                     "8px; font-weight: bold; }"));
  pause_badge_->hide();
  progress_->setMaximumWidth(260);
  info_row->addWidget(progress_);
  info_row->addWidget(pause_badge_);

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
  auto* close = new QToolButton(search_bar_);
  close->setText(QStringLiteral("\u2715"));
  close->setAutoRaise(true);
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
  connect(close, &QToolButton::clicked, search_bar_, &QWidget::hide);

  splitter_ = new QSplitter(Qt::Vertical, this);
  view_ = new log_view(splitter_);
  view_->set_log_model(session_->model());
  detail_ = new QPlainTextEdit(splitter_);
  detail_->setReadOnly(true);
  detail_->setPlaceholderText(tr("Select a row to see its full message and fields."));
  QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
  detail_->setFont(mono);
  splitter_->addWidget(view_);
  splitter_->addWidget(detail_);
  splitter_->setStretchFactor(0, 4);
  splitter_->setStretchFactor(1, 1);
  splitter_->setSizes({600, 140});
  layout->addWidget(splitter_, 1);

  connect(filters_, &filter_bar::changed, this, [this] {
    session_->set_filter(filters_->spec());
    filters_->set_error(session_->model()->filter_error());
  });
  connect(session_.get(), &segment_session::ticked, this, &segment_tab::on_tick);
  connect(view_, &log_view::currentRowChanged, this, &segment_tab::show_detail);
  connect(view_, &log_view::followingChanged, this, &segment_tab::followingChanged);
  connect(session_->model(), &log_model::refilterStarted, this, [this] {
    progress_->setValue(0);
    progress_->show();
  });
  connect(session_->model(), &log_model::refilterFinished, this, [this] { progress_->hide(); });

  update_banner();
  session_->start();
}

segment_tab::~segment_tab() {
  session_->stop();
}

void segment_tab::on_tick() {
  ++ticks_;
  log_model& model = *session_->model();
  if (model.refiltering()) progress_->setValue(static_cast<int>(model.refilter_progress() * 1000));
  if (model.paused()) {
    pause_badge_->setText(tr("Paused \u2014 %1 new").arg(number(model.arrivals_since_pause())));
    pause_badge_->show();
  } else {
    pause_badge_->hide();
  }
  // Text updates at ~10 Hz are plenty for people and keep the tick cheap.
  if (ticks_ % 4 == 0) {
    filters_->set_counts(model.visible_levels(), session_->store().level_totals());
    update_banner();
    emit statusChanged();
  }
}

QString segment_tab::state_text() const {
  const poll_status& s = session_->stats().poller;
  return to_display(s.state);
}

QString segment_tab::status_line() const {
  const session_stats& st = session_->stats();
  const poll_status& s = st.poller;
  QStringList parts;
  QString state = to_display(s.state);
  if (s.state == segment_state::attached && s.writer_pid != 0)
    state += tr(" (pid %1)").arg(s.writer_pid);
  const char* dot_color = s.state == segment_state::attached  ? "#2e7d32"
                          : s.state == segment_state::waiting ? "#9e9e9e"
                                                              : "#c62828";
  parts << QStringLiteral("<span style='color:%1'>\u25CF</span> %2")
               .arg(QLatin1String(dot_color), state.toHtmlEscaped());
  parts << tr("%1 in").arg(rate(st.ingest_per_second));
  QString lag = tr("lag %1").arg(number(s.lag_entries));
  if (s.ring_capacity_entries != 0) {
    const double percent =
        100.0 * static_cast<double>(s.lag_entries) / static_cast<double>(s.ring_capacity_entries);
    lag += tr(" (%1 % of ring)").arg(percent, 0, 'f', percent < 10 ? 1 : 0);
    if (percent >= 50) lag = QStringLiteral("<b style='color:#e65100'>\u26A0 %1</b>").arg(lag);
  }
  parts << lag;
  parts << tr("read %1").arg(number(s.entries_read));
  QString lost = tr("lost %1").arg(number(s.entries_lost));
  if (st.lost_per_second > 0) lost += tr(" (%1)").arg(rate(st.lost_per_second));
  if (s.entries_lost != 0) lost = QStringLiteral("<span style='color:#c62828'>%1</span>").arg(lost);
  parts << lost;
  parts << tr("evicted %1").arg(number(st.evicted));
  parts << tr("kept %1 (%2)").arg(number(st.retained), human_bytes(st.retained_bytes));
  parts << tr("tick p99 %1 ms").arg(st.tick_p99_ms, 0, 'f', 2);
  return parts.join(QStringLiteral(" \u00B7 "));
}

void segment_tab::update_banner() {
  const poll_status& s = session_->stats().poller;
  const QString name = session_->name().toHtmlEscaped();
  QString text;
  int severity = 0;  // 0 info, 1 warning, 2 error
  switch (s.state) {
    case segment_state::waiting:
      text = tr("Waiting for segment <b>%1</b> to appear\u2026 Start a writer, e.g. "
                "<code>ouroboros-demo-writer --segment %1</code>; the viewer attaches by itself.")
                 .arg(name);
      break;
    case segment_state::attached: break;
    case segment_state::writer_gone:
      text =
          tr("The writer of <b>%1</b> (pid %2) is gone. Last entry: %3. What it wrote stays here; "
             "a new writer on this name is picked up automatically.")
              .arg(name)
              .arg(s.writer_pid)
              .arg(format_time(s.last_entry_ns, session_->model()->utc()));
      severity = 1;
      break;
    case segment_state::writer_closed:
      text = tr("The writer of <b>%1</b> closed the segment. Last entry: %2. A new writer on this "
                "name "
                "is picked up automatically.")
                 .arg(name, format_time(s.last_entry_ns, session_->model()->utc()));
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
  banner_->setStyleSheet(QStringLiteral("QLabel { background: %1; border-radius: 4px; }")
                             .arg(QLatin1String((dark ? dark_bg : light_bg)[severity])));
  banner_->setText(text);
  banner_->show();
}

void segment_tab::show_detail(int row) {
  log_model& model = *session_->model();
  if (row < 0 || row >= model.rowCount()) {
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
  if (e.level != no_level) second << tr("level %1").arg(level_name(e.level));
  if (e.tag != 0)
    second << tr("tag %1").arg(QString::fromUtf8(tags->name(e.tag).data(),
                                                 static_cast<qsizetype>(tags->name(e.tag).size())));
  if (e.kind() == row_kind::record) second << tr("thread %1").arg(e.thread);
  if (e.kind() == row_kind::plain) second << tr("plain payload (%1 bytes)").arg(e.message_size);
  if (e.kind() == row_kind::malformed) second << tr("malformed record: shown as raw bytes");
  if (e.truncated()) second << tr("message truncated by the writer");
  QString text = head.join(QStringLiteral("   ")) + QLatin1Char('\n');
  if (!second.isEmpty()) text += second.join(QStringLiteral("   ")) + QLatin1Char('\n');
  text += QLatin1Char('\n') + full_text(e.message()) + QLatin1Char('\n');
  const auto fields = decode_fields(e.extra());
  if (!fields.empty()) {
    text += tr("\nfields:\n");
    for (const field_pair& f : fields)
      text += QStringLiteral("  %1 = %2\n").arg(full_text(f.key), full_text(f.value));
  }
  detail_->setPlainText(text);
}

void segment_tab::set_paused(bool paused) {
  if (paused == session_->paused()) return;
  session_->set_paused(paused);
  if (!paused) pause_badge_->hide();
  emit pausedChanged(paused);
}

void segment_tab::follow() {
  view_->follow();
}

void segment_tab::next_gap(bool forward) {
  const int from =
      view_->currentIndex().isValid() ? view_->currentIndex().row() : (forward ? -1 : 0);
  const int row = session_->model()->find_gap(from, forward);
  if (row >= 0) view_->go_to_row(row);
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
  const int from =
      view_->currentIndex().isValid() ? view_->currentIndex().row() : (forward ? -1 : 0);
  const int row =
      session_->model()->find_text(from, forward, search_text_->text(), search_case_->isChecked());
  if (row < 0) {
    search_result_->setText(tr("not found"));
    return;
  }
  search_result_->setText(tr("row %1").arg(number(static_cast<std::uint64_t>(row) + 1)));
  view_->go_to_row(row);
}

void segment_tab::copy_selection() {
  const QString text = view_->selected_text();
  if (!text.isEmpty()) QApplication::clipboard()->setText(text);
}

void segment_tab::set_time_options(bool utc, bool delta) {
  session_->model()->set_time_options(utc, delta);
}

void segment_tab::export_visible(const QString& file_name) {
  log_model& model = *session_->model();
  export_options options;
  options.format = format_for_file(file_name);
  options.utc = model.utc();
  QPointer<segment_tab> self(this);
  QThreadPool::globalInstance()->start([self, file_name, options, view = model.view(),
                                        serials = model.visible_serials(), tags = model.tags()] {
    QString message;
    QFile file(file_name);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
      message = tr("Export failed: cannot write %1: %2").arg(file_name, file.errorString());
    } else {
      QString error;
      if (export_rows(file, view, serials, *tags, options, error)) {
        message = tr("Exported %1 rows to %2").arg(number(serials.size()), file_name);
      } else {
        message = tr("Export failed: %1").arg(error);
      }
    }
    QMetaObject::invokeMethod(
        qApp,
        [self, message] {
          if (self) emit self->exportFinished(message);
        },
        Qt::QueuedConnection);
  });
}

QByteArray segment_tab::splitter_state() const {
  return splitter_->saveState();
}
void segment_tab::restore_splitter(const QByteArray& state) {
  splitter_->restoreState(state);
}

}  // namespace ouroboros::viewer
