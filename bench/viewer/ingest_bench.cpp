// Sustained ingest of the viewer's data layer while a writer produces as fast as it can.
//
// A writer thread fills a real shared-memory segment with log records at full speed; the
// viewer's session (poller thread + store + model) reads it with a regex filter active, ticking
// on this (the "GUI") thread every 25 ms. Reports entries/s absorbed, GUI-thread work per tick
// (p50/p99/max), and memory per retained entry (exact accounting and RSS), then the time to
// re-filter the full history in the background. With --view a real table view (offscreen)
// follows the model, so the tick includes the view's own work.
//
// With --highlight N the model marks every arriving visible row against N highlight rules (a
// level rule, a tag rule, then message regexes), as the window does.
//
// With --deferred the writer logs the same messages through ouroboros::logger with
// deferred_format (record version 2: format id + arguments), so the reader formats each one.
//
// With --prefill N the writer writes N entries into a 256 MiB ring and stops before the viewer
// attaches; the viewer then reads them all with no writer beside it: the reader's own cost per
// entry, without the cache-line traffic of a writer on the other core.
//
//   ouroboros-bench-viewer [--seconds 10] [--view] [--no-filter] [--max-entries 1000000]
//                          [--highlight N] [--deferred] [--prefill N]
#include <unistd.h>
#include <QApplication>
#include <QElapsedTimer>
#include <QThread>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "data/highlight.hpp"
#include "data/segment_session.hpp"
#include "ouroboros/logger.hpp"
#include "ouroboros/record.hpp"
#include "ouroboros/segment.hpp"
#include "ui/log_view.hpp"

using namespace ouroboros;
using namespace ouroboros::viewer;
using namespace viewer_bench;

namespace {

// Pre-encoded, varied records: the writer's own cost is not what is measured here.
std::vector<std::vector<std::byte>> make_payloads() {
  const char* tags[] = {"http", "db", "net", "cache", "jobs", "auth"};
  const char* templates[] = {
      "GET /api/v1/users/%d -> 200 in %d ms",
      "query on orders took %d ms: SELECT * FROM orders WHERE id = %d",
      "connected to 10.0.%d.%d:5432 (session 3f9a1c)",
      "cache miss for key user:%d shard=%d",
      "worker picked job %d (queue depth %d)",
      "login failed for user %d: timeout after %d ms",
      "retrying request %d in %d ms (attempt 2/5)",
      "connection refused by 10.1.%d.%d, backing off",
  };
  std::vector<std::vector<std::byte>> out;
  for (int i = 0; i < 256; ++i) {
    char message[160];
    std::snprintf(message, sizeof message, templates[i % 8], 1000 + i * 37, i % 97);
    record_header header;
    header.severity = static_cast<level>((i * 7) % 6);
    header.thread = 4000 + static_cast<std::uint32_t>(i % 4);
    header.tag = tags[i % 6];
    header.timestamp = 1'700'000'000'000'000'000ULL;
    std::vector<std::byte> payload(512);
    payload.resize(encode_record(payload, header, message));
    out.push_back(std::move(payload));
  }
  return out;
}

// The messages of make_payloads() as deferred records: message i, with the same arguments.
void log_deferred(logger& log, std::uint64_t n) {
  static const char* tags[] = {"http", "db", "net", "cache", "jobs", "auth"};
  const int i = static_cast<int>(n & 255);
  const int a = 1000 + i * 37;
  const int b = i % 97;
  const auto severity = static_cast<level>((i * 7) % 6);
  const char* tag = tags[i % 6];
  switch (i % 8) {
    case 0: log.log(severity, tag, "GET /api/v1/users/{} -> 200 in {} ms", a, b); break;
    case 1:
      log.log(severity, tag, "query on orders took {} ms: SELECT * FROM orders WHERE id = {}", a,
              b);
      break;
    case 2: log.log(severity, tag, "connected to 10.0.{}.{}:5432 (session 3f9a1c)", a, b); break;
    case 3: log.log(severity, tag, "cache miss for key user:{} shard={}", a, b); break;
    case 4: log.log(severity, tag, "worker picked job {} (queue depth {})", a, b); break;
    case 5: log.log(severity, tag, "login failed for user {}: timeout after {} ms", a, b); break;
    case 6: log.log(severity, tag, "retrying request {} in {} ms (attempt 2/5)", a, b); break;
    default: log.log(severity, tag, "connection refused by 10.1.{}.{}, backing off", a, b); break;
  }
}

}  // namespace

int run_ingest_bench(int argc, char** argv) {
  double seconds = 10;
  bool with_view = false;
  bool with_filter = true;
  std::uint64_t max_entries = 1'000'000;
  int highlight_rules = 0;
  bool deferred = false;
  std::uint64_t prefill = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc)
      seconds = std::stod(argv[++i]);
    else if (arg == "--view")
      with_view = true;
    else if (arg == "--no-filter")
      with_filter = false;
    else if (arg == "--max-entries" && i + 1 < argc)
      max_entries = std::stoull(argv[++i]);
    else if (arg == "--highlight" && i + 1 < argc)
      highlight_rules = std::stoi(argv[++i]);
    else if (arg == "--deferred")
      deferred = true;
    else if (arg == "--prefill" && i + 1 < argc)
      prefill = std::stoull(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: %s [--seconds S] [--view] [--no-filter] [--max-entries N] "
                   "[--highlight N] [--deferred] [--prefill N]\n",
                   argv[0]);
      return 2;
    }
  }
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);

  const std::string name = "ouroboros-bench-viewer-" + std::to_string(::getpid());
  shm_writer_options writer_options;
  writer_options.chunk_count = 64;
  // A 16 MiB ring; 256 MiB to hold a prefill.
  writer_options.chunk_target_size = prefill != 0 ? 4096 * 1024 : 256 * 1024;
  writer_options.payload_encoding = layout::extension_layout::encoding_record;
  std::unique_ptr<shm_writer> raw_writer;
  std::unique_ptr<logger> deferred_log;
  if (deferred) {
    logger_options log_options;
    log_options.segment = writer_options;
    log_options.deferred_format = true;
    log_options.threading = producers::single;
    log_options.threshold = level::trace;
    deferred_log = std::make_unique<logger>(name, log_options);
  } else {
    raw_writer = std::make_unique<shm_writer>(name, writer_options);
  }
  const auto payloads = make_payloads();

  const std::uint64_t rss_before = rss_bytes();
  session_options options;
  options.poller.name = name;
  options.limits.max_entries = max_entries;
  options.limits.max_bytes = 0;  // the entry cap alone, so memory per entry is measured at 1 M
  segment_session session(options);
  if (with_filter) {
    auto spec = std::make_shared<filter_spec>();
    spec->text = QStringLiteral("(timeout|refused|failed) .*\\d+");
    spec->regex = true;
    session.set_filter(spec);
  }
  if (highlight_rules > 0) {
    // Rules that rarely match, so every row runs through all of them (the costly case).
    std::vector<highlight_rule> rules;
    for (int i = 0; i < highlight_rules; ++i) {
      highlight_rule rule;
      if (i == 0) {
        rule.on = highlight_rule::field::level;
        rule.pattern = QStringLiteral("CRITICAL");
      } else if (i == 1) {
        rule.on = highlight_rule::field::tag;
        rule.pattern = QStringLiteral("payments*");
      } else {
        rule.pattern = QStringLiteral("deadlock|out of memory %1").arg(i);
      }
      rule.rgb = 0xffd54f;
      rules.push_back(rule);
    }
    session.model()->set_highlight_rules(rules);
  }
  std::unique_ptr<log_view> view;
  if (with_view) {
    view = std::make_unique<log_view>();
    view->set_log_model(session.model());
    view->resize(1200, 800);
    view->show();
  }

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> written{0};
  std::thread producer([&] {
    std::uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed) && (prefill == 0 || n < prefill)) {
      for (int k = 0; k < 256; ++k) {
        if (deferred_log)
          log_deferred(*deferred_log, n + static_cast<std::uint64_t>(k));
        else
          raw_writer->write(payloads[(n + static_cast<std::uint64_t>(k)) & 255]);
      }
      n += 256;
      written.store(n, std::memory_order_relaxed);
    }
  });

  if (prefill != 0) {
    producer.join();
    if (deferred_log) deferred_log->flush();
    const double cpu_before = thread_cpu_seconds("ouro-poller");
    QElapsedTimer drain;
    drain.start();
    session.poller().start();
    // Done when every entry was read or lost, or (entries overwritten before the viewer
    // attached are neither) when nothing arrived for 300 ms.
    std::uint64_t seen = 0;
    qint64 last_progress = 0;
    while (drain.elapsed() < 60'000) {
      session.tick();
      const poll_status& st = session.stats().poller;
      if (st.entries_read + st.entries_lost >= written.load()) break;
      if (st.entries_read != seen) {
        seen = st.entries_read;
        last_progress = drain.elapsed();
      } else if (drain.elapsed() - last_progress > 300) {
        break;
      }
      QThread::usleep(2000);
    }
    const double cpu = thread_cpu_seconds("ouro-poller") - cpu_before;
    const std::uint64_t read = session.stats().poller.entries_read;
    session.poller().stop();
    std::printf(
        "viewer ingest of a prefilled segment, %s records, %s: %llu entries written, %llu read "
        "(%llu lost) in %.3f s; reader thread CPU %.3f s, %.0f ns per entry read\n",
        deferred ? "deferred" : "text", with_filter ? "regex filter active" : "no filter",
        static_cast<unsigned long long>(written.load()), static_cast<unsigned long long>(read),
        static_cast<unsigned long long>(session.stats().poller.entries_lost),
        static_cast<double>(drain.nsecsElapsed()) / 1e9, cpu,
        read ? cpu * 1e9 / static_cast<double>(read) : 0.0);
    return 0;
  }
  session.poller().start();
  std::vector<double> ticks;
  QElapsedTimer clock;
  clock.start();
  const qint64 tick_ns = 25'000'000;
  qint64 next = tick_ns;
  std::uint64_t read_at_warmup = 0;
  std::uint64_t appended_at_warmup = 0;
  qint64 warmup_ns = -1;
  double poller_cpu_at_warmup = 0;
  while (clock.nsecsElapsed() < static_cast<qint64>(seconds * 1e9)) {
    QElapsedTimer work;
    work.start();
    session.tick();
    if (with_view) QCoreApplication::processEvents();  // the view repaints, as in the real window
    const double ms = static_cast<double>(work.nsecsElapsed()) / 1e6;
    // The first second fills the history; measure the steady state after it.
    if (warmup_ns < 0 && clock.nsecsElapsed() > 1'000'000'000) {
      warmup_ns = clock.nsecsElapsed();
      read_at_warmup = session.stats().poller.entries_read;
      appended_at_warmup = session.store().appended();
      poller_cpu_at_warmup = thread_cpu_seconds("ouro-poller");
    }
    if (warmup_ns >= 0) ticks.push_back(ms);
    const qint64 now = clock.nsecsElapsed();
    if (next > now) QThread::usleep(static_cast<unsigned long>((next - now) / 1000));
    next += tick_ns;
  }
  const double measured_s = static_cast<double>(clock.nsecsElapsed() - warmup_ns) / 1e9;
  const double poller_cpu = thread_cpu_seconds("ouro-poller") - poller_cpu_at_warmup;
  stop.store(true);
  producer.join();
  session.poller().stop();
  session.tick();

  const session_stats& st = session.stats();
  const std::uint64_t read = st.poller.entries_read - read_at_warmup;
  const std::uint64_t absorbed = session.store().appended() - appended_at_warmup;

  // Exact accounting of what the retained history costs beyond its message bytes.
  const store_view& history = session.store().view();
  std::uint64_t message_bytes = 0;
  std::set<const text_block*> blocks;
  std::uint64_t block_bytes = 0;
  for (std::uint64_t s = history.first; s < history.end; ++s) {
    const entry& row = history.at(s);
    message_bytes += row.message_size + row.extra_size;
  }
  for (const auto& p : history.pages) {
    for (const auto& b : p->blocks) {
      if (blocks.insert(b.get()).second) block_bytes += b->capacity;
    }
  }
  const std::uint64_t retained = history.size();
  const std::uint64_t struct_bytes =
      history.pages.size() * std::uint64_t{page_capacity} * sizeof(entry);
  const std::uint64_t index_bytes =
      static_cast<std::uint64_t>(session.model()->rowCount()) * (sizeof(std::uint64_t) + 1);
  const std::uint64_t total = struct_bytes + index_bytes + block_bytes;
  const double overhead =
      retained ? static_cast<double>(total - message_bytes) / static_cast<double>(retained) : 0;
  const std::uint64_t rss_after = rss_bytes();
  const double rss_per_entry =
      retained ? static_cast<double>(rss_after - rss_before) / static_cast<double>(retained) : 0;

  std::printf(
      "viewer ingest, %s records, %s, %d highlight rules, %s, %.1f s measured after 1 s "
      "warm-up\n",
      deferred ? "deferred" : "text", with_filter ? "regex filter active" : "no filter",
      highlight_rules, with_view ? "with an offscreen table view" : "data layer only", measured_s);
  {
    std::ifstream loadavg("/proc/loadavg");
    std::string one;
    loadavg >> one;
    std::printf(
        "  machine load        %12s (1-min load average; 2 cores: figures below are contended if > "
        "2)\n",
        one.c_str());
  }
  std::printf("  writer wrote        %12.0f entries/s\n",
              static_cast<double>(written.load()) / (measured_s + 1));
  std::printf(
      "  reader absorbed     %12.0f entries/s  (rows into the history incl. gap rows: %.0f/s)\n",
      static_cast<double>(read) / measured_s, static_cast<double>(absorbed) / measured_s);
  std::printf("  reader thread CPU   %12.0f %% of one core; %.0f ns of reader CPU per entry read\n",
              100.0 * poller_cpu / measured_s,
              read ? poller_cpu * 1e9 / static_cast<double>(read) : 0.0);
  std::printf("  overwritten (lost)  %12llu entries in %llu gaps over the run\n",
              static_cast<unsigned long long>(st.poller.entries_lost),
              static_cast<unsigned long long>(st.poller.gaps));
  std::printf("  GUI tick work       p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu ticks at 40 Hz)\n",
              percentile(ticks, 0.5), percentile(ticks, 0.99), percentile(ticks, 1.0),
              ticks.size());
  std::printf("  retained            %12llu entries, %llu visible under the filter, %llu evicted\n",
              static_cast<unsigned long long>(retained),
              static_cast<unsigned long long>(session.model()->rowCount()),
              static_cast<unsigned long long>(st.evicted));
  std::printf("  message bytes       %12.1f per entry (message + fields)\n",
              retained ? static_cast<double>(message_bytes) / static_cast<double>(retained) : 0);
  std::printf(
      "  overhead            %12.1f bytes per entry beyond its message (struct %zu, index, page "
      "and block slack)\n",
      overhead, sizeof(entry));
  std::printf(
      "  RSS growth          %12.1f bytes per retained entry (everything, message included)\n",
      rss_per_entry);

  // Re-filtering the full history in the background after filter changes: the first pass reads
  // every row's message as stored (deferred rows formatted), later passes with other texts read
  // what the first one left behind.
  struct pass {
    const char* text;
    bool regex;
    const char* what;
  };
  const pass passes[] = {{"user \\d+7\\b", true, "regex, first"},
                         {"(timeout|refused) .*9", true, "regex, another"},
                         {"SHARD=4", false, "substring, case-folded"},
                         {"user \\d+7\\b", true, "regex, the first again"}};
  for (const pass& p : passes) {
    auto spec = std::make_shared<filter_spec>();
    spec->text = QString::fromLatin1(p.text);
    spec->regex = p.regex;
    QElapsedTimer refilter;
    refilter.start();
    session.set_filter(spec);
    session.model()->wait_for_refilter();
    std::printf(
        "  re-filter history   %12.1f ms for %llu entries on a pool thread (%s), %d rows match\n",
        static_cast<double>(refilter.nsecsElapsed()) / 1e6,
        static_cast<unsigned long long>(retained), p.what, session.model()->rowCount());
  }
  session.tick();
  std::printf(
      "  formatted text kept %12.1f bytes per retained entry (for the passes after the first)\n",
      retained
          ? static_cast<double>(session.stats().formatted_bytes) / static_cast<double>(retained)
          : 0.0);
  return 0;
}
