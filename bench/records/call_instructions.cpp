// Instructions per log call, counted by Callgrind: the one figure of the call's cost that does
// not move with the machine's load (docs/performance.md, "The call's own instructions").
//
//   valgrind --tool=callgrind --callgrind-out-file=calls.out
//       build/release/bin/ouroboros-bench-call-instructions [staged|many] [deferred|text]
//   (one command line)
//   callgrind_annotate --inclusive=yes calls.out | grep -E 'log_(int_string|constant)\('
//
// Each of the two call sites below is its own function, called `calls` times; the inclusive
// count of each divided by `calls` is the instructions of one call, drain excluded (the queues
// are drained by flush(), outside those functions; no maintenance thread).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "ouroboros/logger.hpp"

namespace {
constexpr int calls = 100'000;
const std::string peer = "10.1.2.3:443";

[[gnu::noinline]] void log_int_string(ouroboros::logger& log, int i) {
  log.info("net", "sent {} bytes to {}", i, peer);
}
[[gnu::noinline]] void log_constant(ouroboros::logger& log) {
  log.info("bench", "constant message without arguments");
}
}  // namespace

int main(int argc, char** argv) {
  ouroboros::logger_options options;
  options.threading = argc > 1 && std::strcmp(argv[1], "many") == 0 ? ouroboros::producers::many
                                                                    : ouroboros::producers::staged;
  options.deferred_format = !(argc > 2 && std::strcmp(argv[2], "text") == 0);
  options.maintenance_thread = false;
  ouroboros::logger log("ouroboros-bench-calls-" + std::to_string(::getpid()), options);
  for (int batch = 0; batch < calls / 1000; ++batch) {
    for (int i = 0; i < 1000; ++i) {
      log_int_string(log, i);
      log_constant(log);
    }
    log.flush();
  }
  std::printf("%d calls of each: %s, %s records\n", calls,
              options.threading == ouroboros::producers::many ? "many" : "staged",
              options.deferred_format ? "deferred" : "text");
}
