#include "common.hpp"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "ouroboros/tools/cli_options.hpp"
#include "ouroboros/tools/process.hpp"

namespace ouroboros::cli {

namespace {
std::atomic<bool> stop_requested{false};

void on_stop_signal(int) {
  stop_requested.store(true, std::memory_order_relaxed);
}

struct stdout_buffer {
  std::vector<char> storage = std::vector<char>(1 << 20);
  stdout_buffer() { std::setvbuf(stdout, storage.data(), _IOFBF, storage.size()); }
};
}  // namespace

int report_error(const std::string& message, int code) {
  flush_stdout();
  // Messages echo segment names and user input: never raw control characters on a terminal.
  fmt::print(stderr, "ouroboros-cli: error: {}\n", tools::terminal_safe(message));
  return code;
}

std::optional<std::string> user_name(std::uint32_t uid) {
  return tools::user_name(uid);
}

std::string owner_text(std::uint32_t uid) {
  const auto name = user_name(uid);
  return name ? tools::terminal_safe(*name) : std::to_string(uid);
}

void warn_if_foreign_owner(const std::string& segment, std::uint32_t owner) {
  static std::optional<std::uint32_t> warned;
  const auto me = tools::user_id();
  if (owner == me || warned == owner) return;
  warned = owner;
  flush_stdout();
  // Someone else's writer under the expected name may be squatting it: say whose it is.
  fmt::print(
      stderr,
      "ouroboros-cli: warning: segment {} is owned by user {} (uid {}), not by you (uid {})\n",
      tools::terminal_safe(segment), owner_text(owner), owner, me);
  std::fflush(stderr);
}

void report_event(const tools::segment_event& event, bool color) {
  // Events interleave with the data on a terminal: what was read before comes first.
  flush_stdout();
  fmt::memory_buffer line;
  tools::text_options options;
  options.color = color;
  tools::format_text(line, event, options);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

int report_segment_error(const segment_error& error) {
  switch (error.code()) {
    case segment_errc::missing: return report_error(error.what(), exit_missing);
    case segment_errc::invalid_name:
    case segment_errc::invalid_config: return report_error(error.what(), exit_usage);
    case segment_errc::not_a_log:
    case segment_errc::not_regular_file:
    case segment_errc::foreign_object:
    case segment_errc::unsupported_version:
    case segment_errc::corrupt: return report_error(error.what(), exit_not_log);
    default: return report_error(error.what(), exit_failure);
  }
}

const std::atomic<bool>& install_stop_handlers() {
  tools::install_stop_handler(on_stop_signal);
  return stop_requested;
}

void write_stdout(const fmt::memory_buffer& buffer) {
  static stdout_buffer installed;  // before the first write, as setvbuf requires
  if (buffer.size() == 0) return;
  if (std::fwrite(buffer.data(), 1, buffer.size(), stdout) != buffer.size()) {
    // The reader of our output went away (e.g. `| head`): nothing left to do.
    std::_Exit(exit_ok);
  }
}

void flush_stdout() {
  if (std::fflush(stdout) != 0) std::_Exit(exit_ok);
}

void drain_stdout(fmt::memory_buffer& buffer) {
  write_stdout(buffer);
  buffer.clear();
  flush_stdout();
}

void drain_stdout_if_big(fmt::memory_buffer& buffer) {
  if (buffer.size() < (1 << 16)) return;
  write_stdout(buffer);
  buffer.clear();
}

bool color_wanted_on(const std::string& mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* term = std::getenv("TERM");
  return tools::is_terminal(fd) && std::getenv("NO_COLOR") == nullptr &&
         (term == nullptr || std::string(term) != "dumb");
}

bool color_wanted(const std::string& mode) {
  return color_wanted_on(mode, 1);
}

void read_options::add_to(CLI::App& command, const std::string& default_from) {
  from = default_from;
  command
      .add_option("segment", segment,
                  "Segment name, with or without the leading '/' (a file in /dev/shm)")
      ->capture_default_str();
  command
      .add_option("--from", from,
                  "Where to start: oldest (everything still in the ring), newest (the newest "
                  "chunk: recent entries) or now (only entries written from now on)")
      ->check(CLI::IsMember({"oldest", "newest", "now"}))
      ->capture_default_str();
  command.add_flag("-f,--follow", follow,
                   "Keep reading as entries arrive (re-attaching when the writer restarts); "
                   "without it, stop at the end");
  command.add_flag("--wait", wait,
                   "Wait for a missing segment to appear instead of failing (with --follow a "
                   "missing segment is given 2 s to appear anyway)");
  command.add_flag("--exit-on-close", exit_on_close,
                   "With --follow: stop once the writer has closed the segment or died and "
                   "everything it wrote has been read");
  command.add_option("-l,--level", min_level,
                     "Show only records at this level or above: trace, debug, info, warn, error, "
                     "critical (plain entries have no level and are hidden)");
  command
      .add_option("-t,--tag", tags, "Show only records with this tag (repeat or comma-separate)")
      ->delimiter(',');
  command.add_option("-x,--exclude-tag", exclude_tags, "Hide records with this tag")
      ->delimiter(',');
  command.add_option("-g,--grep", pattern,
                     "Show only entries whose message matches this regular expression anywhere "
                     "(RE2 syntax, as in Go's regexp: matching takes time linear in the message, "
                     "so back-references and look-around are not available)");
  command.add_flag("-i,--ignore-case", ignore_case, "Make --grep case-insensitive");
  command.add_option("-n,--max", max_entries, "Stop after this many entries (0 = no limit)")
      ->transform(tools::cli::whole_number(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
}

tools::follow_options read_options::follow_options() const {
  tools::follow_options options;
  options.start = from == "oldest" ? start_position::oldest
                  : from == "now"  ? start_position::now
                                   : start_position::newest;
  options.follow = follow;
  options.wait_for_segment = wait;
  options.exit_on_close = exit_on_close;
  // Following a writer that was started a moment ago (e.g. by a script) should not race it.
  if (follow) options.missing_grace = std::chrono::seconds(2);
  return options;
}

tools::entry_filter read_options::filter() const {
  tools::entry_filter filter;
  if (!min_level.empty()) {
    filter.min_level = parse_level(min_level);
    if (!filter.min_level) {
      throw CLI::ValidationError(
          "--level",
          "unknown level '" + min_level + "' (use trace, debug, info, warn, error or critical)");
    }
  }
  filter.tags = tags;
  filter.exclude_tags = exclude_tags;
  if (!pattern.empty()) {
    try {
      filter.set_pattern(pattern, ignore_case);
    } catch (const std::invalid_argument& e) {
      throw CLI::ValidationError("--grep",
                                 "invalid regular expression '" + pattern + "': " + e.what());
    }
  }
  return filter;
}

}  // namespace ouroboros::cli
