// `ouroboros-cli forward`: ship entries to a log pipeline (JSON lines on stdout, or RFC 5424
// syslog over UDP or TCP), gap markers and writer events included.

#include <chrono>
#include <memory>
#include <thread>

#include "common.hpp"
#include "ouroboros/tools/process.hpp"
#include "ouroboros/tools/rate_schedule.hpp"
#include "ouroboros/tools/syslog.hpp"

namespace ouroboros::cli {

namespace {
std::uint64_t wall_now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string local_hostname() {
  return tools::host_name();
}
}  // namespace

int run_forward(const read_options& read, const std::string& to, const std::string& facility_name,
                const std::string& app_name, const std::string& hostname,
                std::size_t max_message_size, double max_rate) {
  tools::entry_filter filter;
  try {
    filter = read.filter();
  } catch (const CLI::ValidationError& e) {
    return report_error(e.what(), exit_usage);
  }
  const bool to_stdout = to == "-" || to == "stdout";
  tools::syslog_context context;
  std::unique_ptr<tools::syslog_sender> sender;
  if (!to_stdout) {
    context.facility = tools::parse_facility(facility_name);
    if (context.facility < 0) {
      return report_error(fmt::format("unknown syslog facility '{}' (use user, daemon, local0.."
                                      "local7 or a number 0..23)",
                                      facility_name),
                          exit_usage);
    }
    if (max_message_size < 480) {
      return report_error("--max-message-size must be at least 480 bytes (RFC 5426)", exit_usage);
    }
    context.max_message_size = max_message_size;
    context.hostname = hostname.empty() ? local_hostname() : hostname;
    try {
      const tools::syslog_target target = tools::parse_syslog_target(to);
      sender = std::make_unique<tools::syslog_sender>(target);
    } catch (const std::invalid_argument& e) {
      return report_error(e.what(), exit_usage);
    } catch (const std::runtime_error& e) {
      return report_error(e.what(), exit_failure);
    }
  }

  const std::atomic<bool>& stop = install_stop_handlers();
  std::uint64_t entries = 0;
  std::uint64_t gaps = 0;
  std::uint64_t lost = 0;
  std::uint64_t events = 0;
  tools::follow_end end = tools::follow_end::end_of_data;
  try {
    tools::segment_follower follower(read.segment, read.follow_options());
    const auto check_owner = [&] {
      if (const auto owner = follower.owner_uid()) warn_if_foreign_owner(follower.name(), *owner);
    };
    check_owner();
    const std::string segment_name = follower.name().substr(1);
    context.segment = segment_name;
    context.app_name = app_name.empty() ? segment_name : app_name;

    tools::rate_plan plan;
    plan.rate = max_rate;
    const tools::rate_schedule pace(plan);
    const auto started = std::chrono::steady_clock::now();
    std::uint64_t sent = 0;
    fmt::memory_buffer out;
    fmt::memory_buffer message;

    auto ship = [&](auto&& format_syslog, auto&& format_json) {
      if (!pace.unlimited()) {
        // Hold back to the receiver's budget; the ring keeps the rest (or reports it as lost).
        const auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(pace.time_of(sent + 1)));
        if (due > std::chrono::steady_clock::now()) {
          drain_stdout(out);
          // In slices, so Ctrl-C/SIGTERM stop a slow --max-rate promptly.
          while (!stop.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < due) {
            std::this_thread::sleep_until(
                std::min(due, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
          }
          if (stop.load(std::memory_order_relaxed)) return;
        }
      }
      ++sent;
      if (to_stdout) {
        format_json(out);
        drain_stdout_if_big(out);
      } else {
        message.clear();
        format_syslog(message);
        sender->send(std::string_view(message.data(), message.size()));
      }
    };

    const auto on_item = [&](const tools::follow_item& item) {
      context.writer_pid = follower.writer_pid();
      if (item.entry != nullptr) {
        ++entries;
        ship([&](auto& m) { tools::format_syslog(m, context, *item.entry, wall_now_ns()); },
             [&](auto& o) { tools::format_json(o, *item.entry); });
      } else if (item.gap != nullptr) {
        ++gaps;
        lost += item.gap->lost;
        ship([&](auto& m) { tools::format_syslog(m, context, *item.gap, wall_now_ns()); },
             [&](auto& o) { tools::format_json(o, *item.gap); });
      } else if (item.event != nullptr) {
        ++events;
        if (item.event->kind == tools::event_kind::attached ||
            item.event->kind == tools::event_kind::writer_restarted) {
          drain_stdout(out);
          check_owner();
        }
        // The operator watching forward sees events on stderr; the JSON stream carries them
        // itself (the tail contract), syslog gets them as well.
        if (!to_stdout) report_event(*item.event, false);
        ship([&](auto& m) { tools::format_syslog(m, context, *item.event, wall_now_ns()); },
             [&](auto& o) { tools::format_json(o, *item.event); });
      }
      if (stop.load(std::memory_order_relaxed)) return false;
      return read.max_entries == 0 || entries < read.max_entries;
    };
    const auto on_idle = [&] { drain_stdout(out); };
    end = follower.run(filter, on_item, on_idle, stop);
    on_idle();
  } catch (const segment_error& e) {
    return report_segment_error(e);
  } catch (const std::runtime_error& e) {
    return report_error(e.what(), exit_failure);
  }
  fmt::print(
      stderr,
      "ouroboros-cli forward: {} entries, {} gap markers ({} entries lost), {} events -> {}\n",
      entries, gaps, lost, events, to_stdout ? "stdout" : tools::terminal_safe(to));
  return end == tools::follow_end::truncated ? exit_failure : exit_ok;
}

}  // namespace ouroboros::cli
