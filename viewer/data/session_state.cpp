#include "data/session_state.hpp"

#include <algorithm>

namespace ouroboros::viewer {

namespace {
constexpr int max_saved_segments = 64;  // a merged view's limit
constexpr qsizetype max_name_size = 255;

QStringList clean_names(const QStringList& raw) {
  QStringList names;
  for (const QString& name : raw) {
    const QString trimmed = name.trimmed();
    if (trimmed.isEmpty() || trimmed.size() > max_name_size || names.contains(trimmed)) continue;
    names << trimmed;
  }
  return names;
}
}  // namespace

void save_session(QSettings& settings, const saved_session& session) {
  settings.remove(QStringLiteral("session"));
  const int count = std::min<int>(static_cast<int>(session.views.size()), max_saved_views);
  settings.setValue(QStringLiteral("session/current"), std::clamp(session.current, 0, count));
  settings.beginWriteArray(QStringLiteral("session/views"), count);
  for (int i = 0; i < count; ++i) {
    const saved_view& v = session.views[static_cast<std::size_t>(i)];
    const filter_spec& f = v.filter;
    settings.setArrayIndex(i);
    settings.setValue(QStringLiteral("segments"), v.segments);
    settings.setValue(QStringLiteral("text"), f.text);
    settings.setValue(QStringLiteral("regex"), f.regex);
    settings.setValue(QStringLiteral("case_sensitive"), f.case_sensitive);
    settings.setValue(QStringLiteral("levels"), static_cast<uint>(f.level_mask & 0x7F));
    settings.setValue(QStringLiteral("tags"), f.tags_include);
    settings.setValue(QStringLiteral("hidden_tags"), f.tags_exclude);
    QStringList threads;
    for (const std::uint32_t t : f.threads) threads << QString::number(t);
    settings.setValue(QStringLiteral("threads"), threads);
    settings.setValue(QStringLiteral("hidden_segments"), qulonglong{f.hidden_sources});
  }
  settings.endArray();
}

saved_session load_session(QSettings& settings) {
  saved_session session;
  const int count = settings.beginReadArray(QStringLiteral("session/views"));
  for (int i = 0; i < count && static_cast<int>(session.views.size()) < max_saved_views; ++i) {
    settings.setArrayIndex(i);
    saved_view v;
    v.segments = clean_names(settings.value(QStringLiteral("segments")).toStringList());
    if (v.segments.isEmpty() || v.segments.size() > max_saved_segments) continue;
    filter_spec& f = v.filter;
    f.text = settings.value(QStringLiteral("text")).toString();
    f.regex = settings.value(QStringLiteral("regex")).toBool();
    f.case_sensitive = settings.value(QStringLiteral("case_sensitive")).toBool();
    bool ok = false;
    const uint levels = settings.value(QStringLiteral("levels"), 0x7F).toUInt(&ok);
    f.level_mask = ok ? static_cast<std::uint8_t>(levels & 0x7F) : 0x7F;
    f.tags_include = clean_names(settings.value(QStringLiteral("tags")).toStringList());
    f.tags_exclude = clean_names(settings.value(QStringLiteral("hidden_tags")).toStringList());
    parse_thread_list(settings.value(QStringLiteral("threads")).toStringList().join(u' '),
                      f.threads);
    if (v.merged()) {
      const qulonglong hidden = settings.value(QStringLiteral("hidden_segments")).toULongLong();
      const auto n = static_cast<unsigned>(v.segments.size());
      f.hidden_sources = n >= 64 ? hidden : (hidden & ((qulonglong{1} << n) - 1));
    }
    session.views.push_back(std::move(v));
  }
  settings.endArray();
  const int current = settings.value(QStringLiteral("session/current"), 0).toInt();
  session.current = session.views.empty()
                        ? 0
                        : std::clamp(current, 0, static_cast<int>(session.views.size()) - 1);
  return session;
}

}  // namespace ouroboros::viewer
