// ouroboros-demo-writer: a load generator that writes realistic log records (or raw payloads)
// into a named segment at a controlled rate, with fault modes for testing readers.
//
// Structure: producer threads write through a `sink` (core's thread-safe logger for records, a
// shm_writer for raw payloads); the main thread prints statistics, refreshes the raw segment's
// heartbeat and carries out the fault plan (restart, crash, stall), pausing the producers at a
// barrier when it must swap or freeze the sink.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "generator.hpp"
#include "ouroboros/logger.hpp"
#include "ouroboros/segment.hpp"
#include "ouroboros/tools/cli_options.hpp"
#include "ouroboros/tools/entry_format.hpp"
#include "ouroboros/tools/process.hpp"
#include "ouroboros/tools/rate_schedule.hpp"

namespace {

using namespace ouroboros;
using steady = std::chrono::steady_clock;

constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

std::atomic<bool> stop_signal{false};
void on_stop_signal(int) {
  stop_signal.store(true, std::memory_order_relaxed);
}

struct options {
  std::string segment = "ouroboros-demo";
  std::uint32_t chunks = 64;
  std::size_t chunk_size = 64 * 1024;
  std::size_t total_size = 0;
  bool take_over = false;
  bool keep = false;
  std::string mode = "0600";

  double rate = 1000;
  std::string burst;  // "ON:OFF" seconds
  double ramp_seconds = 0;
  double ramp_from = 0;
  double duration = 0;
  std::uint64_t count = 0;
  unsigned threads = 1;
  std::string producers = "auto";  // auto, locked, staged (records only)

  bool raw = false;
  bool deferred = false;
  std::string size_distribution = "natural";
  std::size_t size = 128;
  std::size_t min_size = 32;
  std::size_t max_size = 1024;
  std::uint64_t seed = 1;

  bool json = false;
  bool quiet = false;

  double restart_every = 0;
  double crash_after = 0;
  std::string crash_mode = "exit";
  double stall_after = 0;
  double stall_for = 0;
};

std::string human_size(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[unit]);
}

// The body of a JSON string (names may hold any byte but '/').
std::string json_text(std::string_view text) {
  fmt::memory_buffer out;
  tools::append_json_escaped(out, text);
  return fmt::to_string(out);
}

// Where producers write. Implementations are safe for concurrent producers.
class sink {
 public:
  virtual ~sink() = default;
  virtual void write_record(const demo::generated_record& record) = 0;
  virtual void write_raw(std::string_view payload) = 0;
  // Logs the generator's next call site (deferred records); returns its record's bytes.
  virtual std::size_t write_deferred(demo::message_generator& generator) = 0;
  virtual void heartbeat() {}
  virtual std::uint64_t incarnation() = 0;
  virtual std::size_t max_payload() = 0;
  // Another process shrank the segment: writing goes on into private pages no reader sees.
  virtual bool truncated() = 0;
};

class logger_sink final : public sink {
 public:
  logger_sink(const std::string& name, const shm_writer_options& segment, unsigned threads,
              const std::string& mode, std::size_t largest_payload, bool deferred)
      : log_(name, make_options(segment, threads, mode, largest_payload, deferred)) {}
  void write_record(const demo::generated_record& record) override {
    std::array<field, 4> fields{field("", ""), field("", ""), field("", ""), field("", "")};
    for (std::size_t i = 0; i < record.field_count; ++i) {
      fields[i] = field(record.keys[i], std::string_view(record.values[i]));
    }
    log_.write(record.severity, record.tag, record.message,
               std::span<const field>(fields.data(), record.field_count));
  }
  void write_raw(std::string_view) override {}
  std::size_t write_deferred(demo::message_generator& generator) override {
    return generator.log_next(log_);
  }
  std::uint64_t incarnation() override { return log_.segment().incarnation(); }
  std::size_t max_payload() override { return log_.max_record_size(); }
  bool truncated() override { return log_.segment().truncated(); }

 private:
  static logger_options make_options(const shm_writer_options& segment, unsigned threads,
                                     const std::string& mode, std::size_t largest_payload,
                                     bool deferred) {
    logger_options o;
    o.segment = segment;
    o.deferred_format = deferred;
    o.threshold = level::trace;
    // The logger claims max_record_size bytes of ring for every record too large for its stack
    // buffer, which invalidates that much old data: keep it well below the chunk size unless
    // the user asked for larger payloads.
    o.max_record_size = std::max(
        std::clamp<std::size_t>(segment.chunk_target_size / 2, 4096, 65536), largest_payload);
    if (mode == "staged")
      o.threading = producers::staged;
    else if (mode == "locked" || threads > 1)
      o.threading = producers::many;
    else
      o.threading = producers::single;
    return o;
  }
  logger log_;
};

class raw_sink final : public sink {
 public:
  raw_sink(const std::string& name, const shm_writer_options& segment, unsigned threads)
      : writer_(name, segment), locked_(threads > 1) {}
  void write_record(const demo::generated_record&) override {}
  std::size_t write_deferred(demo::message_generator&) override { return 0; }
  void write_raw(std::string_view payload) override {
    const auto bytes = std::as_bytes(std::span(payload.data(), payload.size()));
    if (locked_) {
      std::lock_guard lock(mutex_);
      writer_.write(bytes);
    } else {
      writer_.write(bytes);
    }
  }
  void heartbeat() override { writer_.heartbeat(); }
  std::uint64_t incarnation() override { return writer_.incarnation(); }
  std::size_t max_payload() override { return writer_.ring().max_payload_size(); }
  bool truncated() override { return writer_.truncated(); }

 private:
  shm_writer writer_;
  bool locked_;
  std::mutex mutex_;
};

// Per-producer counters on their own cache lines (written by one thread, read by the main one).
struct alignas(64) producer_counters {
  std::atomic<std::uint64_t> entries{0};
  std::atomic<std::uint64_t> bytes{0};
};

class demo_writer {
 public:
  demo_writer(const options& o, const tools::rate_plan& plan, const demo::size_plan& sizes)
      : o_(o), plan_(plan), sizes_(sizes), counters_(o.threads) {
    largest_payload_ = sizes.distribution == demo::size_distribution::fixed     ? sizes.size
                       : sizes.distribution == demo::size_distribution::natural ? 0
                                                                                : sizes.max;
    segment_options_.chunk_count = o.chunks;
    segment_options_.chunk_target_size = o.chunk_size;
    segment_options_.mode = static_cast<unsigned>(std::stoul(o.mode, nullptr, 8));
    segment_options_.take_over = o.take_over;
    segment_options_.keep_on_close = o.keep;
    segment_options_.payload_encoding =
        o.raw ? layout::extension_layout::encoding_raw : layout::extension_layout::encoding_record;
    create_sink();
  }

  int run();

 private:
  void create_sink() {
    if (o_.raw) {
      sink_ = std::make_unique<raw_sink>(o_.segment, segment_options_, o_.threads);
    } else {
      sink_ = std::make_unique<logger_sink>(o_.segment, segment_options_, o_.threads, o_.producers,
                                            largest_payload_, o_.deferred);
    }
  }
  void produce(unsigned index);
  // Parks every producer at its next batch boundary; returns once all are parked.
  void pause_producers();
  void resume_producers();
  void maybe_park();
  double schedule_seconds() const {
    const auto elapsed = steady::now() - start_;
    return std::chrono::duration<double>(elapsed).count() -
           static_cast<double>(stalled_ns_.load(std::memory_order_relaxed)) / 1e9;
  }
  void print_stats(double seconds, std::uint64_t entries, std::uint64_t bytes, double rate,
                   double byte_rate);
  void print_summary(double seconds);
  std::uint64_t total_entries() const;
  std::uint64_t total_bytes() const;

  const options& o_;
  tools::rate_plan plan_;
  demo::size_plan sizes_;
  shm_writer_options segment_options_;
  std::unique_ptr<sink> sink_;
  std::size_t largest_payload_ = 0;
  std::vector<producer_counters> counters_;
  steady::time_point start_;
  std::atomic<std::int64_t> stalled_ns_{0};
  std::atomic<bool> done_{false};
  std::atomic<std::uint64_t> issued_{0};  // entries reserved so far, against --count
  std::atomic<unsigned> finished_{0};
  unsigned restarts_ = 0;
  bool truncation_reported_ = false;

  std::atomic<bool> pause_requested_{false};
  std::mutex pause_mutex_;
  std::condition_variable pause_changed_;
  unsigned parked_ = 0;
  unsigned running_ = 0;
};

void demo_writer::maybe_park() {
  if (!pause_requested_.load(std::memory_order_acquire)) return;
  std::unique_lock lock(pause_mutex_);
  ++parked_;
  pause_changed_.notify_all();
  pause_changed_.wait(lock, [&] { return !pause_requested_.load(std::memory_order_acquire); });
  --parked_;
}

void demo_writer::pause_producers() {
  std::unique_lock lock(pause_mutex_);
  pause_requested_.store(true, std::memory_order_release);
  pause_changed_.wait(lock, [&] { return parked_ == running_; });
}

void demo_writer::resume_producers() {
  {
    std::lock_guard lock(pause_mutex_);
    pause_requested_.store(false, std::memory_order_release);
  }
  pause_changed_.notify_all();
}

void demo_writer::produce(unsigned index) {
  // Each producer follows the plan scaled to its share, so together they follow the whole plan.
  tools::rate_plan share = plan_;
  share.rate = plan_.rate / o_.threads;
  share.ramp_from = plan_.ramp_from / o_.threads;
  const tools::rate_schedule schedule(share);
  demo::message_generator generator(o_.seed, index);
  demo::generated_record record;
  std::string raw;
  producer_counters& counters = counters_[index];
  const std::size_t max_payload = sink_->max_payload();
  std::uint64_t written = 0;
  constexpr std::uint64_t batch_limit = 1024;
  // Waking more often than this costs CPU for nothing: the schedule is cumulative, so a late
  // wake-up just writes a larger batch and the long-run rate stays exact.
  constexpr double min_sleep = 0.001;

  while (!done_.load(std::memory_order_relaxed)) {
    maybe_park();
    double now = schedule_seconds();
    const bool last_round = o_.duration > 0 && now >= o_.duration;
    if (last_round && schedule.unlimited()) break;
    if (last_round) now = o_.duration;
    std::uint64_t due = schedule.unlimited() ? written + batch_limit : schedule.due(now);
    if (due > written) {
      std::uint64_t n = std::min(due - written, batch_limit);
      if (o_.count > 0) {
        const std::uint64_t before = issued_.fetch_add(n, std::memory_order_relaxed);
        if (before >= o_.count) {
          n = 0;
        } else if (before + n > o_.count) {
          n = o_.count - before;
        }
        if (n == 0) break;
      }
      std::uint64_t bytes = 0;
      for (std::uint64_t i = 0; i < n; ++i) {
        const std::size_t target = std::min(demo::next_size(sizes_, generator.rng()), max_payload);
        if (o_.deferred) {
          bytes += sink_->write_deferred(generator);
        } else if (o_.raw) {
          generator.next_raw(raw, target);
          if (raw.size() > max_payload) raw.resize(max_payload);
          sink_->write_raw(raw);
          bytes += raw.size();
        } else {
          generator.next_record(record, target);
          sink_->write_record(record);
          // Payload bytes as written: the record's header, tag and fields plus the message.
          record_header header;
          header.tag = record.tag;
          const auto fields = record.fields();
          bytes += record_prefix_size(header, std::span(fields.data(), record.field_count)) +
                   record.message.size();
        }
      }
      written += n;
      counters.entries.fetch_add(n, std::memory_order_relaxed);
      counters.bytes.fetch_add(bytes, std::memory_order_relaxed);
      if (o_.count > 0 && issued_.load(std::memory_order_relaxed) >= o_.count) break;
      if (last_round && written >= schedule.due(o_.duration)) break;
      continue;
    }
    if (last_round) break;
    // Sleep until the next entry is due, but wake at least every 50 ms for stop and pause.
    const double next = std::max(schedule.time_of(written + 1), now + min_sleep);
    const double wait = std::min(next - now, 0.05);
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
  std::lock_guard lock(pause_mutex_);
  --running_;
  finished_.fetch_add(1, std::memory_order_relaxed);
  pause_changed_.notify_all();
}

std::uint64_t demo_writer::total_entries() const {
  std::uint64_t sum = 0;
  for (const auto& c : counters_) sum += c.entries.load(std::memory_order_relaxed);
  return sum;
}

std::uint64_t demo_writer::total_bytes() const {
  std::uint64_t sum = 0;
  for (const auto& c : counters_) sum += c.bytes.load(std::memory_order_relaxed);
  return sum;
}

void demo_writer::print_stats(double seconds, std::uint64_t entries, std::uint64_t bytes,
                              double rate, double byte_rate) {
  if (o_.quiet) return;
  if (o_.json) {
    fmt::print(
        "{{\"type\":\"stats\",\"t\":{:.3f},\"rate\":{:.1f},\"bytes_per_s\":{:.0f},"
        "\"entries\":{},\"bytes\":{},\"incarnation\":\"{:016x}\",\"restarts\":{}}}\n",
        seconds, rate, byte_rate, entries, bytes, sink_->incarnation(), restarts_);
  } else {
    fmt::print("[{:7.1f} s] {:>10.0f} entries/s {:>11}/s | total {:>11} entries {:>10}\n", seconds,
               rate, human_size(byte_rate), entries, human_size(static_cast<double>(bytes)));
  }
  std::fflush(stdout);
}

void demo_writer::print_summary(double seconds) {
  const std::uint64_t entries = total_entries();
  const std::uint64_t bytes = total_bytes();
  const double rate = seconds > 0 ? static_cast<double>(entries) / seconds : 0;
  const double byte_rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
  const std::string name = canonical_segment_name(o_.segment);
  if (o_.json) {
    fmt::print(
        "{{\"type\":\"summary\",\"segment\":\"{}\",\"entries\":{},\"bytes\":{},\"seconds\":{:.3f},"
        "\"rate\":{:.1f},\"bytes_per_s\":{:.0f},\"target_rate\":{},\"threads\":{},"
        "\"restarts\":{},\"kept\":{}}}\n",
        json_text(name), entries, bytes, seconds, rate, byte_rate, o_.rate, o_.threads, restarts_,
        o_.keep);
  } else {
    fmt::print(
        "demo_writer: wrote {} entries ({}) in {:.2f} s: {:.1f} entries/s, {}/s; segment {} {}\n",
        entries, human_size(static_cast<double>(bytes)), seconds, rate, human_size(byte_rate),
        tools::terminal_safe(name), o_.keep ? "kept" : "unlinked");
  }
  std::fflush(stdout);
}

int demo_writer::run() {
  const std::string name = canonical_segment_name(o_.segment);
  if (o_.json) {
    fmt::print(
        "{{\"type\":\"start\",\"segment\":\"{}\",\"pid\":{},\"incarnation\":\"{:016x}\","
        "\"chunks\":{},\"chunk_size\":{},\"rate\":{},\"threads\":{},\"records\":{}}}\n",
        json_text(name), tools::process_id(), sink_->incarnation(), o_.chunks, o_.chunk_size,
        o_.rate, o_.threads, !o_.raw);
  } else if (!o_.quiet) {
    fmt::print(
        "demo_writer: writing {} to segment {} ({} chunks x {} = {}), {}, {} thread{}; "
        "Ctrl-C to stop\n",
        o_.raw        ? "raw payloads"
        : o_.deferred ? "deferred log records"
                      : "log records",
        tools::terminal_safe(name), o_.chunks, human_size(static_cast<double>(o_.chunk_size)),
        human_size(static_cast<double>(o_.chunk_size) * o_.chunks),
        o_.rate > 0 ? fmt::format("{} entries/s", o_.rate) : std::string("as fast as possible"),
        o_.threads, o_.threads == 1 ? "" : "s");
  }
  std::fflush(stdout);

  start_ = steady::now();
  running_ = o_.threads;
  std::vector<std::thread> producers;
  producers.reserve(o_.threads);
  for (unsigned i = 0; i < o_.threads; ++i) producers.emplace_back([this, i] { produce(i); });

  auto next_stats = start_ + std::chrono::seconds(1);
  const auto restart_period =
      std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(o_.restart_every));
  auto next_restart = start_ + restart_period;
  const auto at = [&](double seconds) {
    return start_ +
           std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
  };
  bool stalled = false;
  std::uint64_t last_entries = 0;
  std::uint64_t last_bytes = 0;
  auto last_stats = start_;
  int status = 0;

  while (finished_.load(std::memory_order_relaxed) < o_.threads) {
    if (stop_signal.load(std::memory_order_relaxed)) break;
    const auto now = steady::now();
    if (o_.crash_after > 0 && now >= at(o_.crash_after)) {
      fmt::print(stderr, "demo_writer: simulating a crash ({}) as asked by --crash-after\n",
                 o_.crash_mode);
      std::fflush(stdout);
      std::fflush(stderr);
      // No destructors, no unlink, no "closed" flag: what a crash leaves behind.
      tools::crash_now(o_.crash_mode);
    }
    if (o_.stall_for > 0 && !stalled && now >= at(o_.stall_after)) {
      stalled = true;
      if (!o_.json && !o_.quiet)
        fmt::print("demo_writer: stalling for {} s (--stall-for)\n", o_.stall_for);
      pause_producers();
      const auto stall_start = steady::now();
      const auto stall_end = stall_start + std::chrono::duration_cast<steady::duration>(
                                               std::chrono::duration<double>(o_.stall_for));
      while (steady::now() < stall_end && !stop_signal.load(std::memory_order_relaxed)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        sink_->heartbeat();
      }
      // The schedule resumes where it stopped instead of bursting to catch up.
      stalled_ns_.fetch_add(
          std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - stall_start)
              .count());
      resume_producers();
      continue;
    }
    if (o_.restart_every > 0 && now >= next_restart) {
      pause_producers();
      sink_.reset();  // clean shutdown of this incarnation (unlinks unless --keep)
      try {
        create_sink();
      } catch (const segment_error& e) {
        fmt::print(stderr, "demo_writer: error: cannot re-create the segment: {}\n",
                   tools::terminal_safe(e.what()));
        stop_signal.store(true);
        done_.store(true);
        resume_producers();
        status = exit_failure;
        break;
      }
      ++restarts_;
      truncation_reported_ = false;
      if (!o_.json && !o_.quiet) {
        fmt::print("demo_writer: restarted the writer (new incarnation {:016x})\n",
                   sink_->incarnation());
      } else if (o_.json) {
        fmt::print("{{\"type\":\"restart\",\"incarnation\":\"{:016x}\",\"restarts\":{}}}\n",
                   sink_->incarnation(), restarts_);
      }
      std::fflush(stdout);
      resume_producers();
      next_restart += restart_period;
    }
    if (now >= next_stats) {
      const std::uint64_t entries = total_entries();
      const std::uint64_t bytes = total_bytes();
      const double window = std::chrono::duration<double>(now - last_stats).count();
      print_stats(std::chrono::duration<double>(now - start_).count(), entries, bytes,
                  static_cast<double>(entries - last_entries) / window,
                  static_cast<double>(bytes - last_bytes) / window);
      last_entries = entries;
      last_bytes = bytes;
      last_stats = now;
      next_stats += std::chrono::seconds(1);
    }
    if (!truncation_reported_ && sink_->truncated()) {
      truncation_reported_ = true;
      fmt::print(stderr,
                 "demo_writer: warning: segment {} was truncated by another process; the writer "
                 "keeps running, but what it writes now reaches no reader (restart it to create "
                 "a new segment)\n",
                 tools::terminal_safe(name));
      std::fflush(stderr);
    }
    sink_->heartbeat();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  done_.store(true);
  for (auto& t : producers) t.join();
  print_summary(std::chrono::duration<double>(steady::now() - start_).count());
  sink_.reset();
  return status;
}

bool parse_burst(const std::string& text, double& on, double& off) {
  const auto colon = text.find_first_of(":,");
  if (colon == std::string::npos) return false;
  try {
    on = tools::parse_decimal(std::string_view(text).substr(0, colon), 0, 1e9);
    off = tools::parse_decimal(std::string_view(text).substr(colon + 1), 0, 1e9);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{
      "ouroboros-demo-writer: write realistic log records into a shared-memory segment at a "
      "controlled rate, for demos and load tests.\nWith no options it writes 1000 records/s "
      "into 'ouroboros-demo' until Ctrl-C; read them with 'ouroboros-cli tail -f'.",
      "ouroboros-demo-writer"};
  app.get_formatter()->column_width(34);
  tools::cli::set_failure_message(app, "ouroboros-demo-writer");
  tools::cli::add_version_flag(app, "ouroboros-demo-writer");
  // Bounds of the numeric options: anything beyond is a typo, not a plan.
  constexpr std::uint64_t max_size = std::uint64_t{1} << 40;  // 1 TiB
  constexpr double max_rate = 1e9;                            // entries/s
  constexpr double max_seconds = 1e9;                         // about 31 years

  auto* segment = app.add_option_group("Segment");
  segment->add_option("-s,--segment", o.segment, "Segment name (a file in /dev/shm)")
      ->capture_default_str();
  segment->add_option("--chunks", o.chunks, "Number of chunks in the ring")
      ->transform(tools::cli::whole_number(1, 1U << 20))
      ->capture_default_str();
  segment->add_option("--chunk-size", o.chunk_size, "Chunk target size in bytes (K, M, G suffixes)")
      ->transform(tools::cli::size(1, max_size))
      ->capture_default_str();
  segment
      ->add_option("--size", o.total_size,
                   "Total ring size (K, M, G suffixes); sets --chunk-size to SIZE / --chunks")
      ->transform(tools::cli::size(0, max_size));
  segment
      ->add_option("--mode", o.mode,
                   "Permission bits of the segment, octal; group and others may read (0640, "
                   "0644) but never write, and special bits are refused")
      ->check(tools::cli::segment_mode())
      ->capture_default_str();
  segment->add_flag("--take-over", o.take_over,
                    "Replace the segment even if a running writer owns it (or it is not a log)");
  segment->add_flag("--keep", o.keep, "Leave the segment in /dev/shm on exit (default: unlink it)");

  auto* rate = app.add_option_group("Rate");
  rate->add_option("-r,--rate", o.rate,
                   "Entries per second, 1 to the machine's maximum; 0 = as fast as possible")
      ->transform(tools::cli::decimal(0, max_rate))
      ->capture_default_str();
  rate->add_option(
      "--burst", o.burst,
      "ON:OFF seconds: write at --rate for ON seconds, then pause OFF seconds, repeat");
  rate->add_option(
          "--ramp", o.ramp_seconds,
          "Ramp the rate linearly from --ramp-from to --rate over this many seconds, repeat")
      ->transform(tools::cli::decimal(0, max_seconds));
  rate->add_option("--ramp-from", o.ramp_from, "Start rate of each ramp (entries/s)")
      ->transform(tools::cli::decimal(0, max_rate))
      ->capture_default_str();
  rate->add_option("-d,--duration", o.duration,
                   "Stop after this many seconds (0 = run until Ctrl-C)")
      ->transform(tools::cli::decimal(0, max_seconds))
      ->capture_default_str();
  rate->add_option("-n,--count", o.count, "Stop after this many entries (0 = no limit)")
      ->transform(tools::cli::whole_number(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
  rate->add_option("-t,--threads", o.threads,
                   "Producer threads, each writing its share of the rate (records: through core's "
                   "thread-safe logger)")
      ->transform(tools::cli::whole_number(1, 64))
      ->capture_default_str();
  rate->add_option("--producers", o.producers,
                   "How record threads share the ring: locked (a spin lock around each record), "
                   "staged (a queue per thread, drained into the ring every millisecond; "
                   "records still queued when the process is killed are lost), auto (locked, "
                   "or no lock at all for one thread)")
      ->check(CLI::IsMember({"auto", "locked", "staged"}))
      ->capture_default_str();

  auto* payload = app.add_option_group("Payload");
  payload->add_flag("--raw", o.raw,
                    "Write raw text payloads (segment encoding 'raw') instead of log records");
  payload->add_flag("--deferred", o.deferred,
                    "Log through call sites with format strings and typed arguments, as deferred "
                    "records (format string once per segment, then its id and the arguments; "
                    "readers format); sizes come from the calls");
  payload
      ->add_option("--size-dist", o.size_distribution,
                   "Payload sizes: natural (as the message templates make them), fixed "
                   "(--payload-size), uniform (--min-size..--max-size), longtail (mostly near "
                   "--min-size, a Pareto tail up to --max-size)")
      ->check(CLI::IsMember({"natural", "fixed", "uniform", "longtail"}))
      ->capture_default_str();
  payload->add_option("--payload-size", o.size, "Payload bytes for --size-dist fixed")
      ->transform(tools::cli::size(0, max_size))
      ->capture_default_str();
  payload->add_option("--min-size", o.min_size, "Smallest payload for uniform and longtail")
      ->transform(tools::cli::size(0, max_size))
      ->capture_default_str();
  payload->add_option("--max-size", o.max_size, "Largest payload for uniform and longtail")
      ->transform(tools::cli::size(0, max_size))
      ->capture_default_str();
  payload->add_option("--seed", o.seed, "Random seed (same seed, same messages)")
      ->transform(tools::cli::whole_number(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();

  auto* output = app.add_option_group("Output");
  output->add_flag(
      "--json", o.json,
      "Machine-readable output: one JSON object per line (start, stats, restart, summary)");
  output->add_flag("-q,--quiet", o.quiet,
                   "No per-second statistics (the summary is still printed)");

  auto* faults = app.add_option_group("Fault modes (for testing readers)");
  faults
      ->add_option("--restart-every", o.restart_every,
                   "Close and re-create the segment every N seconds (same name, new incarnation)")
      ->transform(tools::cli::decimal(0, max_seconds));
  faults
      ->add_option("--crash-after", o.crash_after,
                   "Exit abruptly after N seconds, leaving the segment as a crash would")
      ->transform(tools::cli::decimal(0, max_seconds));
  faults
      ->add_option("--crash-mode", o.crash_mode,
                   "How to crash: exit (_exit, no cleanup), kill (SIGKILL), abort (SIGABRT)")
      ->check(CLI::IsMember({"exit", "kill", "abort"}))
      ->capture_default_str();
  faults->add_option("--stall-after", o.stall_after, "Stop writing after N seconds ...")
      ->transform(tools::cli::decimal(0, max_seconds));
  faults
      ->add_option("--stall-for", o.stall_for,
                   "... for this many seconds (the process stays alive and keeps its heartbeat), "
                   "then continue at the planned rate")
      ->transform(tools::cli::decimal(0, max_seconds));
  app.footer("Exit codes: 0 ok, 1 runtime failure, 2 bad command line or segment in use.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : exit_usage;
  }

  auto usage_error = [](const std::string& message) {
    fmt::print(stderr, "ouroboros-demo-writer: error: {}\n", tools::terminal_safe(message));
    return exit_usage;
  };

  if (o.deferred && o.raw)
    return usage_error("--deferred writes log records; --raw writes payloads that are not");
  if (o.deferred && o.size_distribution != "natural")
    return usage_error(
        "--size-dist shapes records built as text; --deferred records are as large as their "
        "calls' arguments");
  if (o.raw && o.producers != "auto")
    return usage_error(
        "--producers chooses how log records are published; --raw payloads are "
        "written under a mutex");

  tools::rate_plan plan;
  plan.rate = o.rate;
  if (!o.burst.empty()) {
    plan.shape = tools::rate_shape::burst;
    if (!parse_burst(o.burst, plan.on_seconds, plan.off_seconds)) {
      return usage_error("--burst wants ON:OFF in seconds, e.g. --burst 2:1, not '" + o.burst +
                         "'");
    }
  }
  if (o.ramp_seconds != 0) {
    if (plan.shape == tools::rate_shape::burst)
      return usage_error("--burst and --ramp exclude each other");
    plan.shape = tools::rate_shape::ramp;
    plan.ramp_seconds = o.ramp_seconds;
    plan.ramp_from = o.ramp_from;
  }
  if (const std::string problem = tools::validate(plan); !problem.empty())
    return usage_error(problem);
  if (o.rate > 0 && o.rate < 1 && plan.shape == tools::rate_shape::steady) {
    return usage_error("--rate must be at least 1 entry/s (or 0 for as fast as possible)");
  }
  if (o.total_size > 0) o.chunk_size = o.total_size / o.chunks;
  if (o.chunk_size < 64) return usage_error("chunk size must be at least 64 bytes");
  demo::size_plan sizes;
  sizes.distribution = o.size_distribution == "fixed"      ? demo::size_distribution::fixed
                       : o.size_distribution == "uniform"  ? demo::size_distribution::uniform
                       : o.size_distribution == "longtail" ? demo::size_distribution::longtail
                                                           : demo::size_distribution::natural;
  sizes.size = o.size;
  sizes.min = o.min_size;
  sizes.max = o.max_size;
  if (sizes.distribution == demo::size_distribution::fixed && o.size == 0) {
    return usage_error("--payload-size must be at least 1 byte");
  }
  if ((sizes.distribution == demo::size_distribution::uniform ||
       sizes.distribution == demo::size_distribution::longtail) &&
      (o.min_size == 0 || o.min_size > o.max_size)) {
    return usage_error("--min-size must be at least 1 and not above --max-size");
  }
  const double data_bytes = static_cast<double>(o.chunk_size) * o.chunks;
  const std::size_t largest = sizes.distribution == demo::size_distribution::fixed     ? o.size
                              : sizes.distribution == demo::size_distribution::natural ? 0
                                                                                       : o.max_size;
  if (static_cast<double>(largest) > data_bytes - 8) {
    return usage_error(fmt::format("payloads of {} bytes do not fit a ring of {} chunks x {} bytes",
                                   largest, o.chunks, o.chunk_size));
  }

  tools::install_stop_handler(on_stop_signal);

  try {
    canonical_segment_name(o.segment);
    demo_writer writer(o, plan, sizes);
    return writer.run();
  } catch (const segment_error& e) {
    fmt::print(stderr, "ouroboros-demo-writer: error: {}\n", tools::terminal_safe(e.what()));
    const bool usage =
        e.code() == segment_errc::invalid_name || e.code() == segment_errc::invalid_config ||
        e.code() == segment_errc::owned_by_live_writer ||
        e.code() == segment_errc::foreign_object || e.code() == segment_errc::not_regular_file;
    if (e.code() == segment_errc::owned_by_live_writer ||
        e.code() == segment_errc::foreign_object || e.code() == segment_errc::not_regular_file) {
      fmt::print(
          stderr,
          "ouroboros-demo-writer: hint: --take-over replaces it, -s NAME picks another name\n");
    }
    return usage ? exit_usage : exit_failure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ouroboros-demo-writer: error: {}\n", tools::terminal_safe(e.what()));
    return exit_failure;
  }
}
