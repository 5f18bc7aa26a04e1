// RFC 5424 syslog messages from log entries, and senders over UDP (RFC 5426) and TCP with
// octet-counting framing (RFC 6587 section 3.4.1).
//
// Mapping: PRI = facility * 8 + severity (trace/debug 7, info 6, warn 4, error 3, critical 2;
// plain entries 5 "notice"; gap markers 4); APP-NAME = the segment name; PROCID = writer pid;
// MSGID = the record's tag ("gap" for gap markers, "event" for segment events); structured data
// [ouroboros@32473 seq= thread= segment=] and [fields@32473 key="value" ...]; MSG = BOM +
// UTF-8 message (no BOM when a plain payload is not valid UTF-8).
//
// Thread-safety: formatting functions are stateless; a syslog_sender is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "ouroboros/tools/entry_format.hpp"

namespace ouroboros::tools {

struct syslog_context {
  int facility = 1;                     // user-level messages
  std::string hostname = "-";           // printable ASCII, at most 255
  std::string app_name = "-";           // printable ASCII, at most 48
  std::uint64_t writer_pid = 0;         // PROCID; "-" when 0
  std::string segment;                  // carried in structured data
  std::size_t max_message_size = 8192;  // the whole message is cut (at a UTF-8 boundary) to this
};

// Parses "user", "local0".."local7", "daemon", ... or a number 0..23; -1 when unknown.
int parse_facility(std::string_view name) noexcept;
int syslog_severity(level value) noexcept;

// `now_unix_ns` stamps entries without a time of their own (plain payloads, markers).
void format_syslog(fmt::memory_buffer& out, const syslog_context& context,
                   const decoded_entry& entry, std::uint64_t now_unix_ns);
void format_syslog(fmt::memory_buffer& out, const syslog_context& context, const gap_marker& gap,
                   std::uint64_t now_unix_ns);
void format_syslog(fmt::memory_buffer& out, const syslog_context& context,
                   const segment_event& event, std::uint64_t now_unix_ns);

// Keeps the printable US-ASCII characters (33..126) of `text`, replacing others by '_', cut to
// `limit`; "-" when empty. For HOSTNAME, APP-NAME, PROCID, MSGID.
std::string syslog_token(std::string_view text, std::size_t limit);

enum class transport { udp, tcp };

struct syslog_target {
  transport protocol = transport::udp;
  std::string host;
  std::string port;
};
// Parses "udp://host:port", "tcp://host:port" or "[::1]:514"-style hosts; throws
// std::invalid_argument saying what is wrong.
syslog_target parse_syslog_target(std::string_view url);

class syslog_sender {
 public:
  // Resolves and connects; throws std::runtime_error with the reason (refused, unknown host...).
  explicit syslog_sender(const syslog_target& target);
  ~syslog_sender();
  syslog_sender(const syslog_sender&) = delete;
  syslog_sender& operator=(const syslog_sender&) = delete;

  // Sends one message (TCP: "LEN SP MSG"). TCP reconnects a few times on a broken connection
  // before throwing std::runtime_error; UDP never blocks the caller on a missing receiver.
  void send(std::string_view message);
  std::uint64_t messages_sent() const noexcept { return sent_; }
  std::uint64_t udp_errors() const noexcept { return udp_errors_; }

 private:
  void connect();
  bool send_all(const char* data, std::size_t size);
  syslog_target target_;
  std::intptr_t fd_ = -1;  // a socket descriptor (a SOCKET on Windows)
  std::uint64_t sent_ = 0;
  std::uint64_t udp_errors_ = 0;
  fmt::memory_buffer frame_;
};

}  // namespace ouroboros::tools
