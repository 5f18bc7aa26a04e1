// A small application that publishes its log into shared memory with ouroboros::logger, then
// (to check itself) reads the records back the way a viewer or tool would.
//
//   ouroboros-example-app [segment-name]
//
// While it runs, `ouroboros-cli tail <segment-name>` or the viewer shows the records live.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "ouroboros/logger.hpp"
#include "ouroboros/record_reader.hpp"
#include "ouroboros/segment.hpp"

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "ouroboros-example-" + std::to_string(::getpid());
  try {
    ouroboros::logger_options options;
    options.threshold = ouroboros::level::debug;
    ouroboros::logger log(name, options);

    log.info("app", "started as pid {}", ::getpid());
    const std::string peer = "10.0.0.7:443";
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&log, &peer, t] {
        for (int i = 0; i < 25; ++i) {
          log.debug("net", {{"worker", t}, {"request", i}}, "sent {} bytes to {}", 100 * i + t,
                    peer);
        }
      });
    }
    for (auto& w : workers) w.join();
    log.trace("app", "below the threshold: not published");
    log.warn("app", "done: {:.1f}% of requests answered", 100.0);

    // Read everything back from the segment, as any reader process would.
    ouroboros::shm_reader reader(name);
    ouroboros::entry_interpreter interpreter(reader.bytes());
    int records = 0;
    for (auto r = reader.read_next(); r.status == ouroboros::read_status::ok;
         r = reader.read_next()) {
      const ouroboros::entry_view entry = interpreter.interpret(r.payload);
      if (entry.kind != ouroboros::entry_kind::record) {
        std::fprintf(stderr, "entry %llu is not a record\n",
                     static_cast<unsigned long long>(r.sequence));
        return 1;
      }
      ++records;
      if (records <= 3 || entry.severity == ouroboros::level::warn) {
        std::printf("#%llu %s [%s] %.*s\n", static_cast<unsigned long long>(r.sequence),
                    std::string(ouroboros::to_string(*entry.severity)).c_str(),
                    std::string(entry.tag).c_str(), static_cast<int>(entry.message.size()),
                    entry.message.data());
      }
    }
    std::printf("%d records read back from segment '%s'\n", records, name.c_str());
    return records == 102 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ouroboros-example-app: %s\n", e.what());
    return 1;
  }
}
