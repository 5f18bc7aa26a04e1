// `ouroboros-cli inspect`: one segment in detail.
#include <chrono>

#include "common.hpp"
#include "ouroboros/tools/segment_stats.hpp"
#include "ouroboros/version.hpp"

namespace ouroboros::cli {

namespace {
std::string_view encoding_name(std::uint32_t encoding) {
  switch (encoding) {
    case layout::extension_layout::encoding_raw: return "raw";
    case layout::extension_layout::encoding_record: return "record";
    default: return "unknown";
  }
}

std::uint64_t wall_now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

double age_seconds(std::uint64_t then_ns, std::uint64_t now_ns) {
  return now_ns >= then_ns ? static_cast<double>(now_ns - then_ns) / 1e9
                           : -static_cast<double>(then_ns - now_ns) / 1e9;
}
}  // namespace

int run_inspect(const std::string& segment, bool json, int rows_shown) {
  segment_info info;
  std::unique_ptr<shm_reader> reader;
  try {
    info = inspect_segment(segment);
    reader = std::make_unique<shm_reader>(segment, start_position::now);
  } catch (const segment_error& e) {
    return report_segment_error(e);
  }
  warn_if_foreign_owner(info.name, reader->owner_uid());
  const auto bytes = reader->bytes();
  const auto rows = tools::read_chunk_table(bytes);
  const auto range = tools::read_range(bytes);
  const double fill = tools::fill_fraction(bytes);
  const double rate = tools::measure_rate(bytes, std::chrono::milliseconds(200));
  const auto clock = read_clock(bytes);
  const auto& ext = info.extension;
  const std::uint64_t now = wall_now_ns();
  const std::size_t first_entry = rows.empty() ? 0 : rows[0].offset;
  const std::size_t limit =
      rows_shown < 0 ? rows.size() : std::min<std::size_t>(rows.size(), rows_shown);
  // Shrunk while we looked: core mapped zero pages over the lost part, so the figures are not
  // the segment's.
  if (reader->truncated()) {
    return report_error(fmt::format("segment '{}' shrank while it was being inspected (another "
                                    "process truncated it)",
                                    info.name),
                        exit_not_log);
  }
  const std::uint32_t owner = reader->owner_uid();
  const auto owner_name = user_name(owner);

  fmt::memory_buffer out;
  const auto put = [&]<class... Args>(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
  };
  if (json) {
    put("{{\"name\":\"");
    tools::append_json_escaped(out, info.name);
    put("\",\"owner_uid\":{},\"owner\":", owner);
    if (owner_name) {
      put("\"");
      tools::append_json_escaped(out, *owner_name);
      put("\"");
    } else {
      put("null");
    }
    put(",\"header\":{{\"magic\":\"0x{:016X}\",\"version\":{},\"chunk_count\":{},\"size\":{},"
        "\"first_entry_offset\":{}}}",
        layout::buffer_magic, layout::format_version, info.chunk_count, info.size, first_entry);
    if (ext) {
      put(",\"extension\":{{\"writer_pid\":{},\"writer_start_ns\":{},\"incarnation\":\"{:016x}\","
          "\"heartbeat_ns\":{},\"heartbeat_age_s\":{:.3f},\"payload_encoding\":\"{}\",\"flags\":{},"
          "\"closed\":{},\"chunk_target_size\":{},\"dictionary_offset\":{},\"dictionary_capacity\":"
          "{}",
          ext->writer_pid, ext->writer_start_unix_ns, ext->incarnation, ext->heartbeat_unix_ns,
          age_seconds(ext->heartbeat_unix_ns, now), encoding_name(ext->payload_encoding),
          ext->flags, ext->closed(), ext->chunk_target_size, ext->dictionary_offset,
          ext->dictionary_capacity);
      if (clock) {
        put(",\"clock\":{{\"tick_base\":{},\"wall_base_ns\":{},\"mult\":{}}}", clock->tick_base,
            clock->wall_base_ns, clock->mult);
      }
      put("}}");
    } else {
      put(",\"extension\":null");
    }
    // The versions of the byte layouts this segment uses (the extension block's and the record
    // encoding's only when the segment has them) and of the tool that read it.
    put(",\"versions\":{{\"format\":{},\"extension_block\":", layout::format_version);
    if (ext) {
      put("{}", layout::extension_layout::version);
    } else {
      put("null");
    }
    put(",\"record_encoding\":");
    if (ext && ext->payload_encoding == layout::extension_layout::encoding_record) {
      put("{}", static_cast<unsigned>(record_layout::version));
    } else {
      put("null");
    }
    put(",\"tool\":\"{}\"}}", project_version);
    put(",\"writer\":\"{}\",\"first_seq\":{},\"last_seq\":{},\"fill\":{:.4f},\"rate\":{:.1f},"
        "\"chunks\":[",
        to_string(info.liveness), range.first, range.last, fill, rate);
    for (std::size_t i = 0; i < limit; ++i) {
      const auto& row = rows[i];
      put("{}{{\"index\":{},\"committed\":{},\"offset\":{},\"token\":{}{}}}", i == 0 ? "" : ",",
          row.index, row.committed, row.offset, row.token,
          row.consistent ? "" : ",\"changing\":true");
    }
    put("]}}\n");
  } else {
    put("segment      {}\n", tools::terminal_safe(info.name));
    put("owner        {} (uid {})\n", owner_text(owner), owner);
    put("header       magic 0x{:016X}, format version {}, {} chunks, {} ({} bytes), first entry at "
        "offset "
        "{}\n",
        layout::buffer_magic, layout::format_version, info.chunk_count, human_size(info.size),
        info.size, first_entry);
    if (ext) {
      put("writer       pid {} ({}), started {}\n", ext->writer_pid, to_string(info.liveness),
          ext->writer_start_unix_ns ? tools::iso8601_utc(ext->writer_start_unix_ns) : "-");
      put("incarnation  {:016x}\n", ext->incarnation);
      put("heartbeat    {} ({:.1f} s ago)\n",
          ext->heartbeat_unix_ns ? tools::iso8601_utc(ext->heartbeat_unix_ns) : "-",
          age_seconds(ext->heartbeat_unix_ns, now));
      put("encoding     {} ({})\n", encoding_name(ext->payload_encoding), ext->payload_encoding);
      put("flags        0x{:x}{}\n", ext->flags, ext->closed() ? " (closed)" : "");
      put("chunk target {} ({} bytes)\n", human_size(ext->chunk_target_size),
          ext->chunk_target_size);
      if (clock) {
        put("clock        tick base {}, wall base {}, mult {} (32.32 ns per tick){}\n",
            clock->tick_base, clock->wall_base_ns, clock->mult,
            clock->mult == (std::uint64_t{1} << 32) && clock->tick_base == 0 ? " = unix ns" : "");
      } else {
        put("clock        (being updated)\n");
      }
      put("dictionary   offset {}, capacity {} bytes\n", ext->dictionary_offset,
          ext->dictionary_capacity);
    } else {
      put("extension    none (written by another v1 writer): writer state unknown\n");
    }
    put("versions     ring format {}, extension block {}, record encoding {} (ouroboros-cli {})\n",
        layout::format_version, ext ? fmt::to_string(layout::extension_layout::version) : "-",
        ext && ext->payload_encoding == layout::extension_layout::encoding_record
            ? fmt::to_string(static_cast<unsigned>(record_layout::version))
            : "-",
        project_version);
    if (range.first == 0) {
      put("readable     nothing yet ({} entries written)\n", range.last);
    } else {
      put("readable     seq {} .. {} ({} entries; {} written)\n", range.first, range.last,
          range.last - range.first + 1, range.last);
    }
    put("fill         {:.1f}%\n", fill * 100);
    put("rate         {:.0f} entries/s (over 200 ms)\n", rate);
    put("\nchunk table\n{:>7} {:>9} {:>14} {:>16}\n", "INDEX", "COMMITTED", "OFFSET", "TOKEN");
    for (std::size_t i = 0; i < limit; ++i) {
      const auto& row = rows[i];
      put("{:>7} {:>9} {:>14} {:>16}{}\n", row.index, row.committed ? "yes" : "no", row.offset,
          row.token, row.consistent ? "" : "  (changing)");
    }
    if (limit < rows.size()) put("... {} more rows (--rows -1 shows all)\n", rows.size() - limit);
  }
  write_stdout(out);
  flush_stdout();
  return exit_ok;
}

}  // namespace ouroboros::cli
