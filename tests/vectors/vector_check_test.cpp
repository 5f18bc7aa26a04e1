// Checks every checked-in vector with the C++ reader: attaching each .bin with every start mode and
// reading it must give exactly the events its .json lists (and the same extension block view).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "vector_reads.hpp"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> vector_names() {
  const std::string index = slurp(std::string(OUROBOROS_VECTORS_DIR) + "/index.json");
  std::vector<std::string> names;
  for (std::size_t at = index.find('"'); at != std::string::npos; at = index.find('"', at + 1)) {
    const std::size_t end = index.find('"', at + 1);
    names.push_back(index.substr(at + 1, end - at - 1));
    at = end;
  }
  return names;
}

TEST(Vectors, IndexListsTheVectors) {
  EXPECT_GE(vector_names().size(), 20U);
}

TEST(Vectors, CppReaderDeliversWhatEachVectorExpects) {
  for (const std::string& name : vector_names()) {
    SCOPED_TRACE(name);
    const std::string base = std::string(OUROBOROS_VECTORS_DIR) + "/" + name;
    const std::string raw = slurp(base + ".bin");
    const std::string json = slurp(base + ".json");
    ASSERT_FALSE(json.empty());
    std::vector<std::uint64_t> words((raw.size() + 7) / 8);  // 8-byte aligned copy
    if (!raw.empty()) std::memcpy(words.data(), raw.data(), raw.size());
    const std::span<const std::byte> buffer(reinterpret_cast<const std::byte*>(words.data()),
                                            raw.size());
    const std::string extension =
        "\"extension\": " + ouroboros::vectors::extension_json(buffer) + ",\n";
    const std::string reads = "\"reads\": " + ouroboros::vectors::reads_json(buffer) + "\n}\n";
    EXPECT_NE(json.find(extension), std::string::npos)
        << "extension differs; reader sees " << extension;
    EXPECT_NE(json.find(reads), std::string::npos) << "reads differ; reader gives " << reads;
  }
}

}  // namespace
