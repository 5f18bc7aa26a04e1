// A copy or export of many rows, run on a pool thread with progress and cancel, so the window
// never blocks on a million rows.
//
// The job works on a store_view snapshot and a list of serials, both copied when it starts: the
// table can move on (or the tab close) while it runs. The result arrives through finished(), on
// the thread that owns the job (the GUI thread).
//
// Thread-safety: a QObject of the GUI thread; progress() and cancel() may be called from it
// while the pool thread works (they are atomics).
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "data/entry_store.hpp"
#include "data/exporter.hpp"

namespace ouroboros::viewer {

class bulk_job : public QObject {
  Q_OBJECT

 public:
  // Writes the rows to `path` in the format its suffix asks for.
  static bulk_job* start_export(const QString& path, const export_options& options, store_view view,
                                std::vector<std::uint64_t> serials,
                                std::shared_ptr<const tag_table> tags, QObject* parent);
  // Renders the rows as text lines (as exported) for the clipboard; finished() carries them.
  static bulk_job* start_copy(bool utc, bool messages_only, store_view view,
                              std::vector<std::uint64_t> serials,
                              std::shared_ptr<const tag_table> tags, QObject* parent);
  ~bulk_job() override;

  std::uint64_t total() const noexcept { return total_; }
  std::uint64_t done() const noexcept { return state_->done.load(std::memory_order_relaxed); }
  bool running() const noexcept { return running_; }
  QString path() const { return path_; }
  void cancel() noexcept { state_->cancel.store(true, std::memory_order_relaxed); }
  // Blocks until the pool thread is done (tests, shutdown).
  void wait();

 signals:
  // `ok` false: failed or cancelled (`message` says which). `text`: the copied rows (copy jobs).
  void finished(bool ok, const QString& message, const QByteArray& text);

 private:
  struct shared_state {
    std::atomic<bool> cancel{false};
    std::atomic<std::uint64_t> done{0};
    std::atomic<bool> over{false};
  };
  explicit bulk_job(QObject* parent) : QObject(parent) {}
  void launch(bool to_file, const export_options& options, store_view view,
              std::vector<std::uint64_t> serials, std::shared_ptr<const tag_table> tags);

  std::shared_ptr<shared_state> state_ = std::make_shared<shared_state>();
  std::uint64_t total_ = 0;
  bool running_ = false;
  QString path_;
};

}  // namespace ouroboros::viewer
