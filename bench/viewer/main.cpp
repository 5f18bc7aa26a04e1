// ouroboros-bench-viewer: the viewer's benchmarks in one program.
//
//   ouroboros-bench-viewer [--seconds 10] [--view] [--no-filter] [--max-entries N]
//       sustained ingest of the data layer (optionally with a bare table view)
//   ouroboros-bench-viewer --window [--rate N] [--seconds S] [--warmup S] [--keys]
//       the whole window under a real demo writer: CPU, GUI busy time per tick, key-to-paint
#include <cstdio>
#include <cstring>

int run_ingest_bench(int argc, char** argv);
int run_window_bench(int argc, char** argv);
int run_paint_bench(int argc, char** argv);

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::printf(
        "usage: %s [--seconds S] [--view] [--no-filter] [--max-entries N]\n"
        "         sustained ingest of the data layer (optionally with a bare table view)\n"
        "       %s --window [--rate N (0 = max)] [--seconds S] [--warmup S] [--keys] "
        "[--paint-census]\n"
        "         the whole window under a real demo writer: CPU, GUI busy time, key-to-paint\n"
        "       %s --paint [--frames N] [--width W] [--height H]\n"
        "         paint cost of the table\n",
        argv[0], argv[0], argv[0]);
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "--window") == 0) return run_window_bench(argc, argv);
  if (argc > 1 && std::strcmp(argv[1], "--paint") == 0) return run_paint_bench(argc, argv);
  return run_ingest_bench(argc, argv);
}
