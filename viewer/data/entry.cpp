#include "data/entry.hpp"

#include <cstring>

#include "ouroboros/deferred.hpp"

namespace ouroboros::viewer {

namespace {
// A deferred row's parsed format: the address its text starts with.
const deferred_format& format_of(const entry& row) noexcept {
  const deferred_format* format = nullptr;
  std::memcpy(&format, row.text, sizeof format);
  return *format;
}
}  // namespace

std::string_view message_text(const entry& row, std::string& scratch) {
  if (!row.deferred()) return row.stored_message();
  const deferred_format& format = format_of(row);
  const auto* args = reinterpret_cast<const std::byte*>(row.text + deferred_prefix);
  scratch.clear();
  // The poller checked the record on arrival (check_deferred), so this cannot fail; the text
  // says so if it ever did rather than showing nothing.
  if (render_deferred(format, {args, row.message_size - deferred_prefix}, scratch) !=
      decode_status::ok)
    scratch = "(deferred record could not be formatted)";
  return scratch;
}

std::string_view deferred_format_text(const entry& row) {
  if (!row.deferred()) return {};
  return format_of(row).text;
}

std::vector<field_pair> decode_fields(std::string_view extra) {
  std::vector<field_pair> fields;
  std::size_t at = 0;
  while (at < extra.size()) {
    const std::size_t key_size = static_cast<unsigned char>(extra[at]);
    if (at + 1 + key_size + 2 > extra.size()) break;
    const std::string_view key = extra.substr(at + 1, key_size);
    at += 1 + key_size;
    const std::size_t value_size =
        static_cast<unsigned char>(extra[at]) |
        (static_cast<std::size_t>(static_cast<unsigned char>(extra[at + 1])) << 8);
    at += 2;
    if (at + value_size > extra.size()) break;
    fields.push_back({key, extra.substr(at, value_size)});
    at += value_size;
  }
  return fields;
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  // The record decoder already bounds keys to 255 bytes and values to 65535.
  if (key.size() > 255) key = key.substr(0, 255);
  if (value.size() > 65535) value = value.substr(0, 65535);
  out.push_back(static_cast<char>(key.size()));
  out.append(key);
  out.push_back(static_cast<char>(value.size() & 0xFF));
  out.push_back(static_cast<char>(value.size() >> 8));
  out.append(value);
}

tag_table::tag_table() {
  auto* first = new block;
  (*first)[0] = "";
  blocks_[0].store(first, std::memory_order_relaxed);
  auto* last = blocks_[overflow_id / block_size].load(std::memory_order_relaxed);
  if (last == nullptr) {
    last = new block;
    blocks_[overflow_id / block_size].store(last, std::memory_order_relaxed);
  }
  (*last)[overflow_id % block_size] = "(other tags)";
}

tag_table::~tag_table() {
  for (auto& b : blocks_) delete b.load(std::memory_order_relaxed);
}

std::uint16_t tag_table::intern(std::string_view tag) {
  if (tag.empty()) return 0;
  // Consecutive entries often share a tag.
  if (last_id_ != 0 && tag == last_) return last_id_;
  if (auto found = lookup_.find(tag); found != lookup_.end()) {
    last_.assign(tag);
    last_id_ = found->second;
    return last_id_;
  }
  const std::uint32_t id = count_.load(std::memory_order_relaxed);
  if (id >= max_tags) return overflow_id;
  block* b = blocks_[id / block_size].load(std::memory_order_relaxed);
  if (b == nullptr) {
    b = new block;
    blocks_[id / block_size].store(b, std::memory_order_release);
  }
  (*b)[id % block_size] = std::string(tag);
  lookup_.emplace(std::string(tag), static_cast<std::uint16_t>(id));
  count_.store(id + 1, std::memory_order_release);  // publishes the string
  return static_cast<std::uint16_t>(id);
}

std::string_view tag_table::name(std::uint16_t id) const noexcept {
  if (id != overflow_id && id >= count_.load(std::memory_order_acquire)) return {};
  const block* b = blocks_[id / block_size].load(std::memory_order_acquire);
  return b ? std::string_view((*b)[id % block_size]) : std::string_view{};
}

}  // namespace ouroboros::viewer
