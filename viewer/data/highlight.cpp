#include "data/highlight.hpp"

#include <algorithm>

#include "data/filter.hpp"
#include "data/format.hpp"

namespace ouroboros::viewer {

namespace {
// The same step cap as the filter: a pattern that backtracks catastrophically on some untrusted
// message gives up on it (no highlight) instead of stalling the GUI thread.
QString limited(const QString& pattern) {
  return QStringLiteral("(*LIMIT_MATCH=%1)").arg(max_regex_steps) + pattern;
}

std::uint8_t level_of(const QString& name) {
  for (std::uint8_t level = 0; level < 6; ++level) {
    if (level_name(level).compare(name.trimmed(), Qt::CaseInsensitive) == 0) return level;
  }
  return no_level;
}

QRegularExpression compile(const highlight_rule& rule) {
  QRegularExpression::PatternOptions options = QRegularExpression::NoPatternOption;
  if (!rule.case_sensitive) options |= QRegularExpression::CaseInsensitiveOption;
  if (rule.on == highlight_rule::field::tag) {
    const QRegularExpression wildcard(QRegularExpression::wildcardToRegularExpression(
        rule.pattern.trimmed(), QRegularExpression::UnanchoredWildcardConversion));
    return QRegularExpression(QStringLiteral("\\A(?:%1)\\z").arg(wildcard.pattern()), options);
  }
  return QRegularExpression(limited(rule.pattern), options);
}

const char* field_key(highlight_rule::field on) {
  switch (on) {
    case highlight_rule::field::tag: return "tag";
    case highlight_rule::field::level: return "level";
    case highlight_rule::field::message: break;
  }
  return "message";
}
}  // namespace

QString highlight_rule_error(const highlight_rule& rule) {
  if (rule.pattern.trimmed().isEmpty()) return QStringLiteral("the rule has no pattern");
  switch (rule.on) {
    case highlight_rule::field::level:
      if (level_of(rule.pattern) == no_level) {
        return QStringLiteral("unknown level \"%1\" (TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL)")
            .arg(rule.pattern);
      }
      return {};
    case highlight_rule::field::tag: return {};
    case highlight_rule::field::message: {
      if (rule.pattern.startsWith(QStringLiteral("(*LIMIT_"))) {
        return QStringLiteral("invalid regular expression: the viewer sets the match limits");
      }
      const QRegularExpression regex = compile(rule);
      if (!regex.isValid()) {
        return QStringLiteral("invalid regular expression: %1 (at offset %2)")
            .arg(regex.errorString())
            .arg(std::max<qsizetype>(0, regex.patternErrorOffset() - (limited(QString()).size())));
      }
      return {};
    }
  }
  return {};
}

std::vector<highlight_rule> load_highlight_rules(QSettings& settings) {
  std::vector<highlight_rule> rules;
  const int count = settings.beginReadArray(QStringLiteral("highlight/rules"));
  for (int i = 0; i < count && static_cast<int>(rules.size()) < max_highlight_rules; ++i) {
    settings.setArrayIndex(i);
    highlight_rule rule;
    const QString on = settings.value(QStringLiteral("on")).toString();
    if (on == QLatin1String("tag")) {
      rule.on = highlight_rule::field::tag;
    } else if (on == QLatin1String("level")) {
      rule.on = highlight_rule::field::level;
    } else if (on != QLatin1String("message")) {
      continue;
    }
    rule.pattern = settings.value(QStringLiteral("pattern")).toString();
    rule.case_sensitive = settings.value(QStringLiteral("case_sensitive")).toBool();
    rule.rgb = settings.value(QStringLiteral("rgb")).toUInt() & 0xFFFFFFU;
    if (highlight_rule_error(rule).isEmpty()) rules.push_back(rule);
  }
  settings.endArray();
  return rules;
}

void save_highlight_rules(QSettings& settings, const std::vector<highlight_rule>& rules) {
  settings.remove(QStringLiteral("highlight/rules"));
  settings.beginWriteArray(QStringLiteral("highlight/rules"), static_cast<int>(rules.size()));
  for (int i = 0; i < static_cast<int>(rules.size()); ++i) {
    const highlight_rule& rule = rules[static_cast<std::size_t>(i)];
    settings.setArrayIndex(i);
    settings.setValue(QStringLiteral("on"), QString::fromLatin1(field_key(rule.on)));
    settings.setValue(QStringLiteral("pattern"), rule.pattern);
    settings.setValue(QStringLiteral("case_sensitive"), rule.case_sensitive);
    settings.setValue(QStringLiteral("rgb"), rule.rgb);
  }
  settings.endArray();
}

highlighter::highlighter(const std::vector<highlight_rule>& rules, const tag_table* tags)
    : tags_(tags) {
  for (const highlight_rule& rule : rules) {
    if (static_cast<int>(rules_.size()) >= max_highlight_rules) break;
    if (!highlight_rule_error(rule).isEmpty()) continue;
    compiled c;
    c.on = rule.on;
    c.rgb = rule.rgb & 0xFFFFFFU;
    if (rule.on == highlight_rule::field::level) {
      c.level = level_of(rule.pattern);
    } else {
      c.regex = compile(rule);
      c.regex.optimize();
    }
    rules_.push_back(std::move(c));
  }
}

bool highlighter::message_matches(compiled& rule, std::string_view message) {
  const auto input = QByteArrayView(message.data(), static_cast<qsizetype>(message.size()));
  const auto needed = static_cast<std::size_t>(decoder_.requiredSpace(input.size()));
  if (scratch_.size() < needed) scratch_.resize(needed);
  QChar* end = decoder_.appendToBuffer(scratch_.data(), input);
  const QStringView subject(scratch_.data(), end - scratch_.data());
  return rule.regex
      .match(subject, 0, QRegularExpression::NormalMatch,
             QRegularExpression::DontCheckSubjectStringMatchOption)
      .hasMatch();
}

std::uint8_t highlighter::match(const entry& row) {
  if (rules_.empty() || row.always_visible()) return 0;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    compiled& rule = rules_[i];
    bool hit = false;
    switch (rule.on) {
      case highlight_rule::field::level: hit = row.level == rule.level; break;
      case highlight_rule::field::tag: {
        if (row.tag >= rule.tag_verdicts.size()) {
          rule.tag_verdicts.resize(std::size_t{row.tag} + 1, -1);
        }
        std::int8_t& verdict = rule.tag_verdicts[row.tag];
        if (verdict < 0) {
          const std::string_view raw = tags_ ? tags_->name(row.tag) : std::string_view{};
          const QString name = QString::fromUtf8(raw.data(), static_cast<qsizetype>(raw.size()));
          verdict = rule.regex.match(name).hasMatch() ? 1 : 0;
        }
        hit = verdict == 1;
        break;
      }
      case highlight_rule::field::message:
        hit = message_matches(rule, message_text(row, message_));
        break;
    }
    if (hit) return static_cast<std::uint8_t>(i + 1);
  }
  return 0;
}

}  // namespace ouroboros::viewer
