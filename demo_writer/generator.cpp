#include "generator.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "ouroboros/logger.hpp"

namespace ouroboros::demo {

namespace {
constexpr std::array<std::string_view, 8> paths = {
    "/api/v1/users",  "/api/v1/orders", "/api/v2/search", "/health",
    "/static/app.js", "/api/v1/cart",   "/login",         "/api/v1/payments"};
constexpr std::array<std::string_view, 5> methods = {"GET", "GET", "GET", "POST", "PUT"};
constexpr std::array<std::string_view, 6> peers = {"10.0.3.17", "10.0.3.42", "db-primary",
                                                   "cache-01",  "10.0.7.5",  "auth.internal"};
// An error's text and the errno a real system call reports with it.
struct os_error {
  std::string_view text;
  int number;
};
constexpr std::array<os_error, 5> errors = {{{"connection reset by peer", 104},
                                             {"timed out after 3000 ms", 110},
                                             {"no space left on device", 28},
                                             {"permission denied", 13},
                                             {"broken pipe", 32}}};
constexpr std::array<std::string_view, 6> tables = {"users",    "orders",    "sessions",
                                                    "payments", "inventory", "audit_log"};
constexpr std::string_view filler =
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua ";

template <class... Args>
void put(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

template <class T, std::size_t N>
const T& pick(const std::array<T, N>& items, random& rng) {
  return items[rng.below(N)];
}

// Level mix of a busy service: mostly info and debug, a little of the rest.
level pick_level(random& rng) {
  const std::uint64_t roll = rng.below(1000);
  if (roll < 50) return level::trace;
  if (roll < 250) return level::debug;
  if (roll < 800) return level::info;
  if (roll < 920) return level::warn;
  if (roll < 985) return level::error;
  return level::critical;
}
}  // namespace

std::size_t next_size(const size_plan& plan, random& rng) noexcept {
  switch (plan.distribution) {
    case size_distribution::natural: return 0;
    case size_distribution::fixed: return plan.size;
    case size_distribution::uniform: return plan.min + rng.below(plan.max - plan.min + 1);
    case size_distribution::longtail: {
      // Pareto(alpha = 1.2) scaled to start at min: half the sizes stay within ~1.8 x min.
      const double u = 1.0 - rng.unit();
      const double size = static_cast<double>(plan.min) * std::pow(u, -1.0 / 1.2);
      return static_cast<std::size_t>(std::min(size, static_cast<double>(plan.max)));
    }
  }
  return 0;
}

std::array<record_field, 4> generated_record::fields() const noexcept {
  std::array<record_field, 4> result{};
  const std::size_t count = std::min(field_count, result.size());
  for (std::size_t i = 0; i < count; ++i) result[i] = {keys[i], values[i]};
  return result;
}

void fit_to_size(std::string& text, std::size_t size) {
  if (text.size() >= size) {
    text.resize(utf8_prefix(text, size));
    return;
  }
  while (text.size() < size) {
    text.append(filler.substr(0, std::min(filler.size(), size - text.size())));
  }
}

void message_generator::next_record(generated_record& out, std::size_t target_payload) {
  ++count_;
  out.message.clear();
  out.field_count = 0;
  auto field = [&](std::string_view key, auto&& value) {
    out.keys[out.field_count] = key;
    out.values[out.field_count].clear();
    fmt::format_to(std::back_inserter(out.values[out.field_count]), "{}", value);
    ++out.field_count;
  };
  out.severity = pick_level(rng_);
  std::string& m = out.message;
  const std::uint64_t roll = rng_.below(1000);

  switch (out.severity) {
    case level::trace:
      out.tag = "trace";
      put(m, "enter handle_request(id={}) depth={}", rng_.below(1'000'000), rng_.below(12));
      break;
    case level::debug:
      if (roll < 500) {
        out.tag = "cache";
        put(m, "cache {} for key user:{}", rng_.below(3) == 0 ? "miss" : "hit", rng_.below(100000));
        field("shard", rng_.below(16));
      } else {
        out.tag = "db";
        const auto table = pick(tables, rng_);
        put(m, "query on {} took {} ms: SELECT * FROM {} WHERE id = {}", table, rng_.below(40),
            table, rng_.below(10'000'000));
        field("table", table);
        field("rows", rng_.below(500));
      }
      break;
    case level::info:
      if (roll < 600) {
        out.tag = "http";
        const auto method = pick(methods, rng_);
        const auto path = pick(paths, rng_);
        const std::uint64_t status = rng_.below(20) == 0 ? 404 : 200;
        const std::uint64_t ms = 1 + rng_.below(250);
        put(m, "{} {}/{} -> {} in {} ms", method, path, rng_.below(100000), status, ms);
        field("method", method);
        field("status", status);
        field("duration_ms", ms);
        field("request_id", fmt::format("{:016x}", rng_.next()));
      } else if (roll < 800) {
        out.tag = "net";
        const auto peer = pick(peers, rng_);
        put(m, "connected to {}:{} (session {:08x})", peer, 1024 + rng_.below(60000),
            static_cast<std::uint32_t>(rng_.next()));
        field("peer", peer);
      } else if (roll < 990) {
        out.tag = "jobs";
        put(m, "worker {} picked job {:08x}-{:04x} (queue depth {})", producer_,
            static_cast<std::uint32_t>(rng_.next()), static_cast<std::uint16_t>(rng_.next()),
            rng_.below(200));
        field("worker", producer_);
      } else {
        // An occasional very long line: a configuration dump.
        out.tag = "config";
        put(m, "effective configuration:");
        const std::uint64_t keys = 40 + rng_.below(120);
        for (std::uint64_t k = 0; k < keys; ++k) {
          put(m, " option_{}={}", k, rng_.below(1'000'000));
        }
      }
      break;
    case level::warn:
      if (roll < 500) {
        out.tag = "http";
        const std::uint64_t attempt = 1 + rng_.below(4);
        put(m, "retrying request {:016x} in {} ms (attempt {}/5)", rng_.next(),
            100 << rng_.below(5), attempt);
        field("attempt", attempt);
      } else {
        out.tag = "disk";
        put(m, "disk usage at {}% on /var/lib/app", 80 + rng_.below(20));
        field("mount", "/var/lib/app");
      }
      break;
    case level::error:
      if (roll < 700) {
        out.tag = "db";
        const auto table = pick(tables, rng_);
        const os_error& error = pick(errors, rng_);
        put(m, "failed to write block {} to {}: {}", rng_.below(1 << 20), table, error.text);
        field("table", table);
        field("errno", error.number);
      } else {
        // Multi-line text: an exception with a stack trace.
        out.tag = "http";
        put(m, "unhandled exception in handler for {}: std::runtime_error: {}", pick(paths, rng_),
            pick(errors, rng_).text);
        const std::uint64_t frames = 3 + rng_.below(6);
        for (std::uint64_t f = 0; f < frames; ++f) {
          put(m, "\n  #{} 0x{:012x} in app::handler_{}() at src/handlers.cpp:{}", f,
              rng_.next() & 0xFFFFFFFFFFFFULL, rng_.below(40), 10 + rng_.below(900));
        }
      }
      break;
    case level::critical:
      out.tag = "core";
      put(m, "out of memory allocating {} bytes; shutting down worker {}", 1 + rng_.below(1 << 30),
          producer_);
      field("worker", producer_);
      field("rss_mb", 1000 + rng_.below(15000));
      break;
  }

  if (target_payload > 0) {
    const auto array = out.fields();
    record_header header;
    header.tag = out.tag;
    std::size_t prefix = record_prefix_size(header, std::span(array.data(), out.field_count));
    if (prefix + 1 > target_payload && out.field_count > 0) {
      out.field_count = 0;  // fields do not fit the target: drop them rather than miss it
      prefix = record_prefix_size(header, {});
    }
    fit_to_size(m, target_payload > prefix ? target_payload - prefix : 1);
  }
}

namespace {
// One log call, and the size of the deferred record it makes (record_layout, §11.5).
template <class... Args>
std::size_t emit(logger& log, level severity, std::string_view tag, log_format<Args...> format,
                 Args&&... args) {
  log.log(severity, tag, format, std::forward<Args>(args)...);
  return record_layout::deferred_fixed_size + tag.size() +
         (std::size_t{0} + ... + detail::deferred_size(args));
}
}  // namespace

std::size_t message_generator::log_next(logger& log) {
  ++count_;
  const level severity = pick_level(rng_);
  const std::uint64_t roll = rng_.below(1000);
  switch (severity) {
    case level::trace:
      return emit(log, severity, "trace", "enter handle_request(id={}) depth={}",
                  rng_.below(1'000'000), rng_.below(12));
    case level::debug:
      if (roll < 500)
        return emit(log, severity, "cache", "cache {} for key user:{} (shard {})",
                    rng_.below(3) == 0 ? "miss" : "hit", rng_.below(100000), rng_.below(16));
      return emit(log, severity, "db", "query on {} took {:.3f} ms, {} rows", pick(tables, rng_),
                  static_cast<double>(rng_.below(40000)) / 1000.0, rng_.below(500));
    case level::info:
      if (roll < 600)
        return emit(log, severity, "http", "{} {}/{} -> {} in {} ms (request {:016x})",
                    pick(methods, rng_), pick(paths, rng_), rng_.below(100000),
                    rng_.below(20) == 0 ? 404 : 200, 1 + rng_.below(250), rng_.next());
      if (roll < 800)
        return emit(log, severity, "net", "connected to {}:{} (session {:08x})", pick(peers, rng_),
                    1024 + rng_.below(60000), static_cast<std::uint32_t>(rng_.next()));
      return emit(log, severity, "jobs", "worker {} picked job {:08x}-{:04x} (queue depth {})",
                  producer_, static_cast<std::uint32_t>(rng_.next()),
                  static_cast<std::uint16_t>(rng_.next()), rng_.below(200));
    case level::warn:
      if (roll < 500)
        return emit(log, severity, "http", "retrying request {:016x} in {} ms (attempt {}/5)",
                    rng_.next(), 100 << rng_.below(5), 1 + rng_.below(4));
      return emit(log, severity, "disk", "disk usage at {:.1f}% on {}",
                  80.0 + static_cast<double>(rng_.below(200)) / 10.0, "/var/lib/app");
    case level::error: {
      const os_error& error = pick(errors, rng_);
      return emit(log, severity, "db", "failed to write block {} to {}: {} (errno {})",
                  rng_.below(1 << 20), pick(tables, rng_), error.text, error.number);
    }
    case level::critical:
      return emit(log, severity, "core",
                  "out of memory allocating {} bytes; shutting down worker {}",
                  1 + rng_.below(1 << 30), producer_);
  }
  return 0;
}

void message_generator::next_raw(std::string& out, std::size_t target_payload) {
  if (target_payload == 0) {
    generated_record record;
    next_record(record, 0);
    out.clear();
    put(out, "{} {}: {}", to_string(record.severity), record.tag, record.message);
    return;
  }
  ++count_;
  out.clear();
  put(out, "raw {}:{} ", producer_, count_);
  fit_to_size(out, target_payload);
}

}  // namespace ouroboros::demo
