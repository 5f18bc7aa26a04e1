// Highlight rules: a message regex, a tag or a level -> a row background colour.
//
// The first rule that matches a row wins. A highlighter compiles the rules once and answers
// per row with the 1-based index of the winning rule (0 = none); the model asks it once per
// row, when the row arrives or after the rules change, never per repaint. Cost per row is
// bounded: one cached verdict per (rule, tag), a level compare, and at most one PCRE2 match per
// message rule, each capped at max_regex_steps like the filter's.
//
// Thread-safety: highlight_rule is a value; a highlighter is not thread-safe (one per thread).
#pragma once

#include <QRegularExpression>
#include <QSettings>
#include <QString>
#include <QStringDecoder>
#include <cstdint>
#include <string_view>
#include <vector>

#include "data/entry.hpp"

namespace ouroboros::viewer {

// Rules past this many are ignored: the winning index must fit the row's mark byte.
inline constexpr int max_highlight_rules = 64;

struct highlight_rule {
  enum class field : std::uint8_t { message, tag, level };
  field on = field::message;
  // message: a regular expression; tag: a name or wildcard (*, ?); level: "WARN", "ERROR", ...
  QString pattern;
  bool case_sensitive = false;
  std::uint32_t rgb = 0xFFFF00;  // background colour, 0xRRGGBB

  bool operator==(const highlight_rule& other) const = default;
};

// Empty when the rule is usable; otherwise why not (shown in the rules dialog).
QString highlight_rule_error(const highlight_rule& rule);

// QSettings persistence (array "highlight/rules"). Invalid rules found in the settings are
// skipped on load, never applied.
std::vector<highlight_rule> load_highlight_rules(QSettings& settings);
void save_highlight_rules(QSettings& settings, const std::vector<highlight_rule>& rules);

class highlighter {
 public:
  highlighter() = default;
  highlighter(const std::vector<highlight_rule>& rules, const tag_table* tags);

  bool empty() const noexcept { return rules_.empty(); }
  // 1-based index of the first rule matching `row`, 0 when none does (event rows: always 0).
  std::uint8_t match(const entry& row);
  // The colour of a match() result (0xRRGGBB); only for results > 0.
  std::uint32_t rgb(std::uint8_t mark) const { return rules_[mark - 1U].rgb; }

 private:
  struct compiled {
    highlight_rule::field on;
    QRegularExpression regex;
    std::uint8_t level = no_level;
    std::uint32_t rgb = 0;
    std::vector<std::int8_t> tag_verdicts;  // -1 unknown, 0 no, 1 yes; indexed by tag id
  };
  bool message_matches(compiled& rule, std::string_view message);

  std::vector<compiled> rules_;
  const tag_table* tags_ = nullptr;
  std::vector<QChar> scratch_;
  std::string message_;  // a deferred row's message, formatted to be matched
  QStringDecoder decoder_{QStringDecoder::Utf8, QStringDecoder::Flag::Stateless};
};

}  // namespace ouroboros::viewer
