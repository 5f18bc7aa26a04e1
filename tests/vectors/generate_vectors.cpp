// Writes the shared test vectors: small ring buffers produced by the C++ ring_writer (.bin) and
// what every reader must deliver from them (.json). Deterministic: fixed pid, start time,
// incarnation, clock calibration and payloads, so a re-run reproduces the checked-in files byte
// for byte (the vectors_up_to_date test relies on that).
//
// Usage: ouroboros-vector-gen OUTPUT_DIR (or --help)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crafted_rings.hpp"
#include "deferred_cases.hpp"
#include "ouroboros/extension.hpp"
#include "ouroboros/layout.hpp"
#include "ouroboros/logger.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"
#include "vector_reads.hpp"

namespace {

using namespace ouroboros;
namespace lay = layout;
using ext = layout::extension_layout;

constexpr std::uint64_t fixed_pid = 4242;
constexpr std::uint64_t fixed_start_ns = 1'700'000'000'000'000'000ULL;
constexpr std::uint64_t fixed_incarnation = 0x0123456789ABCDEFULL;

// An 8-byte aligned buffer of any byte size (a dump may be cut anywhere).
struct aligned_buffer {
  std::vector<std::uint64_t> words;
  std::size_t size = 0;
  explicit aligned_buffer(std::size_t bytes) : words((bytes + 7) / 8, 0), size(bytes) {}
  std::span<std::byte> bytes() { return {reinterpret_cast<std::byte*>(words.data()), size}; }
  std::span<const std::byte> bytes() const {
    return {reinterpret_cast<const std::byte*>(words.data()), size};
  }
  void put_u32(std::size_t at, std::uint32_t v) { std::memcpy(bytes().data() + at, &v, 4); }
  void put_u64(std::size_t at, std::uint64_t v) { std::memcpy(bytes().data() + at, &v, 8); }
  std::uint64_t get_u64(std::size_t at) const {
    std::uint64_t v;
    std::memcpy(&v, bytes().data() + at, 8);
    return v;
  }
};

struct rejection {
  std::size_t size;
  write_status status;
};

struct test_vector {
  std::string name;
  std::string description;
  aligned_buffer buffer{0};
  std::optional<std::uint64_t> written;
  std::vector<rejection> rejected;
  // seq -> payload as written; checked against what the reader delivers (unmodified buffers).
  std::map<std::uint64_t, std::vector<std::byte>> truth;
};

std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// A writer over a fresh buffer with the fixed extension block (or none).
struct scenario {
  aligned_buffer buffer;
  extension_info info;
  writer_config config;
  std::optional<ring_writer> writer;
  test_vector* vec;

  scenario(test_vector& v, std::uint32_t chunks, std::size_t target, bool with_extension,
           std::uint32_t encoding, std::uint32_t dictionary_capacity = 0)
      : buffer(0), vec(&v) {
    info.dictionary_capacity = dictionary_capacity;
    info.writer_pid = fixed_pid;
    info.writer_start_unix_ns = fixed_start_ns;
    info.incarnation = fixed_incarnation;
    info.payload_encoding = encoding;
    config.chunk_count = chunks;
    config.chunk_target_size = target;
    config.extension = with_extension ? &info : nullptr;
    buffer = aligned_buffer(required_buffer_size(config));
    writer.emplace(buffer.bytes(), config);
  }

  void write(std::span<const std::byte> payload) {
    const write_status status = writer->write(payload);
    if (status == write_status::ok) {
      vec->truth[writer->entries_written()] = {payload.begin(), payload.end()};
    } else {
      vec->rejected.push_back({payload.size(), status});
    }
  }
  void write(const std::string& text) { write(as_bytes(text)); }
  void write_record(const record_header& header, std::string_view message,
                    std::span<const record_field> fields = {}, std::size_t room = 4096) {
    std::vector<std::byte> out(room);
    const std::size_t n = encode_record(out, header, message, fields);
    if (n == 0) throw std::logic_error("record does not fit");
    write(std::span<const std::byte>(out.data(), n));
  }
  void finish() {
    vec->written = writer->entries_written();
    writer.reset();
    vec->buffer = buffer;
  }
};

// Payload k of a deterministic stream: its index in decimal, then filler bytes derived from it.
std::vector<std::byte> patterned(std::uint64_t k, std::size_t size) {
  std::vector<std::byte> out(size);
  const std::string head = "#" + std::to_string(k) + ":";
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = i < head.size() ? static_cast<std::byte>(head[i])
                             : static_cast<std::byte>((k * 31 + i * 7) & 0xFF);
  }
  return out;
}

std::size_t patterned_size(std::uint64_t k) {
  return 1 + (k * 37) % 45;
}

std::vector<test_vector> build() {
  std::vector<test_vector> all;
  auto add = [&](std::string name, std::string description) -> test_vector& {
    all.push_back({});
    all.back().name = std::move(name);
    all.back().description = std::move(description);
    return all.back();
  };

  {
    auto& v = add("empty", "A freshly formatted buffer with an extension block: no entries.");
    scenario s(v, 4, 64, true, ext::encoding_raw);
    s.finish();
  }
  {
    auto& v = add("fresh_plain",
                  "Raw-encoding segment, no wrap: text, binary and a payload that looks like a "
                  "record (still plain bytes, because the segment's encoding is raw).");
    scenario s(v, 4, 64, true, ext::encoding_raw);
    s.write("hello");
    s.write(std::string("\x00\x01\x02\xff", 4));
    s.write("x");
    s.write(std::string(17, 'q'));
    std::vector<std::byte> rec(64);
    record_header h;
    h.tag = "raw";
    const std::size_t n = encode_record(rec, h, "not decoded");
    s.write(std::span<const std::byte>(rec.data(), n));
    s.write("last entry of the fresh buffer");
    s.finish();
  }
  {
    auto& v = add("wrapped_plain",
                  "4 chunks of 64 bytes, 120 entries of 1..45 bytes: the ring wrapped many "
                  "times; readers start at the oldest intact chunk.");
    scenario s(v, 4, 64, true, ext::encoding_raw);
    for (std::uint64_t k = 1; k <= 120; ++k) s.write(patterned(k, patterned_size(k)));
    s.finish();
  }
  {
    auto& v = add("wrapped_many_chunks",
                  "16 chunks of 48 bytes, 500 entries: wrapped, entries larger than a chunk "
                  "move chunk starts between laps.");
    scenario s(v, 16, 48, true, ext::encoding_raw);
    for (std::uint64_t k = 1; k <= 500; ++k) {
      s.write(patterned(k, k % 29 == 0 ? 150 : patterned_size(k)));
    }
    s.finish();
  }
  {
    auto& v = add("oversize",
                  "2 chunks of 64 bytes: an entry of the whole data region is accepted, one "
                  "byte more and an empty payload are rejected; then small entries wrap.");
    scenario s(v, 2, 64, true, ext::encoding_raw);
    const std::size_t max = s.writer->max_payload_size();
    s.write(patterned(1, max + 1));
    s.write(std::span<const std::byte>());
    s.write("before the big one");
    s.write(patterned(2, max));
    s.write("after the big one");
    s.write(patterned(3, max + 100));
    s.write("tail");
    s.finish();
  }
  {
    auto& v = add("records",
                  "Record encoding with clock calibration (1.5 ns per tick): every level, tags, "
                  "fields, unicode, a truncated message, tick and unix timestamps (one tick "
                  "before the calibration base), an empty message and a plain-text payload.");
    scenario s(v, 8, 256, true, ext::encoding_record);
    extension_writer(s.writer->extension_block())
        .publish_clock({1'000'000, 1'700'000'000'123'456'789ULL, std::uint64_t{3} << 31});
    const char* messages[] = {"trace message", "debug message", "info message",
                              "warn message",  "error message", "critical message"};
    for (int lv = 0; lv < 6; ++lv) {
      record_header h;
      h.severity = static_cast<level>(lv);
      h.thread = 100 + lv;
      h.timestamp = 1'700'000'000'000'000'000ULL + lv;
      h.tag = "levels";
      s.write_record(h, messages[lv]);
    }
    {
      record_header h;
      h.severity = level::info;
      h.flags = record_layout::flag_ticks;
      h.thread = 7;
      h.timestamp = 1'002'000;  // 2000 ticks after the base: +3000 ns
      h.tag = "net";
      const record_field fields[] = {{"bytes", "1500"}, {"peer", "10.0.0.1:443"}, {"empty", ""}};
      s.write_record(h, "sent 1500 bytes", fields);
    }
    {
      record_header h;
      h.severity = level::warn;
      h.flags = record_layout::flag_ticks;
      h.thread = 8;
      h.timestamp = 999'000;  // 1000 ticks before the base: -1500 ns
      h.tag = "clock";
      s.write_record(h, "stamped before the calibration base");
    }
    {
      record_header h;
      h.severity = level::error;
      h.thread = 4'000'000'000U;
      h.timestamp = 1'700'000'001'000'000'000ULL;
      h.tag = "ünïcode";
      const record_field fields[] = {{"ключ", "значение"}, {"emoji", "🐍"}};
      s.write_record(h, "grüße, 世界 \"quoted\" \\ back\tslash\nnewline", fields);
    }
    {
      record_header h;
      h.severity = level::info;
      h.timestamp = 1'700'000'002'000'000'000ULL;
      h.tag = "trunc";
      // room for the prefix and 10 message bytes: the writer cuts at a UTF-8 boundary
      s.write_record(h, "0123456789é and much more text", {}, record_prefix_size(h) + 11);
    }
    {
      record_header h;
      h.severity = level::debug;
      h.timestamp = 1'700'000'003'000'000'000ULL;
      s.write_record(h, "");  // no tag, no message
    }
    s.write("plain text in a record segment");
    {
      std::vector<record_field> fields;
      std::vector<std::string> keys;
      std::vector<std::string> values;
      for (int i = 0; i < 12; ++i) {
        keys.push_back("k" + std::to_string(i));
        values.push_back("v" + std::to_string(i * i));
      }
      for (int i = 0; i < 12; ++i) fields.push_back({keys[i], values[i]});
      record_header h;
      h.severity = level::critical;
      h.timestamp = 1'700'000'004'000'000'000ULL;
      h.tag = "many";
      s.write_record(h, "twelve fields", fields);
    }
    s.finish();
  }
  {
    auto& v = add("records_malformed",
                  "Record encoding: payloads that start with the record marker but do not "
                  "decode (each with the decoder's reason), between two good records.");
    scenario s(v, 4, 256, true, ext::encoding_record);
    record_header h;
    h.severity = level::info;
    h.timestamp = 1'700'000'000'000'000'000ULL;
    h.tag = "ok";
    s.write_record(h, "good before");
    std::vector<std::byte> good(128);
    const std::size_t n = encode_record(good, h, "message");
    auto variant = [&](auto mutate, std::size_t size) {
      std::vector<std::byte> bytes(good.begin(), good.begin() + n);
      mutate(bytes);
      bytes.resize(std::min(size, bytes.size()));
      s.write(bytes);
    };
    variant([](auto& b) { b[1] = std::byte{4}; }, 1000);         // unknown version (2, 3 are known)
    variant([](auto&) {}, 10);                                   // inside fixed part
    variant([](auto&) {}, 1);                                    // marker only
    variant([](auto& b) { b[2] = std::byte{6}; }, 1000);         // bad level
    variant([](auto& b) { b[16] = std::byte{200}; }, 1000);      // tag runs past end
    variant([](auto& b) { b[17] = std::byte{1}; }, 1000);        // field past end
    variant([](auto& b) { b.back() = std::byte{0xFF}; }, 1000);  // message not UTF-8
    variant([](auto& b) { b[18] = std::byte{0xC3}; }, 1000);     // tag not UTF-8
    s.write_record(h, "good after");
    s.finish();
  }
  {
    auto& v = add("records_typed",
                  "Typed fields (record version 3): i64, u64, f64 (shortest text, non-finite "
                  "too), bool and string fields; then hostile ones, each malformed with the "
                  "decoder's reason: unknown type tags, a truncated value, a key that is not "
                  "UTF-8, text that is not of its type.");
    scenario s(v, 4, 512, true, ext::encoding_record);
    record_header h;
    h.severity = level::info;
    h.timestamp = 1'700'000'000'000'000'000ULL;
    h.thread = 9;
    h.tag = "db";
    const record_field typed[] = {{"rows", "12", field_type::i64},
                                  {"min", "-9223372036854775808", field_type::i64},
                                  {"max", "18446744073709551615", field_type::u64},
                                  {"ratio", "0.1", field_type::f64},
                                  {"big", "1e+16", field_type::f64},
                                  {"tiny", "5e-324", field_type::f64},
                                  {"neg0", "-0", field_type::f64},
                                  {"ok", "true", field_type::boolean},
                                  {"id", "12"}};
    s.write_record(h, "query done", typed);
    const record_field odd[] = {{"inf", "inf", field_type::f64},
                                {"ninf", "-inf", field_type::f64},
                                {"nan", "nan", field_type::f64},
                                {"nnan", "-nan", field_type::f64},
                                {"no", "false", field_type::boolean}};
    s.write_record(h, "non-finite", odd);
    const record_field one[] = {{"key", "42", field_type::u64}};
    std::vector<std::byte> good(128);
    const std::size_t n = encode_record(good, h, "message", one);
    const std::size_t type_at = record_layout::fixed_size + h.tag.size() + 1 + 3;
    auto variant = [&](auto mutate, std::size_t size) {
      std::vector<std::byte> bytes(good.begin(), good.begin() + n);
      mutate(bytes);
      bytes.resize(std::min(size, bytes.size()));
      s.write(bytes);
    };
    variant([&](auto& b) { b[type_at] = std::byte{0}; }, 1000);         // unknown type
    variant([&](auto& b) { b[type_at] = std::byte{8}; }, 1000);         // an argument-only type
    variant([&](auto& b) { b[type_at] = std::byte{0xFF}; }, 1000);      // unknown type
    variant([&](auto&) {}, type_at + 3 + 1);                            // value cut after 1 byte
    variant([&](auto&) {}, type_at + 2);                                // value length cut
    variant([&](auto& b) { b[type_at - 3] = std::byte{0xC0}; }, 1000);  // key not UTF-8
    variant([&](auto& b) { b[type_at + 3] = std::byte{'x'}; }, 1000);   // "x2" is no u64
    variant(
        [&](auto& b) {
          b[type_at] = std::byte{1};
          b[type_at + 3] = std::byte{'0'};
        },
        1000);                                                   // "02": a leading zero
    variant([&](auto& b) { b[type_at] = std::byte{5}; }, 1000);  // "42" is no bool
    s.write_record(h, "good after", typed);
    s.finish();
  }
  {
    auto& v = add("records_deferred",
                  "Deferred records (record version 2): format strings in the extension block's "
                  "dictionary, typed arguments in the entries, mixed with text records; then "
                  "deferred records that are malformed (unknown id, bad arguments, mismatch).");
    scenario s(v, 4, 256, true, ext::encoding_record, 128);
    extension_writer dict(s.writer->extension_block());
    const std::uint32_t sent =
        *dict.append_dictionary(record_layout::dictionary_kind_format, "sent {} bytes to {}");
    const std::uint32_t floats =
        *dict.append_dictionary(record_layout::dictionary_kind_format, "{} {:.3f} {:>8} {:e}");
    const std::uint32_t other = *dict.append_dictionary(9, "sent {} bytes to {}");
    const std::uint32_t broken =
        *dict.append_dictionary(record_layout::dictionary_kind_format, "broken {");
    record_header h;
    h.severity = level::info;
    h.timestamp = 1'700'000'000'000'000'000ULL;
    h.thread = 77;
    h.tag = "net";
    auto deferred = [&](std::uint32_t id, std::vector<std::byte> args,
                        std::span<const record_field> fields = {}) {
      std::vector<std::byte> out(512);
      std::size_t n = encode_record_prefix(out, h, fields);
      out[1] = std::byte{record_layout::deferred_version};
      // The format id goes between the fixed part and the tag.
      out.insert(out.begin() + record_layout::fixed_size, 4, std::byte{0});
      for (int i = 0; i < 4; ++i)
        out[record_layout::fixed_size + i] = static_cast<std::byte>((id >> (8 * i)) & 0xFF);
      n += 4;
      out.resize(n);
      out.insert(out.end(), args.begin(), args.end());
      s.write(out);
    };
    auto args = [](const auto&... values) {
      std::vector<std::byte> out((std::size_t{0} + ... + detail::deferred_size(values)));
      std::byte* at = out.data();
      ((at = detail::put_deferred(at, values)), ...);
      return out;
    };
    deferred(sent, args(1500, std::string_view("10.1.2.3:443")));
    s.write_record(h, "a text record between deferred ones");
    h.severity = level::warn;
    deferred(floats, args(0.1, 2.0 / 3, 1e16f, -0.0));
    const record_field fields[] = {{"rows", "12"}, {"table", "users"}};
    deferred(sent, args(std::uint64_t{18446744073709551615ULL}, "\xC3\xA9t\xC3\xA9"), fields);
    h.severity = level::error;
    deferred(4000, args(1, "x"));                          // id past the dictionary
    deferred(sent + 2, args(1, "x"));                      // id not 4-aligned
    deferred(other, args(1, "x"));                         // entry of another kind
    deferred(broken, args(1));                             // format does not parse
    deferred(sent, {std::byte{0x42}});                     // unknown argument type
    deferred(sent, args(1));                               // too few arguments
    deferred(floats, args(1.0, 2.0, "s", "not a float"));  // spec mismatch ({:e} of a string)
    s.write(std::vector<std::byte>{std::byte{0x9E}, std::byte{2}, std::byte{2}});  // cut short
    h.severity = level::info;
    deferred(sent, args(2, "last"));
    s.finish();
  }
  {
    auto& v = add("ticks_uncalibrated",
                  "Record encoding, tick timestamps but the writer never published a "
                  "calibration: ticks are taken as unix nanoseconds.");
    scenario s(v, 2, 128, true, ext::encoding_record);
    record_header h;
    h.flags = record_layout::flag_ticks;
    h.timestamp = 1'700'000'000'555'000'000ULL;
    h.tag = "t";
    s.write_record(h, "identity clock");
    s.finish();
  }
  {
    auto& v = add("no_extension",
                  "Written without an extension block (as another v1 writer would): payloads "
                  "are plain bytes even when they look like records.");
    scenario s(v, 8, 128, false, ext::encoding_raw);
    std::vector<std::byte> rec(64);
    record_header h;
    h.tag = "x";
    const std::size_t n = encode_record(rec, h, "looks like a record");
    s.write(std::span<const std::byte>(rec.data(), n));
    for (std::uint64_t k = 1; k <= 30; ++k) s.write(patterned(k, patterned_size(k)));
    s.finish();
  }
  {
    auto& v = add("closed_writer",
                  "The writer shut down cleanly: the closed flag is set and the heartbeat moved.");
    scenario s(v, 2, 64, true, ext::encoding_raw);
    s.write("bye");
    extension_writer e(s.writer->extension_block());
    e.beat(fixed_start_ns + 5'000'000'000ULL);
    e.set_flags(ext::flag_closed);
    s.finish();
  }
  {
    auto& v = add("claimed_not_published",
                  "Snapshot while the writer is between claim and publish: the last entry is "
                  "uncommitted and must not be delivered.");
    scenario s(v, 4, 64, true, ext::encoding_raw);
    for (std::uint64_t k = 1; k <= 5; ++k) s.write(patterned(k, patterned_size(k)));
    std::byte* room = s.writer->claim(20);
    std::memset(room, 0x5A, 20);
    s.vec->written = s.writer->entries_written();
    s.vec->buffer = s.buffer;  // copy taken before publish()
    // Our writer leaves the claimed slot at 0; a writer that follows the format's publishing
    // order literally has stored the length with bit 31 clear by now. The snapshot shows that
    // header, the case a reader has to hold back on.
    const auto header_at = static_cast<std::size_t>(room - s.buffer.bytes().data()) - 4;
    s.vec->buffer.put_u32(header_at, 4 + 20);
    s.writer->publish();
    s.writer.reset();
  }

  // --- buffers changed after writing: gaps and corruption --------------------------------------
  auto base_plain = [&](test_vector& v, std::uint32_t chunks, std::size_t target, int entries) {
    scenario s(v, chunks, target, true, ext::encoding_raw);
    for (std::uint64_t k = 1; k <= static_cast<std::uint64_t>(entries); ++k) {
      s.write(patterned(k, patterned_size(k)));
    }
    s.finish();
    v.truth.clear();  // the mutation below invalidates some of it; the JSON is the reference
    return lay::row_position(0);
  };
  auto first_entry = [](const test_vector& v) {
    return static_cast<std::size_t>(v.buffer.get_u64(lay::row_position(0)) & lay::row_offset_mask);
  };
  {
    auto& v = add("gap_token_jump",
                  "Row 1's token is 2 more than the entries before it: a reader stepping into "
                  "it reports exactly 2 lost entries and numbers on from the row's token.");
    base_plain(v, 8, 64, 12);
    const std::size_t token_at = lay::row_position(1) + lay::row_token_word;
    v.buffer.put_u64(token_at, v.buffer.get_u64(token_at) + 2);
    for (std::uint32_t i = 2; i < 8; ++i) {
      const std::size_t at = lay::row_position(i) + lay::row_token_word;
      if (v.buffer.get_u64(lay::row_position(i)) & lay::row_committed_bit) {
        v.buffer.put_u64(at, v.buffer.get_u64(at) + 2);
      }
    }
  }
  {
    auto& v = add("corrupt_bad_magic", "The magic is wrong: not a log buffer.");
    base_plain(v, 2, 64, 3);
    v.buffer.put_u64(0, 0x1122334455667788ULL);
  }
  {
    auto& v = add("corrupt_bad_version", "Version 2: unsupported.");
    base_plain(v, 2, 64, 3);
    v.buffer.put_u32(lay::version_offset, 2);
  }
  {
    auto& v = add("corrupt_zero_chunks", "Chunk count 0: corrupt at attach.");
    base_plain(v, 2, 64, 3);
    v.buffer.put_u32(lay::chunk_count_offset, 0);
  }
  {
    auto& v = add("corrupt_table_too_large",
                  "Chunk count 0x10000000: the table cannot fit in the buffer.");
    base_plain(v, 2, 64, 3);
    v.buffer.put_u32(lay::chunk_count_offset, 0x10000000U);
  }
  {
    auto& v = add("corrupt_too_short", "A 12-byte dump: shorter than the header.");
    base_plain(v, 2, 64, 3);
    aligned_buffer cut(12);
    std::memcpy(cut.bytes().data(), v.buffer.bytes().data(), 12);
    v.buffer = cut;
  }
  {
    auto& v = add("corrupt_entry_past_end",
                  "The third entry's length runs past the buffer end: the reader reports "
                  "corrupt, skips the rest of that chunk and resumes at the next one.");
    base_plain(v, 8, 64, 12);
    std::size_t at = first_entry(v);
    for (int i = 0; i < 2; ++i) {
      std::uint32_t h;
      std::memcpy(&h, v.buffer.bytes().data() + at, 4);
      at = lay::align_up(at + (h & lay::entry_length_mask), 4);
    }
    v.buffer.put_u32(at, lay::entry_committed_bit | 0x7FFFFFF0U);
  }
  {
    auto& v =
        add("corrupt_reserved_length", "The second entry has the reserved length 2 (committed).");
    base_plain(v, 8, 64, 12);
    std::size_t at = first_entry(v);
    std::uint32_t h;
    std::memcpy(&h, v.buffer.bytes().data() + at, 4);
    at = lay::align_up(at + (h & lay::entry_length_mask), 4);
    v.buffer.put_u32(at, lay::entry_committed_bit | 2U);
  }
  {
    auto& v = add("corrupt_wrap_at_chunk0",
                  "A committed wrap marker at the very start of chunk 0: a loop, reported as "
                  "corrupt.");
    base_plain(v, 2, 64, 0);
    v.buffer.put_u32(first_entry(v), lay::entry_committed_bit | 1U);
  }
  {
    auto& v = add("corrupt_token_overflow",
                  "Row 0's token is 2^64-2: the second entry would need sequence 2^64, which is "
                  "corrupt.");
    base_plain(v, 1, 64, 3);
    v.buffer.put_u64(lay::row_position(0) + lay::row_token_word, ~std::uint64_t{0} - 1);
  }
  {
    auto& v = add("corrupt_row_out_of_range",
                  "Row 1 is committed but points past the buffer end, row 2 at a misaligned "
                  "offset: both are ignored.");
    base_plain(v, 8, 64, 12);
    v.buffer.put_u64(lay::row_position(1), lay::row_committed_bit | (v.buffer.size + 64));
    v.buffer.put_u64(lay::row_position(1) + 8, 3);
    v.buffer.put_u64(lay::row_position(2), lay::row_committed_bit | (first_entry(v) + 2));
    v.buffer.put_u64(lay::row_position(2) + 8, 4);
  }
  {
    auto& v = add("corrupt_truncated_dump",
                  "A dump cut in the middle of an entry (size not a multiple of 8).");
    base_plain(v, 8, 64, 12);
    std::size_t at = first_entry(v);
    for (int i = 0; i < 5; ++i) {
      std::uint32_t h;
      std::memcpy(&h, v.buffer.bytes().data() + at, 4);
      at = lay::align_up(at + (h & lay::entry_length_mask), 4);
    }
    aligned_buffer cut(at + 7);
    std::memcpy(cut.bytes().data(), v.buffer.bytes().data(), cut.size);
    v.buffer = cut;
  }
  {
    auto& v = add("corrupt_extension_size",
                  "The extension block's size field is not a multiple of 8: the block is "
                  "ignored, so record-looking payloads are plain bytes.");
    scenario s(v, 2, 128, true, ext::encoding_record);
    record_header h;
    h.tag = "x";
    s.write_record(h, "would be a record");
    s.finish();
    v.truth.clear();
    v.buffer.put_u32(lay::extension_block_offset(2) + ext::size_offset, 113);
  }
  {
    auto& v = add("corrupt_duplicate_rows",
                  "Rows 1..3 duplicate row 0 (same start, same token) and the chunk ends in a "
                  "wrap marker: the entry is delivered once and the reader does not loop.");
    base_plain(v, 4, 64, 0);
    const std::uint64_t word = v.buffer.get_u64(lay::row_position(0));
    for (std::uint32_t i = 1; i < 4; ++i) {
      v.buffer.put_u64(lay::row_position(i), word);
      v.buffer.put_u64(lay::row_position(i) + 8, 0);
    }
    // Entry 1 is a wrap marker after a normal entry: each wrap lands on chunk 0 again.
    const std::size_t at = first_entry(v);
    v.buffer.put_u32(at, lay::entry_committed_bit | 8U);
    v.buffer.put_u32(at + 4, 0x21212121U);
    v.buffer.put_u32(at + 8, lay::entry_committed_bit | 1U);
  }
  {
    auto& v = add("stall_foreign_writer",
                  "Chunk 0 ends with neither a wrap marker nor an advance, and row 1 continues "
                  "the sequence at a later offset (as some foreign writers do): the reader must "
                  "not stall there; it resyncs into row 1 without a loss.");
    base_plain(v, 4, 64, 0);
    const std::size_t f = first_entry(v);
    auto put_entry = [&](std::size_t at, std::uint32_t tag) {
      v.buffer.put_u32(at, lay::entry_committed_bit | 8U);
      v.buffer.put_u32(at + 4, tag);
    };
    for (std::uint32_t k = 0; k < 3; ++k) put_entry(f + 8 * k, 0x30303030U + k);
    v.buffer.put_u32(f + 24, 0);
    const std::size_t later = f + 64;
    put_entry(later, 0x34343434U);
    put_entry(later + 8, 0x35353535U);
    v.buffer.put_u32(later + 16, 0);
    v.buffer.put_u64(lay::row_position(1) + lay::row_token_word, 3);
    v.buffer.put_u64(lay::row_position(1), lay::row_committed_bit | later);
  }
  {
    auto& v = add("corrupt_row_max_token",
                  "Row 1's token is 2^64-1 (its first entry could not be numbered): the row is "
                  "unusable, so the reader reads on under row 0 and steps into row 2.");
    base_plain(v, 8, 64, 12);
    v.buffer.put_u64(lay::row_position(1) + lay::row_token_word, ~std::uint64_t{0});
  }
  // --- hostile tables (issue 10 items 3 and 8; docs/format.md "Bounded work", "Implausible
  // rows") -------------------------------------------------------------------------------------
  const auto crafted = [&](test_vector& v, std::uint32_t rows, test::crafted_entry kind) {
    const test::crafted_ring ring = test::make_crafted_ring(rows, kind);
    v.buffer = aligned_buffer(ring.size);
    std::memcpy(v.buffer.bytes().data(), ring.bytes().data(), ring.size);
  };
  {
    auto& v = add("forged_rows_corrupt_entries",
                  "64 rows, each starting a chunk whose first entry has the reserved length 2, "
                  "tokens 0..63: 64 corrupt reports and 63 gaps of 1, never a scan of the whole "
                  "table per corrupt entry (the full-size case, 65536 rows, is "
                  "tests/support/crafted_rings.hpp).");
    crafted(v, 64, test::crafted_entry::corrupt);
  }
  {
    auto& v = add("forged_rows_empty_entries",
                  "64 rows, each starting a chunk with no entry (header 0), tokens 0..63: rule 5 "
                  "moves the reader from row to row, reporting a gap of 1 each time.");
    crafted(v, 64, test::crafted_entry::empty);
  }
  {
    auto& v = add("forged_plausible_loops",
                  "48 rows at empty slots in groups of three, tokens B+g, B+g+1, B+g (B = 152): "
                  "every row is plausible, yet within one read the stall check (rule 5) sends the "
                  "reader back and forth between the two rows of a group with the same token. "
                  "Each such loop is one corrupt report (no progress), then a gap of 1 (a reader "
                  "may see the loop before the 2N + 16-pass bound, with the same result); the "
                  "full-size case is tests/support/crafted_rings.hpp.");
    const test::crafted_ring ring = test::make_plausible_loops(48);
    v.buffer = aligned_buffer(ring.size);
    std::memcpy(v.buffer.bytes().data(), ring.bytes().data(), ring.size);
  }
  {
    auto& v = add("forged_token_jump",
                  "One lap in 8 chunks; row 3's token has bit 40 set. Row 3 is implausible (its "
                  "token jumps further than its chunks could hold and lies outside its "
                  "neighbours' range): it is never entered; the reader resyncs past it and the "
                  "entries of chunk 3 count as lost, nothing is delivered twice.");
    base_plain(v, 8, 96, 24);
    const std::size_t at = lay::row_position(3) + lay::row_token_word;
    v.buffer.put_u64(at, v.buffer.get_u64(at) | (std::uint64_t{1} << 40));
  }
  {
    auto& v = add("forged_token_below_sequence",
                  "One lap in 8 chunks; row 4's token is lowered by 3 and row 0's raised to 53 "
                  "(as if it were a newer lap). Reading from row 1, the reader meets row 4's "
                  "start with a token below its sequence: corrupt, instead of numbering chunk 4's "
                  "entries twice. Rule 5 then takes it to row 0; after chunk 0 it meets row 1's "
                  "start, again below its sequence: corrupt, instead of delivering chunks 1.. a "
                  "second time.");
    base_plain(v, 8, 96, 24);
    const std::size_t at = lay::row_position(4) + lay::row_token_word;
    v.buffer.put_u64(at, v.buffer.get_u64(at) - 3);
    v.buffer.put_u64(lay::row_position(0) + lay::row_token_word, 53);
  }
  {
    auto& v = add("forged_hidden_row",
                  "One lap in 8 chunks; row 2 points past the buffer end (unusable) and row 3's "
                  "token is lowered by 2. Reading on through chunk 2, the reader reaches row 3's "
                  "start with a sequence above its token: step d applies to the next usable row "
                  "(row 3), not only to row 2, so that is corrupt.");
    base_plain(v, 8, 96, 24);
    v.buffer.put_u64(lay::row_position(2), lay::row_committed_bit | (v.buffer.size + 64));
    const std::size_t at = lay::row_position(3) + lay::row_token_word;
    v.buffer.put_u64(at, v.buffer.get_u64(at) - 2);
  }
  {
    auto& v = add("forged_row0_moved",
                  "Wrapped ring, 8 chunks; row 0's offset is moved to the start of the oldest "
                  "chunk (row 2). Row 0 is implausible (the first row must lie before the next), "
                  "and so is row 1 (a larger token than row 0's at a lower offset): the wrap "
                  "after the oldest lap does not enter row 0 although its token continues the "
                  "sequence, and the resync finds no plausible row: no data, instead of the "
                  "oldest chunk delivered a second time.");
    base_plain(v, 8, 96, 60);
    std::uint32_t oldest = 1;
    for (std::uint32_t i = 1; i < 8; ++i) {
      const std::uint64_t word = v.buffer.get_u64(lay::row_position(i));
      if ((word & lay::row_committed_bit) != 0 &&
          v.buffer.get_u64(lay::row_position(i) + 8) <
              v.buffer.get_u64(lay::row_position(oldest) + 8)) {
        oldest = i;
      }
    }
    v.buffer.put_u64(lay::row_position(0), v.buffer.get_u64(lay::row_position(oldest)));
  }
  return all;
}

// The reader must deliver exactly what the writer wrote under each sequence number, in order,
// and for a fresh-from-token-0 buffer account for every entry.
void check_against_writer(const test_vector& v) {
  if (v.truth.empty()) return;
  ring_reader reader;
  if (reader.attach(v.buffer.bytes(), start_position::oldest).status != read_status::ok) {
    throw std::runtime_error(v.name + ": attach failed");
  }
  std::uint64_t last = 0;
  for (int i = 0; i < vectors::max_reads; ++i) {
    const read_result r = reader.read_next();
    if (r.status == read_status::no_data) break;
    if (r.status != read_status::ok) {
      throw std::runtime_error(v.name + ": unexpected " + std::string(to_string(r.status)));
    }
    if (r.sequence <= last) throw std::runtime_error(v.name + ": sequence went backwards");
    last = r.sequence;
    const auto it = v.truth.find(r.sequence);
    if (it == v.truth.end() ||
        !std::equal(it->second.begin(), it->second.end(), r.payload.begin(), r.payload.end())) {
      throw std::runtime_error(v.name + ": payload of " + std::to_string(r.sequence) +
                               " differs from what was written");
    }
  }
  if (v.written && last != *v.written && v.name != "claimed_not_published") {
    throw std::runtime_error(v.name + ": the newest entry was not delivered");
  }
}

std::string vector_json(const test_vector& v) {
  std::string out = "{\n";
  out += "  \"format\": \"ouroboros-test-vector/1\",\n";
  out += "  \"name\": " + vectors::json_string(v.name) + ",\n";
  out += "  \"description\": " + vectors::json_string(v.description) + ",\n";
  out += "  \"buffer\": " + vectors::json_string(v.name + ".bin") + ",\n";
  out += "  \"size\": " + std::to_string(v.buffer.size) + ",\n";
  out += "  \"written\": " + (v.written ? std::to_string(*v.written) : std::string("null")) + ",\n";
  out += "  \"rejected\": [";
  for (std::size_t i = 0; i < v.rejected.size(); ++i) {
    out += (i ? ", " : "") + std::string("{\"size\": ") + std::to_string(v.rejected[i].size) +
           ", \"status\": " +
           vectors::json_string(v.rejected[i].status == write_status::too_large ? "too_large"
                                                                                : "empty_payload") +
           "}";
  }
  out += "],\n";
  out += "  \"extension\": " + vectors::extension_json(v.buffer.bytes()) + ",\n";
  out += "  \"reads\": " + vectors::reads_json(v.buffer.bytes()) + "\n}\n";
  return out;
}

void write_file(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

constexpr const char* usage =
    "usage: ouroboros-vector-gen OUTPUT_DIR\n"
    "Writes the shared test vectors (NAME.bin, NAME.json, index.json) into OUTPUT_DIR.\n"
    "  -h, --help  print this help and exit\n"
    "A folder whose name starts with '-' is given as ./-NAME.\n";

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << usage;
      return 0;
    }
  }
  // An option is never the output folder (`--help` once became ./--help/ full of vectors).
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') {
      std::cerr << "ouroboros-vector-gen: unknown option '" << argv[i] << "'\n" << usage;
      return 2;
    }
  }
  if (argc != 2) {
    std::cerr << usage;
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    std::string index = "[\n";
    const auto all = build();
    for (std::size_t i = 0; i < all.size(); ++i) {
      const test_vector& v = all[i];
      check_against_writer(v);
      write_file(dir / (v.name + ".bin"), v.buffer.bytes());
      const std::string json = vector_json(v);
      write_file(dir / (v.name + ".json"), std::as_bytes(std::span(json.data(), json.size())));
      index += "  " + vectors::json_string(v.name) + (i + 1 < all.size() ? ",\n" : "\n");
    }
    index += "]\n";
    write_file(dir / "index.json", std::as_bytes(std::span(index.data(), index.size())));
    const std::string deferred = vectors::deferred_render_json();
    write_file(dir / "deferred_render.json",
               std::as_bytes(std::span(deferred.data(), deferred.size())));
    std::cout << "wrote " << all.size() << " vectors to " << dir.string() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ouroboros-vector-gen: " << e.what() << "\n";
    return 1;
  }
}
