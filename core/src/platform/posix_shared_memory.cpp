// POSIX implementation of the platform boundary (Linux is what is built and tested).
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
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

constexpr const char* shm_directory = "/dev/shm";

std::string shm_path(const std::string& name) {
  return shm_directory + name;
}

const char* kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "of an unknown type";
}

std::string not_regular_message(const std::string& name, mode_t mode) {
  return "'" + shm_path(name) + "' is not a regular file (it is " + kind_of(mode) + ")";
}

// Opens a name without ever blocking or following a link: O_NONBLOCK keeps a FIFO from hanging
// open() until someone opens its other end, O_NOFOLLOW refuses a symbolic link (ELOOP). A
// socket fails with ENXIO. Only a regular file is accepted; the caller gets a clear reason.
open_result open_regular(const std::string& name, int flags, mode_t mode, fd_guard& fd,
                         struct stat& st, std::string& error, const char* what) {
  fd.fd = ::shm_open(name.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
  if (fd.fd < 0) {
    const int e = errno;
    struct stat link {};
    if ((e == ELOOP || e == ENXIO || e == ENOTDIR || e == EISDIR) &&
        ::lstat(shm_path(name).c_str(), &link) == 0 && !S_ISREG(link.st_mode)) {
      error = not_regular_message(name, link.st_mode);
      return open_result::not_regular;
    }
    error = describe_errno(what, name, e);
    return classify(e);
  }
  if (::fstat(fd.fd, &st) != 0) {
    const int e = errno;
    error = describe_errno("cannot stat shared memory", name, e);
    return classify(e);
  }
  if (!S_ISREG(st.st_mode)) {
    error = not_regular_message(name, st.st_mode);
    return open_result::not_regular;
  }
  return open_result::ok;
}

object_identity identity_from(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

// ---------------------------------------------------------------------------------------------
// The fault guard.
//
// Another process (any user who may write the object: its owner, root) can shrink a segment
// while we have it mapped. A load or store past the new end then raises SIGBUS, whose default
// action kills the process: a log must never take its application or its viewer down that way.
// Decision: one process-wide SIGBUS handler that knows our mappings. On a fault inside one of
// them it maps a private anonymous zero page over the faulting page (MAP_FIXED, same
// protection), marks the mapping truncated and returns, so the faulting instruction runs again
// and reads zeros (or, for the writer, writes into memory no reader sees). Zero bytes are
// harmless to every algorithm above: an uncommitted header or row means "no data". The hot read
// path pays nothing (no setjmp per read, no check per load); shm_reader looks at the truncated
// flag once per read_next and then reports segment_truncated. The alternative, a sigsetjmp
// recovery point around each read, costs a call per read and leaves the interrupted reader in
// an unknown state, and would have to wrap every access (extension block, record decoding in
// the viewer, the writer) instead of covering the mapping once.
// Faults outside our mappings (or not caused by a missing page) go to the handler that was
// installed before ours (a sanitizer's, the application's) or get the default action.
//
// The registry is a fixed array of slots so the handler can read it without locks or
// allocation; a mapping that finds no free slot (more than max_guarded at once) works unguarded.
struct guarded_range {
  std::atomic<std::uintptr_t> begin{0};  // 0 = free (begin is stored last, with release)
  std::atomic<std::uintptr_t> end{0};
  std::atomic<int> protection{0};
  std::atomic<bool> truncated{false};
  std::atomic<bool> claimed{false};
};
constexpr std::size_t max_guarded = 4096;
guarded_range guarded[max_guarded];
std::atomic<std::size_t> guarded_high_water{0};
std::atomic<std::uintptr_t> page_size{4096};
struct sigaction previous_action {};
std::once_flag install_once;

void forward_to_previous(int signal_number, siginfo_t* info, void* context) {
  if ((previous_action.sa_flags & SA_SIGINFO) != 0 && previous_action.sa_sigaction != nullptr) {
    previous_action.sa_sigaction(signal_number, info, context);
    return;
  }
  if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN &&
      previous_action.sa_handler != nullptr) {
    previous_action.sa_handler(signal_number);
    return;
  }
  // The default action: restore it. A fault re-executes the instruction on return and the
  // kernel then applies it (core dump); a signal someone sent needs raising again.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  ::sigaction(signal_number, &default_action, nullptr);
  if (info == nullptr || info->si_code <= 0) ::raise(signal_number);
}

void* map_zero_page(std::uintptr_t page, std::uintptr_t size, int protection) noexcept {
  // The raw system call: async-signal-safe, and invisible to sanitizer interceptors, which
  // must not run inside a fault handler (the range stays what they knew it as).
#ifdef SYS_mmap
  return reinterpret_cast<void*>(
      ::syscall(SYS_mmap, page, size, protection, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
#else
  return ::mmap(reinterpret_cast<void*>(page), size, protection,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
#endif
}

void on_bus_error(int signal_number, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  if (info != nullptr && info->si_code == BUS_ADRERR) {
    const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    const std::size_t slots = guarded_high_water.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < slots && i < max_guarded; ++i) {
      guarded_range& range = guarded[i];
      const std::uintptr_t begin = range.begin.load(std::memory_order_acquire);
      if (begin == 0 || address < begin) continue;
      const std::uintptr_t end = range.end.load(std::memory_order_relaxed);
      const int protection = range.protection.load(std::memory_order_relaxed);
      if (address >= end || range.begin.load(std::memory_order_acquire) != begin) continue;
      const std::uintptr_t page_bytes = page_size.load(std::memory_order_relaxed);
      const std::uintptr_t page = address & ~(page_bytes - 1);
      range.truncated.store(true, std::memory_order_release);
      if (map_zero_page(page, page_bytes, protection) != MAP_FAILED) {
        errno = saved_errno;
        return;
      }
      break;  // could not map: nothing we can do; let the previous action decide
    }
  }
  errno = saved_errno;
  forward_to_previous(signal_number, info, context);
}

void install_handler() {
  const long bytes = ::sysconf(_SC_PAGESIZE);
  if (bytes > 0) page_size.store(static_cast<std::uintptr_t>(bytes), std::memory_order_relaxed);
  struct sigaction action {};
  action.sa_sigaction = on_bus_error;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, &previous_action);
}

int guard_range(const std::byte* data, std::size_t size, int protection) noexcept {
  if (data == nullptr || size == 0) return -1;
  std::call_once(install_once, install_handler);
  const std::uintptr_t page_bytes = page_size.load(std::memory_order_relaxed);
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t end = begin + ((size + page_bytes - 1) & ~(page_bytes - 1));
  for (std::size_t i = 0; i < max_guarded; ++i) {
    guarded_range& range = guarded[i];
    if (range.claimed.exchange(true, std::memory_order_acq_rel)) continue;
    range.end.store(end, std::memory_order_relaxed);
    range.protection.store(protection, std::memory_order_relaxed);
    range.truncated.store(false, std::memory_order_relaxed);
    range.begin.store(begin, std::memory_order_release);
    std::size_t high = guarded_high_water.load(std::memory_order_relaxed);
    while (high < i + 1 &&
           !guarded_high_water.compare_exchange_weak(high, i + 1, std::memory_order_acq_rel)) {
    }
    return static_cast<int>(i);
  }
  return -1;
}

void unguard_range(int slot) noexcept {
  if (slot < 0) return;
  guarded_range& range = guarded[slot];
  range.begin.store(0, std::memory_order_release);
  range.claimed.store(false, std::memory_order_release);
}
}  // namespace

mapping::~mapping() {
  reset();
}

mapping::mapping(mapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      identity_(other.identity_),
      owner_uid_(other.owner_uid_),
      guard_slot_(std::exchange(other.guard_slot_, -1)) {}

mapping& mapping::operator=(mapping&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    identity_ = other.identity_;
    owner_uid_ = other.owner_uid_;
    guard_slot_ = std::exchange(other.guard_slot_, -1);
  }
  return *this;
}

bool mapping::truncated() const noexcept {
  return guard_slot_ >= 0 && guarded[guard_slot_].truncated.load(std::memory_order_acquire);
}

void mapping::reset() noexcept {
  // Unguard first: once unmapped, the range may be reused by anyone.
  unguard_range(std::exchange(guard_slot_, -1));
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  identity_ = {};
  owner_uid_ = 0;
}

open_result mapping::create(const std::string& name, std::size_t size, unsigned mode, mapping& out,
                            std::string& error) {
  fd_guard fd{-1};
  struct stat st {};
  const open_result opened =
      open_regular(name, O_RDWR | O_CREAT | O_EXCL, static_cast<mode_t>(mode), fd, st, error,
                   "cannot create shared memory");
  if (opened != open_result::ok) {
    if (opened != open_result::exists && fd.fd >= 0) ::shm_unlink(name.c_str());
    return opened;
  }
  const auto fail = [&](const std::string& message, open_result result) {
    error = message;
    ::shm_unlink(name.c_str());
    return result;
  };
  // The umask may have narrowed the mode; the caller's choice wins.
  if (::fchmod(fd.fd, static_cast<mode_t>(mode)) != 0) {
    const int e = errno;
    return fail(describe_errno("cannot set the mode of shared memory", name, e), classify(e));
  }
  // Refuse what cannot fit now, with the figures; the reservation below closes the race with
  // other processes filling the file system meanwhile.
  struct statvfs space {};
  if (::fstatvfs(fd.fd, &space) == 0) {
    const unsigned long long available =
        static_cast<unsigned long long>(space.f_bavail) * space.f_frsize;
    if (size > available) {
      return fail("segment '" + name + "' needs " + std::to_string(size) + " bytes but " +
                      shm_directory + " has only " + std::to_string(available) +
                      " bytes free; choose fewer or smaller chunks, or free space there",
                  open_result::no_space);
    }
  }
  if (::ftruncate(fd.fd, static_cast<off_t>(size)) != 0) {
    const int e = errno;
    return fail(describe_errno("cannot size shared memory", name, e), classify(e));
  }
  // Reserve every page now: on a full file system a store into a page never allocated would
  // raise SIGBUS much later, in the application's logging call.
  if (const int e = ::posix_fallocate(fd.fd, 0, static_cast<off_t>(size)); e != 0) {
    if (e == ENOSPC) {
      return fail("not enough space in " + std::string(shm_directory) + " for segment '" + name +
                      "' (" + std::to_string(size) +
                      " bytes); choose fewer or smaller chunks, or free space there",
                  open_result::no_space);
    }
    return fail(describe_errno("cannot reserve shared memory", name, e), classify(e));
  }
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.fd, 0);
  if (data == MAP_FAILED) {
    const int e = errno;
    return fail(describe_errno("cannot map shared memory", name, e), classify(e));
  }
  out.reset();
  out.data_ = static_cast<std::byte*>(data);
  out.size_ = size;
  out.identity_ = identity_from(st);
  out.owner_uid_ = static_cast<std::uint32_t>(::geteuid());
  out.guard_slot_ = guard_range(out.data_, size, PROT_READ | PROT_WRITE);
  return open_result::ok;
}

open_result mapping::open(const std::string& name, bool writable, mapping& out,
                          std::string& error) {
  fd_guard fd{-1};
  struct stat st {};
  const open_result opened = open_regular(name, writable ? O_RDWR : O_RDONLY, 0, fd, st, error,
                                          "cannot open shared memory");
  if (opened != open_result::ok) return opened;
  out.reset();
  out.identity_ = identity_from(st);
  out.owner_uid_ = static_cast<std::uint32_t>(st.st_uid);
  if (st.st_size <= 0) {
    error = "shared memory '" + name + "' is empty";
    return open_result::ok;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  const int protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* data = ::mmap(nullptr, size, protection, MAP_SHARED, fd.fd, 0);
  if (data == MAP_FAILED) {
    const int e = errno;
    out.reset();
    error = describe_errno("cannot map shared memory", name, e);
    return classify(e);
  }
  out.data_ = static_cast<std::byte*>(data);
  out.size_ = size;
  out.guard_slot_ = guard_range(out.data_, size, protection);
  return open_result::ok;
}

bool identity_of(const std::string& name, object_identity& out) noexcept {
  // Open + fstat: works for any name this user can read, without mapping it; never blocks on a
  // FIFO nor follows a link, and only a regular file counts as a segment.
  try {
    fd_guard fd{-1};
    struct stat st {};
    std::string error;
    if (open_regular(name, O_RDONLY, 0, fd, st, error, "cannot open") != open_result::ok) {
      return false;
    }
    out = identity_from(st);
    return true;
  } catch (...) {
    return false;
  }
}

int unlink(const std::string& name) noexcept {
  return ::shm_unlink(name.c_str()) == 0 ? 0 : errno;
}

bool owner_of(const std::string& name, std::uint32_t& uid) noexcept {
  struct stat st {};
  if (::lstat(shm_path(name).c_str(), &st) != 0) return false;
  uid = static_cast<std::uint32_t>(st.st_uid);
  return true;
}

bool shm_directory_sticky() noexcept {
  struct stat st {};
  return ::stat(shm_directory, &st) == 0 && (st.st_mode & S_ISVTX) != 0;
}

std::uint32_t effective_uid() noexcept {
  return static_cast<std::uint32_t>(::geteuid());
}

std::string user_name(std::uint32_t uid) {
  std::vector<char> buffer(16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(static_cast<uid_t>(uid), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr) {
    return found->pw_name;
  }
  return {};
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

std::string name_problem(const std::string&) {
  return {};
}

std::size_t size_granularity() noexcept {
  return 1;
}

bool names_are_removable() noexcept {
  return true;
}

open_result reuse(const std::string& name, std::size_t, mapping&, std::string& error) {
  error = "'" + name + "' exists";  // POSIX removes and re-creates a stale name instead
  return open_result::exists;
}

void register_name(const std::string&) noexcept {}

std::uint32_t current_thread_id() noexcept {
  return static_cast<std::uint32_t>(::syscall(SYS_gettid));
}

std::uint64_t current_pid() noexcept {
  return static_cast<std::uint64_t>(::getpid());
}

bool process_exists(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  // kill() succeeds for a zombie too (killed, not yet reaped by its parent): it writes nothing
  // any more, so it counts as gone. The state is field 3 of /proc/PID/stat, after the last ')'.
  try {
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat_file, line)) return true;  // no procfs: existence alone decides
    const auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) return true;
    const char state = line[close + 2];
    return state != 'Z' && state != 'X' && state != 'x';
  } catch (...) {
    return true;
  }
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

std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

bool os_trusts_tsc() noexcept {
  // A kernel that found the TSC unreliable (unsynchronised between CPUs, stopping in idle)
  // switches away from it; then neither do we trust it.
  try {
    std::ifstream source("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string name;
    return static_cast<bool>(source >> name) && name == "tsc";
  } catch (...) {
    return false;
  }
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
