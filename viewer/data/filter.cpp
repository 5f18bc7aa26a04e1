#include "data/filter.hpp"

#include <algorithm>

#include "data/message_pass.hpp"

namespace ouroboros::viewer {

bool filter_spec::passes_everything() const {
  return text.isEmpty() && (level_mask & 0x7F) == 0x7F && tags_include.isEmpty() &&
         tags_exclude.isEmpty() && threads.empty() && hidden_sources == 0 && time_from == no_time &&
         time_to == no_time && !hide_gaps;
}

bool parse_thread_list(const QString& text, std::vector<std::uint32_t>& out) {
  out.clear();
  static const QRegularExpression separators(QStringLiteral("[\\s,;]+"));
  bool all_good = true;
  for (const QString& token : text.split(separators, Qt::SkipEmptyParts)) {
    bool ok = false;
    const qulonglong value = token.toULongLong(&ok, 0);
    if (ok && value <= 0xFFFFFFFFULL) {
      out.push_back(static_cast<std::uint32_t>(value));
    } else {
      all_good = false;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return all_good;
}

QStringList parse_tag_list(const QString& text) {
  static const QRegularExpression separators(QStringLiteral("[\\s,;]+"));
  return text.split(separators, Qt::SkipEmptyParts);
}

namespace {
// Users' patterns meet untrusted messages: a pattern that backtracks catastrophically on some
// message gives up on it after this many steps (treated as no match) instead of running for
// minutes. Legitimate patterns need far fewer steps, even on 40 KiB messages.
const QString& match_limit_prefix() {
  static const QString prefix = QStringLiteral("(*LIMIT_MATCH=%1)").arg(max_regex_steps);
  return prefix;
}

QRegularExpression tag_pattern(const QString& name) {
  QRegularExpression pattern(QRegularExpression::wildcardToRegularExpression(
      name, QRegularExpression::UnanchoredWildcardConversion));
  // Anchored by hand so "net" matches "net" only, and "net*" every tag starting with it.
  return QRegularExpression(QStringLiteral("\\A(?:%1)\\z").arg(pattern.pattern()));
}

bool is_ascii(const QString& text) {
  return std::all_of(text.begin(), text.end(), [](QChar c) { return c.unicode() < 0x80; });
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
}  // namespace

filter_engine::filter_engine(std::shared_ptr<const filter_spec> spec, const tag_table* tags)
    : spec_(std::move(spec)), tags_(tags) {
  const filter_spec& s = *spec_;
  if (!s.text.isEmpty()) {
    if (s.regex) {
      // No UseUnicodePropertiesOption: it makes \d, \w and friends several times slower, and
      // caseless matching of non-ASCII letters works without it in UTF mode.
      QRegularExpression::PatternOptions options = QRegularExpression::NoPatternOption;
      if (!s.case_sensitive) options |= QRegularExpression::CaseInsensitiveOption;
      if (s.text.startsWith(QStringLiteral("(*LIMIT_"))) {
        error_ = QStringLiteral("invalid regular expression: the viewer sets the match limits");
      } else {
        regex_ = QRegularExpression(match_limit_prefix() + s.text, options);
        if (regex_.isValid()) {
          regex_.optimize();
          mode_ = text_mode::regex;
        } else {
          error_ = QStringLiteral("invalid regular expression: %1 (at offset %2)")
                       .arg(regex_.errorString())
                       .arg(std::max<qsizetype>(
                           0, regex_.patternErrorOffset() - match_limit_prefix().size()));
        }
      }
    } else if (s.case_sensitive) {
      mode_ = text_mode::exact;
      needle_ = s.text.toStdString();
    } else if (is_ascii(s.text)) {
      mode_ = text_mode::ascii_fold;
      needle_ = s.text.toLower().toStdString();
    } else {
      // Unicode case folding needs the regex engine.
      regex_ = QRegularExpression(QRegularExpression::escape(s.text),
                                  QRegularExpression::CaseInsensitiveOption);
      regex_.optimize();
      mode_ = text_mode::regex;
    }
  }
  for (const QString& name : s.tags_include) include_.push_back(tag_pattern(name));
  for (const QString& name : s.tags_exclude) exclude_.push_back(tag_pattern(name));
  tag_filtering_ = !include_.empty() || !exclude_.empty();
}

bool filter_engine::tag_passes(std::uint16_t tag) {
  if (tag >= tag_verdicts_.size()) tag_verdicts_.resize(std::size_t{tag} + 1, -1);
  std::int8_t& verdict = tag_verdicts_[tag];
  if (verdict < 0) {
    const std::string_view raw = tags_ ? tags_->name(tag) : std::string_view{};
    const QString name = QString::fromUtf8(raw.data(), static_cast<qsizetype>(raw.size()));
    bool pass = include_.empty();
    for (const auto& p : include_) {
      if (p.match(name).hasMatch()) {
        pass = true;
        break;
      }
    }
    for (const auto& p : exclude_) {
      if (pass && p.match(name).hasMatch()) pass = false;
    }
    verdict = pass ? 1 : 0;
  }
  return verdict == 1;
}

bool filter_engine::text_matches(std::string_view message) {
  switch (mode_) {
    case text_mode::none: return true;
    case text_mode::exact: return message.find(needle_) != std::string_view::npos;
    case text_mode::ascii_fold: {
      const std::size_t n = needle_.size();
      if (n > message.size()) return false;
      const char first = needle_[0];
      for (std::size_t i = 0; i + n <= message.size(); ++i) {
        if (ascii_lower(message[i]) != first) continue;
        std::size_t k = 1;
        while (k < n && ascii_lower(message[i + k]) == needle_[k]) ++k;
        if (k == n) return true;
      }
      return false;
    }
    case text_mode::regex: {
      const auto input = QByteArrayView(message.data(), static_cast<qsizetype>(message.size()));
      const auto needed = static_cast<std::size_t>(decoder_.requiredSpace(input.size()));
      if (scratch_.size() < needed) scratch_.resize(needed);
      QChar* end = decoder_.appendToBuffer(scratch_.data(), input);
      const QStringView subject(scratch_.data(), end - scratch_.data());
      // The decoder produced valid UTF-16: skip Qt's check of the subject.
      return regex_
          .match(subject, 0, QRegularExpression::NormalMatch,
                 QRegularExpression::DontCheckSubjectStringMatchOption)
          .hasMatch();
    }
  }
  return true;
}

filter_engine::verdict filter_engine::field_verdict(const entry& row) {
  const filter_spec& s = *spec_;
  if (s.hidden_sources != 0 && row.source < 64 && ((s.hidden_sources >> row.source) & 1U) != 0) {
    return verdict::reject;
  }
  if (row.time_ns != no_time && ((s.time_from != no_time && row.time_ns < s.time_from) ||
                                 (s.time_to != no_time && row.time_ns > s.time_to))) {
    return verdict::reject;
  }
  if (row.always_visible()) {
    return s.hide_gaps && row.kind() == row_kind::gap ? verdict::reject : verdict::accept;
  }
  if ((s.level_mask & (1U << row.level_slot())) == 0) return verdict::reject;
  if (!s.threads.empty() && !std::binary_search(s.threads.begin(), s.threads.end(), row.thread)) {
    return verdict::reject;
  }
  if (tag_filtering_ && !tag_passes(row.tag)) return verdict::reject;
  return mode_ == text_mode::none ? verdict::accept : verdict::by_text;
}

bool filter_engine::accepts(const entry& row) {
  const verdict v = field_verdict(row);
  if (v != verdict::by_text) return v == verdict::accept;
  return text_matches(message_text(row, message_));
}

bool filter_engine::accepts(const entry& row, std::uint64_t serial, message_pass& messages) {
  const verdict v = field_verdict(row);
  if (v != verdict::by_text) return v == verdict::accept;
  return text_matches(messages.message(serial));
}

}  // namespace ouroboros::viewer
