#include "ouroboros/segment.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ouroboros/detail/shared_words.hpp"
#include "platform/shared_memory.hpp"

namespace ouroboros {

namespace {
constexpr std::size_t max_name_length = 255;
// Process start times are derived from boot time, which the kernel may report a second apart
// between reads; a pid reused by another process starts later than that.
constexpr std::uint64_t start_time_tolerance_ns = 2'000'000'000ULL;

segment_errc to_errc(platform::open_result result) {
  switch (result) {
    case platform::open_result::missing: return segment_errc::missing;
    case platform::open_result::permission: return segment_errc::permission;
    case platform::open_result::not_regular: return segment_errc::not_regular_file;
    case platform::open_result::no_space: return segment_errc::invalid_config;
    default: return segment_errc::system;
  }
}

std::span<std::byte> span_of(const platform::mapping& m) {
  return {m.data(), m.size()};
}

std::string octal(unsigned value) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + (value & 7U)));
    value >>= 3;
  } while (value != 0);
  return "0" + digits;
}
}  // namespace

std::string canonical_segment_name(std::string_view name) {
  if (name.empty()) throw segment_error(segment_errc::invalid_name, "segment name is empty");
  std::string canonical = name.front() == '/' ? std::string(name) : "/" + std::string(name);
  if (canonical.size() == 1) {
    throw segment_error(segment_errc::invalid_name, "segment name '/' has no characters after '/'");
  }
  if (canonical.size() > max_name_length) {
    throw segment_error(segment_errc::invalid_name,
                        "segment name is " + std::to_string(canonical.size()) +
                            " bytes long; the limit is " + std::to_string(max_name_length));
  }
  if (canonical.find('/', 1) != std::string::npos) {
    throw segment_error(segment_errc::invalid_name, "segment name '" + std::string(name) +
                                                        "' contains '/' after the first character");
  }
  if (canonical.find('\0') != std::string::npos) {
    throw segment_error(segment_errc::invalid_name, "segment name contains a NUL byte");
  }
  if (canonical == "/." || canonical == "/..") {
    throw segment_error(segment_errc::invalid_name, "segment name '" + canonical + "' is reserved");
  }
  if (const std::string problem = platform::name_problem(canonical); !problem.empty()) {
    throw segment_error(segment_errc::invalid_name, problem);
  }
  return canonical;
}

std::string_view to_string(writer_liveness liveness) noexcept {
  switch (liveness) {
    case writer_liveness::unknown: return "unknown";
    case writer_liveness::alive: return "alive";
    case writer_liveness::closed: return "closed";
    case writer_liveness::gone: return "gone";
  }
  return "unknown";
}

writer_liveness liveness_of(const extension_snapshot& snapshot) noexcept {
  if (snapshot.closed()) return writer_liveness::closed;
  if (!platform::process_exists(snapshot.writer_pid)) return writer_liveness::gone;
  const std::uint64_t started = platform::process_start_unix_ns(snapshot.writer_pid);
  if (started != 0 && snapshot.writer_start_unix_ns != 0) {
    const std::uint64_t difference = started > snapshot.writer_start_unix_ns
                                         ? started - snapshot.writer_start_unix_ns
                                         : snapshot.writer_start_unix_ns - started;
    if (difference > start_time_tolerance_ns) return writer_liveness::gone;  // pid was reused
  }
  return writer_liveness::alive;
}

// ---------------------------------------------------------------------------------------------
// shm_writer

struct shm_writer::platform_state {
  platform::mapping memory;
};

namespace {
// Where a name cannot be removed while readers hold it (Windows), a stale segment is reused: every
// word is cleared (the magic first, so no new reader attaches to a half-cleared ring) and the new
// writer builds its ring in the same memory with a new incarnation id. Attached readers then see
// no data, find a different incarnation (shm_reader::check_replaced) and re-attach, as they do
// when a POSIX name is re-created.
std::unique_ptr<platform::mapping> take_over_in_place(const std::string& name, std::size_t size) {
  auto memory = std::make_unique<platform::mapping>();
  std::string error;
  const auto opened = platform::reuse(name, size, *memory, error);
  if (opened != platform::open_result::ok) {
    throw segment_error(
        opened == platform::open_result::exists ? segment_errc::invalid_config : to_errc(opened),
        error);
  }
  std::byte* bytes = memory->data();
  detail::store_shared<std::uint64_t>(bytes, layout::magic_offset, 0);
  for (std::size_t offset = 8; offset + 8 <= memory->size(); offset += 8) {
    detail::store_shared<std::uint64_t>(bytes, offset, 0, std::memory_order_relaxed);
  }
  std::atomic_thread_fence(std::memory_order_release);
  return memory;
}

// Creates the object, replacing what a dead writer left behind. Returns the mapping.
std::unique_ptr<platform::mapping> create_segment(const std::string& name, std::size_t size,
                                                  const shm_writer_options& options) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto memory = std::make_unique<platform::mapping>();
    std::string error;
    const auto created = platform::mapping::create(name, size, options.mode, *memory, error);
    if (created == platform::open_result::ok) return memory;
    if (created != platform::open_result::exists) throw segment_error(to_errc(created), error);

    platform::mapping existing;
    const auto opened = platform::mapping::open(name, false, existing, error);
    if (opened == platform::open_result::missing) continue;  // vanished meanwhile: try again
    if (opened == platform::open_result::not_regular && !options.take_over) {
      throw segment_error(
          segment_errc::not_regular_file,
          error + "; remove it or choose another name (or take it over explicitly)");
    }
    if (opened != platform::open_result::ok && opened != platform::open_result::not_regular) {
      throw segment_error(to_errc(opened), error);
    }
    if (opened == platform::open_result::ok) {
      const std::span<const std::byte> bytes(existing.data(), existing.size());
      ring_reader probe;
      const bool is_log = probe.attach(bytes).status == read_status::ok;
      if (!is_log && !options.take_over) {
        throw segment_error(segment_errc::foreign_object,
                            "'" + name +
                                "' exists and is not an ouroboros log segment; "
                                "remove it or choose another name (or take it over explicitly)");
      }
      if (is_log && !options.take_over) {
        if (const auto ext = read_extension(bytes); ext &&
                                                    liveness_of(*ext) == writer_liveness::alive &&
                                                    ext->writer_pid != platform::current_pid()) {
          throw segment_error(segment_errc::owned_by_live_writer,
                              "segment '" + name + "' belongs to a running writer (pid " +
                                  std::to_string(ext->writer_pid) +
                                  "); stop it or take the segment over explicitly");
        }
      }
      if (is_log && options.take_over && !platform::names_are_removable()) {
        // Taking over in place while the old writer still writes would interleave two writers
        // in one ring: where the name cannot be removed (Windows), a live writer must stop first.
        if (const auto ext = read_extension(bytes); ext &&
                                                    liveness_of(*ext) == writer_liveness::alive &&
                                                    ext->writer_pid != platform::current_pid()) {
          throw segment_error(segment_errc::owned_by_live_writer,
                              "segment '" + name + "' belongs to a running writer (pid " +
                                  std::to_string(ext->writer_pid) +
                                  "); on Windows a running writer's segment cannot be taken "
                                  "over (its memory cannot be replaced under it): stop it first");
        }
      }
    }
    existing.reset();
    if (!platform::names_are_removable()) return take_over_in_place(name, size);
    // Stale (or taken over): readers of the old one re-attach.
    if (const int e = platform::unlink(name); e != 0 && e != ENOENT) {
      std::uint32_t owner = 0;
      if ((e == EPERM || e == EACCES) && platform::owner_of(name, owner) &&
          owner != platform::effective_uid() && platform::shm_directory_sticky()) {
        const std::string user = platform::user_name(owner);
        throw segment_error(
            segment_errc::permission,
            "cannot replace segment '" + name + "': it belongs to " +
                (user.empty() ? "uid " + std::to_string(owner)
                              : "user '" + user + "' (uid " + std::to_string(owner) + ")") +
                " and /dev/shm is sticky, so only that user or root may remove it; ask them to "
                "stop their writer and remove it, or choose another name");
      }
      throw segment_error(
          e == EPERM || e == EACCES ? segment_errc::permission : segment_errc::system,
          "cannot remove '" + name + "' to replace it: " + std::strerror(e));
    }
  }
  throw segment_error(segment_errc::system,
                      "cannot create segment '" + name + "': the name keeps being re-created");
}

writer_config checked_config(const shm_writer_options& options, const extension_info* info) {
  // A log must never be writable by others (they could forge entries, or shrink the segment
  // under its readers), and setuid/setgid/sticky bits mean nothing on shared memory.
  if ((options.mode & ~0777U) != 0) {
    throw segment_error(segment_errc::invalid_config,
                        "segment mode " + octal(options.mode) +
                            " has special bits (setuid, setgid or sticky) or bits beyond 07777; "
                            "use permission bits only, e.g. 0600 or 0644");
  }
  if ((options.mode & 022U) != 0) {
    throw segment_error(segment_errc::invalid_config,
                        "segment mode " + octal(options.mode) +
                            " lets group or others write; only the owner may write a log "
                            "(use e.g. 0600, 0640 or 0644)");
  }
  if (options.chunk_count == 0) {
    throw segment_error(segment_errc::invalid_config, "chunk count must be at least 1");
  }
  if (options.chunk_target_size < 64) {
    throw segment_error(segment_errc::invalid_config, "chunk size must be at least 64 bytes");
  }
  if (options.chunk_count > (1U << 20)) {
    throw segment_error(segment_errc::invalid_config, "chunk count must be at most 1048576");
  }
  if (options.chunk_target_size > (std::size_t{1} << 40) / options.chunk_count) {
    throw segment_error(segment_errc::invalid_config, "segment would exceed 1 TiB");
  }
  if (options.dictionary_capacity > (1U << 24)) {
    throw segment_error(segment_errc::invalid_config, "dictionary capacity must be at most 16 MiB");
  }
  writer_config config;
  config.chunk_count = options.chunk_count;
  config.chunk_target_size = options.chunk_target_size;
  config.extension = info;
  return config;
}

}  // namespace

shm_writer::shm_writer(std::string_view name, const shm_writer_options& options)
    : name_(canonical_segment_name(name)),
      keep_(options.keep_on_close),
      platform_(std::make_unique<platform_state>()) {
  extension_info info;
  info.writer_pid = platform::current_pid();
  info.writer_start_unix_ns = platform::process_start_unix_ns(info.writer_pid);
  if (info.writer_start_unix_ns == 0) info.writer_start_unix_ns = platform::realtime_ns();
  info.incarnation = platform::random_u64();
  info.payload_encoding = options.payload_encoding;
  info.dictionary_capacity = options.dictionary_capacity;
  const writer_config config = checked_config(options, &info);
  // Where views are whole pages (Windows), the ring fills them: readers take its end from there.
  const std::size_t granule = platform::size_granularity();
  const std::size_t size = (required_buffer_size(config) + granule - 1) / granule * granule;
  platform_->memory = std::move(*create_segment(name_, size, options));
  incarnation_ = info.incarnation;
  try {
    ring_.emplace(span_of(platform_->memory), config);
  } catch (const std::invalid_argument& e) {
    (void)platform::unlink(name_);
    throw segment_error(segment_errc::invalid_config, e.what());
  }
  extension_ = extension_writer(ring_->extension_block());
  heartbeat();
  platform::register_name(name_);
}

shm_writer::~shm_writer() {
  close();
}

bool shm_writer::truncated() const noexcept {
  return platform_->memory.truncated();
}

void shm_writer::heartbeat() noexcept {
  extension_.beat(platform::realtime_ns());
}

void shm_writer::close() noexcept {
  if (closed_) return;
  closed_ = true;
  heartbeat();
  extension_.set_flags(layout::extension_layout::flag_closed);
  if (keep_) return;
  if (!platform::names_are_removable()) {
    // The section lives on while readers hold it; it goes with the last handle.
    (void)platform::unlink(name_);
    return;
  }
  // Unlink only our own segment: after a take-over the name belongs to someone else.
  platform::object_identity now;
  if (platform::identity_of(name_, now) && now == platform_->memory.identity()) {
    (void)platform::unlink(name_);
  }
}

// ---------------------------------------------------------------------------------------------
// shm_reader

struct shm_reader::platform_state {
  platform::mapping memory;
};

namespace {
[[noreturn]] void throw_attach_failure(const std::string& name, const read_result& result) {
  const auto code = result.status == read_status::unsupported_version
                        ? segment_errc::unsupported_version
                    : result.status == read_status::corrupt ? segment_errc::corrupt
                                                            : segment_errc::not_a_log;
  throw segment_error(code, "segment '" + name + "' is not a readable log: " +
                                std::string(to_string(result.status)) + " (" +
                                std::string(result.detail) + ")");
}

platform::mapping open_read_only(const std::string& name) {
  platform::mapping memory;
  std::string error;
  const auto opened = platform::mapping::open(name, false, memory, error);
  if (opened != platform::open_result::ok) {
    if (opened == platform::open_result::missing) {
      error = "segment '" + name + "' does not exist (no writer has created it, or it was removed)";
    }
    throw segment_error(to_errc(opened), error);
  }
  return memory;
}
}  // namespace

shm_reader::shm_reader(std::string_view name, start_position start)
    : name_(canonical_segment_name(name)),
      platform_(std::make_unique<platform_state>()),
      truncated_detail_("segment '" + name_ +
                        "' shrank under the reader (another process truncated it); re-open it "
                        "to read on") {
  open_and_attach(start);
}

shm_reader::~shm_reader() = default;

void shm_reader::open_and_attach(start_position start) {
  platform::mapping memory = open_read_only(name_);
  ring_reader fresh;
  const read_result attached = fresh.attach({memory.data(), memory.size()}, start);
  if (attached.status != read_status::ok) throw_attach_failure(name_, attached);
  // Commit only after success, so a failed re-attach leaves the current segment readable.
  ring_ = std::move(fresh);
  const auto ext = read_extension({memory.data(), memory.size()});
  incarnation_ = ext ? ext->incarnation : 0;
  platform_->memory = std::move(memory);
  held_.reset();
  restart_loss_pending_ = false;
  next_check_ = std::chrono::steady_clock::now() + replaced_check_interval;
}

read_result shm_reader::truncated_result() const {
  read_result result;
  result.status = read_status::segment_truncated;
  result.detail = truncated_detail_;
  return result;
}

read_result shm_reader::read_next() {
  if (held_) {
    // Its payload still points into ring_'s buffer: ring_ has not been called since.
    const read_result result = *held_;
    held_.reset();
    return result;
  }
  // Checked after the read too: any load of that call may have read a zero page.
  if (platform_->memory.truncated()) return truncated_result();
  read_result result = ring_.read_next();
  if (platform_->memory.truncated()) return truncated_result();
  if (incarnation_ != 0 && result.status != read_status::no_data &&
      !platform::names_are_removable()) {
    // A take-over in place (Windows) rewrites this very memory: whatever was just read may be
    // the new writer's, read under the old incarnation's sequence numbers. The extension block
    // is cleared before the ring and rewritten before any new row is committed, so an unchanged
    // incarnation id here proves the result came from the incarnation attached.
    const auto ext = read_extension(bytes());
    if (!ext || ext->incarnation != incarnation_) {
      result = {};
      result.status = read_status::no_data;
      next_check_ = std::chrono::steady_clock::now();
    }
  }
  if (restart_loss_pending_ && !ring_.start_deferred()) {
    // The new incarnation had no committed chunk when it was attached: its start is known now.
    restart_loss_pending_ = false;
    if (const std::uint64_t lost = ring_.start_sequence(); lost > 0) {
      if (result.status == read_status::lapped) {
        result.lost += lost;
      } else {
        held_ = result;
        read_result gap;
        gap.status = read_status::lapped;
        gap.lost = lost;
        return gap;
      }
    }
  }
  if (result.status == read_status::no_data) check_replaced_on_no_data(result.status, result.lost);
  return result;
}

void shm_reader::check_replaced_on_no_data(read_status& status, std::uint64_t& lost) {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return;
  next_check_ = now + replaced_check_interval;
  // Only on "no data": every entry of the old segment has been read (or counted lost).
  if (check_replaced()) {
    status = read_status::writer_restarted;
    // The new incarnation's entries before its oldest intact one were overwritten.
    restart_loss_pending_ = ring_.start_deferred();
    lost = restart_loss_pending_ ? 0 : ring_.start_sequence();
  }
}

namespace {
// The unit in which a shrunk segment's missing bytes fault: a page (4 KiB; larger pages are
// multiples of it).
constexpr std::size_t fault_granule = 4096;
}  // namespace

batch_result shm_reader::read_batch(std::size_t max_entries, std::size_t max_bytes) {
  batch_result batch;
  if (held_ || restart_loss_pending_) {
    // The rare hand-overs of read_next (an entry held back behind a loss report): one at a time.
    const read_result one = read_next();
    batch.status = one.status;
    batch.lost = one.lost;
    batch.detail = one.detail;
    if (one.status == read_status::ok) {
      single_ = {one.sequence, one.payload};
      batch.entries = std::span<const batch_entry>(&single_, 1);
    }
    return batch;
  }
  if (!platform_->memory.truncated()) {
    // A run stays inside the page it starts in (a first entry that leaves it is read alone): if
    // another process shrinks the segment during the call, the run that touched a missing page
    // is the one discarded, and every entry before it was delivered, as with read_next.
    const std::size_t page_end = (ring_.position() / fault_granule + 1) * fault_granule;
    batch = ring_.read_batch(max_entries, std::min(max_bytes, page_end - ring_.position()));
    // Checked after the read too: any load of that call may have read a zero page.
    if (!platform_->memory.truncated()) {
      if (batch.status == read_status::no_data) check_replaced_on_no_data(batch.status, batch.lost);
      return batch;
    }
  }
  const read_result truncated = truncated_result();
  batch = {};
  batch.status = truncated.status;
  batch.detail = truncated.detail;
  return batch;
}

bool shm_reader::check_replaced() {
  if (!platform::names_are_removable()) {
    // No inode to compare (Windows): a writer that took the name over rewrote the incarnation
    // id in this very memory, or (if every handle had closed) created a new section under it.
    platform::mapping current;
    std::string error;
    if (platform::mapping::open(name_, false, current, error) != platform::open_result::ok) {
      return false;
    }
    const auto theirs = read_extension({current.data(), current.size()});
    if (!theirs) return false;  // being created or cleared: try again later
    if (theirs->incarnation == incarnation_) return false;
    try {
      open_and_attach(start_position::oldest);
      return true;
    } catch (const segment_error&) {
      return false;
    }
  }
  platform::object_identity now;
  if (!platform::identity_of(name_, now) || now == platform_->memory.identity()) return false;
  try {
    open_and_attach(start_position::oldest);
    return true;
  } catch (const segment_error&) {
    return false;  // the new writer has not finished creating it: try again later
  }
}

std::uint32_t shm_reader::owner_uid() const noexcept {
  return platform_->memory.owner_uid();
}

bool shm_reader::truncated() const noexcept {
  return platform_->memory.truncated();
}

std::span<const std::byte> shm_reader::bytes() const noexcept {
  return {platform_->memory.data(), platform_->memory.size()};
}

std::optional<extension_snapshot> shm_reader::extension() const {
  return read_extension(bytes());
}

writer_liveness shm_reader::liveness() const {
  const auto ext = extension();
  return ext ? liveness_of(*ext) : writer_liveness::unknown;
}

// ---------------------------------------------------------------------------------------------
// discovery

namespace {
std::optional<segment_info> describe(const std::string& name, const platform::mapping& memory) {
  const std::span<const std::byte> bytes(memory.data(), memory.size());
  ring_reader probe;
  if (probe.attach(bytes).status != read_status::ok) return std::nullopt;
  segment_info info;
  info.name = name;
  info.size = memory.size();
  info.chunk_count = probe.chunk_count();
  info.extension = read_extension(bytes);
  info.liveness = info.extension ? liveness_of(*info.extension) : writer_liveness::unknown;
  info.newest_token = probe.newest_chunk_token();
  info.owner_uid = memory.owner_uid();
  // Shrunk while we looked: what was read came partly from zero pages.
  if (memory.truncated()) return std::nullopt;
  return info;
}
}  // namespace

std::uint32_t current_user_id() noexcept {
  return platform::effective_uid();
}

std::string user_name_of(std::uint32_t uid) {
  return platform::user_name(uid);
}

std::vector<segment_info> list_segments() {
  std::vector<segment_info> segments;
  for (const std::string& name : platform::list_names()) {
    platform::mapping memory;
    std::string error;
    if (platform::mapping::open(name, false, memory, error) != platform::open_result::ok) continue;
    if (auto info = describe(name, memory)) segments.push_back(std::move(*info));
  }
  std::sort(segments.begin(), segments.end(),
            [](const segment_info& a, const segment_info& b) { return a.name < b.name; });
  return segments;
}

segment_info inspect_segment(std::string_view name) {
  const std::string canonical = canonical_segment_name(name);
  const platform::mapping memory = open_read_only(canonical);
  auto info = describe(canonical, memory);
  if (!info && memory.truncated()) {
    throw segment_error(segment_errc::not_a_log,
                        "segment '" + canonical +
                            "' shrank while it was being read (another process truncated it)");
  }
  if (!info) {
    ring_reader probe;
    throw_attach_failure(canonical, probe.attach({memory.data(), memory.size()}));
  }
  return std::move(*info);
}

}  // namespace ouroboros
