// ouroboros-bench-viewer: the viewer's benchmarks in one program.
#include <cstdio>
#include <cstring>
#include <exception>

int run_ingest_bench(int argc, char** argv);
int run_window_bench(int argc, char** argv);
int run_paint_bench(int argc, char** argv);

namespace {

constexpr const char* usage_text =
    "usage:\n"
    "  %s [--seconds S] [--view] [--no-filter] [--max-entries N]\n"
    "      sustained ingest of the data layer (optionally with a bare table view)\n"
    "  %s --window [--rate N (0 = max)] [--seconds S] [--warmup S] [--keys] [--paint-census]\n"
    "      the whole window under a real demo writer: process and GUI-thread CPU, GUI busy time\n"
    "      per tick, repaints; --keys adds key-to-paint latency\n"
    "  %s --paint [--frames N] [--width W] [--height H]\n"
    "      the cost of painting one full screen of the log view\n"
    "  %s --help\n";

bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::printf(usage_text, argv[0], argv[0], argv[0], argv[0]);
    return 0;
  }
  try {
    if (argc > 1 && std::strcmp(argv[1], "--window") == 0) return run_window_bench(argc, argv);
    if (argc > 1 && std::strcmp(argv[1], "--paint") == 0) return run_paint_bench(argc, argv);
    return run_ingest_bench(argc, argv);
  } catch (const std::exception& error) {
    // std::stod and friends on a malformed option value
    std::fprintf(stderr, "%s: invalid argument (%s); see --help\n", argv[0], error.what());
    return 2;
  }
}
