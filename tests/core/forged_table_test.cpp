// Forged chunk tables (issue 10 item 8) must not make the reader deliver an entry twice under a
// new sequence number. The campaign (corruption_campaign.hpp) corrupts the tables of rings the
// real writer wrote; before the plausibility rules, 27 % of them (oldest start) made the reader
// re-deliver entries. The bar is the reference reader's 0.25 %. And the rules must never reject
// a row the writer produced: uncorrupted rings of every shape read exactly as written.
#include <gtest/gtest.h>

#include "corruption_campaign.hpp"

namespace ouroboros::test {
namespace {

namespace cc = campaign;

TEST(ForgedTables, AtMostOneInFourHundredCorruptedTablesLeadsToADuplicate) {
  const std::uint64_t trials = scaled(3000, 500);
  for (const auto how : {cc::corruption::targeted, cc::corruption::uniform}) {
    for (const auto start : {start_position::oldest, start_position::newest}) {
      SCOPED_TRACE(std::string(how == cc::corruption::targeted ? "targeted" : "uniform") +
                   (start == start_position::oldest ? ", oldest" : ", newest"));
      const cc::totals t = cc::run(20240611, trials, start, how);
      EXPECT_EQ(t.backwards, 0u);
      EXPECT_LE(t.bad * 400, t.trials)
          << t.bad << " of " << t.trials << " corrupted tables made the reader deliver an entry "
          << "twice (" << 100.0 * t.rate() << " %)";
      EXPECT_GT(t.rows_rejected, 0u) << "the campaign corrupted nothing the rules noticed";
    }
  }
}

TEST(ForgedTables, NoRowTheWriterProducedIsEverRejected) {
  std::mt19937_64 rng(77);
  const int rings = static_cast<int>(scaled(3000, 400));
  std::vector<std::byte> scratch;
  for (int i = 0; i < rings; ++i) {
    cc::written_ring ring = cc::write_ring(rng);
    const std::uint64_t written = ring.sizes.size() - 1;
    for (const auto start : {start_position::oldest, start_position::newest, start_position::now}) {
      ring_reader reader;
      ASSERT_EQ(reader.attach(ring.bytes(), start).status, read_status::ok);
      const std::uint64_t first = reader.position_sequence();
      std::uint64_t expected = first + 1;
      std::uint64_t delivered = 0;
      std::uint64_t lost = 0;
      for (;;) {
        const read_result r = reader.read_next();
        if (r.status == read_status::no_data) break;
        if (r.status == read_status::lapped) {  // rows of a lap an early wrap left behind
          lost += r.lost;
          expected += r.lost;
          continue;
        }
        ASSERT_EQ(r.status, read_status::ok) << "ring " << i << " at " << expected;
        ASSERT_EQ(r.sequence, expected) << "ring " << i;
        ASSERT_EQ(cc::genuine_sequence(ring, r.payload, scratch), expected) << "ring " << i;
        ++delivered;
        ++expected;
      }
      ASSERT_EQ(delivered + lost, written - first) << "ring " << i << ": stopped early";
      ASSERT_EQ(reader.rows_rejected(), 0u) << "ring " << i;
    }
  }
}

}  // namespace
}  // namespace ouroboros::test
