// `ouroboros-cli list`: every log segment on this machine.
#include <chrono>
#include <memory>
#include <thread>

#include "common.hpp"
#include "ouroboros/tools/segment_stats.hpp"

namespace ouroboros::cli {

std::string human_size(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.{}f} {}", value, value < 10 ? 1 : 0, units[unit]);
}

int run_list(bool json, int window_ms) {
  struct row {
    segment_info info;
    std::unique_ptr<shm_reader> reader;  // keeps the mapping for the rate window
    std::uint64_t before = 0;
    std::uint64_t after = 0;
    double fill = 0;
    double rate = 0;
  };
  std::vector<row> rows;
  for (segment_info& info : list_segments()) {
    row r;
    r.info = std::move(info);
    try {
      r.reader = std::make_unique<shm_reader>(r.info.name, start_position::now);
    } catch (const segment_error&) {
      continue;  // vanished or became unreadable since the scan
    }
    rows.push_back(std::move(r));
  }
  // One window for all segments, so listing many costs no more than listing one.
  const auto begin = std::chrono::steady_clock::now();
  for (row& r : rows) r.before = tools::newest_sequence(r.reader->bytes());
  if (!rows.empty() && window_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  for (row& r : rows) {
    r.after = tools::newest_sequence(r.reader->bytes());
    r.rate = window_ms > 0 && r.after >= r.before && seconds > 0
                 ? static_cast<double>(r.after - r.before) / seconds
                 : 0;
    r.fill = tools::fill_fraction(r.reader->bytes());
    r.info.liveness = r.info.extension ? liveness_of(*r.info.extension) : writer_liveness::unknown;
  }

  fmt::memory_buffer out;
  if (json) {
    for (const row& r : rows) {
      const auto& ext = r.info.extension;
      fmt::format_to(std::back_inserter(out), "{{\"name\":\"");
      tools::append_json_escaped(out, r.info.name);
      fmt::format_to(std::back_inserter(out), "\",\"owner_uid\":{},\"owner\":", r.info.owner_uid);
      if (const auto user = user_name(r.info.owner_uid)) {
        out.push_back('"');
        tools::append_json_escaped(out, *user);
        out.push_back('"');
      } else {
        fmt::format_to(std::back_inserter(out), "null");
      }
      fmt::format_to(std::back_inserter(out),
                     ",\"pid\":{},\"writer\":\"{}\",\"size\":{},\"chunks\":{},\"chunk_size\":{},"
                     "\"entries\":{},\"fill\":{:.4f},\"rate\":{:.1f},\"records\":{}}}\n",
                     ext ? ext->writer_pid : 0, to_string(r.info.liveness), r.info.size,
                     r.info.chunk_count, ext ? ext->chunk_target_size : 0, r.after, r.fill, r.rate,
                     ext && ext->payload_encoding == layout::extension_layout::encoding_record);
    }
  } else {
    fmt::format_to(std::back_inserter(out),
                   "{:<28} {:<10} {:>8} {:<7} {:>9} {:>16} {:>12} {:>5} {:>11}\n", "NAME", "OWNER",
                   "PID", "WRITER", "SIZE", "CHUNKS", "ENTRIES", "FILL", "RATE/s");
    for (const row& r : rows) {
      const auto& ext = r.info.extension;
      const std::string chunks =
          ext ? fmt::format("{} x {}", r.info.chunk_count, human_size(ext->chunk_target_size))
              : fmt::format("{}", r.info.chunk_count);
      fmt::format_to(std::back_inserter(out),
                     "{:<28} {:<10} {:>8} {:<7} {:>9} {:>16} {:>12} {:>4.0f}% {:>11.0f}\n",
                     tools::terminal_safe(r.info.name.substr(1)), owner_text(r.info.owner_uid),
                     ext ? fmt::format("{}", ext->writer_pid) : "-", to_string(r.info.liveness),
                     human_size(r.info.size), chunks, r.after, r.fill * 100, r.rate);
    }
#ifdef _WIN32
    constexpr const char* where = "registered by running writers";
#else
    constexpr const char* where = "in /dev/shm";
#endif
    if (rows.empty()) fmt::format_to(std::back_inserter(out), "(no log segments {})\n", where);
  }
  write_stdout(out);
  flush_stdout();
  return exit_ok;
}

}  // namespace ouroboros::cli
