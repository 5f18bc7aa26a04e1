// POSIX implementation of the platform boundary (Linux is what is built and tested).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "shared_memory.hpp"

namespace ouroboros::platform {

namespace {
std::string describe_errno(const char* what, const std::string& name, int error) {
  return std::string(what) + " '" + name + "': " + std::strerror(error);
}

open_result classify(int error) {
  switch (error) {
    case ENOENT: return open_result::missing;
    case EEXIST: return open_result::exists;
    case EACCES:
    case EPERM: return open_result::permission;
    default: return open_result::failed;
  }
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

mapping::~mapping() {
  reset();
}

mapping::mapping(mapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      identity_(other.identity_) {}

mapping& mapping::operator=(mapping&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    identity_ = other.identity_;
  }
  return *this;
}

void mapping::reset() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  identity_ = {};
}

open_result mapping::create(const std::string& name, std::size_t size, unsigned mode, mapping& out,
                            std::string& error) {
  fd_guard fd{
      ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode))};
  if (fd.fd < 0) {
    const int e = errno;
    error = describe_errno("cannot create shared memory", name, e);
    return classify(e);
  }
  // The umask may have narrowed the mode; the caller's choice wins.
  if (::fchmod(fd.fd, static_cast<mode_t>(mode)) != 0 ||
      ::ftruncate(fd.fd, static_cast<off_t>(size)) != 0) {
    const int e = errno;
    error = describe_errno("cannot size shared memory", name, e);
    ::shm_unlink(name.c_str());
    return classify(e);
  }
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.fd, 0);
  if (data == MAP_FAILED) {
    const int e = errno;
    error = describe_errno("cannot map shared memory", name, e);
    ::shm_unlink(name.c_str());
    return classify(e);
  }
  struct stat st {};
  ::fstat(fd.fd, &st);
  out.reset();
  out.data_ = static_cast<std::byte*>(data);
  out.size_ = size;
  out.identity_ = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  return open_result::ok;
}

open_result mapping::open(const std::string& name, bool writable, mapping& out,
                          std::string& error) {
  fd_guard fd{::shm_open(name.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0)};
  if (fd.fd < 0) {
    const int e = errno;
    error = describe_errno("cannot open shared memory", name, e);
    return classify(e);
  }
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) {
    const int e = errno;
    error = describe_errno("cannot stat shared memory", name, e);
    return classify(e);
  }
  if (st.st_size <= 0) {
    error = "shared memory '" + name + "' is empty";
    out.reset();
    out.identity_ = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
    return open_result::ok;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* data =
      ::mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd.fd, 0);
  if (data == MAP_FAILED) {
    const int e = errno;
    error = describe_errno("cannot map shared memory", name, e);
    return classify(e);
  }
  out.reset();
  out.data_ = static_cast<std::byte*>(data);
  out.size_ = size;
  out.identity_ = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  return open_result::ok;
}

bool identity_of(const std::string& name, object_identity& out) noexcept {
  // O_RDONLY open + fstat: works for any name this user can read, without mapping it.
  const int fd = ::shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return false;
  struct stat st {};
  const bool ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  if (ok) out = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  return ok;
}

bool unlink(const std::string& name) noexcept {
  return ::shm_unlink(name.c_str()) == 0;
}

std::vector<std::string> list_names() {
  std::vector<std::string> names;
  DIR* dir = ::opendir("/dev/shm");
  if (dir == nullptr) return names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string file = entry->d_name;
    if (file == "." || file == ".." || file.rfind("sem.", 0) == 0) continue;
    if (entry->d_type != DT_REG && entry->d_type != DT_UNKNOWN) continue;
    names.push_back("/" + file);
  }
  ::closedir(dir);
  return names;
}

std::uint64_t current_pid() noexcept {
  return static_cast<std::uint64_t>(::getpid());
}

bool process_exists(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::uint64_t process_start_unix_ns(std::uint64_t pid) noexcept {
  try {
    // Field 22 of /proc/PID/stat is the start time in clock ticks after boot; the command name
    // (field 2) may contain spaces and parentheses, so parse after the last ')'.
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat_file, line)) return 0;
    const auto close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    unsigned long long start_ticks = 0;
    for (int index = 3; fields >> field; ++index) {
      if (index == 22) {
        start_ticks = std::stoull(field);
        break;
      }
    }
    std::ifstream proc_stat("/proc/stat");
    unsigned long long boot_seconds = 0;
    while (std::getline(proc_stat, line)) {
      if (line.rfind("btime ", 0) == 0) boot_seconds = std::stoull(line.substr(6));
    }
    if (boot_seconds == 0) return 0;
    const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    if (ticks_per_second <= 0) return 0;
    return boot_seconds * 1'000'000'000ULL +
           start_ticks * (1'000'000'000ULL / static_cast<unsigned long long>(ticks_per_second));
  } catch (...) {
    return 0;
  }
}

std::uint64_t realtime_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t random_u64() noexcept {
  std::uint64_t value = 0;
  try {
    std::random_device device;
    value = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  } catch (...) {
  }
  // Mix in time and pid so two creations never share an id even without an entropy source.
  value ^= realtime_ns() * 0x9E3779B97F4A7C15ULL ^ (current_pid() << 17);
  return value == 0 ? 1 : value;
}

}  // namespace ouroboros::platform
