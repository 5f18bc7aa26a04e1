// Checks every checked-in vector with the C++ reader: attaching each .bin with every start mode and
// reading it must give exactly the events its .json lists (and the same extension block view).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ouroboros/deferred.hpp"
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

std::vector<std::byte> from_hex(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::byte>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  return out;
}

std::string_view json_field(std::string_view line, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\": \"";
  const std::size_t at = line.find(quoted);
  if (at == std::string_view::npos) return {};
  const std::size_t begin = at + quoted.size();
  return line.substr(begin, line.find('"', begin) - begin);
}

// deferred_render.json through the reader's paths: with no memo, with a memo that is cold, then
// warm (the one-pass path), and into a sink too small (overflow, then a second render). Each must
// give the message (or error) the file lists; the generator's own path is checked by
// vectors_up_to_date.
TEST(Vectors, DeferredRenderCasesGiveTheSameTextOnEveryPath) {
  const std::string json = slurp(std::string(OUROBOROS_VECTORS_DIR) + "/deferred_render.json");
  std::istringstream lines(json);
  std::string line;
  int cases = 0;
  while (std::getline(lines, line)) {
    if (line.find("\"format_hex\"") == std::string::npos) continue;
    ++cases;
    SCOPED_TRACE(line);
    const std::vector<std::byte> format_bytes = from_hex(json_field(line, "format_hex"));
    const std::vector<std::byte> args = from_hex(json_field(line, "args_hex"));
    const std::string_view error = json_field(line, "error");
    const ouroboros::deferred_format format = ouroboros::parse_deferred_format(
        {reinterpret_cast<const char*>(format_bytes.data()), format_bytes.size()});
    // What the line says after the arguments: "message": <json string>} or "error": ...}.
    auto expect = [&](ouroboros::decode_status status, std::string_view text) {
      if (!error.empty()) {
        EXPECT_EQ(ouroboros::to_string(status), error);
        return;
      }
      ASSERT_EQ(status, ouroboros::decode_status::ok) << ouroboros::to_string(status);
      const std::string tail = "\"message\": " + ouroboros::vectors::json_string(text) + "}";
      EXPECT_NE(line.find(tail), std::string::npos) << "rendered " << tail;
    };
    {
      std::string out;
      const ouroboros::decode_status status = ouroboros::render_deferred(format, args, out);
      expect(status, out);
    }
    ouroboros::deferred_memo memo;
    for (const char* pass : {"cold memo", "warm memo", "warm memo again"}) {
      SCOPED_TRACE(pass);
      std::string buffer(4096, '\0');
      ouroboros::format_sink sink(buffer.data(), buffer.size());
      const ouroboros::decode_status status = ouroboros::render_deferred(format, args, sink, &memo);
      ASSERT_FALSE(sink.overflowed());
      expect(status, std::string_view(buffer.data(), sink.size()));
    }
    for (const std::size_t room : {std::size_t{0}, std::size_t{5}}) {
      SCOPED_TRACE(room);
      char small[8];
      ouroboros::format_sink sink(small, room);
      ouroboros::decode_status status = ouroboros::render_deferred(format, args, sink, &memo);
      std::string text(small, sink.size());
      if (status == ouroboros::decode_status::ok && sink.overflowed()) {
        std::string bigger(sink.wanted(), '\0');
        ouroboros::format_sink again(bigger.data(), bigger.size());
        status = ouroboros::render_deferred(format, args, again, &memo);
        text = bigger.substr(0, again.size());
      }
      expect(status, text);
    }
  }
  EXPECT_GE(cases, 60);
}

}  // namespace
