// ouroboros-cli: read Ouroboros shared-memory log segments from a terminal or a script.
#include <limits>

#include "common.hpp"
#include "ouroboros/tools/cli_options.hpp"

int main(int argc, char** argv) {
  using namespace ouroboros::cli;
  CLI::App app{
      "ouroboros-cli: read Ouroboros shared-memory log segments.\n"
      "  tail     print a segment's entries as they arrive (text or JSON lines)\n"
      "  list     every log segment on this machine, with writer state and rate\n"
      "  inspect  one segment in detail: header, extension block, chunk table\n"
      "  forward  ship entries to a log pipeline: JSON lines on stdout, or syslog (RFC 5424) "
      "over UDP/TCP",
      "ouroboros-cli"};
  app.require_subcommand(1);
  ouroboros::tools::cli::set_failure_message(app, "ouroboros-cli");
  ouroboros::tools::cli::add_version_flag(app, "ouroboros-cli");
  app.footer(
      "Exit codes: 0 ok, 1 runtime failure, 2 bad command line, 3 segment missing, "
      "4 not a readable log segment.\nRun 'ouroboros-cli COMMAND --help' for a command's options.");

  // tail
  read_options tail_read;
  std::string tail_format = "text";
  std::string tail_color = "auto";
  bool tail_json = false;
  bool tail_utc = false;
  bool tail_seq = false;
  CLI::App* tail = app.add_subcommand("tail", "Print a segment's entries as they arrive");
  tail_read.add_to(*tail, "newest");
  tail->add_option("--format", tail_format,
                   "text: time, level, tag, [thread], message, fields; json: one JSON object per "
                   "line (\"type\": entry, gap or event)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  tail->add_flag("--json", tail_json, "Same as --format json");
  tail->add_option("--color", tail_color,
                   "Colour the text format: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  tail->add_flag("--utc", tail_utc, "Show times in UTC instead of local time");
  tail->add_flag("--seq", tail_seq, "Prefix each entry with its sequence number");
  tail->footer(
      "Gaps (entries overwritten before they were read) show as '--- N entries overwritten, "
      "seq A–B ---'. When the writer re-creates the segment, tail re-attaches and says so.");

  // list
  bool list_json = false;
  int list_window = 200;
  CLI::App* list =
      app.add_subcommand("list", "List every log segment in /dev/shm (others are skipped)");
  list->add_flag("--json", list_json, "One JSON object per segment");
  list->add_option("--window", list_window, "Milliseconds over which the write rate is measured")
      ->transform(ouroboros::tools::cli::whole_number(0, 60000))
      ->capture_default_str();

  // inspect
  std::string inspect_segment = default_segment;
  bool inspect_json = false;
  int inspect_rows = -1;
  CLI::App* inspect = app.add_subcommand("inspect", "Show one segment in detail");
  inspect->add_option("segment", inspect_segment, "Segment name")->capture_default_str();
  inspect->add_flag("--json", inspect_json, "One JSON object");
  inspect->add_option("--rows", inspect_rows, "Chunk-table rows to show (-1 = all)")
      ->transform(ouroboros::tools::cli::integer(-1, std::numeric_limits<int>::max()))
      ->capture_default_str();

  // forward
  read_options forward_read;
  std::string forward_to = "-";
  std::string forward_facility = "user";
  std::string forward_app;
  std::string forward_host;
  std::size_t forward_max_message = 8192;
  double forward_max_rate = 0;
  CLI::App* forward = app.add_subcommand(
      "forward", "Ship entries, gap markers and writer events to stdout (JSON lines) or syslog");
  forward_read.add_to(*forward, "oldest");
  forward
      ->add_option("--to", forward_to,
                   "Destination: '-' for JSON lines on stdout, udp://HOST:PORT (RFC 5426) or "
                   "tcp://HOST:PORT (RFC 6587 octet counting) for RFC 5424 syslog")
      ->capture_default_str();
  forward
      ->add_option("--facility", forward_facility,
                   "Syslog facility: user, daemon, local0..local7, ... or 0..23")
      ->capture_default_str();
  forward->add_option("--app-name", forward_app, "Syslog APP-NAME (default: the segment name)");
  forward->add_option("--hostname", forward_host, "Syslog HOSTNAME (default: this machine's name)");
  forward
      ->add_option("--max-message-size", forward_max_message,
                   "Longest syslog message in bytes (K, M suffixes); longer messages are cut at a "
                   "UTF-8 boundary")
      ->transform(ouroboros::tools::cli::size(480, std::size_t{1} << 30))
      ->capture_default_str();
  forward
      ->add_option("--max-rate", forward_max_rate,
                   "Send at most this many messages per second (0 = no limit); entries that "
                   "the writer overwrites meanwhile are forwarded as gap markers")
      ->transform(ouroboros::tools::cli::decimal(0, 1e9))
      ->capture_default_str();

  // CLI11 would only say "a subcommand is required" for a mistyped command.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string command = argv[1];
    if (command != "tail" && command != "list" && command != "inspect" && command != "forward") {
      fmt::print(stderr,
                 "ouroboros-cli: error: unknown command '{}' (use tail, list, inspect or "
                 "forward; --help explains them)\n",
                 command);
      return exit_usage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }

  if (tail->parsed()) {
    return run_tail(tail_read, tail_json ? "json" : tail_format, tail_color, tail_utc, tail_seq);
  }
  if (list->parsed()) return run_list(list_json, list_window);
  if (inspect->parsed()) return run_inspect(inspect_segment, inspect_json, inspect_rows);
  if (forward->parsed()) {
    return run_forward(forward_read, forward_to, forward_facility, forward_app, forward_host,
                       forward_max_message, forward_max_rate);
  }
  return exit_usage;
}
