#include "daemon/metrics.hpp"

#include <algorithm>
#include <stdexcept>

namespace pb::daemon {
namespace {

bool valid_name(const std::string& n, bool label) {
    if (n.empty()) return false;
    auto ok = [label](char c, bool first) {
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
        return alpha || (!first && c >= '0' && c <= '9');
    };
    for (std::size_t i = 0; i < n.size(); ++i)
        if (!ok(n[i], i == 0)) return false;
    return !(label && n.rfind("__", 0) == 0);
}

// Exposition format: label values escape backslash, double quote and newline; HELP text
// escapes backslash and newline.
std::string escape(const std::string& s, bool quote) {
    std::string out;
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (quote && c == '"') out += "\\\"";
        else out += c;
    }
    return out;
}

}  // namespace

std::size_t Metrics::find_or_add(const std::string& name, const std::string& help, bool is_counter, Labels labels) {
    if (!valid_name(name, false)) throw std::invalid_argument("metric name: " + name);
    for (auto& [k, v] : labels)
        if (!valid_name(k, true)) throw std::invalid_argument("metric label: " + k);
    std::sort(labels.begin(), labels.end());
    auto [it, inserted] = families_.try_emplace(name);
    Family& f = it->second;
    if (inserted) {
        f.help = help;
        f.is_counter = is_counter;
    } else if (f.is_counter != is_counter) {
        throw std::logic_error("metric " + name + " registered as both counter and gauge");
    }
    for (auto& [l, index] : f.series)
        if (l == labels) return index;
    std::size_t index;
    if (is_counter) {
        index = counters_.size();
        counters_.emplace_back();
    } else {
        index = gauges_.size();
        gauges_.emplace_back();
    }
    f.series.emplace_back(std::move(labels), index);
    return index;
}

Counter& Metrics::counter(const std::string& name, const std::string& help, Labels labels) {
    std::lock_guard lock(mutex_);
    return counters_[find_or_add(name, help, true, std::move(labels))];
}

Gauge& Metrics::gauge(const std::string& name, const std::string& help, Labels labels) {
    std::lock_guard lock(mutex_);
    return gauges_[find_or_add(name, help, false, std::move(labels))];
}

std::string Metrics::expose() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, f] : families_) {
        out += "# HELP " + name + " " + escape(f.help, false) + "\n";
        out += "# TYPE " + name + (f.is_counter ? " counter\n" : " gauge\n");
        for (const auto& [labels, index] : f.series) {
            out += name;
            if (!labels.empty()) {
                out += '{';
                for (std::size_t i = 0; i < labels.size(); ++i)
                    out += (i ? "," : "") + labels[i].first + "=\"" + escape(labels[i].second, true) + "\"";
                out += '}';
            }
            out += ' ';
            out += f.is_counter ? std::to_string(counters_[index].value()) : std::to_string(gauges_[index].value());
            out += '\n';
        }
    }
    return out;
}

}  // namespace pb::daemon
