// ouroboros-test-writer: writes self-checking entries into a named segment as fast as it can (or
// at a set rate), for the Python and Go live tests and the reader benchmarks.
//
// Raw payloads: u64 sequence number (LE), u32 FNV-1a checksum of every other byte (LE), then
// filler bytes ((seq + i) & 0xFF at payload index i). Sizes vary with the sequence number between
// --min-size and --max-size. With --records each entry is a log record whose message is
// "entry SEQ" with a field seq=SEQ instead.
//
// Usage: ouroboros-test-writer NAME [--chunks N] [--chunk-size BYTES] [--count N] [--seconds S]
//        [--rate ENTRIES_PER_S] [--min-size B] [--max-size B] [--records] [--wait-stdin] [--keep]
// Prints "written N" when done.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "ouroboros/record.hpp"
#include "ouroboros/segment.hpp"

namespace {

std::uint32_t fnv1a(const std::byte* data, std::size_t size, std::uint32_t hash = 2166136261U) {
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= std::to_integer<std::uint32_t>(data[i]);
    hash *= 16777619U;
  }
  return hash;
}

struct options {
  std::string name;
  std::uint32_t chunks = 8;
  std::size_t chunk_size = 4096;
  std::uint64_t count = 0;  // 0 = until --seconds elapse
  double seconds = 0;
  double rate = 0;  // 0 = unthrottled
  std::size_t min_size = 12;
  std::size_t max_size = 200;
  bool records = false;
  bool wait_stdin = false;
  bool keep = false;
};

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    try {
      if (a == "--chunks")
        o.chunks = static_cast<std::uint32_t>(std::stoul(next()));
      else if (a == "--chunk-size")
        o.chunk_size = std::stoul(next());
      else if (a == "--count")
        o.count = std::stoull(next());
      else if (a == "--seconds")
        o.seconds = std::stod(next());
      else if (a == "--rate")
        o.rate = std::stod(next());
      else if (a == "--min-size")
        o.min_size = std::stoul(next());
      else if (a == "--max-size")
        o.max_size = std::stoul(next());
      else if (a == "--records")
        o.records = true;
      else if (a == "--wait-stdin")
        o.wait_stdin = true;
      else if (a == "--keep")
        o.keep = true;
      else if (!a.empty() && a[0] != '-' && o.name.empty())
        o.name = a;
      else
        return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  return !o.name.empty() && o.min_size >= 12 && o.max_size >= o.min_size &&
         (o.count > 0 || o.seconds > 0);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) {
    std::cerr << "usage: ouroboros-test-writer NAME (--count N | --seconds S) [--chunks N] "
                 "[--chunk-size B] [--rate R] [--min-size B>=12] [--max-size B] [--records] "
                 "[--wait-stdin] [--keep]\n";
    return 2;
  }
  try {
    ouroboros::shm_writer_options wo;
    wo.chunk_count = o.chunks;
    wo.chunk_target_size = o.chunk_size;
    wo.keep_on_close = o.keep;
    wo.payload_encoding = o.records ? ouroboros::layout::extension_layout::encoding_record
                                    : ouroboros::layout::extension_layout::encoding_raw;
    ouroboros::shm_writer writer(o.name, wo);
    std::cout << "ready " << writer.name() << std::endl;
    if (o.wait_stdin) {
      std::string line;
      std::getline(std::cin, line);
    }
    const std::size_t max_size = std::min(o.max_size, writer.ring().max_payload_size());
    std::vector<std::byte> payload(std::max<std::size_t>(max_size, 512));
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                        std::chrono::duration<double>(o.seconds));
    std::uint64_t seq = 0;
    for (;;) {
      if (o.count > 0 && seq >= o.count) break;
      if ((seq & 1023) == 0) {
        const auto now = std::chrono::steady_clock::now();
        if (o.seconds > 0 && now >= deadline) break;
        writer.heartbeat();
      }
      if (o.rate > 0) {
        const auto due = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(seq / o.rate));
        if (std::chrono::steady_clock::now() < due) std::this_thread::sleep_until(due);
      }
      ++seq;
      std::size_t size = 0;
      if (o.records) {
        const std::string message = "entry " + std::to_string(seq);
        const std::string value = std::to_string(seq);
        const ouroboros::record_field fields[] = {{"seq", value}};
        ouroboros::record_header h;
        h.severity = static_cast<ouroboros::level>(seq % 6);
        h.thread = 1;
        h.timestamp =
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
        h.tag = "live";
        size = ouroboros::encode_record(payload, h, message, fields);
      } else {
        size = o.min_size + (seq * 2654435761ULL) % (max_size - o.min_size + 1);
        for (std::size_t i = 12; i < size; ++i) {
          payload[i] = static_cast<std::byte>((seq + i) & 0xFF);
        }
        std::memcpy(payload.data(), &seq, 8);  // little-endian machines only (x86-64, aarch64)
        const std::uint32_t sum = fnv1a(payload.data() + 12, size - 12, fnv1a(payload.data(), 8));
        std::memcpy(payload.data() + 8, &sum, 4);
      }
      if (writer.write(std::span<const std::byte>(payload.data(), size)) !=
          ouroboros::write_status::ok) {
        std::cerr << "ouroboros-test-writer: write of " << size << " bytes refused\n";
        return 1;
      }
    }
    writer.close();
    std::cout << "written " << seq << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ouroboros-test-writer: " << e.what() << "\n";
    return 1;
  }
}
