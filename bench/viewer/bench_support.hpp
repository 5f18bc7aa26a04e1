// Measurement helpers shared by the viewer benchmarks: RSS, per-thread CPU from /proc,
// percentiles.
#pragma once

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace viewer_bench {

inline std::uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages_total = 0;
  std::uint64_t pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// CPU seconds (user + system) of one task of this process, from /proc/self/task/TID/stat.
inline double task_cpu_seconds(const std::string& tid) {
  std::ifstream stat("/proc/self/task/" + tid + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  // Fields after the ")" that closes the name: state is field 3, utime 14, stime 15.
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU seconds used so far by every thread of this process named `name` (0 if none).
inline double thread_cpu_seconds(const std::string& name) {
  double total = 0;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (const dirent* item = ::readdir(dir)) {
      if (item->d_name[0] == '.') continue;
      std::ifstream comm(std::string("/proc/self/task/") + item->d_name + "/comm");
      std::string thread_name;
      std::getline(comm, thread_name);
      if (thread_name == name) total += task_cpu_seconds(item->d_name);
    }
    ::closedir(dir);
  }
  return total;
}

// CPU seconds of the whole process (every thread, user + system).
inline double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

inline std::string load_average() {
  std::ifstream loadavg("/proc/loadavg");
  std::string one;
  loadavg >> one;
  return one;
}

}  // namespace viewer_bench
