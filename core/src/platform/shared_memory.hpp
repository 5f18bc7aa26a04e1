// The platform boundary: named shared memory and process facts. Everything above this header
// works on byte spans; only the implementation files below it include operating-system headers
// (posix_shared_memory.cpp is the one place that includes <sys/mman.h>;
// windows_shared_memory.cpp the one that includes <windows.h>). docs/format.md, "Windows", says
// what the Windows implementation maps each function to.
//
// Thread-safety: mapping objects are not thread-safe; the free functions are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ouroboros::platform {

// not_regular: the name is not a regular file (FIFO, symbolic link, directory, socket, device);
// the error text says which. no_space: the file system cannot hold the requested size.
enum class open_result { ok, missing, exists, permission, failed, not_regular, no_space };

// Identifies the object behind a name, to tell when a name was re-created.
struct object_identity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  bool operator==(const object_identity&) const = default;
};

class mapping {
 public:
  mapping() = default;
  ~mapping();
  mapping(const mapping&) = delete;
  mapping& operator=(const mapping&) = delete;
  mapping(mapping&& other) noexcept;
  mapping& operator=(mapping&& other) noexcept;

  // Creates `name` exclusively (fails with `exists` if it is there), sized, with every page
  // reserved (a full file system fails here, not with SIGBUS later), and mapped read-write.
  static open_result create(const std::string& name, std::size_t size, unsigned mode, mapping& out,
                            std::string& error);
  // Opens an existing object read-only (or read-write) and maps all of it. Never blocks (a FIFO)
  // and never follows a symbolic link: anything but a regular file is `not_regular`.
  static open_result open(const std::string& name, bool writable, mapping& out, std::string& error);

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  object_identity identity() const noexcept { return identity_; }
  std::uint32_t owner_uid() const noexcept { return owner_uid_; }
  // True once a load or store in this mapping faulted because the object shrank (see
  // fault_guard below); the pages past the end then read as zeros.
  bool truncated() const noexcept;
  void reset() noexcept;

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  object_identity identity_;
  std::uint32_t owner_uid_ = 0;
  int guard_slot_ = -1;  // this mapping's entry in the fault guard's registry, -1 if none
  // Windows: the section handle, held as long as the view. A name disappears when its last
  // handle closes, even while views remain, so readers and writer each keep one.
  void* section_ = nullptr;
};

// The identity of whatever `name` refers to now; false when it does not exist.
bool identity_of(const std::string& name, object_identity& out) noexcept;
// 0 on success, else the errno value (EPERM/EACCES: not ours to remove, e.g. sticky /dev/shm).
int unlink(const std::string& name) noexcept;
// The owner of whatever `name` refers to (not following a link); false if it does not exist.
bool owner_of(const std::string& name, std::uint32_t& uid) noexcept;
// Whether /dev/shm has the sticky bit: then only a file's owner (or root) may remove it.
bool shm_directory_sticky() noexcept;
std::uint32_t effective_uid() noexcept;
// The login name of a user id, or "" if unknown.
std::string user_name(std::uint32_t uid);
// Names (with their leading '/') of every shared-memory object this user can see.
std::vector<std::string> list_names();

// Why `canonical` (a name that passed the portable checks) cannot name a segment on this
// platform, or "" if it can (Windows: no backslash, which would reach into another namespace).
std::string name_problem(const std::string& canonical);
// Segment sizes are rounded up to this (1 on POSIX; the page size on Windows, where a view's
// mapped size is always whole pages and readers take the ring's end from it).
std::size_t size_granularity() noexcept;
// False where a name cannot be removed while others hold it open (Windows: a mapping lives until
// its last handle closes). Then identity() is meaningless too and re-creation is recognised by
// the extension block's incarnation id; a stale segment is taken over in place (mapping::reuse).
bool names_are_removable() noexcept;
// Opens an existing object read-write for a take-over in place; fails (`exists`) when it holds
// fewer than `size` bytes.
open_result reuse(const std::string& name, std::size_t size, mapping& out, std::string& error);
// Tells the per-user discovery directory that a writer created `name` (Windows; a no-op on POSIX,
// where list_names reads /dev/shm). Failures are ignored: listing is best effort.
void register_name(const std::string& name) noexcept;

std::uint64_t current_pid() noexcept;
std::uint32_t current_thread_id() noexcept;
// Start time of a process as unix nanoseconds (0 if unknown or gone).
std::uint64_t process_start_unix_ns(std::uint64_t pid) noexcept;
// False for a process that does not exist or is a zombie (killed, not reaped: state Z or X).
bool process_exists(std::uint64_t pid) noexcept;
std::uint64_t realtime_ns() noexcept;
// A clock that never steps (CLOCK_MONOTONIC; QueryPerformanceCounter on Windows), in ns.
std::uint64_t monotonic_ns() noexcept;
// Whether the operating system itself relies on the TSC (Linux: it is the clocksource; Windows:
// QueryPerformanceCounter runs at the TSC's invariant rate), so the record clock may use it.
bool os_trusts_tsc() noexcept;
std::uint64_t random_u64() noexcept;

}  // namespace ouroboros::platform
