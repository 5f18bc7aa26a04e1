// The few process facts and actions the command-line programs need, on POSIX and Windows:
// stop requests (Ctrl-C, SIGTERM / console close), terminals, ids, host and user names, and the
// simulated crashes of demo_writer --crash-after.
//
// Thread-safety: all functions are safe from any thread; install_stop_handler once per process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ouroboros::tools {

// Calls `handler` (async-signal-safe: it may only set an atomic flag) on Ctrl-C or a request to
// terminate (SIGINT/SIGTERM; on Windows Ctrl-C, Ctrl-Break and the console closing).
void install_stop_handler(void (*handler)(int));
bool is_terminal(int fd) noexcept;  // 1 = stdout, 2 = stderr
std::uint64_t process_id() noexcept;
// The effective user id (POSIX); 0 on Windows, where owners are SIDs and segments are per-user.
std::uint32_t user_id() noexcept;
std::optional<std::string> user_name(std::uint32_t uid);
std::string host_name();
// Ends the process at once, as a crash would: "kill" (SIGKILL / TerminateProcess), "abort"
// (abort without a core file or error dialog), anything else _exit(70).
[[noreturn]] void crash_now(const std::string& mode);

}  // namespace ouroboros::tools
