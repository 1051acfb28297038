#include "simulators/upstream/service.hpp"

#include <boost/json.hpp>

#include <cstdio>

#include "protocol/upstream/commitment.hpp"

namespace pb::sim::upstream {

namespace json = boost::json;
namespace up = pb::upstream;

namespace {

Answer error(unsigned status, std::string code, std::string message, std::string field = {},
             std::vector<std::int64_t> blocked = {}) {
    up::ServiceError e;
    e.status = static_cast<int>(status);
    e.code = std::move(code);
    e.message = std::move(message);
    e.field = std::move(field);
    e.blocked_lines = std::move(blocked);
    return {status, up::encode_service_error(e)};
}

Answer malformed(const up::MalformedError& e) {
    return error(400, "malformed_request", e.to_string(), e.field);
}

std::string numbered(const char* prefix, std::size_t n) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s-%06zu", prefix, n);
    return buf;
}

bool valid_date(const std::string& d) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (d[i] < '0' || d[i] > '9') return false;
    return true;
}

std::string str(const json::object& o, std::string_view k) {
    auto it = o.find(k);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string{};
}

std::int64_t i64(const json::object& o, std::string_view k, std::int64_t fallback = -1) {
    auto it = o.find(k);
    return it != o.end() && it->value().is_int64() ? it->value().get_int64() : fallback;
}

}  // namespace

void Services::purge_receipts(std::int64_t now) {
    for (const auto& id : ereceipts_.purge(now))
        for (auto& [key, rem] : idempotent_)
            if (!rem.forgotten && ReceiptService::handles(rem.path) && rem.body.find("\"" + id + "\"") != std::string::npos) {
                rem.body.clear();
                rem.forgotten = true;
            }
}

Answer Services::handle(const Request& r) {
    ++requests_;
    if (r.now_utc_ms > 0) purge_receipts(r.now_utc_ms);
    if (r.method == "POST" && !r.idempotency_key.empty()) {
        if (!up::valid_idempotency_key(r.idempotency_key))
            return error(400, "malformed_request", "Idempotency-Key must be 1..128 printable ASCII characters");
        if (auto it = idempotent_.find(r.idempotency_key); it != idempotent_.end()) {
            ++duplicates_;
            for (auto& rec : receipts_)
                if (rec.idempotency_key == r.idempotency_key) ++rec.deliveries;
            const bool tombstone = (it->second.body.empty() && it->second.answer.status == 422) || it->second.forgotten;
            if (!tombstone && (it->second.path != r.path || it->second.body != r.body))
                return error(409, "idempotency_conflict",
                             "Idempotency-Key '" + r.idempotency_key + "' was used with a different request");
            return it->second.answer;
        }
        Answer a = route(r);
        idempotent_[r.idempotency_key] = Remembered{r.path, r.body, a};
        return a;
    }
    return route(r);
}

Answer Services::route(const Request& r) {
    if (ReceiptService::handles(r.path)) return ereceipts_.handle(r);
    if (r.method != "POST") return error(405, "method_not_allowed", r.method + " " + r.path + " is not supported");
    if (r.path == up::kCheckPath) return check(r);
    if (r.path == up::kDebitPath) {
        if (r.idempotency_key.empty()) return error(400, "malformed_request", "Idempotency-Key header is required");
        return debit(r);
    }
    if (r.path == up::kReceiptPath || r.path == up::kVoidPath) {
        if (r.idempotency_key.empty()) return error(400, "malformed_request", "Idempotency-Key header is required");
        return r.path == up::kReceiptPath ? receipt(r) : void_debit(r);
    }
    if (r.path.rfind("/v1/vouchers/", 0) == 0) return benefit_.handle(r.path, r.body, r.idempotency_key, r.now_ms);
    return error(404, "not_found", "no service at " + r.path);
}

std::string Services::refusal(const Commitment& c, const std::string& today) const {
    if (c.blocked) return "card_blocked";
    if (!c.active) return "commitment_inactive";
    if (!c.valid_from.empty() && today < c.valid_from) return "commitment_inactive";
    if (!c.valid_until.empty() && today > c.valid_until) return "commitment_expired";
    return "";
}

Answer Services::check(const Request& r) {
    auto req = up::parse_check_request(r.body);
    if (!req) return malformed(req.error());
    auto it = cards_.find(req->card_id);
    if (it == cards_.end()) return error(404, "card_unknown", "no commitment card '" + req->card_id + "'", "/card_id");
    const Commitment& c = it->second;
    up::CheckReply rep;
    rep.card_id = c.card_id;
    std::string why = refusal(c, r.today);
    rep.status = why.empty() ? up::CommitmentStatus::active
                 : why == "card_blocked"       ? up::CommitmentStatus::blocked
                 : why == "commitment_expired" ? up::CommitmentStatus::expired
                                               : up::CommitmentStatus::inactive;
    rep.valid_from = c.valid_from;
    rep.valid_until = c.valid_until;
    rep.balance = Money{c.active && !c.blocked ? c.balance : 0, *currency_from_code(c.currency)};
    for (const auto& l : req->lines)
        if (!c.categories.count(l.category)) rep.blocked_lines.push_back(l.index);
    rep.billing_reference = c.billing_reference;
    if (rep.status == up::CommitmentStatus::active && rep.billing_reference.empty()) rep.billing_reference = c.card_id;
    return {200, up::encode(rep)};
}

Answer Services::debit(const Request& r) {
    auto req = up::parse_debit_request(r.body);
    if (!req) return malformed(req.error());
    auto it = cards_.find(req->card_id);
    if (it == cards_.end()) return error(404, "card_unknown", "no commitment card '" + req->card_id + "'", "/card_id");
    Commitment& c = it->second;
    if (auto why = refusal(c, r.today); !why.empty())
        return error(422, why, "card " + c.card_id + ": " + why, "/card_id");
    if (req->amount.currency.code() != c.currency)
        return error(422, "currency_mismatch", "the commitment is in " + c.currency, "/currency");
    std::vector<std::int64_t> blocked;
    std::int64_t sum = 0;
    for (const auto& l : req->lines) {
        if (!c.categories.count(l.category)) blocked.push_back(l.index);
        sum += l.amount;
    }
    if (!blocked.empty())
        return error(422, "category_blocked", "lines in categories the commitment does not allow", "/lines", blocked);
    if (sum != req->amount.minor)
        return error(400, "malformed_request", "lines sum to " + std::to_string(sum) + ", not the amount", "/amount");
    if (req->amount.minor > c.balance)
        return error(422, "insufficient_balance",
                     "balance " + std::to_string(c.balance) + " does not cover " + std::to_string(req->amount.minor),
                     "/amount");
    c.balance -= req->amount.minor;
    Debit d;
    d.debit_id = numbered("d", debits_.size() + 1);
    d.idempotency_key = r.idempotency_key;
    d.card_id = c.card_id;
    d.order_id = req->order_id;
    d.payment_ref = req->payment_ref;
    d.register_id = req->register_id;
    d.billing_reference = c.billing_reference.empty() ? c.card_id : c.billing_reference;
    d.currency = c.currency;
    d.amount = req->amount.minor;
    d.remaining = c.balance;
    debits_.push_back(d);
    up::DebitReply rep;
    rep.debit_id = d.debit_id;
    rep.card_id = d.card_id;
    rep.amount = req->amount;
    rep.remaining_balance = c.balance;
    rep.billing_reference = d.billing_reference;
    rep.valid_until = c.valid_until;
    return {201, up::encode(rep)};
}

Answer Services::receipt(const Request& r) {
    auto req = up::parse_receipt_request(r.body);
    if (!req) return malformed(req.error());
    const Debit* d = nullptr;
    for (const auto& x : debits_)
        if (x.debit_id == req->debit_id) d = &x;
    if (!d) return error(422, "debit_unknown", "no debit '" + req->debit_id + "'", "/debit_id");
    if (d->amount != req->amount.minor)
        return error(422, "amount_mismatch", "debit " + d->debit_id + " was " + std::to_string(d->amount), "/amount");
    ReceivedReceipt rec;
    rec.receipt_id = numbered("r", receipts_.size() + 1);
    rec.idempotency_key = r.idempotency_key;
    rec.debit_id = req->debit_id;
    rec.billing_reference = req->billing_reference;
    rec.message = json::parse(r.body);
    receipts_.push_back(rec);
    return {201, up::encode(up::ReceiptReply{rec.receipt_id})};
}

Answer Services::void_debit(const Request& r) {
    auto req = up::parse_void_request(r.body);
    if (!req) return malformed(req.error());
    up::VoidReply rep;
    for (auto& d : debits_) {
        if (d.idempotency_key != req->debit_key || d.voided) continue;
        d.voided = true;
        if (auto it = cards_.find(d.card_id); it != cards_.end()) it->second.balance += d.amount;
        rep.voided = true;
        rep.debit_id = d.debit_id;
    }
    // Not seen yet: a debit with that key arriving later is refused (README §3 "void").
    if (!rep.voided && !idempotent_.count(req->debit_key))
        idempotent_[req->debit_key] =
            Remembered{std::string(up::kDebitPath), "",
                       error(422, "debit_voided", "this debit was voided before it arrived", "/card_id")};
    return {200, up::encode(rep)};
}

// ---- issuer administration -----------------------------------------------------------------

Expected<void, std::string> Services::activate(const json::object& spec) {
    Commitment c;
    c.card_id = str(spec, "card_id");
    if (c.card_id.empty()) return unexpected(std::string("activate: card_id is required"));
    if (auto it = cards_.find(c.card_id); it != cards_.end() && it->second.blocked)
        return unexpected("activate: card " + c.card_id + " is blocked");
    c.amount = i64(spec, "amount");
    if (c.amount <= 0) return unexpected(std::string("activate: amount must be a positive integer (minor units)"));
    c.currency = str(spec, "currency");
    if (c.currency.empty()) c.currency = "SEK";
    if (!currency_from_code(c.currency)) return unexpected("activate: unknown currency '" + c.currency + "'");
    c.valid_from = str(spec, "valid_from");
    c.valid_until = str(spec, "valid_until");
    if ((!c.valid_from.empty() && !valid_date(c.valid_from)) || !valid_date(c.valid_until))
        return unexpected(std::string("activate: valid_from / valid_until must be YYYY-MM-DD (valid_until required)"));
    auto cats = spec.find("categories");
    if (cats == spec.end() || !cats->value().is_array())
        return unexpected(std::string("activate: categories must be an array of strings"));
    for (const auto& v : cats->value().get_array()) {
        if (!v.is_string()) return unexpected(std::string("activate: categories must be an array of strings"));
        c.categories.insert(std::string(v.get_string()));
    }
    c.billing_reference = str(spec, "billing_reference");
    if (c.billing_reference.empty()) return unexpected(std::string("activate: billing_reference is required"));
    c.billing_name = str(spec, "billing_name");
    if (auto inv = str(spec, "invoice"); !inv.empty()) {
        if (inv != "consolidated" && inv != "per_commitment")
            return unexpected(std::string("activate: invoice must be consolidated or per_commitment"));
        c.invoice = inv;
    }
    c.balance = c.amount;
    c.active = true;
    cards_[c.card_id] = c;
    return {};
}

Expected<void, std::string> Services::block(const std::string& card_id) {
    auto it = cards_.find(card_id);
    if (it == cards_.end()) return unexpected("block: no card '" + card_id + "'");
    it->second.blocked = true;
    return {};
}

Expected<void, std::string> Services::transfer(const std::string& from, const std::string& to) {
    auto it = cards_.find(from);
    if (it == cards_.end()) return unexpected("transfer: no card '" + from + "'");
    if (!it->second.blocked) return unexpected("transfer: card " + from + " must be blocked first");
    if (auto t = cards_.find(to); t != cards_.end() && (t->second.active || t->second.blocked))
        return unexpected("transfer: card " + to + " already carries a commitment or is blocked");
    Commitment moved = it->second;
    moved.card_id = to;
    moved.blocked = false;
    moved.active = moved.balance > 0;
    it->second.balance = 0;
    it->second.active = false;
    cards_[to] = moved;
    return {};
}

const Commitment* Services::card(const std::string& id) const {
    auto it = cards_.find(id);
    return it == cards_.end() ? nullptr : &it->second;
}

// ---- state file ----------------------------------------------------------------------------

json::object Services::to_json() const {
    json::array cards;
    for (const auto& [id, c] : cards_) {
        json::array cats;
        for (const auto& k : c.categories) cats.emplace_back(k);
        cards.push_back(json::object{{"card_id", c.card_id},
                                     {"blocked", c.blocked},
                                     {"active", c.active},
                                     {"amount", c.amount},
                                     {"balance", c.balance},
                                     {"currency", c.currency},
                                     {"valid_from", c.valid_from},
                                     {"valid_until", c.valid_until},
                                     {"categories", std::move(cats)},
                                     {"billing_reference", c.billing_reference},
                                     {"billing_name", c.billing_name},
                                     {"invoice", c.invoice}});
    }
    json::array debits;
    for (const auto& d : debits_)
        debits.push_back(json::object{{"debit_id", d.debit_id},
                                      {"idempotency_key", d.idempotency_key},
                                      {"voided", d.voided},
                                      {"card_id", d.card_id},
                                      {"order_id", d.order_id},
                                      {"payment_ref", d.payment_ref},
                                      {"register", d.register_id},
                                      {"billing_reference", d.billing_reference},
                                      {"currency", d.currency},
                                      {"amount", d.amount},
                                      {"remaining_balance", d.remaining}});
    json::array receipts;
    for (const auto& r : receipts_)
        receipts.push_back(json::object{{"receipt_id", r.receipt_id},
                                        {"idempotency_key", r.idempotency_key},
                                        {"debit_id", r.debit_id},
                                        {"billing_reference", r.billing_reference},
                                        {"deliveries", r.deliveries},
                                        {"message", r.message}});
    json::array keys;
    for (const auto& [k, m] : idempotent_)
        keys.push_back(json::object{{"key", k},
                                    {"path", m.path},
                                    {"body", m.body},
                                    {"status", m.answer.status},
                                    {"answer", m.answer.body},
                                    {"forgotten", m.forgotten}});
    return json::object{{"cards", std::move(cards)},
                        {"debits", std::move(debits)},
                        {"receipts", std::move(receipts)},
                        {"idempotency", std::move(keys)},
                        {"benefit", benefit_.to_json()},
                        {"ereceipts", ereceipts_.to_json()},
                        {"requests", requests_},
                        {"duplicates", duplicates_}};
}

Expected<void, std::string> Services::from_json(const json::value& v) {
    try {
        const auto& o = v.as_object();
        Services s;
        for (const auto& cv : o.at("cards").as_array()) {
            const auto& c = cv.as_object();
            Commitment x;
            x.card_id = std::string(c.at("card_id").as_string());
            x.blocked = c.at("blocked").as_bool();
            x.active = c.at("active").as_bool();
            x.amount = c.at("amount").as_int64();
            x.balance = c.at("balance").as_int64();
            x.currency = std::string(c.at("currency").as_string());
            x.valid_from = std::string(c.at("valid_from").as_string());
            x.valid_until = std::string(c.at("valid_until").as_string());
            for (const auto& k : c.at("categories").as_array()) x.categories.insert(std::string(k.as_string()));
            x.billing_reference = std::string(c.at("billing_reference").as_string());
            x.billing_name = std::string(c.at("billing_name").as_string());
            x.invoice = std::string(c.at("invoice").as_string());
            s.cards_[x.card_id] = x;
        }
        for (const auto& dv : o.at("debits").as_array()) {
            const auto& d = dv.as_object();
            Debit x;
            x.debit_id = std::string(d.at("debit_id").as_string());
            x.idempotency_key = std::string(d.at("idempotency_key").as_string());
            x.voided = d.at("voided").as_bool();
            x.card_id = std::string(d.at("card_id").as_string());
            x.order_id = std::string(d.at("order_id").as_string());
            x.payment_ref = std::string(d.at("payment_ref").as_string());
            x.register_id = std::string(d.at("register").as_string());
            x.billing_reference = std::string(d.at("billing_reference").as_string());
            x.currency = std::string(d.at("currency").as_string());
            x.amount = d.at("amount").as_int64();
            x.remaining = d.at("remaining_balance").as_int64();
            s.debits_.push_back(x);
        }
        for (const auto& rv : o.at("receipts").as_array()) {
            const auto& r = rv.as_object();
            ReceivedReceipt x;
            x.receipt_id = std::string(r.at("receipt_id").as_string());
            x.idempotency_key = std::string(r.at("idempotency_key").as_string());
            x.debit_id = std::string(r.at("debit_id").as_string());
            x.billing_reference = std::string(r.at("billing_reference").as_string());
            x.deliveries = static_cast<int>(r.at("deliveries").as_int64());
            x.message = r.at("message");
            s.receipts_.push_back(x);
        }
        for (const auto& kv : o.at("idempotency").as_array()) {
            const auto& k = kv.as_object();
            s.idempotent_[std::string(k.at("key").as_string())] =
                Remembered{std::string(k.at("path").as_string()), std::string(k.at("body").as_string()),
                           Answer{static_cast<unsigned>(k.at("status").to_number<std::int64_t>()), std::string(k.at("answer").as_string())},
                           k.contains("forgotten") && k.at("forgotten").as_bool()};
        }
        if (auto b = o.find("benefit"); b != o.end())  // absent in state files of older simulators
            if (auto r = s.benefit_.from_json(b->value().as_object()); !r) return r;
        if (o.contains("ereceipts"))
            if (auto e = s.ereceipts_.from_json(o.at("ereceipts")); !e) return unexpected(e.error());
        s.requests_ = o.at("requests").as_int64();
        s.duplicates_ = o.at("duplicates").as_int64();
        *this = std::move(s);
        return {};
    } catch (const std::exception& e) {
        return unexpected(std::string("state file is not a simulator state: ") + e.what());
    }
}

}  // namespace pb::sim::upstream
