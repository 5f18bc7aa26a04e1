// Segments on a hostile machine (issue 10): a segment shrunk under its readers and its writer,
// FIFOs, links and other non-regular files under the name, zombie writers, writer restarts that
// overwrite entries before a reader gets there, squatting and a full /dev/shm.
// Everything that could kill or hang runs in a forked child with a deadline, so a regression
// fails the test instead of taking the test runner down.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "ouroboros/segment.hpp"
#include "ring_bytes.hpp"
#include "test_support.hpp"

namespace ouroboros::test {
namespace {

using namespace std::chrono_literals;

std::string shm_file(const std::string& name) {
  return "/dev/shm" + name;
}

// Runs `body` in a forked child. The child reports a failure as text (empty = success) through
// a pipe and is killed if it takes longer than `deadline`. Returns what went wrong, or "".
std::string in_child(const std::function<std::string()>& body,
                     std::chrono::milliseconds deadline = 10s) {
  int report[2];
  if (::pipe(report) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(report[0]);
    std::string failure;
    try {
      failure = body();
    } catch (const std::exception& e) {
      failure = std::string("unexpected exception: ") + e.what();
    }
    std::size_t sent = 0;
    while (sent < failure.size()) {
      const ssize_t n = ::write(report[1], failure.data() + sent, failure.size() - sent);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    ::_exit(failure.empty() ? 0 : 1);
  }
  ::close(report[1]);
  const auto until = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  bool done = false;
  while (!done) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      done = true;
    } else if (std::chrono::steady_clock::now() >= until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ::close(report[0]);
      return "the child hung (killed after " + std::to_string(deadline.count()) + " ms)";
    } else {
      std::this_thread::sleep_for(2ms);
    }
  }
  std::string text;
  char chunk[512];
  ssize_t n = 0;
  while ((n = ::read(report[0], chunk, sizeof(chunk))) > 0) text.append(chunk, n);
  ::close(report[0]);
  if (WIFSIGNALED(status)) {
    return "the child died of signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && text.empty()) {
    return "the child exited with " + std::to_string(WEXITSTATUS(status));
  }
  return text;
}

// What a constructor or call throws: its code and message, or nullopt if it did not throw.
struct thrown {
  segment_errc code;
  std::string message;
};
std::optional<thrown> error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const segment_error& e) {
    return thrown{e.code(), e.what()};
  }
  return std::nullopt;
}

shm_writer_options small_options() {
  shm_writer_options o;
  o.chunk_count = 16;
  o.chunk_target_size = 4096;
  return o;
}

// A pipe the parent waits on until a forked child says it is ready.
struct ready_pipe {
  int fds[2] = {-1, -1};
  ready_pipe() {
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  }
  ~ready_pipe() {
    for (const int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  void signal(char value = 'y') { [[maybe_unused]] auto n = ::write(fds[1], &value, 1); }
  char wait() {
    char value = 0;
    return ::read(fds[0], &value, 1) == 1 ? value : 0;
  }
};

// ---------------------------------------------------------------------------------------------
// Item 1: a segment that shrinks under its readers and its writer.

// One process: the writer and a reader share the process; the file is cut to one page.
TEST(SegmentTruncation, ReaderReportsTruncatedAndWriterKeepsRunning) {
  segment_guard guard(unique_segment_name("shrink-local"));
  const std::string failure = in_child([&]() -> std::string {
    shm_writer writer(guard.name(), small_options());
    shm_reader reader(guard.name());
    const std::string payload(200, 'p');
    // Fill past the first page so the reader's position lies beyond the cut.
    for (int i = 0; i < 100; ++i) {
      if (writer.write(as_bytes(payload)) != write_status::ok) return "write failed";
    }
    for (int i = 0; i < 100; ++i) {
      if (reader.read_next().status != read_status::ok) return "read before the cut failed";
    }
    if (reader.truncated() || writer.truncated()) return "truncated before the cut";
    if (::truncate(shm_file(guard.name()).c_str(), 4096) != 0) return "truncate failed";
    // The writer's stores past the end land in private zero pages: no SIGBUS.
    for (int i = 0; i < 1000; ++i) {
      if (writer.write(as_bytes(payload)) != write_status::ok) return "write after the cut failed";
    }
    if (!writer.truncated()) return "the writer does not report the truncation";
    read_result r = reader.read_next();
    if (r.status != read_status::segment_truncated) {
      return "reader returned '" + std::string(to_string(r.status)) + "', not segment_truncated";
    }
    if (r.detail.find("truncated") == std::string_view::npos) return "no detail";
    for (int i = 0; i < 3; ++i) {
      if (reader.read_next().status != read_status::segment_truncated) return "not sticky";
    }
    if (!reader.truncated()) return "shm_reader::truncated() is false";
    // Everything else that maps the name survives too.
    (void)reader.liveness();
    (void)list_segments();
    try {
      (void)inspect_segment(guard.name());
    } catch (const segment_error&) {
      // one page holds the header and the table: fine either way, as long as nothing dies
    }
    return "";
  });
  EXPECT_EQ(failure, "");
}

// Real processes: a writer writing flat out, a reader following it and a process listing and
// inspecting segments, while another process shrinks the segment and restores its size.
TEST(SegmentTruncation, WriterReaderAndListerInOtherProcessesSurvive) {
  segment_guard guard(unique_segment_name("shrink"));
  const std::string name = guard.name();
  ready_pipe writer_ready;
  std::string writer_failure;
  std::thread writer_thread([&] {
    writer_failure = in_child([&]() -> std::string {
      shm_writer_options o = small_options();
      o.keep_on_close = true;  // the segment outlives the writer: the test shrinks it last
      shm_writer writer(name, o);
      writer_ready.signal();
      const std::string payload(64, 'w');
      // Writes through every shrink and restore below, and on after the last shrink.
      const auto until = std::chrono::steady_clock::now() + 1500ms;
      while (std::chrono::steady_clock::now() < until) {
        for (int i = 0; i < 64; ++i) (void)writer.write(as_bytes(payload));
        writer.heartbeat();
        std::this_thread::sleep_for(50us);
      }
      return writer.truncated() ? "" : "the writer never noticed the truncation";
    });
  });
  ASSERT_EQ(writer_ready.wait(), 'y');

  std::string reader_failure;
  ready_pipe reader_ready;
  std::thread reader_thread([&] {
    reader_failure = in_child([&]() -> std::string {
      shm_reader reader(name);
      reader_ready.signal();
      const auto until = std::chrono::steady_clock::now() + 8s;
      std::uint64_t delivered = 0;
      while (std::chrono::steady_clock::now() < until) {
        const read_result r = reader.read_next();
        if (r.status == read_status::ok) ++delivered;
        if (r.status == read_status::segment_truncated) {
          if (reader.read_next().status != read_status::segment_truncated) return "not sticky";
          return delivered > 0 ? "" : "nothing was read before the cut";
        }
      }
      return "the reader never reported segment_truncated";
    });
  });
  ASSERT_EQ(reader_ready.wait(), 'y');

  std::string lister_failure;
  std::thread lister_thread([&] {
    lister_failure = in_child([&]() -> std::string {
      const auto until = std::chrono::steady_clock::now() + 8s;
      std::uint64_t rounds = 0;
      while (std::chrono::steady_clock::now() < until && rounds < 400) {
        (void)list_segments();
        try {
          (void)inspect_segment(name);
        } catch (const segment_error&) {
        }
        ++rounds;
      }
      return "";
    });
  });

  std::this_thread::sleep_for(200ms);
  const std::string file = shm_file(name);
  struct stat st {};
  EXPECT_EQ(::stat(file.c_str(), &st), 0);
  // Shrink and restore a few times (another user shrinking and restoring their own segment
  // killed `list` before), then leave it shrunk.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(::truncate(file.c_str(), 4096), 0) << std::strerror(errno);
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(::truncate(file.c_str(), st.st_size), 0) << std::strerror(errno);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(::truncate(file.c_str(), 4096), 0) << std::strerror(errno);
  writer_thread.join();
  reader_thread.join();
  lister_thread.join();
  EXPECT_EQ(writer_failure, "") << "writer";
  EXPECT_EQ(reader_failure, "") << "reader";
  EXPECT_EQ(lister_failure, "") << "list/inspect";
}

// A fault outside our mappings must still be fatal: the handler chains to the default action.
TEST(SegmentTruncation, ForeignBusErrorsStillKill) {
  segment_guard guard(unique_segment_name("foreign-bus"));
  const pid_t pid = ::fork();
  if (pid == 0) {
    shm_writer writer(guard.name(), small_options());  // installs the handler
    const int fd = ::shm_open((guard.name() + "-x").c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ::ftruncate(fd, 8192) != 0) ::_exit(3);
    auto* bytes = static_cast<volatile char*>(
        ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    ::shm_unlink((guard.name() + "-x").c_str());
    if (::ftruncate(fd, 0) != 0) ::_exit(4);
    bytes[4096] = 1;  // not one of ours: SIGBUS must take its default course
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  // Sanitizers report a foreign SIGBUS their own way (and exit non-zero); plain builds die.
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "a SIGBUS outside our mappings was swallowed";
}

// ---------------------------------------------------------------------------------------------
// Item 1 (writer): full file system, sizes beyond the free space.

TEST(SegmentCreation, SizeBeyondTheFreeSpaceIsRefused) {
  segment_guard guard(unique_segment_name("toolarge"));
  struct statvfs space {};
  ASSERT_EQ(::statvfs("/dev/shm", &space), 0);
  const unsigned long long available =
      static_cast<unsigned long long>(space.f_bavail) * space.f_frsize;
  shm_writer_options o = small_options();
  o.chunk_count = 1024;
  o.chunk_target_size = static_cast<std::size_t>(available / 1024 + (1 << 20));
  if (static_cast<unsigned long long>(o.chunk_target_size) * o.chunk_count > (1ULL << 40)) {
    GTEST_SKIP() << "/dev/shm is larger than the 1 TiB segment limit";
  }
  const auto e = error_of([&] { shm_writer w(guard.name(), o); });
  ASSERT_TRUE(e.has_value()) << "a segment larger than the free space was created";
  EXPECT_EQ(e->code, segment_errc::invalid_config);
  EXPECT_NE(e->message.find("free"), std::string::npos) << e->message;
  EXPECT_FALSE(segment_exists(guard.name()));
}

// ---------------------------------------------------------------------------------------------
// Item 4: FIFOs, links and other non-regular files under the name.

// Every entry point that opens a name, in a child with a deadline (a FIFO used to hang open()).
std::string refuses_everywhere(const std::string& name, const std::string& kind) {
  const std::string expected =
      "'" + shm_file(name) + "' is not a regular file (it is " + kind + ")";
  std::string failures;
  const auto check = [&](const char* who, const std::function<void()>& action) {
    const auto e = error_of(action);
    if (!e) {
      failures += std::string(who) + ": accepted; ";
    } else if (e->code != segment_errc::not_regular_file || e->message.rfind(expected, 0) != 0) {
      failures += std::string(who) + ": '" + e->message + "'; ";
    }
  };
  check("shm_reader", [&] { shm_reader r(name); });
  check("inspect_segment", [&] { (void)inspect_segment(name); });
  check("shm_writer", [&] { shm_writer w(name, small_options()); });
  for (const auto& s : list_segments()) {
    if (s.name == name) failures += "list_segments listed it; ";
  }
  return failures;
}

TEST(SegmentNames, FifoUnderTheNameIsRefusedWithoutHanging) {
  segment_guard guard(unique_segment_name("fifo"));
  ASSERT_EQ(::mkfifo(shm_file(guard.name()).c_str(), 0666), 0);
  EXPECT_EQ(in_child([&] { return refuses_everywhere(guard.name(), "a FIFO"); }, 5s), "");
  // A reader that already follows a segment re-checks the name: a FIFO there must not hang it.
  EXPECT_EQ(in_child(
                [&]() -> std::string {
                  segment_guard real(unique_segment_name("fifo-real"));
                  shm_writer writer(real.name(), small_options());
                  shm_reader reader(real.name());
                  reader.replaced_check_interval = 0ms;
                  writer.close();
                  ::shm_unlink(real.name().c_str());
                  if (::mkfifo(shm_file(real.name()).c_str(), 0666) != 0) return "mkfifo";
                  for (int i = 0; i < 3; ++i) {
                    if (reader.read_next().status != read_status::no_data) return "not no_data";
                  }
                  return "";
                },
                5s),
            "");
}

TEST(SegmentNames, SymbolicLinkUnderTheNameIsRefused) {
  segment_guard target(unique_segment_name("link-target"));
  shm_writer writer(target.name(), small_options());
  segment_guard guard(unique_segment_name("link"));
  ASSERT_EQ(::symlink(shm_file(target.name()).c_str(), shm_file(guard.name()).c_str()), 0);
  EXPECT_EQ(in_child([&] { return refuses_everywhere(guard.name(), "a symbolic link"); }, 5s), "");
  // Following the link would have given access to another segment under this name.
  struct stat st {};
  EXPECT_EQ(::lstat(shm_file(guard.name()).c_str(), &st), 0) << "the link must be left alone";
}

TEST(SegmentNames, DirectoryAndSocketUnderTheNameAreRefused) {
  segment_guard dir(unique_segment_name("dir"));
  ASSERT_EQ(::mkdir(shm_file(dir.name()).c_str(), 0755), 0);
  EXPECT_EQ(in_child([&] { return refuses_everywhere(dir.name(), "a directory"); }, 5s), "");
  ::rmdir(shm_file(dir.name()).c_str());

  segment_guard sock(unique_segment_name("sock"));
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = shm_file(sock.name());
  ASSERT_LT(path.size(), sizeof(address.sun_path));
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(in_child([&] { return refuses_everywhere(sock.name(), "a socket"); }, 5s), "");
  ::close(fd);
}

TEST(SegmentNames, TakeOverReplacesANonRegularFile) {
  segment_guard guard(unique_segment_name("fifo-takeover"));
  ASSERT_EQ(::mkfifo(shm_file(guard.name()).c_str(), 0600), 0);
  EXPECT_EQ(in_child(
                [&]() -> std::string {
                  shm_writer_options o = small_options();
                  o.take_over = true;
                  shm_writer writer(guard.name(), o);
                  if (writer.write(as_bytes("x")) != write_status::ok) return "write";
                  shm_reader reader(guard.name());
                  return reader.read_next().status == read_status::ok ? "" : "read";
                },
                5s),
            "");
}

// ---------------------------------------------------------------------------------------------
// Item 7: a zombie writer (killed, not reaped) is gone.

char process_state(pid_t pid) {
  std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat_file, line)) return '?';
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() ? '?' : line[close + 2];
}

TEST(SegmentLiveness, ZombieWriterIsGoneAndItsNameCanBeTaken) {
  segment_guard guard(unique_segment_name("zombie"));
  ready_pipe ready;
  const pid_t pid = ::fork();
  if (pid == 0) {
    try {
      shm_writer_options o = small_options();
      shm_writer writer(guard.name(), o);
      (void)writer.write(as_bytes("from the zombie"));
      ready.signal('y');
      for (;;) ::pause();
    } catch (...) {
      ready.signal('n');
    }
    ::_exit(1);
  }
  ASSERT_EQ(ready.wait(), 'y');
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Not reaped: wait until the kernel shows it as a zombie.
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (process_state(pid) != 'Z' && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(process_state(pid), 'Z');
  {
    shm_reader reader(guard.name());
    EXPECT_EQ(reader.liveness(), writer_liveness::gone);
    EXPECT_EQ(inspect_segment(guard.name()).liveness, writer_liveness::gone);
  }
  // A new writer may take the name without --take-over.
  const auto e = error_of([&] { shm_writer w(guard.name(), small_options()); });
  EXPECT_FALSE(e.has_value()) << e->message;
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
}

// ---------------------------------------------------------------------------------------------
// Item 10: owner of a segment; a take-over the sticky /dev/shm forbids.

TEST(SegmentOwner, ReaderAndListingShowTheOwner) {
  segment_guard guard(unique_segment_name("owner"));
  shm_writer writer(guard.name(), small_options());
  shm_reader reader(guard.name());
  EXPECT_EQ(reader.owner_uid(), static_cast<std::uint32_t>(::geteuid()));
  EXPECT_EQ(inspect_segment(guard.name()).owner_uid, static_cast<std::uint32_t>(::geteuid()));
  bool listed = false;
  for (const auto& s : list_segments()) {
    if (s.name != guard.name()) continue;
    listed = true;
    EXPECT_EQ(s.owner_uid, static_cast<std::uint32_t>(::geteuid()));
  }
  EXPECT_TRUE(listed);
}

TEST(SegmentOwner, TakeOverOfAnotherUsersSegmentSaysWhyItFails) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as a second user";
  struct stat dir {};
  ASSERT_EQ(::stat("/dev/shm", &dir), 0);
  if ((dir.st_mode & S_ISVTX) == 0) GTEST_SKIP() << "/dev/shm is not sticky here";
  segment_guard guard(unique_segment_name("squat"));
  shm_writer_options o = small_options();
  o.mode = 0644;  // readable by the other user, so it is seen as a log segment
  shm_writer writer(guard.name(), o);
  EXPECT_EQ(in_child(
                [&]() -> std::string {
                  if (::setgid(65534) != 0 || ::setuid(65534) != 0) return "setuid failed";
                  shm_writer_options take = small_options();
                  take.take_over = true;
                  const auto e = error_of([&] { shm_writer w(guard.name(), take); });
                  if (!e) return "the take-over succeeded";
                  if (e->code != segment_errc::permission) return "wrong code: " + e->message;
                  if (e->message.find("sticky") == std::string::npos ||
                      e->message.find("uid 0") == std::string::npos) {
                    return "unclear message: " + e->message;
                  }
                  return "";
                },
                5s),
            "");
}

// ---------------------------------------------------------------------------------------------
// Item 5: entries overwritten around a writer restart are counted.

// Writers in child processes, each a new incarnation of the same name, write bursts far larger
// than the ring while one reader follows. Every entry carries its own sequence number. Across
// all incarnations: delivered + lost == written, and no entry is misnumbered.
TEST(SegmentRestart, DeliveredPlusLostEqualsWrittenAcrossIncarnations) {
  segment_guard guard(unique_segment_name("restarts"));
  shm_writer_options o;
  o.chunk_count = 8;
  o.chunk_target_size = 1024;
  {
    shm_writer_options first = o;
    first.keep_on_close = true;
    shm_writer empty(guard.name(), first);  // an incarnation with nothing written
  }
  shm_reader reader(guard.name());
  reader.replaced_check_interval = 0ms;
  std::uint64_t written = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t restart_lost = 0;
  std::uint64_t restarts = 0;
  std::uint64_t last_sequence = 0;
  std::string failure;
  const auto read_some = [&](std::size_t max_reads) {
    for (std::size_t i = 0; i < max_reads && failure.empty(); ++i) {
      const read_result r = reader.read_next();
      switch (r.status) {
        case read_status::ok: {
          ++delivered;
          std::uint64_t embedded = 0;
          if (r.payload.size() >= 8) std::memcpy(&embedded, r.payload.data(), 8);
          if (embedded != r.sequence) {
            failure =
                "entry " + std::to_string(embedded) + " delivered as " + std::to_string(r.sequence);
          }
          if (r.sequence <= last_sequence) failure = "sequence went backwards";
          last_sequence = r.sequence;
          break;
        }
        case read_status::lapped: lost += r.lost; break;
        case read_status::writer_restarted:
          ++restarts;
          lost += r.lost;
          restart_lost += r.lost;
          last_sequence = 0;
          break;
        case read_status::no_data: return false;
        default: failure = "unexpected status " + std::string(to_string(r.status)); break;
      }
    }
    return true;
  };
  const int incarnations = static_cast<int>(scaled(20, 5));
  for (int round = 0; round < incarnations && failure.empty(); ++round) {
    const std::uint64_t count = 3000 + 977 * static_cast<std::uint64_t>(round % 7);
    ready_pipe incarnation_pipe;
    ready_pipe done_pipe;
    ready_pipe go_pipe;
    const pid_t pid = ::fork();
    if (pid == 0) {
      try {
        shm_writer_options mine = o;
        mine.keep_on_close = (round % 2) == 0;
        shm_writer writer(guard.name(), mine);
        std::uint64_t incarnation = writer.incarnation();
        [[maybe_unused]] auto n = ::write(incarnation_pipe.fds[1], &incarnation, 8);
        std::vector<std::byte> payload(256);
        for (std::uint64_t seq = 1; seq <= count; ++seq) {
          const std::size_t size = 8 + static_cast<std::size_t>(mix64(seq + round) % 200);
          std::memcpy(payload.data(), &seq, 8);
          if (writer.write({payload.data(), size}) != write_status::ok) ::_exit(2);
          if (seq % 512 == 0) std::this_thread::sleep_for(50us);  // let the reader catch up
        }
        // An incarnation that vanished before the reader ever saw it could not be counted:
        // stay (and keep the name) until the reader is on this incarnation.
        done_pipe.signal();
        (void)go_pipe.wait();
      } catch (...) {
        ::_exit(3);
      }
      ::_exit(0);
    }
    std::uint64_t incarnation = 0;
    ASSERT_EQ(::read(incarnation_pipe.fds[0], &incarnation, 8), 8);
    ::fcntl(done_pipe.fds[0], F_SETFL, O_NONBLOCK);
    // Follow while the child writes, until everything it wrote is read and the reader is on
    // this incarnation.
    bool done = false;
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (failure.empty() && std::chrono::steady_clock::now() < until) {
      char c = 0;
      if (!done && ::read(done_pipe.fds[0], &c, 1) == 1) done = true;
      const bool more = read_some(64);
      const auto ext = reader.extension();
      if (done && ext && ext->incarnation == incarnation && !more) break;
    }
    go_pipe.signal();
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(done) << "writer " << round << " or the reader did not finish in time";
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer " << round;
    written += count;
  }
  // Drain the last incarnation.
  while (failure.empty() && read_some(1024)) {
  }
  EXPECT_EQ(failure, "");
  EXPECT_EQ(restarts, static_cast<std::uint64_t>(incarnations));
  EXPECT_GT(restart_lost, 0u) << "the test did not make the writer overwrite before a restart";
  EXPECT_EQ(delivered + lost, written)
      << "delivered " << delivered << ", lost " << lost << " (of which at restarts " << restart_lost
      << "), written " << written;
}

}  // namespace
}  // namespace ouroboros::test
