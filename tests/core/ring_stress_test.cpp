// Multi-process stress test over real shared memory: one writer process and three reader
// processes (one keeps pace, one lags, one re-attaches often) on an 8 KiB ring that wraps
// thousands of times. Every payload carries its own sequence number and a checksum.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "test_support.hpp"

namespace ouroboros::test {
namespace {

std::map<std::string, std::uint64_t> parse_result(const std::string& line) {
  std::map<std::string, std::uint64_t> values;
  std::istringstream in(line);
  std::string word;
  in >> word;  // "result"
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq != std::string::npos) values[word.substr(0, eq)] = std::stoull(word.substr(eq + 1));
  }
  return values;
}

TEST(RingStress, OneWriterThreeReaderProcesses) {
  const std::string helper = bin_dir() + "/ouroboros-test-ring-stress" + exe_suffix;
  ASSERT_TRUE(std::filesystem::exists(helper)) << helper;
  segment_guard guard(unique_segment_name("stress"));
  const std::uint64_t count = scaled(250000, 20000);

  child_process writer(helper, {"writer", guard.name(), std::to_string(count), "7"});
  ASSERT_EQ(writer.read_line(), std::optional<std::string>("ready"));

  const char* modes[] = {"pace", "lag", "reattach"};
  std::vector<std::unique_ptr<child_process>> readers;
  for (int i = 0; i < 3; ++i) {
    readers.push_back(std::make_unique<child_process>(
        helper, std::vector<std::string>{"reader", guard.name(), modes[i], std::to_string(count),
                                         std::to_string(100 + i)}));
    ASSERT_EQ(readers.back()->read_line(), std::optional<std::string>("attached")) << modes[i];
  }
  const auto started = std::chrono::steady_clock::now();
  writer.send_line("go");
  ASSERT_EQ(writer.read_line(), std::optional<std::string>("done " + std::to_string(count)));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const std::size_t ring_bytes = 8 * 1024;
  std::cout << "  writer: " << count << " entries in " << seconds << " s (ring of " << ring_bytes
            << " bytes, ~" << count * 330 / ring_bytes << " laps)\n";
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(modes[i]);
    const auto line = readers[i]->read_line();
    ASSERT_TRUE(line.has_value());
    const auto exit_code = readers[i]->wait(std::chrono::seconds(120));
    ASSERT_EQ(exit_code, std::optional<int>(0));
    std::cout << "  " << modes[i] << ": " << *line << "\n";
    auto r = parse_result(*line);
    EXPECT_EQ(r["corrupt"], 0u);
    EXPECT_EQ(r["duplicates"], 0u);
    EXPECT_EQ(r["backwards"], 0u);
    EXPECT_EQ(r["accounting"], 0u);
    EXPECT_EQ(r["bad_status"], 0u);
    EXPECT_EQ(r.count("rejected"), 1u);
    EXPECT_EQ(r["rejected"], 0u) << "a row the writer committed was judged implausible";
    EXPECT_EQ(r["position"], count);
    EXPECT_GT(r["delivered"], 0u);
    if (std::string(modes[i]) != "reattach") {
      EXPECT_EQ(r["delivered"] + r["lost"], count);
    } else {
      EXPECT_GT(r["attachments"], 10u);
    }
    if (std::string(modes[i]) == "lag") {
      EXPECT_GT(r["lost"], 0u) << "the lagging reader never lagged";
    }
  }
  writer.close_stdin();
  EXPECT_EQ(writer.wait(std::chrono::seconds(30)), std::optional<int>(0));
  EXPECT_FALSE(segment_exists(guard.name())) << "the writer should unlink on clean exit";
}

}  // namespace
}  // namespace ouroboros::test
