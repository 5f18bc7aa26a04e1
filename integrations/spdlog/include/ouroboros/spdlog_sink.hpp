// An spdlog sink that publishes into an ouroboros segment: spdlog users add one sink.
//
//   auto log = std::make_shared<ouroboros::logger>("my-app");
//   auto sink = std::make_shared<ouroboros::spdlog_sink>(log);
//   spdlog::default_logger()->sinks().push_back(sink);
//
// spdlog levels map to ours (err -> error, off is never written); the tag is the spdlog logger's
// name, or a fixed tag when one is given; spdlog's own timestamp and thread id are kept (so an
// asynchronous spdlog logger still records the calling thread); a source location, when spdlog
// has one, becomes the fields file and line. spdlog's pattern formatter is not used: the record
// keeps the message and its parts separately, and readers lay them out.
//
// Thread-safety: thread-safe. ouroboros::logger serialises producers itself, so the sink uses
// spdlog's null mutex and adds no lock of its own.
#pragma once

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "ouroboros/logger.hpp"

namespace ouroboros {

inline level from_spdlog(spdlog::level::level_enum value) noexcept {
  switch (value) {
    case spdlog::level::trace: return level::trace;
    case spdlog::level::debug: return level::debug;
    case spdlog::level::info: return level::info;
    case spdlog::level::warn: return level::warn;
    case spdlog::level::err: return level::error;
    case spdlog::level::critical: return level::critical;
    default: return level::critical;
  }
}

class spdlog_sink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  // `fixed_tag` empty: the spdlog logger's name is the tag.
  explicit spdlog_sink(std::shared_ptr<logger> target, std::string fixed_tag = {})
      : target_(std::move(target)), tag_(std::move(fixed_tag)) {}

  logger& target() const noexcept { return *target_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level == spdlog::level::off) return;
    const std::string_view tag =
        tag_.empty() ? std::string_view(msg.logger_name.data(), msg.logger_name.size())
                     : std::string_view(tag_);
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const auto since_epoch = msg.time.time_since_epoch();
    const auto unix_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
    const auto thread = static_cast<std::uint32_t>(msg.thread_id);
    if (msg.source.empty()) {
      target_->write_at(unix_ns, thread, from_spdlog(msg.level), tag, text);
    } else {
      std::string_view file = msg.source.filename;
      if (const auto slash = file.find_last_of('/'); slash != std::string_view::npos)
        file.remove_prefix(slash + 1);
      const field fields[] = {{"file", file}, {"line", msg.source.line}};
      target_->write_at(unix_ns, thread, from_spdlog(msg.level), tag, text, fields);
    }
  }
  void flush_() override {}  // records are visible to readers as soon as they are written

 private:
  std::shared_ptr<logger> target_;
  std::string tag_;
};

}  // namespace ouroboros
