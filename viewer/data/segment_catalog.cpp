#include "data/segment_catalog.hpp"

#include <QCoreApplication>
#include <QThreadPool>

#include <algorithm>
#include <cmath>

#include "ouroboros/layout.hpp"
#include "ouroboros/segment.hpp"

namespace ouroboros::viewer {

QString human_bytes(quint64 bytes) {
  if (bytes >= (1ULL << 30))
    return QStringLiteral("%1 GiB").arg(static_cast<double>(bytes) / (1ULL << 30), 0, 'f', 1);
  if (bytes >= (1ULL << 20))
    return QStringLiteral("%1 MiB").arg(static_cast<double>(bytes) / (1ULL << 20), 0, 'f', 1);
  if (bytes >= (1ULL << 10))
    return QStringLiteral("%1 KiB").arg(static_cast<double>(bytes) / (1ULL << 10), 0, 'f', 1);
  return QStringLiteral("%1 B").arg(bytes);
}

QString user_name(quint32 uid) {
  const std::string name = ouroboros::user_name_of(uid);
  if (!name.empty()) return QString::fromLocal8Bit(name.data(), static_cast<int>(name.size()));
  return QStringLiteral("uid %1").arg(uid);
}

segment_catalog::segment_catalog(QObject* parent) : QAbstractTableModel(parent) {
  clock_.start();
}

int segment_catalog::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}
int segment_catalog::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : column_count;
}

QVariant segment_catalog::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case col_name: return QStringLiteral("Segment");
    case col_writer: return QStringLiteral("Writer");
    case col_size: return QStringLiteral("Size");
    case col_rate: return QStringLiteral("Rate");
    case col_entries: return QStringLiteral("Entries");
    case col_owner: return QStringLiteral("Owner");
    default: return {};
  }
}

QVariant segment_catalog::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const catalog_row& row = rows_[static_cast<std::size_t>(index.row())];
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case col_name: return row.name;
      case col_writer: return row.writer;
      case col_size: return human_bytes(row.size);
      case col_rate:
        if (row.rate < 0) return QStringLiteral("\u2026");
        if (row.rate >= 1e6) return QStringLiteral("%1 M/s").arg(row.rate / 1e6, 0, 'f', 1);
        if (row.rate >= 1e4) return QStringLiteral("%1 k/s").arg(row.rate / 1e3, 0, 'f', 0);
        if (row.rate > 0 && row.rate < 9.95) return QStringLiteral("%1/s").arg(row.rate, 0, 'f', 1);
        return QStringLiteral("%1/s").arg(row.rate, 0, 'f', 0);
      case col_entries: return QString::number(row.entries);
      case col_owner:
        return (row.foreign_owner ? QStringLiteral("\u26A0 ") : QString()) +
               user_name(row.owner_uid);
      default: return {};
    }
  }
  if (role == Qt::ToolTipRole) {
    QString writer = row.writer;
    if (row.pid != 0) writer += QStringLiteral(" (pid %1)").arg(row.pid);
    return QStringLiteral("%1\nwriter %2\n%3 chunks, %4, %5\n%6 entries written\nowner %7%8")
        .arg(row.name, writer)
        .arg(row.chunks)
        .arg(human_bytes(row.size),
             row.records ? QStringLiteral("log records") : QStringLiteral("plain payloads"))
        .arg(row.entries)
        .arg(user_name(row.owner_uid),
             row.foreign_owner ? QStringLiteral(" (not you: check it is the writer you expect)")
                               : QString());
  }
  if (role == Qt::TextAlignmentRole && index.column() >= col_rate) {
    return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
  }
  if (role == Qt::UserRole) return row.alive;
  return {};
}

segment_catalog::~segment_catalog() {
  *alive_ = false;
}

void segment_catalog::refresh() {
  update(scan(), clock_.elapsed());
}

void segment_catalog::refresh_async() {
  if (refreshing_) return;
  refreshing_ = true;
  QThreadPool::globalInstance()->start([this, alive = alive_] {
    std::vector<catalog_row> rows = scan();
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [this, alive, rows = std::move(rows)]() mutable {
          if (!*alive) return;  // the catalog went away meanwhile (GUI thread: no race)
          refreshing_ = false;
          update(std::move(rows), clock_.elapsed());
        },
        Qt::QueuedConnection);
  });
}

std::vector<catalog_row> segment_catalog::scan() {
  std::vector<catalog_row> rows;
  for (const segment_info& info : list_segments()) {
    catalog_row row;
    row.name = QString::fromStdString(info.name.size() > 1 ? info.name.substr(1) : info.name);
    row.alive = info.liveness == writer_liveness::alive;
    row.writer = QString::fromUtf8(to_string(info.liveness).data(),
                                   static_cast<qsizetype>(to_string(info.liveness).size()));
    if (info.extension && info.liveness != writer_liveness::unknown)
      row.pid = info.extension->writer_pid;
    row.size = info.size;
    row.owner_uid = info.owner_uid;
    row.foreign_owner = info.owner_uid != static_cast<quint32>(ouroboros::current_user_id());
    row.chunks = info.chunk_count;
    row.entries = info.newest_token;
    // The chunk table counts entries a chunk at a time; a reader placed at "now" walks the
    // newest chunk and knows the exact count (bounded work: one chunk).
    try {
      shm_reader reader(info.name, start_position::now);
      row.entries = std::max<quint64>(row.entries, reader.ring().position_sequence());
    } catch (const std::exception&) {
      // Gone or unreadable since it was listed: the chunk-granular count stays.
    }
    row.records = info.extension &&
                  info.extension->payload_encoding == layout::extension_layout::encoding_record;
    rows.push_back(row);
  }
  return rows;
}

void segment_catalog::rate_rows(std::vector<catalog_row>& fresh, qint64 elapsed_ms) {
  const double seconds = last_ms_ < 0 ? 0 : static_cast<double>(elapsed_ms - last_ms_) / 1000.0;
  last_ms_ = elapsed_ms;
  // Exponential smoothing with a time constant of a few seconds.
  const double weight = seconds > 0 ? 1.0 - std::exp(-seconds / 4.0) : 1.0;
  for (catalog_row& row : fresh) {
    const auto old = std::find_if(rows_.begin(), rows_.end(),
                                  [&](const catalog_row& r) { return r.name == row.name; });
    if (old == rows_.end() || seconds <= 0) continue;
    if (row.entries < old->entries) continue;  // a new incarnation: start measuring again
    const double now = static_cast<double>(row.entries - old->entries) / seconds;
    row.rate = old->rate < 0 ? now : old->rate + weight * (now - old->rate);
  }
}

void segment_catalog::set_row(std::size_t index, const catalog_row& row) {
  if (rows_[index] == row) return;
  rows_[index] = row;
  emit dataChanged(this->index(static_cast<int>(index), 0),
                   this->index(static_cast<int>(index), column_count - 1));
}

void segment_catalog::apply_sorted(std::vector<catalog_row> fresh) {
  // Remove vanished rows one by one, then update or insert, keeping name order.
  for (int i = static_cast<int>(rows_.size()) - 1; i >= 0; --i) {
    const QString& name = rows_[static_cast<std::size_t>(i)].name;
    if (std::none_of(fresh.begin(), fresh.end(),
                     [&](const catalog_row& r) { return r.name == name; })) {
      beginRemoveRows({}, i, i);
      rows_.erase(rows_.begin() + i);
      endRemoveRows();
    }
  }
  std::sort(fresh.begin(), fresh.end(),
            [](const catalog_row& a, const catalog_row& b) { return a.name < b.name; });
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    if (i < rows_.size() && rows_[i].name == fresh[i].name) {
      set_row(i, fresh[i]);
      continue;
    }
    // A row that was appended while frozen sits elsewhere: take it out first.
    const auto elsewhere =
        std::find_if(rows_.begin() + static_cast<std::ptrdiff_t>(i), rows_.end(),
                     [&](const catalog_row& r) { return r.name == fresh[i].name; });
    if (elsewhere != rows_.end()) {
      const int at = static_cast<int>(elsewhere - rows_.begin());
      beginRemoveRows({}, at, at);
      rows_.erase(elsewhere);
      endRemoveRows();
    }
    beginInsertRows({}, static_cast<int>(i), static_cast<int>(i));
    rows_.insert(rows_.begin() + static_cast<std::ptrdiff_t>(i), fresh[i]);
    endInsertRows();
  }
}

void segment_catalog::apply_frozen(const std::vector<catalog_row>& fresh) {
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const auto now = std::find_if(fresh.begin(), fresh.end(),
                                  [&](const catalog_row& r) { return r.name == rows_[i].name; });
    if (now != fresh.end()) {
      set_row(i, *now);
    } else if (!rows_[i].vanished) {
      catalog_row gone = rows_[i];
      gone.vanished = true;
      gone.alive = false;
      gone.writer = QStringLiteral("removed");
      gone.rate = -1;
      set_row(i, gone);
    }
  }
  for (const catalog_row& row : fresh) {
    if (std::any_of(rows_.begin(), rows_.end(),
                    [&](const catalog_row& r) { return r.name == row.name; })) {
      continue;
    }
    const int at = static_cast<int>(rows_.size());
    beginInsertRows({}, at, at);
    rows_.push_back(row);
    endInsertRows();
  }
}

void segment_catalog::update(std::vector<catalog_row> fresh, qint64 elapsed_ms) {
  rate_rows(fresh, elapsed_ms);
  latest_ = fresh;
  if (frozen_) {
    apply_frozen(fresh);
  } else {
    apply_sorted(std::move(fresh));
  }
}

void segment_catalog::set_frozen(bool frozen) {
  if (frozen == frozen_) return;
  frozen_ = frozen;
  if (!frozen_) apply_sorted(latest_);
}

QStringList segment_catalog::names() const {
  QStringList out;
  for (const catalog_row& row : rows_) out << row.name;
  return out;
}

}  // namespace ouroboros::viewer
