#pragma once
// The dashboard's one HTML page and the card-number guard, without any I/O (dashboard.cpp
// serves them). The page is self-contained: inline CSS and script, no external assets; its
// tables are rendered here so it reads right without JavaScript, and the script re-renders
// the same tables (same columns, same formatting rules) from /api/status every 5 s.

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace pb::daemon {

/// The whole page for a snapshot (dashboard.hpp's DashboardSource::snapshot). Every string is
/// HTML-escaped; missing sections render as empty tables.
std::string render_dashboard_html(const boost::json::value& snapshot);

/// "&lt;" and friends for text and attribute values.
std::string html_escape(std::string_view text);

/// Masks every run of 13-19 digits that passes the Luhn check (a plausible full PAN) in every
/// string of `v`, keeping the first 6 and last 4 digits (as pb::MaskedPan does). Already masked
/// PANs ("411111******1111") are left alone. Returns how many runs were masked.
std::size_t mask_card_numbers(boost::json::value& v);
/// The same for one string.
std::size_t mask_card_numbers(std::string& text);

}  // namespace pb::daemon
