// Writing rows out: plain text, JSON lines and CSV, gap rows included.
//
// Thread-safety: stateless functions; safe from any thread on a store_view snapshot.
#pragma once

#include <QIODevice>
#include <QString>
#include <atomic>
#include <cstdint>
#include <vector>

#include "data/entry_store.hpp"

namespace ouroboros::viewer {

enum class export_format { text, json_lines, csv, messages };  // messages: the message only

struct export_options {
  export_format format = export_format::text;
  bool utc = false;  // text and CSV times (JSON carries unix nanoseconds and UTC ISO text)
  // Bookmarked serials (sorted). When there are any, every row says whether it is one: a last
  // CSV column "bookmark" (1 or empty), a JSON member "bookmark":true, a text prefix "* ".
  std::vector<std::uint64_t> bookmarks;
};

// One row as a line of text (no newline): "time LEVEL [tag] thread: message".
QString text_line(const entry& row, const tag_table& tags, bool utc);
// One row as one JSON object (no newline).
QByteArray json_line(const entry& row, const tag_table& tags);
// One row as a CSV record (RFC 4180 quoting, no newline).
QByteArray csv_line(const entry& row, const tag_table& tags, bool utc);
QByteArray csv_header(bool bookmark_column = false);

// Writes the rows with the given serials (all contained in `view`). Returns false and sets
// `error` when the device fails; stops early (returning false, error "cancelled") if `cancel`
// becomes true. `progress`, when given, counts the rows done so far.
bool export_rows(QIODevice& out, const store_view& view, const std::vector<std::uint64_t>& serials,
                 const tag_table& tags, const export_options& options, QString& error,
                 const std::atomic<bool>* cancel = nullptr,
                 std::atomic<std::uint64_t>* progress = nullptr);

// The format a file name asks for (".jsonl"/".json" -> JSON lines, ".csv" -> CSV, else text).
export_format format_for_file(const QString& file_name);

}  // namespace ouroboros::viewer
