#include "ouroboros/tools/syslog.hpp"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace ouroboros::tools {

namespace {
// The few socket calls that differ between POSIX and Winsock.
#ifdef _WIN32
constexpr int no_sigpipe = 0;  // Winsock raises no signal on a closed connection
void close_socket(std::intptr_t fd) {
  ::closesocket(static_cast<SOCKET>(fd));
}
int last_socket_error() {
  return ::WSAGetLastError();
}
std::string socket_error_text(int error) {
  return "Winsock error " + std::to_string(error);
}
std::intptr_t open_socket(int family, int type, int protocol) {
  static const bool started = [] {
    WSADATA data{};
    return ::WSAStartup(MAKEWORD(2, 2), &data) == 0;
  }();
  if (!started) return -1;
  const SOCKET s = ::socket(family, type, protocol);
  return s == INVALID_SOCKET ? -1 : static_cast<std::intptr_t>(s);
}
void set_send_timeout(std::intptr_t fd, int seconds) {
  const DWORD milliseconds = static_cast<DWORD>(seconds) * 1000;
  ::setsockopt(static_cast<SOCKET>(fd), SOL_SOCKET, SO_SNDTIMEO,
               reinterpret_cast<const char*>(&milliseconds), sizeof milliseconds);
}
long send_bytes(std::intptr_t fd, const char* data, std::size_t size) {
  const int chunk = static_cast<int>(std::min<std::size_t>(size, 1 << 30));
  return ::send(static_cast<SOCKET>(fd), data, chunk, 0);
}
bool interrupted(int) {
  return false;
}
std::string resolve_error_text(int error) {
  return ::gai_strerrorA(error);
}
#else
constexpr int no_sigpipe = MSG_NOSIGNAL;
void close_socket(std::intptr_t fd) {
  ::close(static_cast<int>(fd));
}
int last_socket_error() {
  return errno;
}
std::string socket_error_text(int error) {
  return std::strerror(error);
}
std::intptr_t open_socket(int family, int type, int protocol) {
  return ::socket(family, type | SOCK_CLOEXEC, protocol);
}
void set_send_timeout(std::intptr_t fd, int seconds) {
  timeval timeout{seconds, 0};
  ::setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}
long send_bytes(std::intptr_t fd, const char* data, std::size_t size) {
  return ::send(static_cast<int>(fd), data, size, no_sigpipe);
}
bool interrupted(int error) {
  return error == EINTR;
}
std::string resolve_error_text(int error) {
  return ::gai_strerror(error);
}
#endif

// Any private enterprise number works for SD-IDs; 32473 is the one RFC 5612 reserves for
// documentation and examples, which keeps us from claiming someone else's.
constexpr std::string_view enterprise = "@32473";
constexpr std::string_view bom = "\xEF\xBB\xBF";

void append(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

// SD-PARAM names: printable ASCII without '=', ' ', ']', '"', at most 32 characters.
void append_param_name(fmt::memory_buffer& out, std::string_view name) {
  std::size_t written = 0;
  for (char c : name) {
    if (written == 32) break;
    const auto u = static_cast<unsigned char>(c);
    const bool ok = u > 32 && u < 127 && c != '=' && c != ']' && c != '"';
    out.push_back(ok ? c : '_');
    ++written;
  }
  if (written == 0) out.push_back('_');
}

// SD-PARAM values are UTF-8 with '"', '\' and ']' escaped.
void append_param_value(fmt::memory_buffer& out, std::string_view value) {
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out.push_back('\\');
    out.push_back(c);
  }
}

void append_header(fmt::memory_buffer& out, const syslog_context& context, int severity,
                   std::uint64_t unix_ns, std::string_view msgid) {
  const int facility = context.facility >= 0 && context.facility <= 23 ? context.facility : 1;
  fmt::format_to(std::back_inserter(out), "<{}>1 ", facility * 8 + severity);
  if (unix_ns != 0) {
    append(out, iso8601_utc(unix_ns, 6));
  } else {
    out.push_back('-');
  }
  out.push_back(' ');
  append(out, syslog_token(context.hostname, 255));
  out.push_back(' ');
  append(out, syslog_token(context.app_name, 48));
  out.push_back(' ');
  if (context.writer_pid != 0) {
    fmt::format_to(std::back_inserter(out), "{}", context.writer_pid);
  } else {
    out.push_back('-');
  }
  out.push_back(' ');
  append(out, syslog_token(msgid, 32));
  out.push_back(' ');
}

void append_meta_open(fmt::memory_buffer& out, const syslog_context& context) {
  append(out, "[ouroboros");
  append(out, enterprise);
  append(out, " segment=\"");
  append_param_value(out, context.segment);
  out.push_back('"');
}

// MSG: what room is left, cut at a UTF-8 boundary so the BOM's promise holds.
void append_message(fmt::memory_buffer& out, const syslog_context& context, std::string_view text) {
  const bool utf8 = is_valid_utf8(text);
  const std::size_t used = out.size() + 1 + (utf8 ? bom.size() : 0);
  const std::size_t room = context.max_message_size > used ? context.max_message_size - used : 0;
  if (text.empty()) return;
  out.push_back(' ');
  if (utf8) {
    append(out, bom);
    append(out, text.substr(0, utf8_prefix(text, room)));
  } else {
    append(out, text.substr(0, room));
  }
}
}  // namespace

int parse_facility(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 24> names = {
      "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
      "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
      "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (name == names[i]) return static_cast<int>(i);
  }
  if (!name.empty() && name.size() <= 2 &&
      std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const int value = std::stoi(std::string(name));
    if (value <= 23) return value;
  }
  return -1;
}

int syslog_severity(level value) noexcept {
  switch (value) {
    case level::trace:
    case level::debug: return 7;
    case level::info: return 6;
    case level::warn: return 4;
    case level::error: return 3;
    case level::critical: return 2;
  }
  return 5;
}

std::string syslog_token(std::string_view text, std::size_t limit) {
  std::string token;
  for (char c : text) {
    if (token.size() == limit) break;
    const auto u = static_cast<unsigned char>(c);
    token.push_back(u > 32 && u < 127 ? c : '_');
  }
  return token.empty() ? "-" : token;
}

void format_syslog(fmt::memory_buffer& out, const syslog_context& context,
                   const decoded_entry& entry, std::uint64_t now_unix_ns) {
  const std::size_t start = out.size();
  const int severity = entry.is_record ? syslog_severity(entry.severity) : 5;
  const std::uint64_t time = entry.is_record && entry.unix_ns != 0 ? entry.unix_ns : now_unix_ns;
  append_header(out, context, severity, time, entry.is_record ? entry.tag : std::string_view("-"));
  append_meta_open(out, context);
  fmt::format_to(std::back_inserter(out), " seq=\"{}\"", entry.sequence);
  if (entry.is_record) fmt::format_to(std::back_inserter(out), " thread=\"{}\"", entry.thread);
  if (entry.truncated) append(out, " truncated=\"1\"");
  out.push_back(']');
  if (entry.is_record && entry.record.field_count > 0) {
    const std::size_t before_fields = out.size();
    append(out, "[fields");
    append(out, enterprise);
    for (std::size_t i = 0; i < entry.record.field_count; ++i) {
      const record_field field = entry.record.field(i);
      out.push_back(' ');
      append_param_name(out, field.key);
      append(out, "=\"");
      append_param_value(out, field.value);
      out.push_back('"');
    }
    out.push_back(']');
    // Fields never crowd out the message: past half the budget they are dropped.
    if (out.size() - start > context.max_message_size / 2) out.resize(before_fields);
  }
  append_message(out, context, entry.message);
}

void format_syslog(fmt::memory_buffer& out, const syslog_context& context, const gap_marker& gap,
                   std::uint64_t now_unix_ns) {
  append_header(out, context, 4, now_unix_ns, "gap");
  append_meta_open(out, context);
  fmt::format_to(std::back_inserter(out), " lost=\"{}\" first_seq=\"{}\" last_seq=\"{}\"]",
                 gap.lost, gap.first, gap.last);
  append_message(out, context, describe_gap(gap));
}

void format_syslog(fmt::memory_buffer& out, const syslog_context& context,
                   const segment_event& event, std::uint64_t now_unix_ns) {
  const int severity =
      event.kind == event_kind::writer_gone || event.kind == event_kind::corrupt ? 3 : 5;
  append_header(out, context, severity, now_unix_ns, "event");
  append_meta_open(out, context);
  fmt::format_to(std::back_inserter(out), " event=\"{}\"]", to_string(event.kind));
  append_message(out, context, describe_event(event));
}

syslog_target parse_syslog_target(std::string_view url) {
  syslog_target target;
  std::string_view rest;
  if (url.rfind("udp://", 0) == 0) {
    target.protocol = transport::udp;
    rest = url.substr(6);
  } else if (url.rfind("tcp://", 0) == 0) {
    target.protocol = transport::tcp;
    rest = url.substr(6);
  } else {
    throw std::invalid_argument(fmt::format(
        "syslog target '{}' must start with udp:// or tcp:// (e.g. tcp://127.0.0.1:514)", url));
  }
  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      throw std::invalid_argument(fmt::format("syslog target '{}': expected [ipv6]:port", url));
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      throw std::invalid_argument(fmt::format("syslog target '{}' has no port (host:port)", url));
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) throw std::invalid_argument(fmt::format("syslog target '{}' has no host", url));
  const bool numeric =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!numeric || std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) {
    throw std::invalid_argument(
        fmt::format("syslog target '{}': port must be a number from 1 to 65535", url));
  }
  target.host = std::string(host);
  target.port = std::string(port);
  return target;
}

syslog_sender::syslog_sender(const syslog_target& target) : target_(target) {
  connect();
}

syslog_sender::~syslog_sender() {
  if (fd_ >= 0) close_socket(fd_);
}

void syslog_sender::connect() {
  if (fd_ >= 0) {
    close_socket(fd_);
    fd_ = -1;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = target_.protocol == transport::udp ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo(target_.host.c_str(), target_.port.c_str(), &hints, &found);
  if (resolved != 0) {
    throw std::runtime_error(fmt::format("cannot resolve syslog host '{}': {}", target_.host,
                                         resolve_error_text(resolved)));
  }
  int last_error = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const std::intptr_t fd = open_socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) {
      last_error = last_socket_error();
      continue;
    }
    // A receiver that stops reading must not hang the forwarder forever.
    set_send_timeout(fd, 5);
#ifdef _WIN32
    const int connected =
        ::connect(static_cast<SOCKET>(fd), a->ai_addr, static_cast<int>(a->ai_addrlen));
#else
    const int connected = ::connect(static_cast<int>(fd), a->ai_addr, a->ai_addrlen);
#endif
    if (connected == 0) {
      fd_ = fd;
      break;
    }
    last_error = last_socket_error();
    close_socket(fd);
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) {
    throw std::runtime_error(fmt::format("cannot connect to syslog {}://{}:{}: {}",
                                         target_.protocol == transport::udp ? "udp" : "tcp",
                                         target_.host, target_.port,
                                         socket_error_text(last_error)));
  }
}

bool syslog_sender::send_all(const char* data, std::size_t size) {
  while (size > 0) {
    const long n = send_bytes(fd_, data, size);
    if (n < 0) {
      if (interrupted(last_socket_error())) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void syslog_sender::send(std::string_view message) {
  if (target_.protocol == transport::udp) {
    // A datagram to a port nobody listens on comes back as ECONNREFUSED on the next send; UDP
    // syslog is lossy by design, so it is counted, not fatal.
    if (send_bytes(fd_, message.data(), message.size()) < 0) {
      ++udp_errors_;
    } else {
      ++sent_;
    }
    return;
  }
  frame_.clear();
  fmt::format_to(std::back_inserter(frame_), "{} ", message.size());
  append(frame_, message);
  for (int attempt = 0;; ++attempt) {
    if (fd_ >= 0 && send_all(frame_.data(), frame_.size())) {
      ++sent_;
      return;
    }
    const int error = last_socket_error();
    if (attempt >= 4) {
      throw std::runtime_error(fmt::format("lost the syslog connection to tcp://{}:{}: {}",
                                           target_.host, target_.port, socket_error_text(error)));
    }
    // A partially sent frame is lost with the connection; the receiver discards it as broken.
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    try {
      connect();
    } catch (const std::runtime_error&) {
      if (fd_ >= 0) close_socket(fd_);
      fd_ = -1;
    }
  }
}

}  // namespace ouroboros::tools
