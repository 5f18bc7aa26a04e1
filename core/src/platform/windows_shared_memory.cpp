// Windows implementation of the platform boundary (the one place that includes <windows.h>).
// docs/format.md, "Windows", is the contract this file implements:
//  - a segment "/name" is the paging-file-backed section "Local\name" (or "Global\name" when
//    OUROBOROS_WINDOWS_NAMESPACE=Global), created with a DACL that admits only the creating user,
//    SYSTEM and Administrators (plus read access for Authenticated Users when the mode grants
//    read to others), mapped read-write by the writer and FILE_MAP_READ by readers;
//  - sizes are whole pages: VirtualQuery reports the rounded size, so the writer uses all of it;
//  - a section lives until its last handle closes: there is no unlink; a stale name still held
//    by readers is taken over in place (reuse);
//  - discovery: writers register in %LOCALAPPDATA%\ouroboros\segments (one empty file per
//    name); list_names returns the registered names whose section still exists and prunes
//    the others.
#include <windows.h>
// After windows.h:
#include <bcrypt.h>
#include <sddl.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "shared_memory.hpp"

namespace ouroboros::platform {

namespace {

std::wstring widen(const std::string& text) {
  if (text.empty()) return {};
  const int needed =
      ::MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
  if (needed <= 0) {
    // Not UTF-8: keep the bytes as Latin-1 so every name still maps to exactly one object.
    return std::wstring(text.begin(), text.end());
  }
  std::wstring wide(static_cast<std::size_t>(needed), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), wide.data(),
                        needed);
  return wide;
}

std::string narrow(const std::wstring& text) {
  if (text.empty()) return {};
  const int needed = ::WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()),
                                           nullptr, 0, nullptr, nullptr);
  if (needed <= 0) return {};
  std::string out(static_cast<std::size_t>(needed), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), needed,
                        nullptr, nullptr);
  return out;
}

bool global_namespace() {
  const char* value = std::getenv("OUROBOROS_WINDOWS_NAMESPACE");
  return value != nullptr &&
         (std::strcmp(value, "Global") == 0 || std::strcmp(value, "global") == 0);
}

// "/name" -> L"Local\name" (the leading '/' is the portable spelling, not part of the object).
std::wstring object_name(const std::string& name) {
  const std::string bare = !name.empty() && name.front() == '/' ? name.substr(1) : name;
  return (global_namespace() ? L"Global\\" : L"Local\\") + widen(bare);
}

std::string describe_error(const char* what, const std::string& name, DWORD error) {
  wchar_t* text = nullptr;
  ::FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, error, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  std::string message = text != nullptr ? narrow(text) : std::string();
  if (text != nullptr) ::LocalFree(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                              message.back() == ' ' || message.back() == '.')) {
    message.pop_back();
  }
  if (message.empty()) message = "error " + std::to_string(error);
  return std::string(what) + " '" + name + "': " + message + " (Windows error " +
         std::to_string(error) + ")";
}

open_result classify(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return open_result::missing;
    case ERROR_ALREADY_EXISTS: return open_result::exists;
    case ERROR_ACCESS_DENIED: return open_result::permission;
    // The name belongs to another kind of kernel object (an event, a mutex, ...).
    case ERROR_INVALID_HANDLE: return open_result::not_regular;
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_COMMITMENT_MINIMUM:
    case ERROR_DISK_FULL: return open_result::no_space;
    default: return open_result::failed;
  }
}

struct handle_guard {
  HANDLE handle = nullptr;
  ~handle_guard() {
    if (handle != nullptr) ::CloseHandle(handle);
  }
};

std::size_t page_bytes() noexcept {
  SYSTEM_INFO info{};
  ::GetSystemInfo(&info);
  return info.dwPageSize == 0 ? 4096 : info.dwPageSize;
}

// The size of the view at `data`: whole pages, as Windows maps them.
std::size_t view_size(const void* data) noexcept {
  MEMORY_BASIC_INFORMATION info{};
  if (::VirtualQuery(data, &info, sizeof(info)) == 0) return 0;
  return info.RegionSize;
}

// The string SID of this process's user ("S-1-5-21-..."), or "" if unknown.
std::wstring current_user_sid() {
  handle_guard token;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token.handle)) return {};
  DWORD needed = 0;
  ::GetTokenInformation(token.handle, TokenUser, nullptr, 0, &needed);
  if (needed == 0) return {};
  std::string buffer(needed, '\0');
  if (!::GetTokenInformation(token.handle, TokenUser, buffer.data(), needed, &needed)) return {};
  const auto* user = reinterpret_cast<const TOKEN_USER*>(buffer.data());
  wchar_t* text = nullptr;
  if (!::ConvertSidToStringSidW(user->User.Sid, &text)) return {};
  std::wstring sid = text;
  ::LocalFree(text);
  return sid;
}

// The twin of mode 0600: a protected DACL (nothing inherited) with full access for the creating
// user, SYSTEM (SY) and the Administrators group (BA); "others may read" (mode & 0004) adds
// map-read + query for Authenticated Users (AU). Group bits have no Windows counterpart.
std::wstring security_descriptor_sddl(unsigned mode, const std::wstring& user) {
  std::wstring sddl = L"D:P(A;;GA;;;" + user + L")(A;;GA;;;SY)(A;;GA;;;BA)";
  if ((mode & 0004U) != 0) sddl += L"(A;;0x0005;;;AU)";  // SECTION_QUERY | SECTION_MAP_READ
  return sddl;
}

// --- discovery -------------------------------------------------------------------------------

std::filesystem::path registry_directory() {
  std::filesystem::path base;
  if (const wchar_t* local = ::_wgetenv(L"LOCALAPPDATA"); local != nullptr && *local != L'\0') {
    base = local;
  } else {
    std::error_code ignored;
    base = std::filesystem::temp_directory_path(ignored);
  }
  return base / L"ouroboros" / (global_namespace() ? L"segments-global" : L"segments");
}

// File names carry the segment name percent-encoded: '/', ':', '*', '?' and the like cannot
// appear in a file name, and case-insensitive file names must not merge "/A" and "/a".
std::wstring encode_entry(const std::string& name) {
  static const char hex[] = "0123456789abcdef";
  std::wstring out;
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || byte == '-' ||
        byte == '_' || byte == '.') {
      out.push_back(static_cast<wchar_t>(byte));
    } else {
      out.push_back(L'%');
      out.push_back(static_cast<wchar_t>(hex[byte >> 4]));
      out.push_back(static_cast<wchar_t>(hex[byte & 15]));
    }
  }
  return out + L".segment";
}

bool decode_entry(const std::wstring& file, std::string& name) {
  const std::wstring suffix = L".segment";
  if (file.size() <= suffix.size() ||
      file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  const auto hex_value = [](wchar_t c) -> int {
    if (c >= L'0' && c <= L'9') return c - L'0';
    if (c >= L'a' && c <= L'f') return c - L'a' + 10;
    if (c >= L'A' && c <= L'F') return c - L'A' + 10;
    return -1;
  };
  name.clear();
  const std::size_t stem = file.size() - suffix.size();
  for (std::size_t i = 0; i < stem; ++i) {
    if (file[i] == L'%') {
      if (i + 2 >= stem) return false;
      const int high = hex_value(file[i + 1]);
      const int low = hex_value(file[i + 2]);
      if (high < 0 || low < 0) return false;
      name.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (file[i] < 0x80) {
      name.push_back(static_cast<char>(file[i]));
    } else {
      return false;
    }
  }
  return name.size() > 1 && name.front() == '/';
}

bool section_exists(const std::string& name) {
  HANDLE section = ::OpenFileMappingW(FILE_MAP_READ, FALSE, object_name(name).c_str());
  if (section != nullptr) {
    ::CloseHandle(section);
    return true;
  }
  // Exists but not ours to open: still a name in use (list shows what it can read only).
  return ::GetLastError() == ERROR_ACCESS_DENIED;
}

std::uint64_t filetime_to_unix_ns(const FILETIME& time) noexcept {
  const std::uint64_t ticks =
      (static_cast<std::uint64_t>(time.dwHighDateTime) << 32) | time.dwLowDateTime;
  constexpr std::uint64_t epoch_difference = 116444736000000000ULL;  // 1601 -> 1970, 100 ns
  if (ticks < epoch_difference) return 0;
  return (ticks - epoch_difference) * 100;
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
      guard_slot_(std::exchange(other.guard_slot_, -1)),
      section_(std::exchange(other.section_, nullptr)) {}

mapping& mapping::operator=(mapping&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    identity_ = other.identity_;
    owner_uid_ = other.owner_uid_;
    guard_slot_ = std::exchange(other.guard_slot_, -1);
    section_ = std::exchange(other.section_, nullptr);
  }
  return *this;
}

// A section's size is fixed when it is created: nobody can shrink it under a view.
bool mapping::truncated() const noexcept {
  return false;
}

void mapping::reset() noexcept {
  if (data_ != nullptr) ::UnmapViewOfFile(data_);
  if (section_ != nullptr) ::CloseHandle(static_cast<HANDLE>(section_));
  section_ = nullptr;
  data_ = nullptr;
  size_ = 0;
  identity_ = {};
  owner_uid_ = 0;
  guard_slot_ = -1;
}

open_result mapping::create(const std::string& name, std::size_t size, unsigned mode, mapping& out,
                            std::string& error) {
  const std::wstring user = current_user_sid();
  if (user.empty()) {
    error = describe_error("cannot find the current user's SID for shared memory", name,
                           ::GetLastError());
    return open_result::failed;
  }
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(
          security_descriptor_sddl(mode, user).c_str(), SDDL_REVISION_1, &descriptor, nullptr)) {
    error = describe_error("cannot build the security descriptor for shared memory", name,
                           ::GetLastError());
    return open_result::failed;
  }
  SECURITY_ATTRIBUTES attributes{};
  attributes.nLength = sizeof(attributes);
  attributes.lpSecurityDescriptor = descriptor;
  attributes.bInheritHandle = FALSE;
  const auto size64 = static_cast<std::uint64_t>(size);
  // SEC_COMMIT charges every page against the commit limit now: a machine without room fails
  // here, with a clear error, not with an access violation in a later logging call.
  handle_guard section{
      ::CreateFileMappingW(INVALID_HANDLE_VALUE, &attributes, PAGE_READWRITE | SEC_COMMIT,
                           static_cast<DWORD>(size64 >> 32),
                           static_cast<DWORD>(size64 & 0xFFFFFFFFU), object_name(name).c_str())};
  const DWORD created_error = ::GetLastError();
  ::LocalFree(descriptor);
  if (section.handle == nullptr) {
    error = describe_error("cannot create shared memory", name, created_error);
    return classify(created_error);
  }
  if (created_error == ERROR_ALREADY_EXISTS) {
    // CreateFileMapping opened someone else's section: it is not ours to size or own.
    error = "shared memory '" + name + "' exists";
    return open_result::exists;
  }
  void* data = ::MapViewOfFile(section.handle, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
  if (data == nullptr) {
    const DWORD e = ::GetLastError();
    error = describe_error("cannot map shared memory", name, e);
    return classify(e);
  }
  out.reset();
  out.data_ = static_cast<std::byte*>(data);
  out.size_ = view_size(data);
  out.owner_uid_ = 0;
  out.section_ = std::exchange(section.handle, nullptr);
  return open_result::ok;
}

namespace {
open_result open_view(const std::string& name, bool writable, mapping& out, std::byte*& data,
                      std::size_t& size, HANDLE& handle, std::string& error) {
  const DWORD access = writable ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ;
  handle_guard section{::OpenFileMappingW(access, FALSE, object_name(name).c_str())};
  if (section.handle == nullptr) {
    const DWORD e = ::GetLastError();
    error = describe_error("cannot open shared memory", name, e);
    if (e == ERROR_INVALID_HANDLE) {
      error = "'" + name +
              "' is not a shared-memory section (the name belongs to another kind "
              "of Windows object)";
    }
    return classify(e);
  }
  void* view = ::MapViewOfFile(section.handle, access, 0, 0, 0);
  if (view == nullptr) {
    const DWORD e = ::GetLastError();
    error = describe_error("cannot map shared memory", name, e);
    return classify(e);
  }
  out.reset();
  data = static_cast<std::byte*>(view);
  size = view_size(view);
  handle = std::exchange(section.handle, nullptr);
  return open_result::ok;
}
}  // namespace

open_result mapping::open(const std::string& name, bool writable, mapping& out,
                          std::string& error) {
  std::byte* data = nullptr;
  std::size_t size = 0;
  HANDLE handle = nullptr;
  const open_result opened = open_view(name, writable, out, data, size, handle, error);
  if (opened != open_result::ok) return opened;
  out.data_ = data;
  out.size_ = size;
  out.section_ = handle;
  return open_result::ok;
}

open_result reuse(const std::string& name, std::size_t size, mapping& out, std::string& error) {
  const open_result opened = mapping::open(name, true, out, error);
  if (opened != open_result::ok) return opened;
  if (out.size() < size) {
    error = "segment '" + name + "' is still held open by readers of a previous writer and holds " +
            std::to_string(out.size()) + " bytes, fewer than the " + std::to_string(size) +
            " needed; close those readers, or choose fewer or smaller chunks or another name";
    out.reset();
    return open_result::exists;
  }
  return open_result::ok;
}

bool identity_of(const std::string& name, object_identity& out) noexcept {
  // No inode: the identity of a section is its incarnation id, which segment.cpp reads.
  out = {};
  try {
    HANDLE section = ::OpenFileMappingW(FILE_MAP_READ, FALSE, object_name(name).c_str());
    if (section == nullptr) return false;
    ::CloseHandle(section);
    return true;
  } catch (...) {
    return false;
  }
}

int unlink(const std::string& name) noexcept {
  // A section has no name to remove: it disappears with its last handle. Forget it in the
  // discovery directory so `list` stops probing it.
  try {
    std::error_code ignored;
    std::filesystem::remove(registry_directory() / encode_entry(name), ignored);
  } catch (...) {
  }
  return 0;
}

bool owner_of(const std::string& name, std::uint32_t& uid) noexcept {
  uid = 0;
  object_identity ignored;
  return identity_of(name, ignored);
}

bool shm_directory_sticky() noexcept {
  return false;
}

std::uint32_t effective_uid() noexcept {
  return 0;  // Windows has SIDs, not numeric user ids; sections are per-user by their DACL
}

std::string user_name(std::uint32_t) {
  wchar_t buffer[256];
  DWORD length = 256;
  if (::GetUserNameW(buffer, &length) && length > 0)
    return narrow(std::wstring(buffer, length - 1));
  return {};
}

std::string name_problem(const std::string& canonical) {
  if (canonical.find('\\') != std::string::npos) {
    return "segment name '" + canonical +
           "' contains '\\', which Windows reserves for kernel object namespaces (choose the "
           "namespace with OUROBOROS_WINDOWS_NAMESPACE=Global instead)";
  }
  return {};
}

std::size_t size_granularity() noexcept {
  return page_bytes();
}

bool names_are_removable() noexcept {
  return false;
}

void register_name(const std::string& name) noexcept {
  try {
    const std::filesystem::path directory = registry_directory();
    std::error_code ignored;
    std::filesystem::create_directories(directory, ignored);
    std::ofstream entry(directory / encode_entry(name), std::ios::binary | std::ios::trunc);
  } catch (...) {
  }
}

std::vector<std::string> list_names() {
  std::vector<std::string> names;
  try {
    std::error_code error;
    const std::filesystem::path directory = registry_directory();
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
      std::string name;
      if (!decode_entry(entry.path().filename().wstring(), name)) continue;
      if (section_exists(name)) {
        names.push_back(name);
      } else {
        // The section's last handle closed: the writer and every reader are gone.
        std::error_code ignored;
        std::filesystem::remove(entry.path(), ignored);
      }
    }
  } catch (...) {
  }
  return names;
}

std::uint64_t current_pid() noexcept {
  return ::GetCurrentProcessId();
}

std::uint32_t current_thread_id() noexcept {
  return ::GetCurrentThreadId();
}

bool process_exists(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > 0xFFFFFFFFULL) return false;
  HANDLE process = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE,
                                 static_cast<DWORD>(pid));
  if (process == nullptr) {
    // Exists but belongs to someone we may not query: alive as far as we can tell.
    return ::GetLastError() == ERROR_ACCESS_DENIED;
  }
  // A terminated process whose handles are still open somewhere keeps its id: it is gone. The
  // wait tells a process that exited with code 259 (STILL_ACTIVE) from a running one.
  DWORD code = 0;
  const bool running = ::GetExitCodeProcess(process, &code) && code == STILL_ACTIVE &&
                       ::WaitForSingleObject(process, 0) != WAIT_OBJECT_0;
  ::CloseHandle(process);
  return running;
}

std::uint64_t process_start_unix_ns(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > 0xFFFFFFFFULL) return 0;
  HANDLE process = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (process == nullptr) return 0;
  FILETIME created{}, exited{}, kernel{}, user{};
  const bool ok = ::GetProcessTimes(process, &created, &exited, &kernel, &user);
  ::CloseHandle(process);
  return ok ? filetime_to_unix_ns(created) : 0;
}

std::uint64_t realtime_ns() noexcept {
  FILETIME now{};
  ::GetSystemTimePreciseAsFileTime(&now);
  return filetime_to_unix_ns(now);
}

std::uint64_t monotonic_ns() noexcept {
  static const std::uint64_t frequency = [] {
    LARGE_INTEGER value{};
    ::QueryPerformanceFrequency(&value);
    return value.QuadPart > 0 ? static_cast<std::uint64_t>(value.QuadPart) : 1;
  }();
  LARGE_INTEGER counter{};
  ::QueryPerformanceCounter(&counter);
  const auto ticks = static_cast<std::uint64_t>(counter.QuadPart);
  // Split so ticks * 1e9 cannot overflow for counters running for years.
  return ticks / frequency * 1'000'000'000ULL + ticks % frequency * 1'000'000'000ULL / frequency;
}

bool os_trusts_tsc() noexcept {
  // Windows derives QueryPerformanceCounter from the invariant TSC where there is one and checks
  // its synchronisation across processors itself; the record clock then calibrates the TSC
  // against QueryPerformanceCounter like it does against CLOCK_MONOTONIC on Linux.
  return true;
}

std::uint64_t random_u64() noexcept {
  std::uint64_t value = 0;
  if (!BCRYPT_SUCCESS(::BCryptGenRandom(nullptr, reinterpret_cast<PUCHAR>(&value), sizeof(value),
                                        BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
    value = 0;
  }
  value ^= realtime_ns() * 0x9E3779B97F4A7C15ULL ^ (current_pid() << 17);
  return value == 0 ? 1 : value;
}

}  // namespace ouroboros::platform
