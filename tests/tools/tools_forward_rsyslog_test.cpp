// `ouroboros-cli forward` against a real rsyslog: the test starts its own unprivileged rsyslogd
// (own config, own work directory, UDP and TCP inputs on a free loopback port, output to a file;
// no system socket) and checks that every record and every gap marker arrives intact.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "tool_support.hpp"

namespace {

using namespace ouroboros::test_tools;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string find_rsyslogd() {
  for (const char* candidate :
       {"/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  return {};
}

// A port free for both TCP and UDP on 127.0.0.1 right now.
int free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(tcp, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(tcp, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(tcp);
      continue;
    }
    const int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
    const bool udp_free = ::bind(udp, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(udp);
    ::close(tcp);
    if (udp_free) return ntohs(address.sin_port);
  }
  return 0;
}

bool tcp_listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

class RsyslogForward : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string rsyslogd = find_rsyslogd();
    if (rsyslogd.empty()) GTEST_SKIP() << "rsyslogd is not installed (Debian package rsyslog)";
    char pattern[] = "/tmp/ouroboros-rsyslog-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    fs::create_directory(dir_ / "work");
    port_ = free_port();
    ASSERT_NE(port_, 0);
    output_ = dir_ / "received.log";
    std::ofstream config(dir_ / "rsyslog.conf");
    config
        << "global(workDirectory=\"" << (dir_ / "work").string() << "\" maxMessageSize=\"64k\")\n"
        << "module(load=\"imudp\")\n"
        << "module(load=\"imtcp\")\n"
        << "input(type=\"imudp\" address=\"127.0.0.1\" port=\""
        << port_
        // A large socket buffer: UDP has no flow control, and a default-sized buffer overflowed
        // (a few dozen datagrams dropped) when rsyslogd was descheduled on a busy machine.
        << "\" rcvbufSize=\"16m\")\n"
        << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port_ << "\")\n"
        << "template(name=\"fields\" type=\"string\" "
           "string=\"%app-name%|%msgid%|%syslogseverity%|%procid%|%structured-data%|%msg%\\n\")\n"
        << "action(type=\"omfile\" file=\"" << output_.string() << "\" template=\"fields\")\n";
    config.close();
    rsyslog_ = std::make_unique<process>(
        std::vector<std::string>{rsyslogd, "-n", "-f", (dir_ / "rsyslog.conf").string(), "-i",
                                 (dir_ / "rsyslogd.pid").string()});
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!tcp_listening(port_)) {
      ASSERT_TRUE(rsyslog_->running()) << "rsyslogd exited: " << rsyslog_->err();
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "rsyslogd did not start listening";
      std::this_thread::sleep_for(20ms);
    }
  }

  void TearDown() override {
    if (rsyslog_) {
      rsyslog_->signal(SIGTERM);
      rsyslog_->wait(5s);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  struct received {
    std::string msgid;
    int severity = 0;
    std::string procid;
    std::string data;
    std::string message;
  };

  std::vector<received> lines_for(const std::string& app) {
    std::vector<received> out;
    for (const auto& line : lines_of(read_file(output_.string()))) {
      std::vector<std::string> parts;
      std::size_t start = 0;
      for (int i = 0; i < 5; ++i) {
        const auto bar = line.find('|', start);
        if (bar == std::string::npos) break;
        parts.push_back(line.substr(start, bar - start));
        start = bar + 1;
      }
      if (parts.size() != 5 || parts[0] != app) continue;
      out.push_back({parts[1], std::stoi(parts[2]), parts[3], parts[4], line.substr(start)});
    }
    return out;
  }

  // Runs a fast writer on a small ring and a rate-limited forwarder, then checks what rsyslog
  // wrote: every forwarded record and gap marker arrived, and together they cover every
  // sequence number from the first forwarded one to the last one written.
  void forward_and_check(const std::string& protocol, const std::string& writer_rate,
                         const std::string& forward_rate) {
    const std::string name = unique_segment("fwd-" + protocol);
    process writer({bin("ouroboros-demo-writer"), "-s", name, "--rate", writer_rate, "-d", "1.2",
                    "--chunks", "4", "--chunk-size", "8K", "--json"});
    process forward({bin("ouroboros-cli"), "forward", name, "--wait", "--follow", "--from",
                     "oldest", "--exit-on-close", "--max-rate", forward_rate, "--to",
                     protocol + "://127.0.0.1:" + std::to_string(port_)});
    ASSERT_EQ(writer.wait(), 0) << writer.err();
    const auto written = parse_json_lines(writer.out()).back()["entries"].u64();
    ASSERT_EQ(forward.wait(30s), 0) << forward.err();

    std::smatch m;
    const std::string summary = forward.err();
    ASSERT_TRUE(std::regex_search(
        summary, m,
        std::regex(R"((\d+) entries, (\d+) gap markers \((\d+) entries lost\), (\d+) events)")))
        << summary;
    const auto entries = std::stoull(m[1]);
    const auto gaps = std::stoull(m[2]);
    const auto lost = std::stoull(m[3]);
    const auto events = std::stoull(m[4]);
    EXPECT_GT(gaps, 0u)
        << "the forwarder was held below the writer's rate: it must have been lapped";
    EXPECT_GT(entries, 500u);

    // rsyslog writes asynchronously: wait until everything is there (or time out).
    std::vector<received> got;
    const auto give_up = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < give_up) {
      got = lines_for(name);
      if (got.size() >= entries + gaps + events) break;
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(got.size(), entries + gaps + events);

    const std::regex seq_re(R"re(seq="(\d+)")re");
    const std::regex thread_re(R"re(thread="(\d+)")re");
    const std::regex gap_re(R"re(lost="(\d+)" first_seq="(\d+)" last_seq="(\d+)")re");
    const std::set<std::string> tags = {"trace", "cache",  "db",   "http", "net",
                                        "jobs",  "config", "disk", "core"};
    struct span {
      std::uint64_t first, last;
      bool gap;
    };
    std::vector<span> spans;
    std::uint64_t got_entries = 0;
    std::uint64_t got_gaps = 0;
    std::uint64_t got_lost = 0;
    for (const auto& r : got) {
      if (r.msgid == "event") {
        EXPECT_NE(r.data.find("event=\""), std::string::npos);
        continue;
      }
      if (r.msgid == "gap") {
        ASSERT_TRUE(std::regex_search(r.data, m, gap_re)) << r.data;
        const auto n = std::stoull(m[1]);
        const auto first = std::stoull(m[2]);
        const auto last = std::stoull(m[3]);
        EXPECT_EQ(last - first + 1, n);
        EXPECT_EQ(r.severity, 4);
        EXPECT_NE(r.message.find(std::to_string(n) +
                                 (n == 1 ? " entry overwritten" : " entries overwritten")),
                  std::string::npos)
            << r.message;
        spans.push_back({first, last, true});
        ++got_gaps;
        got_lost += n;
        continue;
      }
      // A record: parsed by rsyslog as RFC 5424 (else MSGID would be "-").
      EXPECT_EQ(tags.count(r.msgid), 1u) << "MSGID is the record's tag: " << r.msgid;
      ASSERT_TRUE(std::regex_search(r.data, m, seq_re)) << r.data;
      const auto seq = std::stoull(m[1]);
      EXPECT_TRUE(std::regex_search(r.data, thread_re)) << r.data;
      EXPECT_EQ(r.procid, std::to_string(writer.pid()));
      if (r.msgid == "trace") {
        EXPECT_EQ(r.severity, 7);
      }
      if (r.msgid == "core") {
        EXPECT_EQ(r.severity, 2);
      }
      if (r.msgid == "config") {
        EXPECT_EQ(r.severity, 6);
      }
      EXPECT_FALSE(r.message.empty());
      spans.push_back({seq, seq, false});
      ++got_entries;
    }
    EXPECT_EQ(got_entries, entries) << "every forwarded record arrived";
    EXPECT_EQ(got_gaps, gaps) << "every gap marker arrived";
    EXPECT_EQ(got_lost, lost);
    std::sort(spans.begin(), spans.end(),
              [](const span& a, const span& b) { return a.first < b.first; });
    ASSERT_FALSE(spans.empty());
    for (std::size_t i = 1; i < spans.size(); ++i) {
      EXPECT_EQ(spans[i].first, spans[i - 1].last + 1) << "no sequence number missing or repeated";
    }
    EXPECT_EQ(spans.back().last, written) << "forwarded up to the last entry written";
  }

  fs::path dir_;
  fs::path output_;
  int port_ = 0;
  std::unique_ptr<process> rsyslog_;
};

TEST_F(RsyslogForward, TcpOctetCountingDeliversEveryRecordAndGap) {
  forward_and_check("tcp", "20000", "4000");
}

TEST_F(RsyslogForward, UdpDeliversEveryRecordAndGap) {
  forward_and_check("udp", "10000", "2000");
}

}  // namespace
