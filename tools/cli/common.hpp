// Pieces every subcommand of ouroboros-cli shares: exit codes, errors, the stop flag set by
// Ctrl-C, buffered stdout, colour detection and the reading options of tail and forward.
//
// Thread-safety: process-wide state (the stop flag and stdout); used from the main thread.
#pragma once

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "ouroboros/segment.hpp"
#include "ouroboros/tools/follower.hpp"

namespace ouroboros::cli {

// Exit codes, listed in --help.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // runtime failure (e.g. the syslog receiver went away)
inline constexpr int exit_usage = 2;    // bad command line
inline constexpr int exit_missing = 3;  // the segment does not exist
inline constexpr int exit_not_log =
    4;  // the name is not a readable log (foreign, corrupt, version)

inline constexpr const char* default_segment = "ouroboros-demo";

// "ouroboros-cli: error: MESSAGE" on stderr (terminal-safe); returns `code`.
int report_error(const std::string& message, int code);
// The user name of `uid`, or nullopt when the user database has none.
std::optional<std::string> user_name(std::uint32_t uid);
// The user name (terminal-safe), or the uid as a number when unknown.
std::string owner_text(std::uint32_t uid);
// The tail contract's warning, once per owner, when `owner` is not the effective user:
// "warning: segment NAME is owned by user OWNER (uid N), not by you (uid M)".
void warn_if_foreign_owner(const std::string& segment, std::uint32_t owner);
// An event as a text line on stderr (the tail contract: events are not data).
void report_event(const tools::segment_event& event, bool color);
int report_segment_error(const segment_error& error);

// Installs SIGINT/SIGTERM handlers that set the flag (no other work in the handler).
const std::atomic<bool>& install_stop_handlers();

// Big stdout buffer: lines are written in batches and flushed whenever the reader is idle.
void write_stdout(const fmt::memory_buffer& buffer);
void flush_stdout();
// Writes, empties and flushes `buffer`: for when the reader goes idle or is about to wait.
void drain_stdout(fmt::memory_buffer& buffer);
// Writes and empties `buffer` once it holds 64 KiB, so a busy reader writes in large batches.
void drain_stdout_if_big(fmt::memory_buffer& buffer);

bool color_wanted(const std::string& mode);  // "auto", "always", "never"; for stdout
bool color_wanted_on(const std::string& mode, int fd);
std::string human_size(std::uint64_t bytes);  // "64.0 KiB"

// The reading options of tail and forward, registered on their subcommands.
struct read_options {
  std::string segment = default_segment;
  std::string from = "newest";
  bool follow = false;
  bool wait = false;
  bool exit_on_close = false;
  std::string min_level;
  std::vector<std::string> tags;
  std::vector<std::string> exclude_tags;
  std::string pattern;
  bool ignore_case = false;
  std::uint64_t max_entries = 0;

  void add_to(CLI::App& command, const std::string& default_from);
  // Builds the follower options and filter; throws CLI::ValidationError with the reason.
  tools::follow_options follow_options() const;
  tools::entry_filter filter() const;
};

int run_tail(const read_options& read, const std::string& format, const std::string& color,
             bool utc, bool show_sequence);
int run_list(bool json, int window_ms);
int run_inspect(const std::string& segment, bool json, int rows_shown);
int run_forward(const read_options& read, const std::string& to, const std::string& facility,
                const std::string& app_name, const std::string& hostname,
                std::size_t max_message_size, double max_rate);

}  // namespace ouroboros::cli
