#include "daemon/eod_batch.hpp"

#include <boost/json/array.hpp>

namespace pb::daemon {

namespace json = boost::json;

bool EodReport::empty() const {
    for (const auto& b : buckets)
        if (b.count != 0 || b.amount != 0) return false;
    return true;
}

EodReport eod_report(const zvt::EodTotals& t) {
    EodReport r;
    r.receipt_from = t.receipt_from;
    r.receipt_to = t.receipt_to;
    // BMP 60's fixed buckets (PA00P015 §3.1.3); Nordic brands land in "others".
    for (const auto& [brand, b] : t.named())
        if (b.count != 0 || b.amount != 0) r.buckets.push_back({std::string(brand), b.count, b.amount});
    return r;
}

json::object to_json(const EodReport& r) {
    json::array buckets;
    for (const auto& b : r.buckets) buckets.push_back(json::object{{"brand", b.brand}, {"count", b.count}, {"amount", b.amount}});
    return {{"receipt_from", r.receipt_from}, {"receipt_to", r.receipt_to}, {"buckets", std::move(buckets)}};
}

std::optional<EodReport> eod_report_from_json(const json::object& o) {
    auto num = [&](const json::object& x, const char* k) -> std::optional<std::int64_t> {
        auto it = x.find(k);
        if (it == x.end() || !it->value().is_int64()) return std::nullopt;
        return it->value().as_int64();
    };
    auto from = num(o, "receipt_from"), to = num(o, "receipt_to");
    auto it = o.find("buckets");
    if (!from || !to || *from < 0 || *from > 0xFFFF || *to < 0 || *to > 0xFFFF || it == o.end() ||
        !it->value().is_array())
        return std::nullopt;
    EodReport r;
    r.receipt_from = static_cast<std::uint16_t>(*from);
    r.receipt_to = static_cast<std::uint16_t>(*to);
    for (const auto& v : it->value().as_array()) {
        if (!v.is_object()) return std::nullopt;
        const auto& b = v.as_object();
        auto brand = b.find("brand");
        auto count = num(b, "count"), amount = num(b, "amount");
        if (brand == b.end() || !brand->value().is_string() || !count || !amount) return std::nullopt;
        r.buckets.push_back({std::string(brand->value().as_string()), *count, *amount});
    }
    return r;
}

EodReport batch_to_close(const EodReport& now, const std::optional<EodReport>& unclosed) {
    if (!unclosed || unclosed->empty()) return now;
    if (now.empty()) return *unclosed;
    // The same receipt numbers again: the terminal never closed the earlier batch.
    if (now.receipt_from <= unclosed->receipt_to) return now;
    EodReport sum = *unclosed;
    sum.receipt_to = now.receipt_to;
    for (const auto& b : now.buckets) {
        bool merged = false;
        for (auto& s : sum.buckets)
            if (s.brand == b.brand) {
                s.count += b.count;
                s.amount += b.amount;
                merged = true;
            }
        if (!merged) sum.buckets.push_back(b);
    }
    return sum;
}

}  // namespace pb::daemon
