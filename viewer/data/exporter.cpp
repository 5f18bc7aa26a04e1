#include "data/exporter.hpp"

#include <algorithm>

#include <QJsonDocument>
#include <QJsonObject>

#include "data/format.hpp"

namespace ouroboros::viewer {

namespace {
QString kind_name(row_kind kind) {
  switch (kind) {
    case row_kind::record: return QStringLiteral("record");
    case row_kind::plain: return QStringLiteral("plain");
    case row_kind::malformed: return QStringLiteral("malformed");
    case row_kind::gap: return QStringLiteral("gap");
    case row_kind::separator: return QStringLiteral("restart");
    case row_kind::notice: return QStringLiteral("notice");
  }
  return {};
}

QString tag_of(const entry& row, const tag_table& tags) {
  const std::string_view name = tags.name(row.tag);
  return QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size()));
}

QByteArray csv_quote(const QString& value) {
  QByteArray bytes = value.toUtf8();
  if (bytes.contains(',') || bytes.contains('"') || bytes.contains('\n') || bytes.contains('\r')) {
    bytes.replace("\"", "\"\"");
    return '"' + bytes + '"';
  }
  return bytes;
}
}  // namespace

QString text_line(const entry& row, const tag_table& tags, bool utc) {
  const row_kind kind = row.kind();
  if (kind == row_kind::gap || kind == row_kind::separator || kind == row_kind::notice) {
    return QStringLiteral("----- %1 -----").arg(full_message(row));
  }
  QString line = QString::number(row.sequence);
  if (row.time_ns != no_time) line += QLatin1Char(' ') + format_time(row.time_ns, utc);
  if (row.level != no_level) line += QLatin1Char(' ') + level_name(row.level);
  if (row.tag != 0) line += QStringLiteral(" [%1]").arg(tag_of(row, tags));
  if (kind == row_kind::record) line += QStringLiteral(" %1").arg(row.thread);
  line += QStringLiteral(": ") + full_message(row);
  for (const field_pair& f : decode_fields(row.extra())) {
    line += QStringLiteral(" %1=%2").arg(full_text(f.key), full_text(f.value));
  }
  return line;
}

QByteArray json_line(const entry& row, const tag_table& tags) {
  QJsonObject object;
  const row_kind kind = row.kind();
  object.insert(QStringLiteral("kind"), kind_name(kind));
  if (kind != row_kind::separator)
    object.insert(QStringLiteral("seq"), static_cast<qint64>(row.sequence));
  if (row.time_ns != no_time) {
    // Doubles lose nanoseconds: the time goes out as a decimal string and as ISO text.
    object.insert(QStringLiteral("unix_ns"), QString::number(row.time_ns));
    object.insert(QStringLiteral("time"), format_time(row.time_ns, true) + QLatin1Char('Z'));
  }
  if (row.level != no_level)
    object.insert(QStringLiteral("level"), level_name(row.level).toLower());
  if (row.tag != 0) object.insert(QStringLiteral("tag"), tag_of(row, tags));
  if (kind == row_kind::record)
    object.insert(QStringLiteral("thread"), static_cast<qint64>(row.thread));
  if (row.truncated()) object.insert(QStringLiteral("truncated"), true);
  object.insert(QStringLiteral("message"), full_message(row));
  const auto fields = decode_fields(row.extra());
  if (!fields.empty()) {
    QJsonObject map;
    for (const field_pair& f : fields) map.insert(full_text(f.key), full_text(f.value));
    object.insert(kind == row_kind::gap ? QStringLiteral("gap") : QStringLiteral("fields"), map);
  }
  return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QByteArray csv_header(bool bookmark_column) {
  QByteArray header = "kind,seq,time,level,tag,thread,message,fields";
  if (bookmark_column) header += ",bookmark";
  return header;
}

QByteArray csv_line(const entry& row, const tag_table& tags, bool utc) {
  const row_kind kind = row.kind();
  QStringList field_text;
  for (const field_pair& f : decode_fields(row.extra())) {
    field_text << QStringLiteral("%1=%2").arg(full_text(f.key), full_text(f.value));
  }
  QByteArray line = kind_name(kind).toUtf8();
  line += ',';
  if (kind != row_kind::separator)
    line += QByteArray::number(static_cast<qulonglong>(row.sequence));
  line += ',';
  if (row.time_ns != no_time) line += format_time(row.time_ns, utc).toUtf8();
  line += ',';
  line += level_name(row.level).toUtf8();
  line += ',';
  line += csv_quote(tag_of(row, tags));
  line += ',';
  if (kind == row_kind::record) line += QByteArray::number(row.thread);
  line += ',';
  line += csv_quote(full_message(row));
  line += ',';
  line += csv_quote(field_text.join(QLatin1Char(' ')));
  return line;
}

bool export_rows(QIODevice& out, const store_view& view, const std::vector<std::uint64_t>& serials,
                 const tag_table& tags, const export_options& options, QString& error,
                 const std::atomic<bool>* cancel, std::atomic<std::uint64_t>* progress) {
  QByteArray buffer;
  auto flush = [&]() {
    if (out.write(buffer) != buffer.size()) {
      error = QStringLiteral("write failed: %1").arg(out.errorString());
      return false;
    }
    buffer.clear();
    return true;
  };
  const bool marks = !options.bookmarks.empty();
  if (options.format == export_format::csv) buffer += csv_header(marks) + '\n';
  std::uint64_t done = 0;
  for (const std::uint64_t serial : serials) {
    if ((++done & 1023) == 0) {
      if (progress) progress->store(done, std::memory_order_relaxed);
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        error = QStringLiteral("cancelled");
        return false;
      }
    }
    if (!view.contains(serial)) continue;
    const entry& row = view.at(serial);
    const bool marked =
        marks && std::binary_search(options.bookmarks.begin(), options.bookmarks.end(), serial);
    switch (options.format) {
      case export_format::text:
        if (marks) buffer += marked ? "* " : "  ";
        buffer += text_line(row, tags, options.utc).toUtf8();
        break;
      case export_format::json_lines:
        if (marked) {
          QByteArray line = json_line(row, tags);
          line.chop(1);  // the closing brace
          buffer += line + ",\"bookmark\":true}";
        } else {
          buffer += json_line(row, tags);
        }
        break;
      case export_format::csv:
        buffer += csv_line(row, tags, options.utc);
        if (marks) buffer += marked ? ",1" : ",";
        break;
      case export_format::messages: buffer += full_message(row).toUtf8(); break;
    }
    buffer += '\n';
    if (buffer.size() > (1 << 20) && !flush()) return false;
  }
  if (progress) progress->store(serials.size(), std::memory_order_relaxed);
  if (cancel && cancel->load(std::memory_order_relaxed)) {
    error = QStringLiteral("cancelled");
    return false;
  }
  return flush();
}

export_format format_for_file(const QString& file_name) {
  const QString lower = file_name.toLower();
  if (lower.endsWith(QStringLiteral(".jsonl")) || lower.endsWith(QStringLiteral(".json")) ||
      lower.endsWith(QStringLiteral(".ndjson"))) {
    return export_format::json_lines;
  }
  if (lower.endsWith(QStringLiteral(".csv"))) return export_format::csv;
  return export_format::text;
}

}  // namespace ouroboros::viewer
