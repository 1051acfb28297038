#include "daemon/metrics.hpp"

#include <gtest/gtest.h>

namespace pb::daemon {
namespace {

TEST(Metrics, PrometheusTextExposition) {
    Metrics m;
    auto& approved = m.counter("paybridge_payments_total", "Payments by outcome", {{"outcome", "approved"}});
    auto& declined = m.counter("paybridge_payments_total", "Payments by outcome", {{"outcome", "declined"}});
    auto& online = m.gauge("paybridge_terminals_online", "Terminals with a live link");
    approved.inc();
    approved.inc(2);
    declined.inc();
    online.set(3);
    online.add(-1);
    EXPECT_EQ(&m.counter("paybridge_payments_total", "", {{"outcome", "approved"}}), &approved);
    EXPECT_EQ(m.expose(),
              "# HELP paybridge_payments_total Payments by outcome\n"
              "# TYPE paybridge_payments_total counter\n"
              "paybridge_payments_total{outcome=\"approved\"} 3\n"
              "paybridge_payments_total{outcome=\"declined\"} 1\n"
              "# HELP paybridge_terminals_online Terminals with a live link\n"
              "# TYPE paybridge_terminals_online gauge\n"
              "paybridge_terminals_online 2\n");
}

TEST(Metrics, LabelValuesAreEscapedAndLabelsSorted) {
    Metrics m;
    m.counter("x_total", "help with \\ and\nnewline", {{"z", "a\"b\\c\nd"}, {"a", "1"}}).inc();
    EXPECT_EQ(m.expose(),
              "# HELP x_total help with \\\\ and\\nnewline\n"
              "# TYPE x_total counter\n"
              "x_total{a=\"1\",z=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, BadNamesAndKindClashesAreProgrammingErrors) {
    Metrics m;
    EXPECT_THROW(m.counter("9bad", ""), std::invalid_argument);
    EXPECT_THROW(m.counter("ok_total", "", {{"bad-label", "x"}}), std::invalid_argument);
    m.gauge("g", "");
    EXPECT_THROW(m.counter("g", ""), std::logic_error);
}

}  // namespace
}  // namespace pb::daemon
