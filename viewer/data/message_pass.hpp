// Messages of stored rows for one pass over the history (a re-filter, a search).
//
// A deferred row is kept unformatted, so every pass that reads messages would format it again.
// A pass formats a full page's deferred rows at once and leaves the text with the page, as long
// as its allowance (the history's spare byte budget, entry_store::formatted_allowance) lasts;
// the next pass reads that text. Other rows' messages are read where they are stored.
//
// Thread-safety: not thread-safe (one per pass); passes on different threads may share pages.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "data/entry_store.hpp"

namespace ouroboros::viewer {

class message_pass {
 public:
  // `view` must outlive the pass.
  message_pass(const store_view& view, std::uint64_t allowance) noexcept
      : view_(view), allowance_(allowance) {}

  // The message of a contained row; valid until the next call.
  std::string_view message(std::uint64_t serial);

 private:
  void enter(const page& p);

  const store_view& view_;
  std::uint64_t allowance_;
  const page* page_ = nullptr;
  std::shared_ptr<const formatted_messages> formatted_;
  std::string scratch_;
};

// The messages of a page's deferred rows, formatted (other rows' slots are empty).
std::shared_ptr<const formatted_messages> format_page(const page& p);

}  // namespace ouroboros::viewer
