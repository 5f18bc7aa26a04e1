// demo_writer's rate accuracy, measured from outside: a reader counts sequence numbers over
// wall-clock time while the real binary writes. Timing-sensitive, so kept out of sanitizer runs.
#include <gtest/gtest.h>

#include <cstdio>

#include "ouroboros/segment.hpp"
#include "tool_support.hpp"

namespace {

using namespace ouroboros;
using namespace ouroboros::test_tools;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Reads everything available; returns the newest sequence number seen (0 before any entry).
std::uint64_t drain(shm_reader& reader, std::uint64_t newest) {
  for (int i = 0; i < 1'000'000; ++i) {
    const read_result r = reader.read_next();
    if (r.status == read_status::ok) {
      newest = r.sequence;
    } else if (r.status == read_status::lapped) {
      newest = reader.ring().position_sequence();
    } else {
      break;
    }
  }
  return newest;
}

// Starts the writer, lets it settle, then measures entries/s over `window` by sequence numbers.
double measured_rate(const std::vector<std::string>& extra, std::chrono::milliseconds window) {
  const std::string name = unique_segment("rate");
  std::vector<std::string> args = {bin("ouroboros-demo-writer"), "-s", name, "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  process writer(args);
  std::unique_ptr<shm_reader> reader;
  const auto give_up = steady::now() + 5s;
  while (!reader && steady::now() < give_up) {
    try {
      reader = std::make_unique<shm_reader>(name, start_position::oldest);
    } catch (const segment_error&) {
      std::this_thread::sleep_for(5ms);
    }
  }
  if (!reader) {
    ADD_FAILURE() << "the writer never created " << name << ": " << writer.err();
    return 0;
  }
  std::uint64_t newest = 0;
  const auto settle_end = steady::now() + 300ms;
  while (steady::now() < settle_end) {
    newest = drain(*reader, newest);
    std::this_thread::sleep_for(2ms);
  }
  newest = drain(*reader, newest);
  const auto t0 = steady::now();
  const std::uint64_t s0 = newest;
  while (steady::now() < t0 + window) {
    std::this_thread::sleep_for(2ms);
    newest = drain(*reader, newest);
  }
  newest = drain(*reader, newest);
  const auto t1 = steady::now();
  const std::uint64_t s1 = newest;
#ifdef _WIN32
  writer.signal(9);  // no console for Ctrl-Break under a headless Wine
  EXPECT_EQ(writer.wait(), 137) << writer.err();
#else
  writer.signal(SIGINT);
  EXPECT_EQ(writer.wait(), 0) << writer.err();
#endif
  return static_cast<double>(s1 - s0) / std::chrono::duration<double>(t1 - t0).count();
}

class RateAccuracy : public ::testing::TestWithParam<int> {};

TEST_P(RateAccuracy, HeldWithinThreePercent) {
  const int target = GetParam();
  const double rate = measured_rate({"--rate", std::to_string(target)}, 2000ms);
  std::printf("target %d/s: measured %.1f/s (%+.2f %%)\n", target, rate,
              (rate - target) * 100.0 / target);
  EXPECT_NEAR(rate, target, target * 0.03) << "target " << target << "/s";
}

INSTANTIATE_TEST_SUITE_P(DemoWriter, RateAccuracy, ::testing::Values(200, 5000, 50000));

TEST(RateAccuracyThreads, FourProducersShareTheRate) {
  const double rate = measured_rate({"--rate", "20000", "--threads", "4"}, 1500ms);
  std::printf("target 4 x 5000/s: measured %.1f/s (%+.2f %%)\n", rate,
              (rate - 20000) * 100.0 / 20000);
  EXPECT_NEAR(rate, 20000, 600);
}

TEST(RateAccuracyDuration, SummaryMatchesThePlan) {
  const auto r = run({bin("ouroboros-demo-writer"), "-s", unique_segment("summary"), "--rate",
                      "3000", "-d", "1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json summary = parse_json_lines(r.out).back();
  EXPECT_EQ(summary["entries"].u64(), 3000u);
  EXPECT_NEAR(summary["seconds"].num(), 1.0, 0.05);
}

TEST(RateAccuracyMax, UnlimitedRateIsFast) {
  const auto r = run({bin("ouroboros-demo-writer"), "-s", unique_segment("max"), "--rate", "0",
                      "-d", "0.5", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json summary = parse_json_lines(r.out).back();
  EXPECT_GT(summary["rate"].num(), 100000) << "records/s as fast as possible";
}

}  // namespace
