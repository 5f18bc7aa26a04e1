// What the viewer restores on its next start: the open tabs (one segment each) and merged views
// (their segment lists), in tab order, each with its filters, and which tab was current.
//
// The description is written to and read from QSettings ("session/..."). Reading treats the
// settings file as untrusted: unknown kinds, invalid segment names, merged views with fewer
// than two or more than 64 segments and out-of-range values are skipped or clamped, never
// applied as they are. Time ranges chosen on a timeline are not saved (they name moments of a
// previous run).
//
// Thread-safety: values; the functions touch only the QSettings object they are given.
#pragma once

#include <QSettings>
#include <QStringList>
#include <vector>

#include "data/filter.hpp"

namespace ouroboros::viewer {

// Tabs past this many are not saved (nor read back).
inline constexpr int max_saved_views = 64;

struct saved_view {
  QStringList segments;  // one name: a segment tab; two or more: a merged view
  filter_spec filter;    // time_from/time_to are not saved
  bool merged() const { return segments.size() > 1; }
  bool operator==(const saved_view& other) const = default;
};

struct saved_session {
  std::vector<saved_view> views;
  int current = 0;  // index into views
  bool operator==(const saved_session& other) const = default;
};

void save_session(QSettings& settings, const saved_session& session);
saved_session load_session(QSettings& settings);

}  // namespace ouroboros::viewer
