// libFuzzer target: a ring_reader configured on arbitrary bytes reads to the end (a bounded
// number of calls, in every start mode, re-attaching the same reader), and every payload,
// the extension block and its dictionary are decoded, and every payload goes through the entry
// interpreter (deferred records are formatted from the dictionary). Besides crashes and sanitizer
// reports, it traps when the reader breaks its own guarantees: sequence numbers that do not go up
// by exactly one plus the reported loss, accounting that drifts, payloads outside the buffer, or a
// newest token other than the newest start.
//
// Thread-safety: libFuzzer calls it from one thread.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "ouroboros/extension.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/record_reader.hpp"
#include "ouroboros/ring_reader.hpp"

namespace {

using namespace ouroboros;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

std::size_t decode_payload(std::span<const std::byte> payload) {
  const decode_result decoded = decode_record(payload);
  std::size_t touched = 0;
  if (decoded.status == decode_status::ok) {
    const record_view& r = decoded.record;
    touched += r.tag.size() + r.message.size();
    for (std::size_t i = 0; i < r.field_count; ++i) {
      const record_field f = r.field(i);
      touched += f.key.size() + f.value.size();
    }
    check(is_valid_utf8(r.message));
  }
  return touched;
}

void decode_extension(std::span<const std::byte> buffer) {
  if (const auto ext = read_extension(buffer)) {
    check(ext->dictionary_offset + ext->dictionary_capacity <= buffer.size());
    for (std::uint32_t id = 0; id < 64; id += 4) {
      if (const auto entry = read_dictionary_entry(buffer, id)) {
        const auto* begin = reinterpret_cast<const std::byte*>(entry->bytes.data());
        check(begin >= buffer.data() &&
              begin + entry->bytes.size() <= buffer.data() + buffer.size());
      }
    }
  }
  (void)read_heartbeat(buffer);
  if (const auto clock = read_clock(buffer)) (void)clock->to_unix_ns(0x123456789ULL);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Rings need 8-byte alignment: copy into words.
  std::vector<std::uint64_t> words(size / 8 + 1);
  if (size > 0) std::memcpy(words.data(), data, size);
  const std::span<const std::byte> buffer(reinterpret_cast<const std::byte*>(words.data()), size);

  decode_extension(buffer);

  ring_reader reader;
  entry_interpreter interpreter(buffer);
  interpreter.force_records(true);
  for (const auto mode : {start_position::oldest, start_position::newest, start_position::now}) {
    const read_result attached = reader.attach(buffer, mode);
    if (attached.status != read_status::ok) {
      check(!attached.detail.empty());
      check(reader.read_next().status != read_status::ok);
      continue;
    }
    // The bytes do not change: the newest token is the newest start (docs/format.md 7.7).
    if (mode == start_position::newest) {
      check(reader.newest_chunk_token() ==
            (reader.start_deferred() ? 0 : reader.position_sequence()));
    } else {
      (void)reader.newest_chunk_token();
    }
    const std::uint64_t start = reader.position_sequence();
    for (int call = 0; call < 4096; ++call) {
      const std::uint64_t before = reader.position_sequence();
      const read_result r = reader.read_next();
      if (r.status == read_status::no_data) break;
      if (r.status == read_status::ok) {
        check(r.sequence == before + 1);
        check(r.payload.size() <= size);
        decode_payload(r.payload);
        const entry_view view = interpreter.interpret(r.payload);
        if (view.kind == entry_kind::record) check(is_valid_utf8(view.message));
        if (view.kind == entry_kind::malformed) check(!view.error().empty());
      } else if (r.status == read_status::lapped) {
        check(r.lost > 0);
        check(reader.position_sequence() == before + r.lost);
      } else {
        check(r.status == read_status::corrupt);
        check(!r.detail.empty());
      }
      check(reader.position_sequence() ==
            start + reader.entries_delivered() + reader.entries_lost());
    }
  }
  return 0;
}
