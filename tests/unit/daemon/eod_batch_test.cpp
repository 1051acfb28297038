// Which batch a day-close closes when an earlier end-of-day was reported by the terminal but
// never closed in the ledger (the daemon died in between): daemon/eod_batch.hpp.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "daemon/eod_batch.hpp"

namespace pb::daemon {
namespace {

EodReport report(std::uint16_t from, std::uint16_t to, std::vector<erp::BrandTotal> buckets) {
    return EodReport{from, to, std::move(buckets)};
}

TEST(EodBatch, TotalsOfBmp60KeepOnlyNonEmptyBucketsAndRoundTripThroughJson) {
    zvt::EodTotals t;
    t.receipt_from = 3;
    t.receipt_to = 7;
    t.visa = {2, 12345};
    t.others = {1, 500};
    EodReport r = eod_report(t);
    EXPECT_EQ(r, report(3, 7, {{"visa", 2, 12345}, {"others", 1, 500}}));
    EXPECT_FALSE(r.empty());
    auto text = boost::json::serialize(to_json(r));
    auto back = eod_report_from_json(boost::json::parse(text).as_object());
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, r);
    EXPECT_TRUE(eod_report(zvt::EodTotals{}).empty());
    EXPECT_FALSE(eod_report_from_json(boost::json::parse(R"({"receipt_from":1})").as_object()));
    EXPECT_FALSE(eod_report_from_json(
        boost::json::parse(R"({"receipt_from":1,"receipt_to":2,"buckets":[{"brand":"visa","count":"2"}]})").as_object()));
}

TEST(EodBatch, WithoutAnUnclosedReportTheNewReportIsTheBatch) {
    auto now = report(1, 2, {{"visa", 2, 2000}});
    EXPECT_EQ(batch_to_close(now, std::nullopt), now);
    EXPECT_EQ(batch_to_close(now, report(0, 0, {})), now);
}

TEST(EodBatch, TerminalClosedTheEarlierBatchAndHasNothingNew) {
    // Killed after the terminal's acknowledgement: its batch is empty now, the stored report is it.
    auto earlier = report(1, 2, {{"visa", 2, 2000}});
    EXPECT_EQ(batch_to_close(report(0, 0, {}), earlier), earlier);
}

TEST(EodBatch, TerminalNeverClosedTheEarlierBatchAndReportsItAgain) {
    // Killed before the acknowledgement: the same receipts again, possibly with more.
    auto earlier = report(1, 2, {{"visa", 2, 2000}});
    auto now = report(1, 3, {{"visa", 2, 2000}, {"amex", 1, 700}});
    EXPECT_EQ(batch_to_close(now, earlier), now);
}

TEST(EodBatch, TerminalClosedBothBatchesAndTheLedgerNeitherSoTheyAdd) {
    auto earlier = report(1, 2, {{"visa", 2, 2000}});
    auto now = report(3, 4, {{"visa", 1, 100}, {"amex", 1, 700}});
    EXPECT_EQ(batch_to_close(now, earlier), report(1, 4, {{"visa", 3, 2100}, {"amex", 1, 700}}));
}

}  // namespace
}  // namespace pb::daemon
