// `ouroboros-cli tail`: print a segment's entries as they arrive.
#include "common.hpp"

namespace ouroboros::cli {

int run_tail(const read_options& read, const std::string& format, const std::string& color,
             bool utc, bool show_sequence) {
  tools::entry_filter filter;
  try {
    filter = read.filter();
  } catch (const CLI::ValidationError& e) {
    return report_error(e.what(), exit_usage);
  }
  const std::atomic<bool>& stop = install_stop_handlers();
  const bool json = format == "json";
  tools::text_options text;
  text.color = !json && color_wanted(color);
  text.utc = utc;
  text.show_sequence = show_sequence;
  const bool color_on_stderr = !json && color_wanted_on(color, 2);

  try {
    tools::segment_follower follower(read.segment, read.follow_options());
    const auto check_owner = [&] {
      if (const auto owner = follower.owner_uid()) warn_if_foreign_owner(follower.name(), *owner);
    };
    check_owner();
    fmt::memory_buffer out;
    std::uint64_t shown = 0;
    const auto on_item = [&](const tools::follow_item& item) {
      if (item.entry != nullptr) {
        if (json) {
          tools::format_json(out, *item.entry);
        } else {
          tools::format_text(out, *item.entry, text);
        }
        ++shown;
      } else if (item.gap != nullptr) {
        if (json) {
          tools::format_json(out, *item.gap);
        } else {
          tools::format_text(out, *item.gap, text);
        }
      } else if (item.event != nullptr) {
        if (item.event->kind == tools::event_kind::attached ||
            item.event->kind == tools::event_kind::writer_restarted) {
          drain_stdout(out);
          check_owner();
        }
        // The tail contract: JSON events are objects in the stream; text events are not data
        // and go to stderr, after the lines read before them.
        if (json) {
          tools::format_json(out, *item.event);
        } else {
          drain_stdout(out);
          report_event(*item.event, color_on_stderr);
        }
      }
      drain_stdout_if_big(out);
      return read.max_entries == 0 || shown < read.max_entries;
    };
    const auto on_idle = [&] { drain_stdout(out); };
    const tools::follow_end end = follower.run(filter, on_item, on_idle, stop);
    on_idle();
    // A segment truncated under a reader that does not follow: what was read stands, but the
    // rest of the log could not be read.
    return end == tools::follow_end::truncated ? exit_failure : exit_ok;
  } catch (const segment_error& e) {
    return report_segment_error(e);
  }
}

}  // namespace ouroboros::cli
