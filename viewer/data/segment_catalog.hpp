// The log segments on this machine, for the attach list: name, writer state, size, rate.
//
// refresh() lists the segments (core's list_segments) and measures each one's write rate from
// the change of its entry count since the previous refresh. Rows are updated in place, added
// and removed individually so a view keeps its selection across refreshes.
//
// Thread-safety: a QObject of the GUI thread; not thread-safe.
#pragma once

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QStringList>
#include <vector>

namespace ouroboros::viewer {

struct catalog_row {
  QString name;    // without the leading '/'
  QString writer;  // "alive (pid 12)", "gone", "closed", "unknown"
  bool alive = false;
  quint64 size = 0;
  quint32 chunks = 0;
  quint64 entries = 0;  // written, at chunk granularity
  double rate = -1;     // entries per second; < 0 until measured
  bool records = false;
};

class segment_catalog : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum column { col_name, col_writer, col_rate, col_size, col_entries, column_count };

  explicit segment_catalog(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  void refresh();
  // Replaces the list (refresh() calls it with what is on the machine; tests call it directly).
  void update(std::vector<catalog_row> rows, qint64 elapsed_ms);
  const std::vector<catalog_row>& rows() const noexcept { return rows_; }
  QStringList names() const;

 private:
  std::vector<catalog_row> rows_;
  QElapsedTimer clock_;
  qint64 last_ms_ = -1;
};

QString human_bytes(quint64 bytes);

}  // namespace ouroboros::viewer
