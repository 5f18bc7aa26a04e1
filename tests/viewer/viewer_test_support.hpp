// Helpers shared by the viewer tests: a Qt application, synthetic rows, a record writer.
#pragma once

#include <unistd.h>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QThread>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "data/entry.hpp"
#include "data/segment_poller.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/segment.hpp"

namespace viewer_test {

using namespace ouroboros;
using namespace ouroboros::viewer;

// Runs the event loop until `done` or the timeout; returns `done()`.
inline bool wait_until(const std::function<bool()>& done, int timeout_ms = 10000,
                       const std::function<void()>& each = {}) {
  QElapsedTimer timer;
  timer.start();
  while (!done()) {
    if (timer.elapsed() > timeout_ms) return false;
    if (each) each();
    QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    QThread::msleep(2);
  }
  return true;
}

inline std::string unique_name(const char* what) {
  static int counter = 0;
  return "ouroboros-viewer-test-" + std::string(what) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(++counter);
}

// Builds pages of synthetic rows the way the poller does (text in blocks the page keeps).
class row_factory {
 public:
  explicit row_factory(tag_table& tags) : tags_(tags) {}

  entry& add(row_kind kind, std::uint64_t sequence, int level, const std::string& tag,
             std::uint32_t thread, const std::string& message, const std::string& extra = {}) {
    if (!page_ || written_ == page_capacity) {
      flush();
      page_ = std::make_shared<page>(next_serial_);
      written_ = 0;
      begin_ = 0;
    }
    auto block = std::make_shared<text_block>(message.size() + extra.size() + 1);
    std::memcpy(block->bytes.get(), message.data(), message.size());
    std::memcpy(block->bytes.get() + message.size(), extra.data(), extra.size());
    page_->blocks.push_back(block);
    entry& row = page_->rows[written_++];
    row = entry{};
    row.sequence = sequence;
    row.time_ns = 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(sequence) * 1000;
    row.text = block->bytes.get();
    row.message_size = static_cast<std::uint32_t>(message.size());
    row.extra_size = static_cast<std::uint16_t>(extra.size());
    row.thread = thread;
    row.tag = tags_.intern(tag);
    row.level = level < 0 ? no_level : static_cast<std::uint8_t>(level);
    row.bits = static_cast<std::uint8_t>(kind) | flag_visible;
    ++next_serial_;
    return row;
  }
  entry& record(std::uint64_t sequence, int level, const std::string& tag,
                const std::string& message) {
    return add(row_kind::record, sequence, level, tag, 7, message);
  }
  // Everything added since the last take(), as spans of filter generation `generation`.
  std::vector<row_span> take(std::uint64_t generation = 0) {
    flush();
    std::vector<row_span> out;
    out.swap(spans_);
    for (auto& s : out) s.generation = generation;
    return out;
  }

 private:
  void flush() {
    if (page_ && written_ > begin_) {
      spans_.push_back(row_span{page_, begin_, written_, 0});
      begin_ = written_;
    }
  }
  tag_table& tags_;
  std::shared_ptr<page> page_;
  std::uint32_t written_ = 0;
  std::uint32_t begin_ = 0;
  std::uint64_t next_serial_ = 1;
  std::vector<row_span> spans_;
};

// A real writer of log records on a real segment.
class record_writer {
 public:
  record_writer(const std::string& name, std::uint32_t chunks, std::size_t chunk_size,
                std::uint32_t encoding = layout::extension_layout::encoding_record) {
    shm_writer_options options;
    options.chunk_count = chunks;
    options.chunk_target_size = chunk_size;
    options.payload_encoding = encoding;
    writer_ = std::make_unique<shm_writer>(name, options);
  }
  void write(level severity, std::string_view tag, std::uint32_t thread, std::string_view message,
             std::span<const record_field> fields = {}) {
    record_header header;
    header.severity = severity;
    header.thread = thread;
    header.tag = tag;
    header.timestamp =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    std::byte buffer[4096];
    const std::size_t size = encode_record(buffer, header, message, fields);
    writer_->write({buffer, size});
    ++written_;
  }
  void write_plain(std::string_view text) {
    writer_->write(std::as_bytes(std::span(text.data(), text.size())));
    ++written_;
  }
  std::uint64_t written() const { return written_; }
  shm_writer& shm() { return *writer_; }

 private:
  std::unique_ptr<shm_writer> writer_;
  std::uint64_t written_ = 0;
};

}  // namespace viewer_test
