#include "data/bulk_job.hpp"

#include <QBuffer>
#include <QCoreApplication>
#include <QFile>
#include <QLocale>
#include <QPointer>
#include <QThread>
#include <QThreadPool>

namespace ouroboros::viewer {

bulk_job* bulk_job::start_export(const QString& path, const export_options& options,
                                 store_view view, std::vector<std::uint64_t> serials,
                                 std::shared_ptr<const tag_table> tags, QObject* parent) {
  auto* job = new bulk_job(parent);
  job->path_ = path;
  job->launch(true, options, std::move(view), std::move(serials), std::move(tags));
  return job;
}

bulk_job* bulk_job::start_copy(bool utc, bool messages_only, store_view view,
                               std::vector<std::uint64_t> serials,
                               std::shared_ptr<const tag_table> tags, QObject* parent) {
  auto* job = new bulk_job(parent);
  export_options options;
  options.format = messages_only ? export_format::messages : export_format::text;
  options.utc = utc;
  job->launch(false, options, std::move(view), std::move(serials), std::move(tags));
  return job;
}

bulk_job::~bulk_job() {
  // The pool thread only touches the shared state and its own copies; stop it early.
  cancel();
}

void bulk_job::wait() {
  while (!state_->over.load(std::memory_order_acquire)) QThread::msleep(1);
  QCoreApplication::sendPostedEvents(QCoreApplication::instance(), QEvent::MetaCall);
}

void bulk_job::launch(bool to_file, const export_options& options, store_view view,
                      std::vector<std::uint64_t> serials, std::shared_ptr<const tag_table> tags) {
  total_ = serials.size();
  running_ = true;
  QPointer<bulk_job> self(this);
  QThreadPool::globalInstance()->start([self, state = state_, to_file, options, path = path_,
                                        view = std::move(view), serials = std::move(serials),
                                        tags = std::move(tags)]() mutable {
    QString error;
    QByteArray text;
    bool ok = false;
    if (to_file) {
      QFile file(path);
      if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
      } else {
        ok = export_rows(file, view, serials, *tags, options, error, &state->cancel, &state->done);
        if (ok && !file.flush()) {
          ok = false;
          error = file.errorString();
        }
        file.close();
        if (!ok) file.remove();  // no half-written file left behind
      }
    } else {
      QBuffer buffer(&text);
      buffer.open(QIODevice::WriteOnly);
      ok = export_rows(buffer, view, serials, *tags, options, error, &state->cancel, &state->done);
      buffer.close();
      if (!ok) text.clear();
    }
    const std::uint64_t rows = serials.size();
    // Memory goes back before the GUI hears of it.
    serials = {};
    view = {};
    QString message;
    if (ok) {
      const QString count = QLocale().toString(static_cast<qulonglong>(rows));
      message = to_file ? QStringLiteral("Exported %1 rows to %2").arg(count, path)
                        : QStringLiteral("Copied %1 rows").arg(count);
    } else if (error == QStringLiteral("cancelled")) {
      message = to_file ? QStringLiteral("Export cancelled") : QStringLiteral("Copy cancelled");
    } else {
      message = (to_file ? QStringLiteral("Export failed: %1") : QStringLiteral("Copy failed: %1"))
                    .arg(error);
    }
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, ok, message, text = std::move(text)] {
          if (!self) return;
          self->running_ = false;
          emit self->finished(ok, message, text);
        },
        Qt::QueuedConnection);
    state->over.store(true, std::memory_order_release);
  });
}

}  // namespace ouroboros::viewer
