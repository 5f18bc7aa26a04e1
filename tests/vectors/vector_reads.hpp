// What a reader must deliver for one test-vector buffer, rendered as JSON text.
//
// The generator writes this text into each vector's .json file; the check test recomputes it from
// the checked-in .bin with ring_reader and decode_record and requires the very same text, so the
// C++ reader is held to the vectors exactly like the Python and Go readers are.
//
// Thread-safety: stateless functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ouroboros/extension.hpp"
#include "ouroboros/layout.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/record_reader.hpp"
#include "ouroboros/ring_reader.hpp"

namespace ouroboros::vectors {

// A bound on read_next calls per start mode, so a reader bug cannot hang the tests; no vector
// comes near it.
inline constexpr int max_reads = 4096;

inline std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;  // UTF-8 passes through: callers only pass validated text
    }
  }
  return out + "\"";
}

inline std::string hex_of(std::span<const std::byte> bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::byte b : bytes) {
    const auto u = std::to_integer<unsigned>(b);
    out += hex[u >> 4];
    out += hex[u & 15];
  }
  return out;
}

inline std::string_view status_name(read_status status) {
  switch (status) {
    case read_status::ok: return "ok";
    case read_status::no_data: return "no_data";
    case read_status::lapped: return "lapped";
    case read_status::not_a_log: return "not_a_log";
    case read_status::unsupported_version: return "unsupported_version";
    case read_status::corrupt: return "corrupt";
    case read_status::writer_restarted: return "writer_restarted";
    case read_status::segment_truncated: return "segment_truncated";
  }
  return "?";
}

inline std::string_view start_name(start_position start) {
  switch (start) {
    case start_position::oldest: return "oldest";
    case start_position::newest: return "newest";
    case start_position::now: return "now";
  }
  return "?";
}

// The extension block as a reader sees it, or "null".
inline std::string extension_json(std::span<const std::byte> buffer) {
  const auto ext = read_extension(buffer);
  if (!ext) return "null";
  std::string out = "{";
  out += "\"writer_pid\": " + std::to_string(ext->writer_pid);
  out += ", \"writer_start_unix_ns\": " + std::to_string(ext->writer_start_unix_ns);
  out += ", \"incarnation\": " + std::to_string(ext->incarnation);
  out += ", \"heartbeat_unix_ns\": " + std::to_string(ext->heartbeat_unix_ns);
  out += ", \"payload_encoding\": " + std::to_string(ext->payload_encoding);
  out += ", \"flags\": " + std::to_string(ext->flags);
  out += std::string(", \"closed\": ") + (ext->closed() ? "true" : "false");
  out += ", \"chunk_target_size\": " + std::to_string(ext->chunk_target_size);
  if (const auto clock = read_clock(buffer)) {
    out += ", \"clock\": {\"tick_base\": " + std::to_string(clock->tick_base) +
           ", \"wall_base_ns\": " + std::to_string(clock->wall_base_ns) +
           ", \"mult\": " + std::to_string(clock->mult) + "}";
  } else {
    out += ", \"clock\": null";
  }
  return out + "}";
}

// One delivered payload, interpreted as the segment's encoding says.
// `interpreter` is shared by a whole read pass, as in a real reader (its caches are warm).
inline std::string payload_json(std::span<const std::byte> buffer,
                                std::span<const std::byte> payload,
                                entry_interpreter& interpreter) {
  std::string out = ", \"payload_hex\": \"" + hex_of(payload) + "\"";
  const auto ext = read_extension(buffer);
  const bool records = ext && ext->payload_encoding == layout::extension_layout::encoding_record;
  if (!records) return out + ", \"kind\": \"plain\"";
  const decode_result decoded = decode_record(payload);
  if (decoded.status == decode_status::not_a_record) return out + ", \"kind\": \"plain\"";
  if (decoded.status != decode_status::ok) {
    return out + ", \"kind\": \"malformed\", \"error\": " + json_string(to_string(decoded.status));
  }
  const record_view& r = decoded.record;
  // Deferred records are formatted from the segment's dictionary (entry_interpreter).
  std::string_view message = r.message;
  entry_view rendered;
  if (r.deferred) {
    rendered = interpreter.interpret(payload);
    if (rendered.kind == entry_kind::malformed)
      return out + ", \"kind\": \"malformed\", \"error\": " + json_string(rendered.error());
    message = rendered.message;
  }
  out += ", \"kind\": \"record\", \"level\": " + json_string(to_string(r.severity));
  if (r.timestamp_in_ticks()) {
    const auto clock = read_clock(buffer);
    out += ", \"unix_ns\": " + (clock ? std::to_string(clock->to_unix_ns(r.timestamp)) : "null");
  } else {
    out += ", \"unix_ns\": " + std::to_string(r.timestamp);
  }
  out += ", \"ticks\": " + std::string(r.timestamp_in_ticks() ? "true" : "false");
  out += ", \"timestamp\": " + std::to_string(r.timestamp);
  out += ", \"thread\": " + std::to_string(r.thread);
  out += ", \"truncated\": " + std::string(r.truncated() ? "true" : "false");
  out += ", \"tag\": " + json_string(r.tag);
  out += ", \"message\": " + json_string(message);
  out += ", \"fields\": [";
  for (std::size_t i = 0; i < r.field_count; ++i) {
    const record_field f = r.field(i);
    if (i > 0) out += ", ";
    out += "[" + json_string(f.key) + ", " + json_string(f.value);
    // Typed fields (record version 3) name their type; string fields stay [key, value].
    if (f.type != field_type::string) out += ", " + json_string(to_string(f.type));
    out += "]";
  }
  return out + "]";
}

// Attaches with `start`, then calls read_next until "no data" (or max_reads), one event a line.
inline std::string read_json(std::span<const std::byte> buffer, start_position start) {
  ring_reader reader;
  entry_interpreter interpreter(buffer);
  const read_result attached = reader.attach(buffer, start);
  std::string out = "    " + json_string(start_name(start)) +
                    ": {\"attach\": " + json_string(status_name(attached.status)) +
                    ", \"attach_detail\": " + json_string(attached.detail) + ", \"events\": [";
  if (attached.status != read_status::ok) return out + "], \"final\": \"detached\"}";
  std::string final_status = "read_limit";
  bool first = true;
  for (int i = 0; i < max_reads; ++i) {
    const read_result r = reader.read_next();
    if (r.status == read_status::no_data) {
      final_status = "no_data";
      break;
    }
    out += first ? "\n" : ",\n";
    first = false;
    out += "      {\"status\": " + json_string(status_name(r.status));
    if (r.status == read_status::ok) {
      out +=
          ", \"seq\": " + std::to_string(r.sequence) + payload_json(buffer, r.payload, interpreter);
    } else if (r.status == read_status::lapped) {
      out += ", \"lost\": " + std::to_string(r.lost);
    } else {
      out += ", \"detail\": " + json_string(r.detail);
    }
    out += "}";
  }
  out += first ? "]" : "\n    ]";
  out += ", \"delivered\": " + std::to_string(reader.entries_delivered());
  out += ", \"lost\": " + std::to_string(reader.entries_lost());
  return out + ", \"final\": " + json_string(final_status) + "}";
}

// The "reads" object: every start mode.
inline std::string reads_json(std::span<const std::byte> buffer) {
  return "{\n" + read_json(buffer, start_position::oldest) + ",\n" +
         read_json(buffer, start_position::newest) + ",\n" +
         read_json(buffer, start_position::now) + "\n  }";
}

}  // namespace ouroboros::vectors
