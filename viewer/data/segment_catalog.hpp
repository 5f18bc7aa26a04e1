// The log segments on this machine, for the attach list: name, writer state, size, rate.
//
// refresh() lists the segments (core's list_segments) and measures each one's write rate from
// the change of its exact entry count (a reader attached at "now" counts up to the newest
// entry), smoothed over a few seconds so a 10/s writer reads 10/s, not 0 or 600. Rows are
// updated in place (and only when their data changed), added and removed individually so a
// view keeps its selection across refreshes. While frozen (the mouse is over the list) no row
// moves: new segments are appended at the end, vanished ones stay, marked, until it thaws.
//
// Thread-safety: a QObject of the GUI thread; not thread-safe.
#pragma once

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QStringList>
#include <memory>
#include <vector>

namespace ouroboros::viewer {

struct catalog_row {
  QString name;     // without the leading '/'
  QString writer;   // "alive", "gone", "closed", "unknown"
  quint64 pid = 0;  // the writer's process id when known
  quint32 owner_uid = 0;
  bool foreign_owner = false;  // owned by another user than this viewer's
  bool alive = false;
  quint64 size = 0;
  quint32 chunks = 0;
  quint64 entries = 0;  // written (exact when the segment could be read, else chunk granularity)
  double rate = -1;     // entries per second, smoothed; < 0 until measured
  bool records = false;
  bool vanished = false;  // no longer on the machine (kept only while the list is frozen)
  bool operator==(const catalog_row&) const = default;
};

class segment_catalog : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum column { col_name, col_writer, col_rate, col_size, col_entries, col_owner, column_count };

  explicit segment_catalog(QObject* parent = nullptr);
  ~segment_catalog() override;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  // Lists the segments now, on this thread (a few milliseconds per segment).
  void refresh();
  // Lists them on a pool thread and applies the result here when it is ready; a call while one
  // is running is folded into it. Keeps the GUI thread free of /dev/shm and /proc reads.
  void refresh_async();
  bool refreshing() const noexcept { return refreshing_; }
  // Replaces the list (refresh() calls it with what is on the machine; tests call it directly).
  void update(std::vector<catalog_row> rows, qint64 elapsed_ms);
  // Frozen, rows keep their places (see above); thawing applies the latest list.
  void set_frozen(bool frozen);
  bool frozen() const noexcept { return frozen_; }
  const std::vector<catalog_row>& rows() const noexcept { return rows_; }
  QStringList names() const;

 private:
  static std::vector<catalog_row> scan();
  void rate_rows(std::vector<catalog_row>& fresh, qint64 elapsed_ms);
  void apply_sorted(std::vector<catalog_row> fresh);
  void apply_frozen(const std::vector<catalog_row>& fresh);
  void set_row(std::size_t index, const catalog_row& row);

  std::vector<catalog_row> rows_;
  QElapsedTimer clock_;
  qint64 last_ms_ = -1;
  bool frozen_ = false;
  bool refreshing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for results after destruction
  std::vector<catalog_row> latest_;  // what the machine holds, for when the list thaws
};

QString human_bytes(quint64 bytes);
// The name of a user ("alice"), or "uid 1001" when the system has none.
QString user_name(quint32 uid);

}  // namespace ouroboros::viewer
