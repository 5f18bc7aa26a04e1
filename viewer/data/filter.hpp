// What the user asked to see, and the matcher that applies it to stored rows.
//
// A filter_spec is an immutable value shared between threads; every thread that filters builds
// its own filter_engine from it (engines cache per-tag verdicts and a UTF-16 scratch buffer).
// Gap, separator and notice rows pass every filter but a merged view's segment toggle, a time
// range and (gap rows) hide_gaps.
//
// Thread-safety: filter_spec is immutable once shared; filter_engine is not thread-safe
// (one per thread).
#pragma once

#include <QRegularExpression>
#include <QString>
#include <QStringDecoder>
#include <QStringList>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/entry.hpp"

namespace ouroboros::viewer {

class message_pass;

// Backtracking steps a message regex may take on one message before it counts as no match
// (PCRE2's match limit; see filter.cpp).
inline constexpr int max_regex_steps = 100'000;

struct filter_spec {
  QString text;        // on the message
  bool regex = false;  // text is a QRegularExpression pattern, else a plain substring
  bool case_sensitive = false;
  std::uint8_t level_mask = 0x7F;  // bit i = level slot i (6 = rows without a level)
  QStringList tags_include;        // exact names or wildcards (*, ?); empty = every tag
  QStringList tags_exclude;
  std::vector<std::uint32_t> threads;  // empty = every thread
  // Merged views: bit i hides every row of segment i (its gap and restart rows too).
  std::uint64_t hidden_sources = 0;
  // A time range chosen on the timeline (inclusive, wall-clock ns; no_time = open). Rows without
  // a time pass; gap and restart rows outside it do not.
  std::int64_t time_from = no_time;
  std::int64_t time_to = no_time;
  // Leaves gap rows out of the table (the status bar still counts the entries lost).
  bool hide_gaps = false;

  bool passes_everything() const;
  bool operator==(const filter_spec& other) const = default;
};

// Parses "12, 0x1f 77" into thread ids; returns false (and leaves out) on a bad token.
bool parse_thread_list(const QString& text, std::vector<std::uint32_t>& out);
// Splits "net, db*" into trimmed, non-empty names.
QStringList parse_tag_list(const QString& text);

class filter_engine {
 public:
  filter_engine() : filter_engine(std::make_shared<filter_spec>(), nullptr) {}
  filter_engine(std::shared_ptr<const filter_spec> spec, const tag_table* tags);

  // Empty when the spec is usable; otherwise why the text filter is ignored (bad regex).
  const QString& error() const noexcept { return error_; }
  const filter_spec& spec() const noexcept { return *spec_; }

  bool accepts(const entry& row);
  // The same verdict for row `serial` of a pass over the history, reading its message (when the
  // verdict needs it) through the pass, which keeps deferred rows' text for the next pass.
  bool accepts(const entry& row, std::uint64_t serial, message_pass& messages);
  bool text_matches(std::string_view message);
  // Whether accepts() reads the message of (some) record rows: a text filter is set.
  bool reads_messages() const noexcept { return mode_ != text_mode::none; }

 private:
  enum class text_mode { none, exact, ascii_fold, regex };
  enum class verdict { reject, accept, by_text };
  // Everything but the message.
  verdict field_verdict(const entry& row);
  bool tag_passes(std::uint16_t tag);

  std::shared_ptr<const filter_spec> spec_;
  const tag_table* tags_ = nullptr;
  QString error_;
  text_mode mode_ = text_mode::none;
  std::string needle_;  // exact: UTF-8 bytes; ascii_fold: lower-case ASCII
  QRegularExpression regex_;
  std::vector<QRegularExpression> include_;
  std::vector<QRegularExpression> exclude_;
  bool tag_filtering_ = false;
  std::vector<std::int8_t> tag_verdicts_;  // -1 unknown, 0 reject, 1 accept; indexed by tag id
  std::vector<QChar> scratch_;
  std::string message_;  // a deferred row's message, formatted to be matched
  QStringDecoder decoder_{QStringDecoder::Utf8, QStringDecoder::Flag::Stateless};
};

}  // namespace ouroboros::viewer
