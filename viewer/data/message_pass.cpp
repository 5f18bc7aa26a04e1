#include "data/message_pass.hpp"

namespace ouroboros::viewer {

std::shared_ptr<const formatted_messages> format_page(const page& p) {
  auto made = std::make_shared<formatted_messages>();
  made->ends.reserve(page_capacity);
  std::string scratch;
  for (std::uint32_t i = 0; i < page_capacity; ++i) {
    const entry& row = p.rows[i];
    if (row.deferred()) made->text.append(message_text(row, scratch));
    made->ends.push_back(static_cast<std::uint32_t>(made->text.size()));
  }
  // Kept for as long as the page: no slack beyond the text itself.
  made->text.shrink_to_fit();
  return made;
}

void message_pass::enter(const page& p) {
  page_ = &p;
  formatted_ = p.formatted();
  if (formatted_ || allowance_ == 0 || !view_.full(p)) return;
  auto made = format_page(p);
  const std::uint64_t bytes = made->bytes();
  if (bytes > allowance_) {
    // No room to keep it: this pass still reads it, and makes no more.
    allowance_ = 0;
    formatted_ = std::move(made);
    return;
  }
  allowance_ -= bytes;
  formatted_ = p.keep_formatted(std::move(made));
}

std::string_view message_pass::message(std::uint64_t serial) {
  const page& p = view_.page_of(serial);
  const auto index = static_cast<std::uint32_t>(serial - p.first_serial);
  const entry& row = p.rows[index];
  if (!row.deferred()) return row.stored_message();
  if (&p != page_) enter(p);
  if (formatted_) return formatted_->message(index);
  return message_text(row, scratch_);
}

}  // namespace ouroboros::viewer
