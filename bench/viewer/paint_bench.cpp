// Cost of painting one full screen of the log table (what following a fast writer costs per
// frame), without a writer or an event loop: a store of realistic rows, the real log_view
// offscreen, and repaint() in a loop.
//
//   ouroboros-bench-viewer --paint [--frames N] [--width W] [--height H]
#include <QApplication>
#include <QElapsedTimer>
#include <QScrollBar>
#include <cstdio>
#include <cstring>
#include <string>

#include "bench_support.hpp"
#include "data/entry_store.hpp"
#include "data/log_model.hpp"
#include "ui/log_view.hpp"

using namespace ouroboros::viewer;

namespace {
// Rows as the poller builds them (text in blocks the page keeps), with demo-writer-like text.
std::vector<row_span> make_rows(tag_table& tags, int count) {
  const char* tag_names[] = {"http", "db", "net", "cache", "jobs", "auth"};
  std::vector<row_span> spans;
  std::shared_ptr<page> current;
  std::shared_ptr<text_block> block;
  std::size_t used = 0;
  std::uint32_t written = 0;
  for (int i = 0; i < count; ++i) {
    if (!current || written == page_capacity) {
      if (current) spans.push_back(row_span{current, 0, written, 0});
      current = std::make_shared<page>(static_cast<std::uint64_t>(i) + 1);
      written = 0;
    }
    char message[200];
    const int size = std::snprintf(
        message, sizeof message,
        "GET /api/v1/users/%d -> 200 in %d ms  method=GET  status=200  duration_ms=%d  "
        "request_id=%08x%08x",
        1000 + i * 37, i % 97, i % 97, static_cast<unsigned>(i * 2654435761u),
        static_cast<unsigned>(i));
    if (!block || used + static_cast<std::size_t>(size) > block->capacity) {
      block = std::make_shared<text_block>(256 * 1024);
      used = 0;
      current->blocks.push_back(block);
    } else if (current->blocks.empty() || current->blocks.back() != block) {
      current->blocks.push_back(block);
    }
    char* text = block->bytes.get() + used;
    std::memcpy(text, message, static_cast<std::size_t>(size));
    used += static_cast<std::size_t>(size);
    entry& row = current->rows[written++];
    row = entry{};
    row.sequence = static_cast<std::uint64_t>(i) + 1;
    row.time_ns = 1'700'000'000'000'000'000LL + static_cast<std::int64_t>(i) * 500'000;
    row.text = text;
    row.message_size = static_cast<std::uint32_t>(size);
    row.thread = 4000 + static_cast<std::uint32_t>(i % 4);
    row.tag = tags.intern(tag_names[i % 6]);
    row.level = static_cast<std::uint8_t>((i * 7) % 6);
    row.bits = static_cast<std::uint8_t>(row_kind::record) | flag_visible;
  }
  if (current) spans.push_back(row_span{current, 0, written, 0});
  return spans;
}
}  // namespace

int run_paint_bench(int argc, char** argv) {
  int frames = 400;
  int width = 1600;
  int height = 1000;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--frames" && i + 1 < argc) {
      frames = std::stoi(argv[++i]);
    } else if (arg == "--width" && i + 1 < argc) {
      width = std::stoi(argv[++i]);
    } else if (arg == "--height" && i + 1 < argc) {
      height = std::stoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s --paint [--frames N] [--width W] [--height H]\n", argv[0]);
      return 2;
    }
  }
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  auto tags = std::make_shared<tag_table>();
  entry_store store;
  log_model model(&store, tags);
  const auto spans = make_rows(*tags, 100'000);
  for (const auto& span : spans) store.append(span);
  model.sync(spans);
  log_view view;
  view.set_log_model(&model);
  view.resize(width, height);
  view.show();
  QCoreApplication::processEvents();
  // Alternate between two screens of different rows, as following does.
  QElapsedTimer clock;
  clock.start();
  for (int frame = 0; frame < frames; ++frame) {
    view.verticalScrollBar()->setValue(frame % 2 ? 1000 : 50'000);
    view.viewport()->repaint();
  }
  const double ms = static_cast<double>(clock.nsecsElapsed()) / 1e6;
  std::printf(
      "log table paint, %dx%d, %d rows on screen: %.3f ms per full-screen frame (%d frames)\n",
      width, height, view.page_rows() + 1, ms / frames, frames);
  return 0;
}
