#include "daemon/dashboard_page.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pb::daemon {
namespace json = boost::json;

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

// ---- card-number guard -----------------------------------------------------------------------

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool luhn_ok(const std::vector<std::size_t>& positions, const std::string& text) {
    int sum = 0;
    bool twice = false;
    for (auto it = positions.rbegin(); it != positions.rend(); ++it) {
        int d = text[*it] - '0';
        if (twice) {
            d *= 2;
            if (d > 9) d -= 9;
        }
        sum += d;
        twice = !twice;
    }
    return sum % 10 == 0;
}

}  // namespace

std::size_t mask_card_numbers(std::string& text) {
    std::size_t masked = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!is_digit(text[i])) {
            ++i;
            continue;
        }
        // A run of digits, single spaces or dashes between them allowed ("4111 1111 1111 1111").
        std::vector<std::size_t> digits;
        std::size_t j = i;
        while (j < text.size()) {
            if (is_digit(text[j])) {
                digits.push_back(j++);
            } else if ((text[j] == ' ' || text[j] == '-') && j + 1 < text.size() && is_digit(text[j + 1])) {
                ++j;
            } else {
                break;
            }
        }
        if (digits.size() >= 13 && digits.size() <= 19 && luhn_ok(digits, text)) {
            for (std::size_t k = 6; k + 4 < digits.size(); ++k) text[digits[k]] = '*';
            ++masked;
        }
        i = j;
    }
    return masked;
}

std::size_t mask_card_numbers(json::value& v) {
    std::size_t masked = 0;
    if (auto* s = v.if_string()) {
        std::string text(s->data(), s->size());
        if (std::size_t n = mask_card_numbers(text)) {
            *s = text;
            masked += n;
        }
    } else if (auto* a = v.if_array()) {
        for (auto& e : *a) masked += mask_card_numbers(e);
    } else if (auto* o = v.if_object()) {
        for (auto& kv : *o) masked += mask_card_numbers(kv.value());
    }
    return masked;
}

// ---- the page ---------------------------------------------------------------------------------

namespace {

// One column: the key ("a|b": the first present), its heading and how its value shows.
// The script gets the same table (COLUMNS below), so both renderings agree.
struct Column {
    const char* key;
    const char* title;
    const char* kind;  // "text", "num", "age", "bool"
};

struct Table {
    const char* id;         // element id and snapshot key
    const char* empty;      // text of an empty table
    std::vector<Column> columns;
};

const std::vector<Table>& tables() {
    static const std::vector<Table> t = {
        {"terminals", "No terminals configured.",
         {{"terminal|id", "Terminal", "text"},
          {"register_id", "Register", "text"},
          {"state", "State", "text"},
          {"online", "Online", "bool"},
          {"tid", "TID", "text"},
          {"last_status", "Last status", "text"},
          {"payment_id", "Payment", "text"},
          {"last_seen", "Last seen", "text"}}},
        {"takings", "Nothing taken yet today.",
         {{"name|issuer", "Issuer", "text"},
          {"account", "Account", "text"},
          {"count", "Count", "num"},
          {"amount", "Amount", "num"},
          {"currency", "Currency", "text"},
          {"returned_count", "Reversed/refunded", "num"}}},
        {"takings_totals", "",
         {{"currency", "Currency", "text"}, {"count", "Count", "num"}, {"amount", "Total", "num"}}},
        {"interim", "The interim account is empty.",
         {{"payment_id", "Payment", "num"},
          {"order_id", "Order", "text"},
          {"terminal", "Terminal", "text"},
          {"amount", "Amount", "num"},
          {"currency", "Currency", "text"},
          {"state", "State", "text"},
          {"reason", "Reason", "text"},
          {"masked_pan", "Card", "text"},
          {"age_s", "Age", "age"}}},
    };
    return t;
}

const json::value* pick(const json::object& row, std::string_view key) {
    while (!key.empty()) {
        auto bar = key.find('|');
        auto k = key.substr(0, bar);
        if (auto* v = row.if_contains(k); v && !v->is_null()) return v;
        key = bar == std::string_view::npos ? std::string_view{} : key.substr(bar + 1);
    }
    return nullptr;
}

std::string age_text(std::int64_t s) {
    if (s < 60) return std::to_string(s) + " s";
    if (s < 3600) return std::to_string(s / 60) + " min";
    if (s < 86400) {
        auto m = (s % 3600) / 60;
        return std::to_string(s / 3600) + " h " + (m < 10 ? "0" : "") + std::to_string(m) + " min";
    }
    return std::to_string(s / 86400) + " d " + std::to_string((s % 86400) / 3600) + " h";
}

std::string cell_text(const json::value* v, std::string_view kind) {
    if (!v) return "";
    if (kind == "age" && v->is_int64()) return age_text(v->as_int64());
    if (kind == "bool" && v->is_bool()) return v->as_bool() ? "yes" : "no";
    if (v->is_string()) return std::string(v->as_string());
    if (v->is_bool()) return v->as_bool() ? "yes" : "no";
    if (v->is_int64()) return std::to_string(v->as_int64());
    if (v->is_uint64()) return std::to_string(v->as_uint64());
    return json::serialize(*v);
}

const json::array* rows_of(const json::value& snapshot, const char* key) {
    if (const auto* o = snapshot.if_object())
        if (const auto* v = o->if_contains(key)) return v->if_array();
    return nullptr;
}

// Columns that have a value in some row; all of them while the table is empty. Same rule in
// the script (visibleColumns).
std::vector<const Column*> visible(const Table& t, const json::array* rows) {
    std::vector<const Column*> out;
    for (const auto& c : t.columns) {
        bool seen = !rows || rows->empty();
        if (rows)
            for (const auto& r : *rows)
                if (const auto* o = r.if_object(); o && pick(*o, c.key)) seen = true;
        if (seen) out.push_back(&c);
    }
    return out;
}

std::string render_table(const Table& t, const json::value& snapshot) {
    const json::array* rows = rows_of(snapshot, t.id);
    auto cols = visible(t, rows);
    std::string h = "<table id=\"" + std::string(t.id) + "\"><thead><tr>";
    for (const auto* c : cols) {
        h += c->kind == std::string_view("num") || c->kind == std::string_view("age") ? "<th class=\"num\">" : "<th>";
        h += html_escape(c->title) + "</th>";
    }
    h += "</tr></thead><tbody>";
    if (!rows || rows->empty()) {
        h += "<tr><td class=\"empty\" colspan=\"" + std::to_string(cols.size()) + "\">" + html_escape(t.empty) +
             "</td></tr>";
    } else {
        for (const auto& r : *rows) {
            const auto* o = r.if_object();
            if (!o) continue;
            h += "<tr>";
            for (const auto* c : cols) {
                std::string_view kind = c->kind;
                h += kind == "num" || kind == "age" ? "<td class=\"num\">" : "<td>";
                h += html_escape(cell_text(pick(*o, c->key), kind)) + "</td>";
            }
            h += "</tr>";
        }
    }
    h += "</tbody></table>";
    return h;
}

std::string columns_json() {
    json::object o;
    for (const auto& t : tables()) {
        json::array cols;
        for (const auto& c : t.columns) cols.push_back(json::object{{"key", c.key}, {"title", c.title}, {"kind", c.kind}});
        o[t.id] = json::object{{"empty", t.empty}, {"columns", std::move(cols)}};
    }
    std::string s = json::serialize(o);
    // Inside <script>: "</" could close the element.
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '<') out += "\\u003c";
        else out += s[i];
    }
    return out;
}

std::string field(const json::value& snapshot, const char* key) {
    if (const auto* o = snapshot.if_object())
        if (const auto* v = o->if_contains(key); v && v->is_string()) return std::string(v->as_string());
    return "";
}

const char* kStyle = R"(
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;background:#fff;min-width:30em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#eee}
.num{text-align:right;font-variant-numeric:tabular-nums}.empty{color:#777;font-style:italic}
#live{color:#555}#live.bad{color:#b00}
)";

// Same columns, same formatting and the same "visible columns" rule as render_table; values
// go in with textContent only.
const char* kScript = R"(
function pick(row,key){for(const k of key.split('|')){if(row[k]!==undefined&&row[k]!==null)return row[k];}return undefined;}
function ageText(s){if(s<60)return s+' s';if(s<3600)return Math.floor(s/60)+' min';
 if(s<86400){const m=Math.floor((s%3600)/60);return Math.floor(s/3600)+' h '+(m<10?'0':'')+m+' min';}
 return Math.floor(s/86400)+' d '+Math.floor((s%86400)/3600)+' h';}
function cellText(v,kind){if(v===undefined)return '';if(kind==='age'&&typeof v==='number')return ageText(v);
 if(typeof v==='boolean')return v?'yes':'no';if(typeof v==='object')return JSON.stringify(v);return String(v);}
function visibleColumns(t,rows){return t.columns.filter(c=>!rows.length||rows.some(r=>pick(r,c.key)!==undefined));}
function el(tag,text,cls){const e=document.createElement(tag);if(text!==undefined)e.textContent=text;if(cls)e.className=cls;return e;}
function renderTable(id,rows){const t=COLUMNS[id],table=document.getElementById(id);if(!table)return;
 rows=Array.isArray(rows)?rows:[];const cols=visibleColumns(t,rows);
 const head=el('tr');for(const c of cols)head.appendChild(el('th',c.title,c.kind==='num'||c.kind==='age'?'num':''));
 const body=document.createElement('tbody');
 if(!rows.length){const tr=el('tr'),td=el('td',t.empty,'empty');td.colSpan=cols.length;tr.appendChild(td);body.appendChild(tr);}
 for(const r of rows){const tr=el('tr');for(const c of cols)tr.appendChild(el('td',cellText(pick(r,c.key),c.kind),c.kind==='num'||c.kind==='age'?'num':''));body.appendChild(tr);}
 table.tHead.replaceChildren(head);table.tBodies[0].replaceWith(body);}
async function refresh(){const live=document.getElementById('live');
 try{const r=await fetch('/api/status',{cache:'no-store'});if(!r.ok)throw new Error('HTTP '+r.status);
  const s=await r.json();for(const id in COLUMNS)renderTable(id,s[id]);
  document.getElementById('business_date').textContent=s.business_date||'';
  document.getElementById('generated_at').textContent=s.generated_at||'';
  document.getElementById('interim_count').textContent=Array.isArray(s.interim)?s.interim.length:0;
  live.textContent='live';live.className='';}
 catch(e){live.textContent='update failed ('+e.message+'), showing the last data';live.className='bad';}}
setInterval(refresh,5000);
)";

}  // namespace

std::string render_dashboard_html(const json::value& snapshot) {
    const json::array* interim = rows_of(snapshot, "interim");
    std::string h;
    h.reserve(8192);
    h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
         "<title>Paybridge - finance</title><style>";
    h += kStyle;
    h += "</style></head><body>\n<h1>Paybridge</h1><p>Business date <b id=\"business_date\">" +
         html_escape(field(snapshot, "business_date")) + "</b> &middot; generated at <span id=\"generated_at\">" +
         html_escape(field(snapshot, "generated_at")) +
         "</span> &middot; <span id=\"live\">refreshes every 5 s with JavaScript</span></p>\n";
    const auto& t = tables();
    h += "<h2>Terminals</h2>" + render_table(t[0], snapshot) + "\n";
    h += "<h2>Today's takings per issuer</h2>" + render_table(t[1], snapshot) + "\n";
    h += "<h2>Totals</h2>" + render_table(t[2], snapshot) + "\n";
    h += "<h2>Interim account (<span id=\"interim_count\">" + std::to_string(interim ? interim->size() : 0) +
         "</span>)</h2>" + render_table(t[3], snapshot) + "\n";
    h += "<script>\nconst COLUMNS=" + columns_json() + ";\n" + kScript + "</script>\n</body></html>\n";
    return h;
}

}  // namespace pb::daemon
