#include "data/segment_catalog.hpp"

#include <algorithm>

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
        return QStringLiteral("%1/s").arg(row.rate, 0, 'f', 0);
      case col_entries: return QString::number(row.entries);
      default: return {};
    }
  }
  if (role == Qt::ToolTipRole) {
    return QStringLiteral("%1: %2 chunks, %3, %4")
        .arg(row.name)
        .arg(row.chunks)
        .arg(human_bytes(row.size),
             row.records ? QStringLiteral("log records") : QStringLiteral("plain payloads"));
  }
  if (role == Qt::TextAlignmentRole && index.column() >= col_rate) {
    return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
  }
  if (role == Qt::UserRole) return row.alive;
  return {};
}

void segment_catalog::refresh() {
  std::vector<catalog_row> rows;
  for (const segment_info& info : list_segments()) {
    catalog_row row;
    row.name = QString::fromStdString(info.name.size() > 1 ? info.name.substr(1) : info.name);
    row.alive = info.liveness == writer_liveness::alive;
    row.writer = QString::fromUtf8(to_string(info.liveness).data(),
                                   static_cast<qsizetype>(to_string(info.liveness).size()));
    if (info.extension && info.liveness != writer_liveness::unknown) {
      row.writer += QStringLiteral(" (pid %1)").arg(info.extension->writer_pid);
    }
    row.size = info.size;
    row.chunks = info.chunk_count;
    row.entries = info.newest_token;
    row.records = info.extension &&
                  info.extension->payload_encoding == layout::extension_layout::encoding_record;
    rows.push_back(row);
  }
  update(std::move(rows), clock_.elapsed());
}

void segment_catalog::update(std::vector<catalog_row> fresh, qint64 elapsed_ms) {
  const double seconds = last_ms_ < 0 ? 0 : static_cast<double>(elapsed_ms - last_ms_) / 1000.0;
  last_ms_ = elapsed_ms;
  for (catalog_row& row : fresh) {
    const auto old = std::find_if(rows_.begin(), rows_.end(),
                                  [&](const catalog_row& r) { return r.name == row.name; });
    if (old != rows_.end() && seconds > 0 && row.entries >= old->entries) {
      row.rate = static_cast<double>(row.entries - old->entries) / seconds;
    }
  }
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
      rows_[i] = fresh[i];
      emit dataChanged(index(static_cast<int>(i), 0), index(static_cast<int>(i), column_count - 1));
    } else {
      beginInsertRows({}, static_cast<int>(i), static_cast<int>(i));
      rows_.insert(rows_.begin() + static_cast<std::ptrdiff_t>(i), fresh[i]);
      endInsertRows();
    }
  }
}

QStringList segment_catalog::names() const {
  QStringList out;
  for (const catalog_row& row : rows_) out << row.name;
  return out;
}

}  // namespace ouroboros::viewer
