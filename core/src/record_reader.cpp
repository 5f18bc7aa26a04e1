#include "ouroboros/record_reader.hpp"

#include "ouroboros/detail/shared_words.hpp"
#include "ouroboros/layout.hpp"

namespace ouroboros {

namespace {
constexpr std::size_t initial_render_buffer = 512;  // most messages: the first render fits

std::string_view as_text(std::span<const std::byte> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
}  // namespace

std::string_view to_string(entry_kind kind) noexcept {
  switch (kind) {
    case entry_kind::record: return "record";
    case entry_kind::plain: return "plain";
    case entry_kind::malformed: return "malformed";
  }
  return "unknown";
}

void entry_interpreter::attach(std::span<const std::byte> segment) noexcept {
  segment_ = segment;
  const auto ext = read_extension(segment);
  has_block_ = ext.has_value();
  records_ = ext && ext->payload_encoding == layout::extension_layout::encoding_record;
  clock_seq_ = ~std::uint64_t{0};
  clock_ = clock_calibration{};
  formats_.clear();
}

// Inlined into render() and interpret(): a cached format is two loads; parsing is out of line.
#if defined(__GNUC__)
[[gnu::always_inline]]
#endif
inline entry_interpreter::cached_format*
entry_interpreter::find_format(std::uint32_t id, decode_status& status) noexcept {
  // Ids are 4-aligned offsets; the cache is indexed by id / 4, so an unaligned id must be turned
  // away here or it would find its aligned neighbour's format.
  const std::size_t slot = id / 4;
  if (id % 4 == 0 && slot < formats_.size() && formats_[slot] != nullptr) [[likely]] {
    status = decode_status::ok;
    return formats_[slot].get();
  }
  return load_format(id, status);
}

entry_interpreter::cached_format* entry_interpreter::load_format(std::uint32_t id,
                                                                 decode_status& status) noexcept {
  status = decode_status::unknown_format;
  if (id % 4 != 0) return nullptr;
  const std::size_t slot = id / 4;
  // Dictionary entries never change once published, so a parsed format stays valid for the
  // whole segment; an id not (yet) in the dictionary is looked up again next time.
  const auto entry = read_dictionary_entry(segment_, id);
  if (!entry || entry->kind != record_layout::dictionary_kind_format) return nullptr;
  try {
    if (slot >= formats_.size()) formats_.resize(slot + 1);
    formats_[slot] = std::make_unique<cached_format>(cached_format{
        std::make_shared<const deferred_format>(parse_deferred_format(entry->bytes)), {}});
  } catch (...) {
    return nullptr;  // out of memory: nothing better to report
  }
  status = decode_status::ok;
  return formats_[slot].get();
}

std::shared_ptr<const deferred_format> entry_interpreter::format_owner(
    std::uint32_t id) const noexcept {
  const std::size_t slot = id / 4;
  if (id % 4 != 0 || slot >= formats_.size() || formats_[slot] == nullptr) return nullptr;
  return formats_[slot]->format;
}

decode_status entry_interpreter::render(const record_view& record) noexcept {
  decode_status found = decode_status::ok;
  cached_format* const cached_at = find_format(record.format_id, found);
  if (cached_at == nullptr) return found;
  cached_format& cached = *cached_at;
  rendered_size_ = 0;
  try {
    if (rendered_.size() < initial_render_buffer) rendered_.resize(initial_render_buffer);
    format_sink sink(rendered_.data(), rendered_.size());
    const decode_status status =
        render_deferred(*cached.format, record.arguments, sink, &cached.memo);
    if (status != decode_status::ok) return status;
    if (sink.overflowed()) [[unlikely]] {
      const std::size_t wanted = sink.wanted();
      rendered_.resize(wanted);
      sink = format_sink(rendered_.data(), wanted);
      render_deferred(*cached.format, record.arguments, sink, &cached.memo);
    }
    rendered_size_ = sink.size();
    return decode_status::ok;
  } catch (...) {
    return decode_status::bad_arguments;  // out of memory for a huge message
  }
}

std::uint64_t entry_interpreter::to_unix_ns(std::uint64_t ticks) noexcept {
  if (has_block_) {
    // One load per entry tells whether the writer re-calibrated since the last look; only then
    // is the whole calibration re-read (a seqlock read in read_clock).
    const auto count =
        detail::load_shared<std::uint32_t>(segment_.data(), layout::chunk_count_offset);
    const std::size_t seq_at =
        layout::extension_block_offset(count) + layout::extension_layout::clock_seq_offset;
    const auto seq = detail::load_shared<std::uint64_t>(segment_.data(), seq_at);
    if (seq != clock_seq_) {
      if (const auto fresh = read_clock(segment_)) {
        clock_ = *fresh;
        clock_seq_ = seq;
      }
    }
  }
  return clock_.to_unix_ns(ticks);
}

entry_view entry_interpreter::interpret(std::span<const std::byte> payload,
                                        deferred_rendering mode) noexcept {
  entry_view view;
  view.message = as_text(payload);
  if (!records_) return view;
  const decode_result decoded = decode_record(payload);
  view.status = decoded.status;
  if (decoded.status == decode_status::not_a_record) return view;  // plain bytes in a record log
  if (decoded.status != decode_status::ok) {
    view.kind = entry_kind::malformed;
    return view;
  }
  const record_view& r = decoded.record;
  if (r.deferred) {
    decode_status verdict = decode_status::ok;
    if (mode == deferred_rendering::eager) {
      verdict = render(r);
    } else if (cached_format* cached = find_format(r.format_id, verdict)) {
      verdict = check_deferred(*cached->format, r.arguments, &cached->memo);
      if (verdict == decode_status::ok) view.format = cached->format.get();
    }
    if (verdict != decode_status::ok) {
      view.status = verdict;
      view.kind = entry_kind::malformed;
      return view;
    }
  }
  view.kind = entry_kind::record;
  view.record = r;
  view.severity = r.severity;
  view.thread = r.thread;
  view.truncated = r.truncated();
  view.tag = r.tag;
  if (!r.deferred)
    view.message = r.message;
  else
    view.message = view.format != nullptr ? std::string_view()
                                          : std::string_view(rendered_.data(), rendered_size_);
  view.unix_ns = r.timestamp_in_ticks() ? to_unix_ns(r.timestamp) : r.timestamp;
  return view;
}

log_entry entry_interpreter::to_owned(std::span<const std::byte> payload, std::uint64_t sequence) {
  const entry_view view = interpret(payload);
  log_entry entry;
  entry.sequence = sequence;
  entry.kind = view.kind;
  entry.severity = view.severity;
  entry.unix_ns = view.unix_ns;
  entry.thread = view.thread;
  entry.truncated = view.truncated;
  entry.tag = std::string(view.tag);
  entry.message = std::string(view.message);
  entry.error = std::string(view.error());
  if (view.kind == entry_kind::record) {
    entry.fields.reserve(view.record.field_count);
    entry.field_types.reserve(view.record.field_count);
    for (std::size_t i = 0; i < view.record.field_count; ++i) {
      const record_field f = view.record.field(i);
      entry.fields.emplace_back(std::string(f.key), std::string(f.value));
      entry.field_types.push_back(f.type);
    }
  }
  return entry;
}

std::string printable(std::string_view bytes) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      const bool control = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F;
      if (control)
        out += replacement;
      else
        out += static_cast<char>(c);
      ++i;
      continue;
    }
    // Longest valid sequence starting here (1..4 bytes), judged by the strict validator.
    std::size_t length = (c & 0xE0) == 0xC0   ? 2
                         : (c & 0xF0) == 0xE0 ? 3
                         : (c & 0xF8) == 0xF0 ? 4
                                              : 0;
    if (length != 0 && i + length <= bytes.size() && is_valid_utf8(bytes.substr(i, length))) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out += replacement;
      ++i;
    }
  }
  return out;
}

}  // namespace ouroboros
