#include "simulators/zvt/scenario.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <toml++/toml.h>

#include "protocol/core/money.hpp"

namespace pb::sim {

namespace json = boost::json;

std::string_view outcome_name(Outcome o) {
    switch (o) {
        case Outcome::approve: return "approve";
        case Outcome::decline: return "decline";
        case Outcome::no_card: return "no_card";
        case Outcome::pin_wrong_once: return "pin_wrong_once";
        case Outcome::card_left_inserted: return "card_left_inserted";
    }
    return "?";
}

namespace {

std::optional<Outcome> outcome_from_name(std::string_view n) {
    for (auto o : {Outcome::approve, Outcome::decline, Outcome::no_card, Outcome::pin_wrong_once,
                   Outcome::card_left_inserted}) {
        if (outcome_name(o) == n) return o;
    }
    return std::nullopt;
}

AmountRule brand_rule(std::string suffix, CardBrand brand, std::string pan, std::string name) {
    AmountRule r;
    r.suffix = std::move(suffix);
    r.card = Card{brand, std::move(pan), std::move(name)};
    return r;
}

// toml++ table -> JSON, so one reader handles both file formats.
json::value to_json(const toml::node& n) {
    if (auto t = n.as_table()) {
        json::object o;
        for (const auto& [k, v] : *t) o[k.str()] = to_json(v);
        return o;
    }
    if (auto a = n.as_array()) {
        json::array arr;
        for (const auto& v : *a) arr.push_back(to_json(v));
        return arr;
    }
    if (auto s = n.as_string()) return json::value(s->get());
    if (auto i = n.as_integer()) return json::value(i->get());
    if (auto b = n.as_boolean()) return json::value(b->get());
    if (auto d = n.as_floating_point()) return json::value(d->get());
    return nullptr;
}

using Result = Expected<void, std::string>;

Result read_int(const json::object& o, std::string_view key, std::int64_t lo, std::int64_t hi,
                std::int64_t& out) {
    auto it = o.find(key);
    if (it == o.end()) return {};
    if (!it->value().is_int64() || it->value().as_int64() < lo || it->value().as_int64() > hi) {
        return unexpected("'" + std::string(key) + "' must be an integer in " + std::to_string(lo) +
                          ".." + std::to_string(hi));
    }
    out = it->value().as_int64();
    return {};
}

Result read_string(const json::object& o, std::string_view key, std::string& out) {
    auto it = o.find(key);
    if (it == o.end()) return {};
    if (!it->value().is_string()) return unexpected("'" + std::string(key) + "' must be a string");
    out = std::string(it->value().as_string());
    return {};
}

Result read_card(const json::object& o, Card& card) {
    std::string brand, pan;
    if (auto r = read_string(o, "brand", brand); !r) return r;
    if (!brand.empty()) {
        auto b = brand_from_id(brand);
        if (!b) return unexpected("unknown card brand '" + brand + "'");
        card.brand = *b;
        card.name = std::string(brand_name(*b));
    }
    if (auto r = read_string(o, "pan", pan); !r) return r;
    if (!pan.empty()) {
        // Masked on the way in: a full number in a scenario file never reaches the wire.
        auto masked = MaskedPan::from_digits(pan);
        if (!masked) return unexpected("'pan' must be digits with '*' for masked ones");
        card.masked_pan = masked->str();
    }
    return read_string(o, "name", card.name);
}

Result read_ms(const json::object& o, std::string_view key, std::chrono::milliseconds& out) {
    std::int64_t v = out.count();
    if (auto r = read_int(o, key, 0, 3'600'000, v); !r) return r;
    out = std::chrono::milliseconds(v);
    return {};
}

Result read_scenario(const json::object& root, Scenario& s) {
    if (auto it = root.find("terminal"); it != root.end()) {
        if (!it->value().is_object()) return unexpected(std::string("[terminal] must be a table"));
        const auto& t = it->value().as_object();
        std::int64_t tid = s.tid, pw = s.password;
        if (auto r = read_int(t, "tid", 0, 99'999'999, tid); !r) return r;
        if (auto r = read_int(t, "password", 0, 999'999, pw); !r) return r;
        s.tid = static_cast<std::uint32_t>(tid);
        s.password = static_cast<std::uint32_t>(pw);
        if (auto c = t.find("currency"); c != t.end()) {
            std::optional<Currency> cur;
            if (c->value().is_string()) cur = currency_from_code(c->value().as_string());
            if (c->value().is_int64() && c->value().as_int64() > 0 && c->value().as_int64() < 1000) {
                cur = currency_from_numeric(static_cast<std::uint16_t>(c->value().as_int64()));
            }
            if (!cur) return unexpected(std::string("'currency' must be an ISO 4217 code (\"EUR\" or 978)"));
            s.currency = cur->numeric;
        }
        if (auto r = read_string(t, "sw_version", s.sw_version); !r) return r;
    }
    if (auto it = root.find("card"); it != root.end()) {
        if (!it->value().is_object()) return unexpected(std::string("[card] must be a table"));
        if (auto r = read_card(it->value().as_object(), s.card); !r) return r;
    }
    if (auto it = root.find("timing"); it != root.end()) {
        if (!it->value().is_object()) return unexpected(std::string("[timing] must be a table"));
        const auto& t = it->value().as_object();
        if (auto r = read_ms(t, "card_delay_ms", s.card_delay); !r) return r;
        if (auto r = read_ms(t, "card_timeout_ms", s.card_timeout); !r) return r;
        if (auto r = read_ms(t, "ack_timeout_ms", s.ack_timeout); !r) return r;
        if (auto r = read_ms(t, "status_repeat_ms", s.status_repeat); !r) return r;
    }
    if (auto it = root.find("read_card"); it != root.end()) {
        if (!it->value().is_object()) return unexpected(std::string("[read_card] must be a table"));
        if (auto r = read_string(it->value().as_object(), "track2", s.read_card_track2); !r) return r;
        if (auto r = check_track2(s.read_card_track2); !r) return r;
    }
    if (auto it = root.find("rules"); it != root.end()) {
        if (!it->value().is_array()) return unexpected(std::string("[[rules]] must be an array of tables"));
        for (const auto& v : it->value().as_array()) {
            if (!v.is_object()) return unexpected(std::string("[[rules]] must be an array of tables"));
            const auto& o = v.as_object();
            AmountRule rule;
            if (auto r = read_string(o, "suffix", rule.suffix); !r) return r;
            if (rule.suffix.empty() || rule.suffix.find_first_not_of("0123456789") != std::string::npos) {
                return unexpected(std::string("rule 'suffix' must be decimal digits"));
            }
            std::string outcome;
            if (auto r = read_string(o, "outcome", outcome); !r) return r;
            if (!outcome.empty()) {
                auto oc = outcome_from_name(outcome);
                if (!oc) return unexpected("unknown rule outcome '" + outcome + "'");
                rule.outcome = *oc;
            }
            std::int64_t rc = rule.result_code;
            if (auto r = read_int(o, "result_code", 1, 255, rc); !r) return r;
            rule.result_code = static_cast<std::uint8_t>(rc);
            if (o.contains("brand") || o.contains("pan") || o.contains("name")) {
                Card c = s.card;
                if (auto r = read_card(o, c); !r) return r;
                rule.card = c;
            }
            s.rules.push_back(std::move(rule));
        }
    }
    if (auto it = root.find("faults"); it != root.end()) {
        if (!it->value().is_array()) return unexpected(std::string("'faults' must be an array of strings"));
        for (const auto& v : it->value().as_array()) {
            if (!v.is_string()) return unexpected(std::string("'faults' must be an array of strings"));
            if (auto r = s.faults.set(v.as_string()); !r) return r;
        }
    }
    return {};
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Expected<void, std::string> check_track2(std::string_view t) {
    if (t.empty()) return {};
    if (t.size() > 37) return unexpected("track 2 has " + std::to_string(t.size()) + " characters, at most 37");
    if (t.front() == '=') return unexpected(std::string("track 2 must start with the card number"));
    if (t.find_first_not_of("0123456789=") != std::string_view::npos)
        return unexpected(std::string("track 2 must be digits with one '=' separator"));
    if (std::count(t.begin(), t.end(), '=') > 1) return unexpected(std::string("track 2 has more than one '='"));
    return {};
}

const std::vector<AmountRule>& default_rules() {
    static const std::vector<AmountRule> rules = [] {
        std::vector<AmountRule> r;
        r.push_back({"51", Outcome::decline, 0x05, std::nullopt});
        r.push_back({"52", Outcome::no_card, 0x05, std::nullopt});
        r.push_back({"53", Outcome::pin_wrong_once, 0x05, std::nullopt});
        r.push_back({"54", Outcome::card_left_inserted, 0x05, std::nullopt});
        r.push_back({"55", Outcome::decline, 0x78, std::nullopt});  // 78 card expired
        r.push_back(brand_rule("61", CardBrand::mastercard, "545454******5454", "Mastercard"));
        r.push_back(brand_rule("62", CardBrand::amex, "374245*****1001", "American Express"));
        r.push_back(brand_rule("63", CardBrand::girocard, "672559******1234", "girocard"));
        r.push_back(brand_rule("64", CardBrand::diners, "305693****5904", "Diners Club"));
        r.push_back(brand_rule("65", CardBrand::jcb, "353011******0003", "JCB"));
        r.push_back(brand_rule("66", CardBrand::maestro, "675964******0037", "Maestro"));
        r.push_back(brand_rule("67", CardBrand::dankort, "501912******1234", "Dankort"));
        return r;
    }();
    return rules;
}

AmountRule Scenario::rule_for(std::int64_t amount) const {
    std::string digits = std::to_string(amount < 0 ? -amount : amount);
    for (const auto* list : {&rules, &default_rules()}) {
        for (const auto& r : *list) {
            if (ends_with(digits, r.suffix)) return r;
        }
    }
    return AmountRule{"", Outcome::approve, 0x05, std::nullopt};
}

Expected<Scenario, std::string> load_scenario(const std::string& path) {
    std::ifstream in(path);
    if (!in) return unexpected("cannot read scenario file " + path);
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    json::value root;
    if (ends_with(path, ".json")) {
        boost::system::error_code ec;
        root = json::parse(text, ec);
        if (ec) return unexpected(path + ": " + ec.message());
    } else {
        // toml++ reports syntax errors by exception (built with TOML_EXCEPTIONS); turn it into
        // a value here, at the edge.
        try {
            toml::table table = toml::parse(text, std::string_view(path));
            root = to_json(table);
        } catch (const toml::parse_error& e) {
            std::ostringstream msg;
            msg << e;
            return unexpected(msg.str());
        }
    }
    if (!root.is_object()) return unexpected(path + ": top level must be a table/object");
    Scenario s;
    if (auto r = read_scenario(root.as_object(), s); !r) return unexpected(path + ": " + r.error());
    return s;
}

}  // namespace pb::sim
