// Writes the fuzzer's seed corpus: small valid ring buffers in interesting states (fresh, a few
// entries, wrapped many times, large entries, one and many chunks, with an extension block,
// records and a dictionary), and hostile tables: rows each pointing at a corrupt or empty entry,
// plausible rows that loop within one read (issue 10 item 3; the full-size cases are in
// tests/support/crafted_rings.hpp) and forged tokens and offsets (item 8). Run:
// ouroboros-fuzz-make-corpus fuzz/corpus/ring-reader
//
// Thread-safety: a single-threaded program.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "crafted_rings.hpp"
#include "ouroboros/extension.hpp"
#include "ouroboros/layout.hpp"
#include "ouroboros/logger.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/ring_writer.hpp"

namespace {

using namespace ouroboros;

struct seed_ring {
  std::vector<std::uint64_t> words;
  std::span<std::byte> bytes;
  std::optional<ring_writer> writer;
  extension_info info;

  seed_ring(std::uint32_t chunks, std::size_t target, bool extension, std::size_t size = 0) {
    writer_config config;
    config.chunk_count = chunks;
    config.chunk_target_size = target;
    info.writer_pid = 1234;
    info.writer_start_unix_ns = 1'700'000'000'000'000'000ULL;
    info.incarnation = 0x1122334455667788ULL;
    info.payload_encoding = layout::extension_layout::encoding_record;
    info.dictionary_capacity = 32;
    if (extension) config.extension = &info;
    if (size == 0) size = required_buffer_size(config);
    words.assign((size + 7) / 8, 0);
    bytes = {reinterpret_cast<std::byte*>(words.data()), size};
    writer.emplace(bytes, config);
  }
  void text(const std::string& s) {
    (void)writer->write({reinterpret_cast<const std::byte*>(s.data()), s.size()});
  }
  void record(level severity, const std::string& tag, const std::string& message) {
    std::byte out[512];
    record_header header;
    header.severity = severity;
    header.thread = 7;
    header.timestamp = 1'700'000'000'123'456'789ULL;
    header.tag = tag;
    const record_field fields[] = {{"key", "value"}, {"n", "42"}};
    const std::size_t n = encode_record(out, header, message, fields);
    if (n > 0) (void)writer->write({out, n});
  }
  void save(const std::string& dir, const std::string& name) const {
    std::ofstream file(dir + "/" + name, std::ios::binary);
    file.write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: ouroboros-fuzz-make-corpus DIR\n";
    return 64;
  }
  const std::string dir = argv[1];
  {
    seed_ring r(4, 64, false);
    r.save(dir, "fresh");
    for (int i = 0; i < 5; ++i) r.text("entry " + std::to_string(i));
    r.save(dir, "few-entries");
    for (int i = 0; i < 60; ++i) r.text(std::string(1 + i % 40, static_cast<char>('a' + i % 26)));
    r.save(dir, "wrapped");
  }
  {
    seed_ring r(1, 128, false, 400);
    for (int i = 0; i < 30; ++i) r.text(std::string(1 + (i * 13) % 90, 'x'));
    r.save(dir, "one-chunk-odd-size");
  }
  {
    seed_ring r(16, 32, false);
    for (int i = 0; i < 50; ++i) r.text(std::string(1 + (i * 7) % 20, 'm'));
    r.save(dir, "many-chunks");
    r.text(std::string(200, 'L'));  // larger than several chunks
    r.save(dir, "large-entry");
    r.text(std::string(r.writer->max_payload_size(), 'M'));
    r.save(dir, "max-entry");
  }
  {
    // Forged rows: a token far beyond what its chunks hold, a token below the sequence at a
    // chunk start, row 0 moved to another chunk's start.
    seed_ring r(16, 32, false);
    for (int i = 0; i < 70; ++i) r.text(std::string(1 + (i * 11) % 24, 'f'));
    const auto row = [&](std::uint32_t i) { return r.bytes.data() + layout::row_position(i); };
    std::uint64_t token = 0;
    std::memcpy(&token, row(5) + 8, 8);
    token |= std::uint64_t{1} << 40;
    std::memcpy(row(5) + 8, &token, 8);
    r.save(dir, "forged-token-jump");
    std::memcpy(&token, row(9) + 8, 8);
    token -= 2;
    std::memcpy(row(9) + 8, &token, 8);
    r.save(dir, "forged-token-below");
    std::memcpy(row(0), row(12), 8);
    r.save(dir, "forged-row0-moved");
  }
  for (const auto& [kind, name, rows] :
       {std::tuple{test::crafted_entry::corrupt, "rows-at-corrupt-entries", 128u},
        std::tuple{test::crafted_entry::empty, "rows-at-empty-entries", 128u},
        std::tuple{test::crafted_entry::one_then_corrupt, "rows-one-entry-then-corrupt", 96u}}) {
    const test::crafted_ring ring = test::make_crafted_ring(rows, kind);
    std::ofstream file(dir + "/" + name, std::ios::binary);
    file.write(reinterpret_cast<const char*>(ring.bytes().data()),
               static_cast<std::streamsize>(ring.size));
  }
  {
    // Plausible rows whose groups loop within one read (docs/format.md 7.8, "Loops within one
    // call"): 63 rows, 2 032 bytes, under the fuzzer's -max_len.
    const test::crafted_ring ring = test::make_plausible_loops(63);
    std::ofstream file(dir + "/plausible-rows-in-loops", std::ios::binary);
    file.write(reinterpret_cast<const char*>(ring.bytes().data()),
               static_cast<std::streamsize>(ring.size));
  }
  {
    // Deferred records (record version 2): format strings in the dictionary, typed arguments.
    seed_ring r(4, 128, true);
    extension_writer ext(r.writer->extension_block());
    (void)ext.append_dictionary(record_layout::dictionary_kind_format, "n={} s={:>4}");
    for (int i = 0; i < 4; ++i) {
      std::vector<std::byte> p(record_layout::deferred_fixed_size);
      p[0] = std::byte{record_layout::marker};
      p[1] = std::byte{record_layout::deferred_version};
      p[2] = std::byte{2};
      p.resize(p.size() + detail::deferred_size(i) + detail::deferred_size("ab"));
      std::byte* at = detail::put_deferred(p.data() + record_layout::deferred_fixed_size, i);
      detail::put_deferred(at, "ab");
      (void)r.writer->write(p);
    }
    r.save(dir, "deferred-records");
  }
  {
    seed_ring r(4, 128, true);
    extension_writer ext(r.writer->extension_block());
    (void)ext.append_dictionary(1, "net");
    (void)ext.append_dictionary(2, "sent {} bytes");
    clock_calibration c;
    c.tick_base = 1000;
    c.wall_base_ns = 1'700'000'000'000'000'000ULL;
    c.mult = std::uint64_t{1} << 31;
    ext.publish_clock(c);
    ext.beat(1'700'000'001'000'000'000ULL);
    for (int i = 0; i < 6; ++i)
      r.record(static_cast<level>(i), "tag", "message number " + std::to_string(i));
    r.text("plain text");
    r.save(dir, "extension-records");
    for (int i = 0; i < 40; ++i) r.record(level::info, "net", std::string(10 + i * 3 % 50, 'r'));
    ext.set_flags(layout::extension_layout::flag_closed);
    r.save(dir, "extension-records-wrapped");
  }
  return 0;
}
