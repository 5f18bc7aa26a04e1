// The forged-table campaign (issue 10 item 8): rings written by the real ring_writer in many
// shapes (chunk counts, chunk sizes, payload sizes including entries large enough to wrap early,
// one to several laps), then their chunk table corrupted at random (bit flips in tokens and
// offset words, random words, rows copied over others), then read by a fresh ring_reader until
// "no data". Every payload carries the sequence number it was written with and content derived
// from it, so the campaign sees exactly what the reader did wrong:
//   duplicate   - a genuine payload delivered a second time (under a new sequence number);
//   backwards   - a sequence number not greater than the previous one;
//   misnumbered - a genuine payload delivered under a sequence number it was not written with.
// A trial is "bad" when it has a duplicate or goes backwards: that is the rate the issue
// measures (7.5 % before the plausibility rules; the bar is 0.25 %).
//
// Thread-safety: plain functions; each call owns its buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "ouroboros/layout.hpp"
#include "ouroboros/ring_reader.hpp"
#include "ouroboros/ring_writer.hpp"
#include "ring_bytes.hpp"
#include "test_support.hpp"

namespace ouroboros::test::campaign {

struct totals {
  std::uint64_t trials = 0;
  std::uint64_t bad = 0;  // duplicate or backwards
  std::uint64_t duplicate = 0;
  std::uint64_t backwards = 0;
  std::uint64_t misnumbered = 0;
  std::uint64_t delivered = 0;  // genuine payloads delivered, all trials
  std::uint64_t rows_rejected = 0;
  double rate() const { return trials == 0 ? 0.0 : static_cast<double>(bad) / trials; }
};

// A written ring and what was written into it.
struct written_ring {
  std::vector<std::uint64_t> words;
  std::size_t size = 0;
  std::uint32_t chunk_count = 0;
  std::vector<std::uint32_t> sizes;  // payload size of sequence number i (index 0 unused)
  std::span<std::byte> bytes() { return {reinterpret_cast<std::byte*>(words.data()), size}; }
};

inline void payload_for(std::uint64_t seq, std::size_t size, std::vector<std::byte>& out) {
  out.resize(size);
  std::uint64_t state = mix64(seq);
  for (std::size_t i = 8; i < size; ++i) {
    if ((i & 7) == 0) state = mix64(state + i);
    out[i] = static_cast<std::byte>((state >> ((i & 7) * 8)) & 0xFF);
  }
  std::memcpy(out.data(), &seq, 8);
}

// The sequence number a payload was written with, or 0 if it is not a genuine payload.
inline std::uint64_t genuine_sequence(const written_ring& ring, std::span<const std::byte> payload,
                                      std::vector<std::byte>& scratch) {
  if (payload.size() < 8) return 0;
  std::uint64_t seq = 0;
  std::memcpy(&seq, payload.data(), 8);
  if (seq == 0 || seq >= ring.sizes.size() || ring.sizes[seq] != payload.size()) return 0;
  payload_for(seq, payload.size(), scratch);
  return std::memcmp(scratch.data(), payload.data(), payload.size()) == 0 ? seq : 0;
}

// A ring in one of many shapes, written by the real writer.
inline written_ring write_ring(std::mt19937_64& rng) {
  static constexpr std::uint32_t counts[] = {1, 2, 3, 4, 5, 8, 16, 32, 64};
  static constexpr std::size_t targets[] = {64, 128, 256, 1024, 4096};
  written_ring ring;
  writer_config config;
  config.chunk_count = counts[rng() % std::size(counts)];
  config.chunk_target_size = targets[rng() % std::size(targets)];
  while (config.chunk_count * config.chunk_target_size > 128 * 1024) config.chunk_target_size /= 2;
  extension_info info;
  info.incarnation = 1;
  if (rng() % 2 == 0) config.extension = &info;
  ring.size = required_buffer_size(config);
  ring.words.assign((ring.size + 7) / 8, 0);
  ring.chunk_count = config.chunk_count;
  ring_writer writer(ring.bytes(), config);
  const std::size_t data = ring.size - writer.first_entry_offset();
  const int shape = static_cast<int>(rng() % 4);
  const auto payload_size = [&]() -> std::size_t {
    std::size_t s = 8;
    switch (shape) {
      case 0: s = 8 + rng() % 9; break;    // small, nearly fixed
      case 1: s = 8 + rng() % 200; break;  // mixed
      case 2:                              // mostly small, some large: early wraps
        s = rng() % 16 == 0 ? 8 + rng() % (data / 2) : 8 + rng() % 64;
        break;
      default: s = 8 + rng() % (config.chunk_target_size * 2); break;  // around a chunk
    }
    return std::min(s, writer.max_payload_size());
  };
  // From a fraction of a lap to several laps.
  const std::size_t budget = data * (1 + rng() % 6) / (1 + rng() % 2);
  ring.sizes.push_back(0);
  std::vector<std::byte> payload;
  for (std::size_t bytes = 0; bytes < budget;) {
    const std::size_t size = payload_size();
    payload_for(ring.sizes.size(), size, payload);
    if (writer.write(payload) != write_status::ok) break;
    ring.sizes.push_back(static_cast<std::uint32_t>(size));
    bytes += size + 4;
  }
  return ring;
}

// How the table is corrupted: `targeted` hits mostly committed rows with bit flips, random
// tokens and offsets and copied rows; `uniform` flips a bit or writes a random word anywhere in
// the table (most such hits land in unused rows and change nothing a reader sees).
enum class corruption { targeted, uniform };

inline void corrupt_table_uniformly(written_ring& ring, std::mt19937_64& rng) {
  const std::span<std::byte> b = ring.bytes();
  const std::size_t words = 2 * static_cast<std::size_t>(ring.chunk_count);
  const int mutations = 1 + static_cast<int>(rng() % 3);
  for (int m = 0; m < mutations; ++m) {
    const std::size_t at = layout::table_offset + 8 * (rng() % words);
    if (rng() % 2 == 0) {
      put_u64(b, at, get_u64(b, at) ^ (1ULL << (rng() % 64)));
    } else {
      put_u64(b, at, rng());
    }
  }
}

// Corrupts 1 to 3 words of the chunk table.
inline void corrupt_table(written_ring& ring, std::mt19937_64& rng) {
  const std::span<std::byte> b = ring.bytes();
  const std::uint32_t n = ring.chunk_count;
  std::vector<std::uint32_t> committed;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (get_row(b, i).committed) committed.push_back(i);
  }
  const int mutations = 1 + static_cast<int>(rng() % 3);
  for (int m = 0; m < mutations; ++m) {
    // Mostly rows that mean something (a flip in an unused row changes nothing).
    const std::uint32_t row = committed.empty() || rng() % 5 == 0
                                  ? static_cast<std::uint32_t>(rng() % n)
                                  : committed[rng() % committed.size()];
    const std::size_t at = layout::row_position(row);
    const std::uint64_t offset_word = get_u64(b, at);
    const std::uint64_t token = get_u64(b, at + 8);
    const unsigned kind = static_cast<unsigned>(rng() % 10);
    if (kind < 4) {  // flip a token bit
      put_u64(b, at + 8, token ^ (1ULL << (rng() % 64)));
    } else if (kind < 7) {  // flip an offset word bit
      put_u64(b, at, offset_word ^ (1ULL << (rng() % 64)));
    } else if (kind == 7) {  // a random token, near or far
      const std::uint64_t value = rng() % 2 == 0 ? rng() : token + (rng() % 64) - 32;
      put_u64(b, at + 8, value);
    } else if (kind == 8) {  // a committed random 4-aligned offset inside the buffer
      const std::uint64_t offset = (rng() % (ring.size / 4)) * 4;
      put_u64(b, at, offset | layout::row_committed_bit);
    } else {  // another row copied over this one
      const std::size_t from = layout::row_position(static_cast<std::uint32_t>(rng() % n));
      put_u64(b, at, get_u64(b, from));
      put_u64(b, at + 8, get_u64(b, from + 8));
    }
  }
}

struct trial_outcome {
  bool duplicate = false;
  bool backwards = false;
  bool misnumbered = false;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
};

inline trial_outcome read_all(written_ring& ring, start_position start,
                              std::uint64_t* rows_rejected = nullptr) {
  trial_outcome out;
  ring_reader reader;
  if (reader.attach(ring.bytes(), start).status != read_status::ok) return out;
  std::unordered_set<std::uint64_t> seen;
  std::vector<std::byte> scratch;
  std::uint64_t last = 0;
  bool any = false;
  const std::uint64_t max_calls = 4 * ring.sizes.size() + 16 * ring.chunk_count + 256;
  for (std::uint64_t call = 0; call < max_calls; ++call) {
    const read_result r = reader.read_next();
    if (r.status == read_status::no_data) break;
    if (r.status == read_status::lapped) out.lost += r.lost;
    if (r.status != read_status::ok) continue;
    if (any && r.sequence <= last) out.backwards = true;
    any = true;
    last = r.sequence;
    const std::uint64_t seq = genuine_sequence(ring, r.payload, scratch);
    if (seq == 0) continue;
    ++out.delivered;
    if (!seen.insert(seq).second) out.duplicate = true;
    if (seq != r.sequence) out.misnumbered = true;
  }
  if (rows_rejected != nullptr) *rows_rejected += reader.rows_rejected();
  return out;
}

// `trials` corrupted rings from `seed`, each read from `start`.
inline totals run(std::uint64_t seed, std::uint64_t trials, start_position start,
                  corruption how = corruption::targeted) {
  totals t;
  std::mt19937_64 rng(seed);
  for (std::uint64_t i = 0; i < trials; ++i) {
    written_ring ring = write_ring(rng);
    if (how == corruption::targeted) {
      corrupt_table(ring, rng);
    } else {
      corrupt_table_uniformly(ring, rng);
    }
    const trial_outcome o = read_all(ring, start, &t.rows_rejected);
    ++t.trials;
    t.duplicate += o.duplicate;
    t.backwards += o.backwards;
    t.misnumbered += o.misnumbered;
    t.bad += o.duplicate || o.backwards;
    t.delivered += o.delivered;
  }
  return t;
}

}  // namespace ouroboros::test::campaign
