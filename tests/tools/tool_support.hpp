// Helpers for the end-to-end tests of demo_writer and ouroboros-cli: run the real binaries
// (found through OUROBOROS_BIN_DIR) with their output in files, wait with timeouts, and parse
// their JSON lines back.
//
// Thread-safety: test-only helpers; use from the test's main thread.
#pragma once

#ifdef _WIN32
#include <windows.h>
// After windows.h:
#include <csignal>
#else
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#ifndef _WIN32
extern char** environ;
#endif

namespace ouroboros::test_tools {

#ifdef _WIN32
inline constexpr const char* exe_suffix = ".exe";
inline unsigned long current_pid() {
  return ::GetCurrentProcessId();
}
#else
inline constexpr const char* exe_suffix = "";
inline pid_t current_pid() {
  return ::getpid();
}
#endif

inline std::string bin(const std::string& name) {
  const char* dir = std::getenv("OUROBOROS_BIN_DIR");
  return std::string(dir != nullptr ? dir : ".") + "/" + name + exe_suffix;
}

// The programs under test, from the build's bin directory.
inline const std::string writer_bin = bin("ouroboros-demo-writer");
inline const std::string cli_bin = bin("ouroboros-cli");

// Where a segment's file is (the tests shrink, restore and inspect it directly).
inline std::string shm_path(const std::string& name) {
  return "/dev/shm/" + name;
}

// A segment name unique to this process and call, so parallel test runs never collide.
inline std::string unique_segment(const std::string& what) {
  static std::atomic<int> counter{0};
  return "ouroboros-test-" + what + "-" + std::to_string(current_pid()) + "-" +
         std::to_string(counter++);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// A fresh path prefix in the temporary directory for one child's captured output.
inline std::string temp_base() {
  static std::atomic<int> counter{0};
#ifdef _WIN32
  char temp[MAX_PATH];
  ::GetTempPathA(MAX_PATH, temp);
  const std::string dir = temp;
#else
  const std::string dir = "/tmp/";
#endif
  return dir + "ouroboros-tools-test-" + std::to_string(current_pid()) + "-" +
         std::to_string(counter++);
}

// Where a child process's stdout and stderr are captured, and reading them back.
class captured_output {
 public:
  std::string out() const { return read_file(out_path_); }
  std::string err() const { return read_file(err_path_); }
  // Waits until stdout contains `text`.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (out().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 protected:
  explicit captured_output(const std::string& base)
      : out_path_(base + ".out"), err_path_(base + ".err") {}
  std::string out_path_;
  std::string err_path_;
};

#ifdef _WIN32
// A child process with stdout and stderr captured in temporary files (stdin is NUL). It runs in
// a process group of its own so signal(SIGINT) can send it Ctrl-Break (its stop request).
class process : public captured_output {
 public:
  explicit process(std::vector<std::string> args)
      : captured_output(temp_base()), args_(std::move(args)) {
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    HANDLE in = ::CreateFileA("NUL", GENERIC_READ, share, &inherit, OPEN_EXISTING, 0, nullptr);
    HANDLE out = ::CreateFileA(out_path_.c_str(), GENERIC_WRITE, share, &inherit, CREATE_ALWAYS,
                               FILE_ATTRIBUTE_NORMAL, nullptr);
    HANDLE err = ::CreateFileA(err_path_.c_str(), GENERIC_WRITE, share, &inherit, CREATE_ALWAYS,
                               FILE_ATTRIBUTE_NORMAL, nullptr);
    std::string command;
    for (const auto& a : args_) command += (command.empty() ? "" : " ") + quote(a);
    STARTUPINFOA startup{};
    startup.cb = sizeof(startup);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = in;
    startup.hStdOutput = out;
    startup.hStdError = err;
    PROCESS_INFORMATION info{};
    const BOOL started =
        ::CreateProcessA(args_[0].c_str(), command.data(), nullptr, nullptr, TRUE,
                         CREATE_NEW_PROCESS_GROUP, nullptr, nullptr, &startup, &info);
    ::CloseHandle(in);
    ::CloseHandle(out);
    ::CloseHandle(err);
    if (!started) throw std::runtime_error("cannot start " + args_[0]);
    ::CloseHandle(info.hThread);
    handle_ = info.hProcess;
    pid_ = info.dwProcessId;
  }
  ~process() {
    if (!exited_) {
      ::TerminateProcess(handle_, 137);
      ::WaitForSingleObject(handle_, 10000);
    }
    ::CloseHandle(handle_);
    ::DeleteFileA(out_path_.c_str());
    ::DeleteFileA(err_path_.c_str());
  }
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  unsigned long pid() const { return pid_; }
  bool running() {
    poll();
    return !exited_;
  }
  // Exit code, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    if (!exited_) {
      ::WaitForSingleObject(handle_, static_cast<DWORD>(timeout.count()));
      poll();
    }
    return exited_ ? code_ : -1;
  }
  // SIGKILL: TerminateProcess (exit code 137, as 128 + 9 on POSIX); anything else: Ctrl-Break,
  // which the programs take as a stop request like SIGINT/SIGTERM.
  void signal(int sig) {
    if (sig == 9) {
      ::TerminateProcess(handle_, 137);
    } else {
      ::GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid_);
    }
  }

 private:
  static std::string quote(const std::string& arg) {
    if (!arg.empty() && arg.find_first_of(" \t\"") == std::string::npos) return arg;
    std::string out = "\"";
    std::size_t backslashes = 0;
    for (const char c : arg) {
      if (c == '\\') {
        ++backslashes;
      } else {
        if (c == '"') out.append(backslashes + 1, '\\');
        backslashes = 0;
      }
      out += c;
    }
    out.append(backslashes, '\\');
    return out + "\"";
  }
  void poll() {
    if (exited_) return;
    if (::WaitForSingleObject(handle_, 0) == WAIT_OBJECT_0) {
      DWORD code = 0;
      ::GetExitCodeProcess(handle_, &code);
      exited_ = true;
      code_ = static_cast<int>(code);
    }
  }
  std::vector<std::string> args_;
  HANDLE handle_ = nullptr;
  unsigned long pid_ = 0;
  bool exited_ = false;
  int code_ = -1;
};
#else
// A child process with stdout and stderr captured in temporary files.
class process : public captured_output {
 public:
  explicit process(std::vector<std::string> args)
      : captured_output(temp_base()), args_(std::move(args)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    std::vector<char*> argv;
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + args_[0]);
  }
  ~process() {
    if (!exited_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    ::unlink(out_path_.c_str());
    ::unlink(err_path_.c_str());
  }
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    poll();
    return !exited_;
  }
  // Exit code (128 + signal when killed by one), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!exited_) {
      poll();
      if (exited_) break;
      if (std::chrono::steady_clock::now() >= end) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return code_;
  }
  void signal(int sig) { ::kill(pid_, sig); }

 private:
  void poll() {
    if (exited_) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
};
#endif

struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};

inline run_result run(std::vector<std::string> args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  process p(std::move(args));
  run_result r;
  r.code = p.wait(timeout);
  r.out = p.out();
  r.err = p.err();
  return r;
}

// --- a small JSON parser, enough to read the tools' output back strictly ---------------------
struct json;
using json_object = std::map<std::string, json>;
using json_array = std::vector<json>;
struct json {
  std::variant<std::nullptr_t, bool, double, std::string, json_array, json_object> value;
  bool is_object() const { return std::holds_alternative<json_object>(value); }
  bool has(const std::string& key) const {
    return is_object() && std::get<json_object>(value).count(key) > 0;
  }
  const json& operator[](const std::string& key) const {
    const auto& o = std::get<json_object>(value);
    const auto it = o.find(key);
    if (it == o.end()) throw std::runtime_error("missing JSON key " + key);
    return it->second;
  }
  const std::string& str() const { return std::get<std::string>(value); }
  double num() const { return std::get<double>(value); }
  std::uint64_t u64() const { return static_cast<std::uint64_t>(std::get<double>(value)); }
  bool boolean() const { return std::get<bool>(value); }
  const json_array& array() const { return std::get<json_array>(value); }
  const json_object& object() const { return std::get<json_object>(value); }
};

class json_parser {
 public:
  explicit json_parser(const std::string& text) : s_(text) {}
  json parse() {
    json v = value();
    skip();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    throw std::runtime_error("bad JSON (" + why + ") at " + std::to_string(i_) + ": " + s_);
  }
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  char peek() {
    skip();
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected ") + c);
    ++i_;
  }
  json value() {
    const char c = peek();
    json v;
    if (c == '{') {
      ++i_;
      json_object o;
      if (peek() == '}') {
        ++i_;
      } else {
        while (true) {
          const std::string key = string();
          expect(':');
          o[key] = value();
          if (peek() == ',') {
            ++i_;
            continue;
          }
          expect('}');
          break;
        }
      }
      v.value = std::move(o);
    } else if (c == '[') {
      ++i_;
      json_array a;
      if (peek() == ']') {
        ++i_;
      } else {
        while (true) {
          a.push_back(value());
          if (peek() == ',') {
            ++i_;
            continue;
          }
          expect(']');
          break;
        }
      }
      v.value = std::move(a);
    } else if (c == '"') {
      v.value = string();
    } else if (s_.compare(i_, 4, "true") == 0) {
      i_ += 4;
      v.value = true;
    } else if (s_.compare(i_, 5, "false") == 0) {
      i_ += 5;
      v.value = false;
    } else if (s_.compare(i_, 4, "null") == 0) {
      i_ += 4;
      v.value = nullptr;
    } else {
      const std::size_t start = i_;
      while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                                s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
        ++i_;
      }
      if (start == i_) fail("unexpected character");
      v.value = std::stod(s_.substr(start, i_ - start));
    }
    return v;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) fail("raw control character in string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) fail("bad escape");
      const char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'u': {
          if (i_ + 4 > s_.size()) fail("short \\u escape");
          const unsigned cp = static_cast<unsigned>(std::stoul(s_.substr(i_, 4), nullptr, 16));
          i_ += 4;
          if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default: fail("unknown escape");
      }
    }
    return out;
  }
  const std::string& s_;
  std::size_t i_ = 0;
};

inline json parse_json(const std::string& text) {
  return json_parser(text).parse();
}

inline std::vector<json> parse_json_lines(const std::string& text) {
  std::vector<json> out;
  for (const auto& line : lines_of(text)) {
    if (!line.empty()) out.push_back(parse_json(line));
  }
  return out;
}

// Removes a segment a test left behind (e.g. after a simulated crash).
// (On Windows a section goes with its last handle: there is nothing to remove.)
inline void remove_segment([[maybe_unused]] const std::string& name) {
#ifndef _WIN32
  ::unlink(("/dev/shm/" + (name.front() == '/' ? name.substr(1) : name)).c_str());
#endif
}

// Removes the segment when the test ends, failed assertions included.
class segment_cleanup {
 public:
  explicit segment_cleanup(std::string name) : name_(std::move(name)) {}
  ~segment_cleanup() { remove_segment(name_); }

 private:
  std::string name_;
};

}  // namespace ouroboros::test_tools
