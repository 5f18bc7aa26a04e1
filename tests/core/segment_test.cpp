// Named segments: name validation, creation mode, stale and live owners, unlink on close,
// liveness as a reader sees it, and re-attachment when a segment is re-created.
// Writers in other processes are forked children, so "alive" and "gone" are real processes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "ouroboros/segment.hpp"
#include "ring_bytes.hpp"
#include "test_support.hpp"

namespace ouroboros::test {
namespace {

shm_writer_options small_options() {
  shm_writer_options o;
  o.chunk_count = 4;
  o.chunk_target_size = 256;
  return o;
}

unsigned mode_of(const std::string& name) {
  struct stat st {};
  if (::stat(("/dev/shm" + name).c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 0777;
}

segment_errc error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const segment_error& e) {
    EXPECT_GT(std::strlen(e.what()), 10u) << "error message should say what is wrong";
    return e.code();
  }
  ADD_FAILURE() << "no segment_error thrown";
  return segment_errc::system;
}

// A forked child that creates a writer on `name`, reports through a pipe, then either exits at
// once without cleanup (as a crash would) or waits until told to go.
struct forked_writer {
  forked_writer(const std::string& name, bool crash) {
    int ready[2];
    int go[2];
    if (::pipe(ready) != 0 || ::pipe(go) != 0) throw std::runtime_error("pipe");
    pid = ::fork();
    if (pid == 0) {
      ::close(ready[0]);
      ::close(go[1]);
      char status = 'y';
      try {
        shm_writer writer(name, small_options());
        [[maybe_unused]] auto w1 = writer.write(as_bytes("from the child"));
        [[maybe_unused]] auto w2 = ::write(ready[1], &status, 1);
        if (crash) ::_exit(0);  // no destructors: a crashed writer leaves its segment behind
        {
          char c;
          [[maybe_unused]] auto r = ::read(go[0], &c, 1);
        }
      } catch (...) {
        status = 'n';
        [[maybe_unused]] auto w = ::write(ready[1], &status, 1);
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(go[0]);
    go_fd = go[1];
    char status = 0;
    created = ::read(ready[0], &status, 1) == 1 && status == 'y';
    ::close(ready[0]);
  }
  void reap() {
    if (pid <= 0) return;
    if (go_fd >= 0) ::close(go_fd);
    go_fd = -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
  }
  ~forked_writer() {
    if (pid > 0) ::kill(pid, SIGKILL);
    reap();
  }
  pid_t pid = -1;
  int go_fd = -1;
  bool created = false;
};

// Reads until something other than no_data arrives (bounded: 5 s).
read_result read_until_data(shm_reader& reader) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    read_result r = reader.read_next();
    if (r.status != read_status::no_data || std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(SegmentName, ValidationGivesClearErrors) {
  EXPECT_EQ(canonical_segment_name("abc"), "/abc");
  EXPECT_EQ(canonical_segment_name("/abc"), "/abc");
  EXPECT_EQ(canonical_segment_name(std::string(254, 'n')), "/" + std::string(254, 'n'));
  EXPECT_EQ(error_of([] { canonical_segment_name(""); }), segment_errc::invalid_name);
  EXPECT_EQ(error_of([] { canonical_segment_name("/"); }), segment_errc::invalid_name);
  EXPECT_EQ(error_of([] { canonical_segment_name("a/b"); }), segment_errc::invalid_name);
  EXPECT_EQ(error_of([] { canonical_segment_name("/a/b"); }), segment_errc::invalid_name);
  EXPECT_EQ(error_of([] { canonical_segment_name("/abc/"); }), segment_errc::invalid_name);
  EXPECT_EQ(error_of([] { canonical_segment_name(std::string(255, 'n')); }),
            segment_errc::invalid_name);
  EXPECT_EQ(error_of([] { canonical_segment_name(std::string(1000, 'n')); }),
            segment_errc::invalid_name);
  EXPECT_EQ(error_of([] { canonical_segment_name(std::string("a\0b", 3)); }),
            segment_errc::invalid_name);
  EXPECT_EQ(error_of([] { shm_writer w("bad/name"); }), segment_errc::invalid_name);
  EXPECT_EQ(error_of([] { shm_reader r(""); }), segment_errc::invalid_name);
}

TEST(SegmentWriter, ModeIs0600ByDefaultAndConfigurable) {
  segment_guard guard(unique_segment_name("mode"));
  {
    shm_writer writer(guard.name(), small_options());
    EXPECT_EQ(mode_of(guard.name()), 0600u);
  }
  for (const unsigned mode : {0644u, 0640u, 0604u, 0400u}) {
    shm_writer_options o = small_options();
    o.mode = mode;
    shm_writer writer(guard.name(), o);
    EXPECT_EQ(mode_of(guard.name()), mode);
  }
}

// Issue 10 item 1: `--mode 7777` made a -rwsrwsrwt segment that anyone could write (or shrink).
// Group/other write bits and special bits are refused, and nothing is created.
TEST(SegmentWriter, ModesLettingOthersWriteOrWithSpecialBitsAreRefused) {
  segment_guard guard(unique_segment_name("badmode"));
  for (const unsigned mode :
       {0666u, 0620u, 0602u, 0622u, 07777u, 04600u, 02600u, 01600u, 010600u}) {
    shm_writer_options o = small_options();
    o.mode = mode;
    try {
      shm_writer writer(guard.name(), o);
      ADD_FAILURE() << "mode " << std::oct << mode << " was accepted";
    } catch (const segment_error& e) {
      EXPECT_EQ(e.code(), segment_errc::invalid_config) << e.what();
      EXPECT_NE(std::string(e.what()).find("segment mode 0"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(segment_exists(guard.name()));
  }
}

TEST(SegmentWriter, InvalidConfigurationIsRejected) {
  segment_guard guard(unique_segment_name("config"));
  shm_writer_options o = small_options();
  o.chunk_count = 0;
  EXPECT_EQ(error_of([&] { shm_writer w(guard.name(), o); }), segment_errc::invalid_config);
  o = small_options();
  o.chunk_target_size = 1;
  EXPECT_EQ(error_of([&] { shm_writer w(guard.name(), o); }), segment_errc::invalid_config);
  EXPECT_FALSE(segment_exists(guard.name()));
}

TEST(SegmentWriter, UnlinksOnCloseUnlessKept) {
  segment_guard guard(unique_segment_name("unlink"));
  {
    shm_writer writer(guard.name(), small_options());
    EXPECT_TRUE(segment_exists(guard.name()));
  }
  EXPECT_FALSE(segment_exists(guard.name()));
  {
    shm_writer_options o = small_options();
    o.keep_on_close = true;
    shm_writer writer(guard.name(), o);
    ASSERT_EQ(writer.write(as_bytes("kept")), write_status::ok);
    writer.close();
    writer.close();  // idempotent
    EXPECT_TRUE(segment_exists(guard.name()));
  }
  EXPECT_TRUE(segment_exists(guard.name()));
  shm_reader reader(guard.name());
  EXPECT_EQ(reader.liveness(), writer_liveness::closed);
  const read_result r = reader.read_next();
  ASSERT_EQ(r.status, read_status::ok);
  EXPECT_EQ(as_string(r.payload), "kept");
}

TEST(SegmentWriter, StaleSegmentOfADeadWriterIsReplaced) {
  segment_guard guard(unique_segment_name("stale"));
  forked_writer child(guard.name(), /*crash=*/true);
  ASSERT_TRUE(child.created);
  const pid_t child_pid = child.pid;
  child.reap();  // the child is gone (not a zombie)
  ASSERT_TRUE(segment_exists(guard.name()));
  std::uint64_t old_incarnation = 0;
  {
    shm_reader reader(guard.name());
    const auto e = reader.extension();
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->writer_pid, static_cast<std::uint64_t>(child_pid));
    EXPECT_EQ(reader.liveness(), writer_liveness::gone);
    old_incarnation = e->incarnation;
    const auto info = inspect_segment(guard.name());
    EXPECT_EQ(info.liveness, writer_liveness::gone);
  }
  shm_writer writer(guard.name(), small_options());  // no error: the old one is stale
  EXPECT_NE(writer.incarnation(), old_incarnation);
  shm_reader reader(guard.name());
  EXPECT_EQ(reader.liveness(), writer_liveness::alive);
  EXPECT_EQ(reader.extension()->incarnation, writer.incarnation());
  EXPECT_EQ(reader.read_next().status, read_status::no_data);  // the child's entry is gone
}

TEST(SegmentWriter, LiveWritersNameIsRefusedUnlessTakenOver) {
  segment_guard guard(unique_segment_name("live"));
  forked_writer child(guard.name(), /*crash=*/false);
  ASSERT_TRUE(child.created);
  {
    shm_reader reader(guard.name());
    EXPECT_EQ(reader.liveness(), writer_liveness::alive);
  }
  EXPECT_EQ(error_of([&] { shm_writer w(guard.name(), small_options()); }),
            segment_errc::owned_by_live_writer);
  shm_writer_options o = small_options();
  o.take_over = true;
  shm_writer writer(guard.name(), o);
  shm_reader reader(guard.name());
  EXPECT_EQ(reader.extension()->writer_pid, static_cast<std::uint64_t>(::getpid()));
  child.reap();  // the child closes cleanly; it must not unlink the segment it no longer owns
  EXPECT_TRUE(segment_exists(guard.name()));
}

TEST(SegmentWriter, ForeignObjectIsNotOverwrittenUnlessTakenOver) {
  segment_guard guard(unique_segment_name("foreign"));
  const int fd = ::shm_open(guard.name().c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096), 0);
  ASSERT_EQ(::write(fd, "not a log at all", 16), 16);
  ::close(fd);
  EXPECT_EQ(error_of([&] { shm_writer w(guard.name(), small_options()); }),
            segment_errc::foreign_object);
  EXPECT_EQ(error_of([&] { shm_reader r(guard.name()); }), segment_errc::not_a_log);
  EXPECT_EQ(error_of([&] { inspect_segment(guard.name()); }), segment_errc::not_a_log);
  shm_writer_options o = small_options();
  o.take_over = true;
  shm_writer writer(guard.name(), o);
  EXPECT_NO_THROW(shm_reader r(guard.name()));
}

TEST(SegmentReader, MissingSegmentIsAClearError) {
  const std::string name = unique_segment_name("missing");
  EXPECT_EQ(error_of([&] { shm_reader r(name); }), segment_errc::missing);
  EXPECT_EQ(error_of([&] { inspect_segment(name); }), segment_errc::missing);
}

TEST(SegmentReader, MapsTheSegmentReadOnly) {
  segment_guard guard(unique_segment_name("readonly"));
  shm_writer writer(guard.name(), small_options());
  shm_reader reader(guard.name());
  const pid_t pid = ::fork();
  if (pid == 0) {
    // A store through the reader's mapping must fault; the handler turns the fault into a
    // distinctive exit code (sanitizers would otherwise report it their own way).
    struct sigaction action {};
    action.sa_handler = [](int) { ::_exit(77); };
    ::sigaction(SIGSEGV, &action, nullptr);
    ::sigaction(SIGBUS, &action, nullptr);
    auto* bytes = const_cast<std::byte*>(reader.bytes().data());
    std::atomic_ref<std::byte>(bytes[0]).store(std::byte{1});
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 77) << "the store did not fault: the mapping is writable";
}

TEST(SegmentReader, SeesAliveClosedAndGone) {
  segment_guard guard(unique_segment_name("liveness"));
  {
    shm_writer_options o = small_options();
    o.keep_on_close = true;
    shm_writer writer(guard.name(), o);
    shm_reader reader(guard.name());
    EXPECT_EQ(reader.liveness(), writer_liveness::alive);
    writer.close();
    EXPECT_EQ(reader.liveness(), writer_liveness::closed);
  }
  forked_writer child(guard.name(), /*crash=*/true);
  ASSERT_TRUE(child.created);
  child.reap();
  shm_reader reader(guard.name());
  EXPECT_EQ(reader.liveness(), writer_liveness::gone);
  bool listed = false;
  for (const auto& s : list_segments()) {
    if (s.name == guard.name()) {
      listed = true;
      EXPECT_EQ(s.liveness, writer_liveness::gone);
      EXPECT_EQ(s.chunk_count, 4u);
    }
  }
  EXPECT_TRUE(listed);
}

TEST(SegmentReader, HeartbeatAdvances) {
  segment_guard guard(unique_segment_name("heartbeat"));
  shm_writer writer(guard.name(), small_options());
  shm_reader reader(guard.name());
  const auto before = read_heartbeat(reader.bytes());
  ASSERT_TRUE(before.has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  writer.heartbeat();
  const auto after = read_heartbeat(reader.bytes());
  ASSERT_TRUE(after.has_value());
  EXPECT_GT(*after, *before);
}

// The writer restarts under the same name: the reader must move to the new segment instead of
// reading the old, unlinked memory forever.
TEST(SegmentReader, ReattachesWhenTheSegmentIsRecreated) {
  segment_guard guard(unique_segment_name("restart"));
  auto first = std::make_unique<shm_writer>(guard.name(), small_options());
  for (int i = 0; i < 10; ++i) ASSERT_EQ(first->write(as_bytes("old")), write_status::ok);
  shm_reader reader(guard.name());
  reader.replaced_check_interval = std::chrono::milliseconds(0);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(reader.read_next().status, read_status::ok);
  EXPECT_EQ(reader.read_next().status, read_status::no_data);
  const std::uint64_t old_incarnation = first->incarnation();

  first.reset();                                               // unlinks
  EXPECT_EQ(reader.read_next().status, read_status::no_data);  // nothing to re-attach to yet
  shm_writer second(guard.name(), small_options());
  ASSERT_NE(second.incarnation(), old_incarnation);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(second.write(as_bytes("new")), write_status::ok);

  // A reader notices within its check interval; it never keeps reading the old memory.
  read_result r = read_until_data(reader);
  ASSERT_EQ(r.status, read_status::writer_restarted);
  EXPECT_EQ(reader.extension()->incarnation, second.incarnation());
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    r = reader.read_next();
    ASSERT_EQ(r.status, read_status::ok);
    EXPECT_EQ(r.sequence, seq);
    EXPECT_EQ(as_string(r.payload), "new");
  }
  EXPECT_EQ(reader.read_next().status, read_status::no_data);

  // Also when another writer takes the name over while the old one still runs.
  auto third_options = small_options();
  third_options.take_over = true;
  shm_writer third(guard.name(), third_options);
  ASSERT_EQ(third.write(as_bytes("third")), write_status::ok);
  r = read_until_data(reader);
  ASSERT_EQ(r.status, read_status::writer_restarted);
  r = reader.read_next();
  ASSERT_EQ(r.status, read_status::ok);
  EXPECT_EQ(as_string(r.payload), "third");
}

TEST(SegmentReader, ExplicitReplacementCheck) {
  segment_guard guard(unique_segment_name("explicit"));
  auto first = std::make_unique<shm_writer>(guard.name(), small_options());
  shm_reader reader(guard.name());
  EXPECT_FALSE(reader.check_replaced());
  first.reset();
  EXPECT_FALSE(reader.check_replaced());  // gone, nothing new yet: stay on the old mapping
  shm_writer second(guard.name(), small_options());
  ASSERT_EQ(second.write(as_bytes("x")), write_status::ok);
  EXPECT_TRUE(reader.check_replaced());
  const read_result r = reader.read_next();
  ASSERT_EQ(r.status, read_status::ok);
  EXPECT_EQ(as_string(r.payload), "x");
}

}  // namespace
}  // namespace ouroboros::test
