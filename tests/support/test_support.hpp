// Helpers shared by the test suites: unique segment names, child processes, self-checking
// payloads and 8-aligned scratch buffers.
//
// Thread-safety: the free functions are safe from any thread; child_process and segment_guard
// objects belong to one thread.
#pragma once

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ouroboros::test {

// Scale factor for long-running tests: sanitizers are 3-20x slower, so the same test does
// proportionally less work there. OUROBOROS_TEST_SCALE (a positive number) overrides it.
inline double work_scale() {
  if (const char* env = std::getenv("OUROBOROS_TEST_SCALE")) {
    const double value = std::atof(env);
    if (value > 0) return value;
  }
#if defined(__SANITIZE_THREAD__)
  return 0.1;
#elif defined(__SANITIZE_ADDRESS__)
  return 0.25;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  return 0.1;
#elif __has_feature(address_sanitizer)
  return 0.25;
#else
  return 1.0;
#endif
#else
  return 1.0;
#endif
}

inline std::uint64_t scaled(std::uint64_t count, std::uint64_t minimum = 1) {
  const auto value = static_cast<std::uint64_t>(static_cast<double>(count) * work_scale());
  return value < minimum ? minimum : value;
}

#ifdef _WIN32
using process_id = DWORD;
inline process_id current_process_id() noexcept {
  return ::GetCurrentProcessId();
}
// Programs in the build's bin directory carry this suffix.
inline constexpr const char* exe_suffix = ".exe";
#else
using process_id = pid_t;
inline process_id current_process_id() noexcept {
  return ::getpid();
}
inline constexpr const char* exe_suffix = "";
#endif

// A shared-memory name no other test (or concurrent test run) uses: includes the pid.
inline std::string unique_segment_name(std::string_view tag) {
  static std::atomic<unsigned> counter{0};
  return "/ouroboros-test-" + std::string(tag) + "-" + std::to_string(current_process_id()) + "-" +
         std::to_string(counter.fetch_add(1));
}

#ifdef _WIN32
// A Windows section has no name to remove: it goes with its last handle, so there is nothing to
// clean up; the guard only carries the name.
class segment_guard {
 public:
  explicit segment_guard(std::string name) : name_(std::move(name)) {}
  segment_guard(const segment_guard&) = delete;
  segment_guard& operator=(const segment_guard&) = delete;
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

inline bool segment_exists(const std::string& name) {
  const std::string bare = name.front() == '/' ? name.substr(1) : name;
  const std::wstring object = L"Local\\" + std::wstring(bare.begin(), bare.end());
  HANDLE section = ::OpenFileMappingW(FILE_MAP_READ, FALSE, object.c_str());
  if (section == nullptr) return false;
  ::CloseHandle(section);
  return true;
}

inline std::string bin_dir() {
  if (const char* env = std::getenv("OUROBOROS_BIN_DIR")) return env;
  char path[MAX_PATH];
  const DWORD n = ::GetModuleFileNameA(nullptr, path, MAX_PATH);
  std::string exe(path, n);
  const auto slash = exe.find_last_of("\\/");
  return slash == std::string::npos ? "." : exe.substr(0, slash);
}

// A child process with its stdin and stdout connected to pipes. Terminated on destruction if
// still running, so a failing test leaves nothing behind.
class child_process {
 public:
  child_process(const std::string& program, const std::vector<std::string>& args) {
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    HANDLE child_in = nullptr;
    HANDLE child_out = nullptr;
    if (!::CreatePipe(&child_in, &in_, &inherit, 0) ||
        !::CreatePipe(&out_, &child_out, &inherit, 0)) {
      throw std::runtime_error("CreatePipe failed");
    }
    // Our ends stay here.
    ::SetHandleInformation(in_, HANDLE_FLAG_INHERIT, 0);
    ::SetHandleInformation(out_, HANDLE_FLAG_INHERIT, 0);
    std::string command = quote(program);
    for (const auto& a : args) command += " " + quote(a);
    STARTUPINFOA startup{};
    startup.cb = sizeof(startup);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = child_in;
    startup.hStdOutput = child_out;
    startup.hStdError = ::GetStdHandle(STD_ERROR_HANDLE);
    PROCESS_INFORMATION info{};
    const BOOL started = ::CreateProcessA(program.c_str(), command.data(), nullptr, nullptr, TRUE,
                                          0, nullptr, nullptr, &startup, &info);
    ::CloseHandle(child_in);
    ::CloseHandle(child_out);
    if (!started) throw std::runtime_error("cannot start " + program);
    ::CloseHandle(info.hThread);
    process_ = info.hProcess;
    pid_ = info.dwProcessId;
  }
  ~child_process() {
    close_stdin();
    if (out_ != nullptr) ::CloseHandle(out_);
    if (process_ != nullptr) {
      if (!reaped_) {
        ::TerminateProcess(process_, 137);
        ::WaitForSingleObject(process_, 10000);
      }
      ::CloseHandle(process_);
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  process_id pid() const noexcept { return pid_; }
  HANDLE handle() const noexcept { return process_; }

  void send_line(std::string_view line) {
    std::string data(line);
    data.push_back('\n');
    DWORD written = 0;
    if (in_ != nullptr) {
      ::WriteFile(in_, data.data(), static_cast<DWORD>(data.size()), &written, nullptr);
    }
  }
  void close_stdin() {
    if (in_ != nullptr) ::CloseHandle(in_);
    in_ = nullptr;
  }

  // One line from the child's stdout (without the newline or a '\r' before it); nullopt on EOF.
  std::optional<std::string> read_line() {
    for (;;) {
      const auto newline = buffered_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffered_.substr(0, newline);
        buffered_.erase(0, newline + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      char chunk[4096];
      DWORD n = 0;
      if (!::ReadFile(out_, chunk, sizeof(chunk), &n, nullptr) || n == 0) {
        if (buffered_.empty()) return std::nullopt;
        std::string rest = std::move(buffered_);
        buffered_.clear();
        return rest;
      }
      buffered_.append(chunk, n);
    }
  }

  // Ends the child at once, as a crash would.
  void terminate() { ::TerminateProcess(process_, 137); }

  // Waits for exit; returns the exit code, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (::WaitForSingleObject(process_, static_cast<DWORD>(timeout.count())) != WAIT_OBJECT_0) {
      return std::nullopt;
    }
    reaped_ = true;
    DWORD code = 0;
    ::GetExitCodeProcess(process_, &code);
    return static_cast<int>(code);
  }

 private:
  static std::string quote(const std::string& arg) {
    if (!arg.empty() && arg.find_first_of(" \t\"") == std::string::npos) return arg;
    std::string out = "\"";
    for (const char c : arg) {
      if (c == '"') out += '\\';
      out += c;
    }
    return out + "\"";
  }
  HANDLE process_ = nullptr;
  process_id pid_ = 0;
  HANDLE in_ = nullptr;
  HANDLE out_ = nullptr;
  bool reaped_ = false;
  std::string buffered_;
};
#else
// Unlinks a segment name when the test ends, whatever happened.
class segment_guard {
 public:
  explicit segment_guard(std::string name) : name_(std::move(name)) { ::shm_unlink(name_.c_str()); }
  ~segment_guard() { ::shm_unlink(name_.c_str()); }
  segment_guard(const segment_guard&) = delete;
  segment_guard& operator=(const segment_guard&) = delete;
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

inline bool segment_exists(const std::string& name) {
  const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// Directory of the project's executables (build/<preset>/bin).
inline std::string bin_dir() {
  if (const char* env = std::getenv("OUROBOROS_BIN_DIR")) return env;
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return ".";
  std::string exe(path, static_cast<std::size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

// A child process started with fork+exec, with its stdin and stdout connected to pipes. Killed
// (SIGKILL) and reaped on destruction if still running, so a failing test leaves nothing behind.
class child_process {
 public:
  child_process(const std::string& program, const std::vector<std::string>& args) {
    int to_child[2];
    int from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    std::vector<std::string> argv_storage;
    argv_storage.push_back(program);
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      ::execv(program.c_str(), argv.data());
      const char message[] = "exec failed\n";
      [[maybe_unused]] auto ignored = ::write(2, message, sizeof(message) - 1);
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
  }
  ~child_process() {
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  // Ends the child at once, as a crash would.
  void terminate() { ::kill(pid_, SIGKILL); }

  void send_line(std::string_view line) {
    std::string data(line);
    data.push_back('\n');
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::write(in_, data.data() + sent, data.size() - sent);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }
  void close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }

  // One line from the child's stdout (without the newline); nullopt on EOF.
  std::optional<std::string> read_line() {
    for (;;) {
      const auto newline = buffered_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffered_.substr(0, newline);
        buffered_.erase(0, newline + 1);
        return line;
      }
      char chunk[4096];
      const ssize_t n = ::read(out_, chunk, sizeof(chunk));
      if (n <= 0) {
        if (buffered_.empty()) return std::nullopt;
        std::string rest = std::move(buffered_);
        buffered_.clear();
        return rest;
      }
      buffered_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Waits for exit; returns the exit code (128 + signal when killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        reaped_ = true;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return -1;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  bool reaped_ = false;
  std::string buffered_;
};
#endif

// --- self-checking payloads --------------------------------------------------------------------

inline std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

// Byte i of the deterministic content of entry `seq` (for payloads too small to carry a header).
inline std::byte content_byte(std::uint64_t seq, std::size_t i) noexcept {
  return static_cast<std::byte>(mix64(seq * 0x9E3779B97F4A7C15ULL + i) & 0xFFU);
}

inline void fill_content(std::span<std::byte> out, std::uint64_t seq) noexcept {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = content_byte(seq, i);
}

inline bool content_matches(std::span<const std::byte> payload, std::uint64_t seq) noexcept {
  for (std::size_t i = 0; i < payload.size(); ++i) {
    if (payload[i] != content_byte(seq, i)) return false;
  }
  return true;
}

// A payload that carries its own sequence number and a checksum: u64 seq | u32 size | u32 sum |
// body. At least checked_min_size bytes.
inline constexpr std::size_t checked_min_size = 16;

inline std::uint32_t checksum(std::span<const std::byte> bytes, std::uint64_t seed) noexcept {
  std::uint64_t h = 0xCBF29CE484222325ULL ^ seed;
  for (const std::byte b : bytes) h = (h ^ std::to_integer<std::uint64_t>(b)) * 0x100000001B3ULL;
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

inline void fill_checked(std::span<std::byte> out, std::uint64_t seq) noexcept {
  const auto size = static_cast<std::uint32_t>(out.size());
  std::memcpy(out.data(), &seq, 8);
  std::memcpy(out.data() + 8, &size, 4);
  // The body is cheap to produce but differs per entry and position.
  std::uint64_t state = mix64(seq);
  for (std::size_t i = checked_min_size; i < out.size(); ++i) {
    if ((i & 7) == 0) state = mix64(state + i);
    out[i] = static_cast<std::byte>((state >> ((i & 7) * 8)) & 0xFFU);
  }
  const std::uint32_t sum = checksum(out.subspan(checked_min_size), seq ^ size);
  std::memcpy(out.data() + 12, &sum, 4);
}

// The sequence number a checked payload claims, or nullopt if it is torn or malformed.
inline std::optional<std::uint64_t> verify_checked(std::span<const std::byte> payload) noexcept {
  if (payload.size() < checked_min_size) return std::nullopt;
  std::uint64_t seq = 0;
  std::uint32_t size = 0;
  std::uint32_t sum = 0;
  std::memcpy(&seq, payload.data(), 8);
  std::memcpy(&size, payload.data() + 8, 4);
  std::memcpy(&sum, payload.data() + 12, 4);
  if (size != payload.size()) return std::nullopt;
  if (checksum(payload.subspan(checked_min_size), seq ^ size) != sum) return std::nullopt;
  return seq;
}

// An 8-byte aligned, zero-initialised byte buffer (rings need 8-byte alignment).
class aligned_buffer {
 public:
  explicit aligned_buffer(std::size_t size, std::byte fill = std::byte{0})
      : words_((size + 7) / 8 + 1), size_(size) {
    std::memset(words_.data(), std::to_integer<int>(fill), words_.size() * 8);
  }
  std::byte* data() noexcept { return reinterpret_cast<std::byte*>(words_.data()); }
  const std::byte* data() const noexcept {
    return reinterpret_cast<const std::byte*>(words_.data());
  }
  std::size_t size() const noexcept { return size_; }
  std::span<std::byte> span() noexcept { return {data(), size_}; }
  std::span<const std::byte> span() const noexcept { return {data(), size_}; }
  operator std::span<std::byte>() noexcept { return span(); }
  operator std::span<const std::byte>() const noexcept { return span(); }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t size_;
};

inline std::span<const std::byte> as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}
inline std::string as_string(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace ouroboros::test
