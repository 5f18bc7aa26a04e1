#include "data/log_model.hpp"

#include <QPointer>
#include <QThreadPool>
#include <algorithm>
#include <condition_variable>

#include "data/exporter.hpp"
#include "data/format.hpp"
#include "data/message_pass.hpp"

namespace ouroboros::viewer {

namespace {
// Re-filtering this many rows inline costs well under a millisecond; more goes to a pool thread.
constexpr std::uint64_t inline_refilter_limit = 20'000;
// Rows a tick marks against the highlight rules as they arrive: about 2 ms with three rules.
constexpr std::size_t highlight_budget = 4096;
}  // namespace

struct refilter_job {
  std::atomic<bool> cancel{false};
  std::atomic<std::uint64_t> done{0};
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  std::uint64_t allowance = 0;  // bytes of formatted-message caches the pass may leave
  std::vector<std::uint64_t> result;
  std::mutex mutex;
  std::condition_variable finished_cv;
  bool finished = false;
  log_model* receiver = nullptr;  // under mutex; cleared when the model goes away

  void run(store_view view, std::shared_ptr<const filter_spec> spec,
           std::shared_ptr<const tag_table> tags, const std::shared_ptr<refilter_job>& self) {
    filter_engine engine(std::move(spec), tags.get());
    message_pass messages(view, allowance);
    const std::uint64_t begin = std::max(from, view.first);
    const std::uint64_t end = std::min(to, view.end);
    for (std::uint64_t s = begin; s < end; ++s) {
      if (((s - begin) & 255) == 0) {
        if (cancel.load(std::memory_order_relaxed)) break;
        done.store(s - begin, std::memory_order_relaxed);
      }
      if (engine.accepts(view.at(s), s, messages)) result.push_back(s);
    }
    done.store(to - from, std::memory_order_relaxed);
    std::lock_guard lock(mutex);
    finished = true;
    if (receiver != nullptr && !cancel.load()) {
      QMetaObject::invokeMethod(
          receiver,
          [model = receiver, self] {
            if (model->job_ == self) model->apply_job();
          },
          Qt::QueuedConnection);
    }
    finished_cv.notify_all();
  }
};

log_model::log_model(const entry_store* store, std::shared_ptr<const tag_table> tags,
                     QObject* parent)
    : QAbstractTableModel(parent),
      store_(store),
      tags_(std::move(tags)),
      spec_(std::make_shared<filter_spec>()),
      engine_(spec_, tags_.get()) {}

log_model::~log_model() {
  if (job_) {
    std::lock_guard lock(job_->mutex);
    job_->receiver = nullptr;
    job_->cancel.store(true);
  }
}

int log_model::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(std::min<std::size_t>(rows_.size(), INT_MAX));
}

int log_model::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : column_count + (sources_.isEmpty() ? 0 : 1);
}

void log_model::set_sources(QStringList names) {
  beginResetModel();
  sources_ = std::move(names);
  endResetModel();
}

QVariant log_model::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case col_sequence: return QStringLiteral("Seq");
    case col_time:
      switch (time_mode_) {
        case time_mode::delta: return QStringLiteral("\u0394 Time");
        case time_mode::since_attach: return QStringLiteral("Since attach");
        case time_mode::time_of_day:
          return utc_ ? QStringLiteral("Time (UTC)") : QStringLiteral("Time");
      }
      return {};
    case col_level: return QStringLiteral("Level");
    case col_tag: return QStringLiteral("Tag");
    case col_thread: return QStringLiteral("Thread");
    case col_message: return QStringLiteral("Message");
    case col_segment: return sources_.isEmpty() ? QVariant() : QStringLiteral("Segment");
    default: return {};
  }
}

QString log_model::cached_line(const entry& row, std::uint64_t serial) const {
  if (!row.deferred()) return one_line(row.stored_message());
  if (lines_.empty()) lines_.resize(line_slots);
  line_slot& slot = lines_[serial % line_slots];
  // The text pointer tells two rows of one serial apart (another store after a reset).
  if (slot.serial != serial || slot.text != row.text) {
    slot.line = one_line(message_text(row, line_scratch_));
    slot.serial = serial;
    slot.text = row.text;
  }
  return slot.line;
}

QVariant log_model::display(const entry& row, std::uint64_t serial, int row_index,
                            int column) const {
  const row_kind kind = row.kind();
  const bool event = row.always_visible();
  switch (column) {
    case col_sequence:
      if (kind == row_kind::separator) return QString();
      if (kind == row_kind::gap) {
        for (const field_pair& f : decode_fields(row.extra())) {
          if (f.key == "last") {
            return QStringLiteral("%1\u2013%2")
                .arg(row.sequence)
                .arg(QString::fromUtf8(f.value.data(), static_cast<qsizetype>(f.value.size())));
          }
        }
      }
      if (kind == row_kind::notice) return QString();
      return QString::number(row.sequence);
    case col_time: {
      if (row.time_ns == no_time) return QString();
      if (time_mode_ == time_mode::since_attach) return format_offset(row.time_ns - attach_ns_);
      if (time_mode_ == time_mode::time_of_day || event) {
        return clock_text_.text(row.time_ns, utc_, date_changes_at(row_index));
      }
      // Delta to the nearest earlier visible row that has a time.
      for (int k = row_index - 1; k >= 0 && k >= row_index - 256; --k) {
        const entry& previous = view_.at(rows_[static_cast<std::size_t>(k)]);
        if (previous.time_ns != no_time && !previous.always_visible()) {
          return format_delta(row.time_ns - previous.time_ns);
        }
      }
      return format_delta(0);
    }
    case col_level:
      if (kind == row_kind::malformed) return QStringLiteral("(malformed)");
      return level_name(row.level);
    case col_tag: {
      if (row.tag == 0) return QString();
      const std::string_view name = tags_->name(row.tag);
      return QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
    }
    case col_thread: return kind == row_kind::record ? QString::number(row.thread) : QString();
    case col_message: {
      QString text = cached_line(row, serial);
      if (row.truncated()) text += QStringLiteral(" [truncated]");
      if (kind == row_kind::record && row.extra_size != 0) {
        for (const field_pair& f : decode_fields(row.extra())) {
          text += QStringLiteral("  %1=%2").arg(one_line(f.key, 64), one_line(f.value, 120));
        }
      }
      return text;
    }
    case col_segment: return row.source < sources_.size() ? sources_[row.source] : QString();
    default: break;
  }
  (void)serial;
  return {};
}

QVariant log_model::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() < 0 || static_cast<std::size_t>(index.row()) >= rows_.size())
    return {};
  const std::uint64_t serial = rows_[static_cast<std::size_t>(index.row())];
  if (!view_.contains(serial)) return {};
  const entry& row = view_.at(serial);
  switch (role) {
    case Qt::DisplayRole: return display(row, serial, index.row(), index.column());
    case Qt::ToolTipRole:
      if (index.column() == col_message) return message_line(row, 2000);
      if (index.column() == col_time && row.time_ns != no_time) {
        return format_time(row.time_ns, false) + QStringLiteral(" local\n") +
               format_time(row.time_ns, true) + QStringLiteral(" UTC");
      }
      return {};
    case Qt::TextAlignmentRole:
      if (index.column() == col_sequence || index.column() == col_thread) {
        return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
      }
      return {};
    case serial_role: return QVariant::fromValue<qulonglong>(serial);
    case kind_role: return static_cast<int>(row.kind());
    case level_role: return static_cast<int>(row.level);
    case full_text_role: return full_message(row);
    case highlight_role: {
      const std::int64_t rgb = highlight_at(index.row());
      return rgb < 0 ? QVariant() : QVariant(static_cast<uint>(rgb));
    }
    default: return {};
  }
}

void log_model::count_row(const entry& row, int sign) {
  if (row.always_visible()) return;
  auto& slot = visible_levels_[static_cast<std::size_t>(row.level_slot())];
  slot = sign > 0 ? slot + 1 : slot - 1;
}

void log_model::remove_front(std::uint64_t first_kept) {
  const auto cut = std::lower_bound(rows_.begin(), rows_.end(), first_kept);
  const auto count = static_cast<int>(cut - rows_.begin());
  if (count == 0) return;
  beginRemoveRows({}, 0, count - 1);
  for (auto it = rows_.begin(); it != cut; ++it) {
    if (view_.contains(*it)) count_row(view_.at(*it), -1);
  }
  rows_.erase(rows_.begin(), cut);
  marks_.erase(marks_.begin(), marks_.begin() + count);
  removed_rows_ += static_cast<std::uint64_t>(count);
  endRemoveRows();
}

void log_model::drop_old_bookmarks(std::uint64_t first_kept) {
  if (!bookmarks_.empty() && bookmarks_.drop_before(first_kept) != 0) emit bookmarksChanged();
}

void log_model::drop_evicted() {
  const store_view& current = store_->view();
  remove_front(current.first);
  drop_old_bookmarks(current.first);
  // Paused, the model reads the store's pages from now on: every row it showed is gone, and
  // resuming re-filters what arrived since.
  view_ = current;
}

bool log_model::toggle_bookmark(std::uint64_t serial) {
  const bool on = bookmarks_.toggle(serial);
  emit bookmarksChanged();
  return on;
}

int log_model::next_bookmark(std::uint64_t from_serial, bool forward) const {
  const std::uint64_t serial =
      bookmarks_.next(from_serial, forward, [this](std::uint64_t s) { return row_of(s) >= 0; });
  return serial == 0 ? -1 : row_of(serial);
}

void log_model::sync(const std::vector<row_span>& spans) {
  if (paused_) {
    for (const row_span& span : spans) arrivals_since_pause_ += span.end - span.begin;
    return;
  }
  const store_view& current = store_->view();
  remove_front(current.first);
  drop_old_bookmarks(current.first);
  view_ = current;

  std::vector<std::uint64_t> added;
  for (const row_span& span : spans) {
    const bool prefiltered = span.generation == generation_;
    for (std::uint32_t i = span.begin; i < span.end; ++i) {
      const std::uint64_t serial = span.rows->first_serial + i;
      if (!view_.contains(serial)) continue;  // evicted within the same tick
      const entry& row = span.rows->rows[i];
      const bool visible = prefiltered ? (row.bits & flag_visible) != 0 : engine_.accepts(row);
      if (visible) added.push_back(serial);
    }
  }
  if (!rows_.empty() && !added.empty() && added.front() <= rows_.back()) {
    // Never happens with one poller; keeps the index sorted if it ever did.
    added.erase(added.begin(), std::upper_bound(added.begin(), added.end(), rows_.back()));
  }
  if (added.empty()) return;
  const int first = static_cast<int>(rows_.size());
  beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
  for (const std::uint64_t serial : added) count_row(view_.at(serial), +1);
  rows_.insert(rows_.end(), added.begin(), added.end());
  // The newest rows of the tick (those on screen while following) are marked now, up to a
  // budget that bounds the GUI thread's work per tick; older ones of a flood are marked when
  // first needed, each once.
  const std::size_t unmarked_count =
      added.size() > highlight_budget ? added.size() - highlight_budget : 0;
  for (std::size_t i = 0; i < added.size(); ++i) {
    marks_.push_back(highlighter_.empty() ? std::uint8_t{0}
                     : i < unmarked_count ? unmarked
                                          : highlighter_.match(view_.at(added[i])));
  }
  endInsertRows();
}

std::uint64_t log_model::set_filter(std::shared_ptr<const filter_spec> spec) {
  spec_ = std::move(spec);
  ++generation_;
  engine_ = filter_engine(spec_, tags_.get());
  if (view_.size() != 0) start_job(view_.first, view_.end);
  return generation_;
}

void log_model::start_job(std::uint64_t from, std::uint64_t to) {
  if (job_) {
    from = std::min(from, job_->from);
    std::lock_guard lock(job_->mutex);
    job_->cancel.store(true);
    job_->receiver = nullptr;
  }
  job_.reset();
  if (to <= from) return;
  if (to - from <= inline_refilter_limit) {
    auto job = std::make_shared<refilter_job>();
    job->from = from;
    job->to = to;
    filter_engine engine(spec_, tags_.get());
    message_pass messages(view_, formatted_allowance());
    for (std::uint64_t s = std::max(from, view_.first); s < std::min(to, view_.end); ++s) {
      if (engine.accepts(view_.at(s), s, messages)) job->result.push_back(s);
    }
    job_ = job;
    apply_job();
    return;
  }
  auto job = std::make_shared<refilter_job>();
  job->from = from;
  job->to = to;
  job->allowance = formatted_allowance();
  job->receiver = this;
  job_ = job;
  emit refilterStarted();
  QThreadPool::globalInstance()->start([job, view = view_, spec = spec_, tags = tags_]() mutable {
    job->run(std::move(view), std::move(spec), std::move(tags), job);
  });
}

std::uint64_t log_model::formatted_allowance() const {
  // Paused, the model's pages may have left the store, whose budget no longer counts them.
  return paused_ ? 0 : store_->formatted_allowance();
}

void log_model::apply_job() {
  const std::shared_ptr<refilter_job> job = std::move(job_);
  job_.reset();
  std::deque<std::uint64_t> rows;
  for (const std::uint64_t s : rows_) {
    if (s >= job->from) break;
    if (s >= view_.first) rows.push_back(s);
  }
  for (const std::uint64_t s : job->result) {
    if (view_.contains(s)) rows.push_back(s);
  }
  for (auto it = std::lower_bound(rows_.begin(), rows_.end(), job->to); it != rows_.end(); ++it) {
    rows.push_back(*it);
  }
  beginResetModel();
  rows_ = std::move(rows);
  marks_.assign(rows_.size(), highlighter_.empty() ? 0 : unmarked);
  removed_rows_ = 0;
  visible_levels_ = {};
  for (const std::uint64_t s : rows_) count_row(view_.at(s), +1);
  endResetModel();
  emit refilterFinished();
}

double log_model::refilter_progress() const {
  if (!job_ || job_->to <= job_->from) return 1.0;
  return static_cast<double>(job_->done.load(std::memory_order_relaxed)) /
         static_cast<double>(job_->to - job_->from);
}

void log_model::wait_for_refilter() {
  while (job_) {
    const std::shared_ptr<refilter_job> job = job_;
    {
      std::unique_lock lock(job->mutex);
      job->finished_cv.wait(lock, [&] { return job->finished; });
    }
    if (job_ == job) apply_job();
  }
}

void log_model::set_paused(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  arrivals_since_pause_ = 0;
  if (paused_) {
    // The store moves on; the totals of what this model keeps showing stay those of now.
    frozen_totals_ = store_->level_totals();
    return;
  }
  const std::uint64_t frozen_end = view_.end;
  const store_view& current = store_->view();
  remove_front(current.first);
  drop_old_bookmarks(current.first);
  view_ = current;
  if (view_.end > frozen_end) start_job(std::max(frozen_end, view_.first), view_.end);
}

void log_model::set_highlight_rules(const std::vector<highlight_rule>& rules) {
  highlighter_ = highlighter(rules, tags_.get());
  marks_.assign(rows_.size(), highlighter_.empty() ? 0 : unmarked);
  if (!rows_.empty()) emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1));
}

std::int64_t log_model::highlight_at(int row) const {
  if (row < 0 || static_cast<std::size_t>(row) >= marks_.size()) return -1;
  std::uint8_t& mark = marks_[static_cast<std::size_t>(row)];
  if (mark == unmarked) {
    const std::uint64_t serial = rows_[static_cast<std::size_t>(row)];
    mark = view_.contains(serial) ? highlighter_.match(view_.at(serial)) : 0;
  }
  return mark == 0 ? -1 : static_cast<std::int64_t>(highlighter_.rgb(mark));
}

const std::array<std::uint64_t, level_slots>& log_model::total_levels() const noexcept {
  return paused_ ? frozen_totals_ : store_->level_totals();
}

QString log_model::cell_text(int row, int column) const {
  if (row < 0 || static_cast<std::size_t>(row) >= rows_.size()) return {};
  const std::uint64_t serial = rows_[static_cast<std::size_t>(row)];
  if (!view_.contains(serial)) return {};
  return display(view_.at(serial), serial, row, column).toString();
}

bool log_model::date_changes_at(int row) const {
  if (row <= 0 || static_cast<std::size_t>(row) >= rows_.size()) return row == 0;
  const entry& here = entry_at(row);
  if (here.time_ns == no_time) return false;
  // The nearest earlier row with a time (gap and notice rows may have none).
  for (int k = row - 1; k >= 0 && k >= row - 16; --k) {
    const entry& previous = entry_at(k);
    if (previous.time_ns == no_time) continue;
    return clock_text_.day(previous.time_ns, utc_) != clock_text_.day(here.time_ns, utc_);
  }
  return false;
}

void log_model::set_time_options(time_mode mode, bool utc) {
  if (utc == utc_ && mode == time_mode_) return;
  utc_ = utc;
  time_mode_ = mode;
  emit headerDataChanged(Qt::Horizontal, col_time, col_time);
  if (!rows_.empty()) emit dataChanged(index(0, col_time), index(rowCount() - 1, col_time));
}

int log_model::row_of(std::uint64_t serial) const {
  const auto it = std::lower_bound(rows_.begin(), rows_.end(), serial);
  if (it == rows_.end() || *it != serial) return -1;
  return static_cast<int>(it - rows_.begin());
}

int log_model::row_at_or_after(std::uint64_t serial) const {
  const auto it = std::lower_bound(rows_.begin(), rows_.end(), serial);
  return it == rows_.end() ? -1 : static_cast<int>(it - rows_.begin());
}

int log_model::find_gap(int from_row, bool forward) const {
  const int n = rowCount();
  if (n == 0) return -1;
  // Gap rows are rare: a linear scan in the wanted direction is cheap next to a repaint.
  for (int step = 1; step <= n; ++step) {
    int r = forward ? from_row + step : from_row - step;
    r = ((r % n) + n) % n;
    if (entry_at(r).kind() == row_kind::gap) return r;
  }
  return -1;
}

int log_model::find_text(int from_row, bool forward, const QString& text,
                         bool case_sensitive) const {
  const int n = rowCount();
  if (n == 0 || text.isEmpty()) return -1;
  auto spec = std::make_shared<filter_spec>();
  spec->text = text;
  spec->case_sensitive = case_sensitive;
  filter_engine engine(spec, tags_.get());
  message_pass messages(view_, formatted_allowance());
  for (int step = 1; step <= n; ++step) {
    int r = forward ? from_row + step : from_row - step;
    r = ((r % n) + n) % n;
    if (engine.text_matches(messages.message(serial_at(r)))) return r;
  }
  return -1;
}

QString log_model::row_text(int row) const {
  const entry& e = entry_at(row);
  if (e.source < sources_.size()) {
    return QLatin1Char('[') + sources_[e.source] + QStringLiteral("] ") +
           text_line(e, *tags_, utc_);
  }
  return text_line(e, *tags_, utc_);
}

}  // namespace ouroboros::viewer
