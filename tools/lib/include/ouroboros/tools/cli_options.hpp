// CLI11 adapters for numeric_options.hpp: validators that check an option's text strictly and
// rewrite it as a plain decimal before CLI11 converts it (CLI11 2.1 wraps "-1" into an
// unsigned option and ignores overflow), and a failure message that names the tool and keeps
// echoed input terminal-safe. Header-only: users link CLI11 themselves.
//
// Thread-safety: stateless functions.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "ouroboros/layout.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/tools/entry_format.hpp"
#include "ouroboros/tools/numeric_options.hpp"
#include "ouroboros/version.hpp"

namespace ouroboros::tools::cli {

namespace detail {
template <class Parse>
CLI::Validator strict(Parse parse, std::string description) {
  return CLI::Validator(
      [parse](std::string& text) -> std::string {
        try {
          text = parse(text);
          return {};
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
      },
      std::move(description));
}
}  // namespace detail

inline CLI::Validator whole_number(std::uint64_t min, std::uint64_t max) {
  return detail::strict(
      [=](const std::string& text) { return std::to_string(parse_whole_number(text, min, max)); },
      fmt::format("{}..{}", min, max));
}

inline CLI::Validator integer(std::int64_t min, std::int64_t max) {
  return detail::strict(
      [=](const std::string& text) { return std::to_string(parse_integer(text, min, max)); },
      fmt::format("{}..{}", min, max));
}

inline CLI::Validator size(std::uint64_t min, std::uint64_t max) {
  return detail::strict(
      [=](const std::string& text) { return std::to_string(parse_size(text, min, max)); },
      "BYTES[K|M|G|T]");
}

inline CLI::Validator decimal(double min, double max) {
  return detail::strict(
      [=](const std::string& text) {
        // Already strictly checked; CLI11 converts the original spelling exactly.
        parse_decimal(text, min, max);
        return text;
      },
      fmt::format("{}..{}", min, max));
}

inline CLI::Validator segment_mode() {
  return detail::strict(
      [](const std::string& text) {
        parse_segment_mode(text);
        return text;
      },
      "OCTAL");
}

// "TOOL: error: MESSAGE" for every command-line error, echoed input made terminal-safe.
inline void set_failure_message(CLI::App& app, const std::string& tool) {
  app.failure_message([tool](const CLI::App*, const CLI::Error& e) {
    return fmt::format("{}: error: {}\nRun with --help for more information.\n", tool,
                       terminal_safe(e.what()));
  });
}

// What --version prints: "TOOL VERSION" first (help2man and scripts read that line), then the
// byte-layout versions the tool reads and writes.
inline std::string version_text(std::string_view tool) {
  return fmt::format(
      "{} {}\nring format version {}, extension block version {}, record encoding version {}", tool,
      project_version, layout::format_version, layout::extension_layout::version,
      static_cast<unsigned>(record_layout::version));
}

// Adds --version (prints version_text and exits 0).
inline void add_version_flag(CLI::App& app, const std::string& tool) {
  app.set_version_flag("--version", version_text(tool), "Print the version and exit");
}

}  // namespace ouroboros::tools::cli
