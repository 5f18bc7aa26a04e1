#include "ouroboros/tools/process.hpp"

#ifdef _WIN32
#include <io.h>
#include <windows.h>
#else
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <vector>

namespace ouroboros::tools {

#ifdef _WIN32
namespace {
void (*stop_handler)(int) = nullptr;

BOOL WINAPI on_console_event(DWORD event) {
  if (stop_handler == nullptr) return FALSE;
  switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT: stop_handler(SIGINT); return TRUE;
    default: return FALSE;
  }
}
}  // namespace

void install_stop_handler(void (*handler)(int)) {
  stop_handler = handler;
  ::SetConsoleCtrlHandler(on_console_event, TRUE);
  std::signal(SIGINT, handler);
  std::signal(SIGTERM, handler);
}

bool is_terminal(int fd) noexcept {
  return ::_isatty(fd) != 0;
}

std::uint64_t process_id() noexcept {
  return ::GetCurrentProcessId();
}

std::uint32_t user_id() noexcept {
  return 0;
}

std::optional<std::string> user_name(std::uint32_t) {
  char buffer[257];
  DWORD length = sizeof buffer;
  if (::GetUserNameA(buffer, &length) && length > 1) return std::string(buffer, length - 1);
  return std::nullopt;
}

std::string host_name() {
  char buffer[MAX_COMPUTERNAME_LENGTH + 1];
  DWORD length = sizeof buffer;
  if (::GetComputerNameA(buffer, &length) && length > 0) return std::string(buffer, length);
  return "-";
}

void crash_now(const std::string& mode) {
  if (mode == "kill") ::TerminateProcess(::GetCurrentProcess(), 137);
  if (mode == "abort") {
    // No error dialog, no Windows Error Reporting: a test's crash must not wait for a click.
    ::SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    std::abort();
  }
  std::_Exit(70);
}
#else
void install_stop_handler(void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool is_terminal(int fd) noexcept {
  return ::isatty(fd) == 1;
}

std::uint64_t process_id() noexcept {
  return static_cast<std::uint64_t>(::getpid());
}

std::uint32_t user_id() noexcept {
  return static_cast<std::uint32_t>(::geteuid());
}

std::optional<std::string> user_name(std::uint32_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(4096);
  while (true) {
    const int rc =
        ::getpwuid_r(static_cast<uid_t>(uid), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1 << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) return std::nullopt;
    return std::string(entry.pw_name);
  }
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "-";
  return name;
}

void crash_now(const std::string& mode) {
  if (mode == "kill") ::raise(SIGKILL);
  if (mode == "abort") {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);  // a test's crash should not litter core files
    std::abort();
  }
  ::_exit(70);  // no destructors, no unlink, no "closed" flag: what a crash leaves behind
}
#endif

}  // namespace ouroboros::tools
