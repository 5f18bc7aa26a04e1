#include "data/memory.hpp"

#include <cstdio>

#if defined(_WIN32)
#include <windows.h>
// After windows.h:
#include <psapi.h>
#else
#include <unistd.h>
#endif

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ouroboros::viewer {

void configure_allocator() {
#if defined(__GLIBC__)
  // Pages of rows are 160 KiB and text blocks 256 KiB: both above this, so each is a mapping of
  // its own, unmapped when the last row in it is evicted or its tab closes.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
#endif
}

void return_memory_to_system() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

std::size_t resident_bytes() {
#if defined(_WIN32)
  // The working set is Windows' resident size (not built here: docs/windows.md).
  PROCESS_MEMORY_COUNTERS counters{};
  if (!::K32GetProcessMemoryInfo(::GetCurrentProcess(), &counters, sizeof(counters))) return 0;
  return static_cast<std::size_t>(counters.WorkingSetSize);
#else
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long long total = 0;
  unsigned long long resident = 0;
  const int read = std::fscanf(statm, "%llu %llu", &total, &resident);
  std::fclose(statm);
  if (read != 2) return 0;
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
#endif
}

}  // namespace ouroboros::viewer
