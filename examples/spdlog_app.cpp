// An spdlog application that publishes into shared memory by adding one sink.
//
//   ouroboros-example-spdlog [segment-name]
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "ouroboros/record_reader.hpp"
#include "ouroboros/spdlog_sink.hpp"

int main(int argc, char** argv) {
  const std::string name =
      argc > 1 ? argv[1] : "ouroboros-example-spdlog-" + std::to_string(::getpid());
  try {
    auto target = std::make_shared<ouroboros::logger>(name);
    auto log = std::make_shared<spdlog::logger>("example",
                                                std::make_shared<ouroboros::spdlog_sink>(target));
    spdlog::set_default_logger(log);
    spdlog::info("hello from spdlog, {} + {} = {}", 1, 2, 3);
    spdlog::warn("this lands in segment '{}'", name);

    ouroboros::shm_reader reader(name);
    ouroboros::entry_interpreter interpreter(reader.bytes());
    int records = 0;
    for (auto r = reader.read_next(); r.status == ouroboros::read_status::ok;
         r = reader.read_next()) {
      const auto entry = interpreter.interpret(r.payload);
      std::printf("[%s] %.*s\n", std::string(entry.tag).c_str(),
                  static_cast<int>(entry.message.size()), entry.message.data());
      records += entry.kind == ouroboros::entry_kind::record && entry.tag == "example" ? 1 : 0;
    }
    spdlog::set_default_logger(nullptr);
    return records == 2 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ouroboros-example-spdlog: %s\n", e.what());
    return 1;
  }
}
