// Prints the forged-table campaign's rates (see corruption_campaign.hpp).
//
// Usage: ouroboros-corruption-campaign [TRIALS [SEED]]   (defaults: 20000, 1)
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "corruption_campaign.hpp"

int main(int argc, char** argv) {
  using namespace ouroboros;
  namespace cc = ouroboros::test::campaign;
  const std::uint64_t trials = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  const std::uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  std::printf("forged-table campaign: %llu corrupted rings per start mode, seed %llu\n",
              static_cast<unsigned long long>(trials), static_cast<unsigned long long>(seed));
  for (const auto how : {cc::corruption::targeted, cc::corruption::uniform}) {
    for (const auto start : {start_position::oldest, start_position::newest}) {
      const auto begin = std::chrono::steady_clock::now();
      const cc::totals t = cc::run(seed, trials, start, how);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
      std::printf(
          "%-8s start %-6s: bad (duplicate or backwards) %6.3f %% (%llu)  duplicate %llu  "
          "backwards %llu  misnumbered %6.3f %%  genuine entries delivered %llu  rows rejected "
          "%llu  (%.1f s)\n",
          how == cc::corruption::targeted ? "targeted" : "uniform",
          start == start_position::oldest ? "oldest" : "newest", 100.0 * t.rate(),
          static_cast<unsigned long long>(t.bad), static_cast<unsigned long long>(t.duplicate),
          static_cast<unsigned long long>(t.backwards),
          100.0 * static_cast<double>(t.misnumbered) / static_cast<double>(t.trials),
          static_cast<unsigned long long>(t.delivered),
          static_cast<unsigned long long>(t.rows_rejected), seconds);
    }
  }
  return 0;
}
