// HTTP-date parsing and the date formats S3 emits (spec R-T4, R-T5, D2, D13; RFC 9110 §5.6.7).
// Pure: fixed-position parsers over std::chrono calendar types, no locale, no strptime. Safe from
// any thread.
//
// The three accepted forms (case-sensitive, as RFC 9110 requires):
//   IMF-fixdate  `Sun, 06 Nov 1994 08:49:37 GMT`
//   RFC 850      `Sunday, 06-Nov-94 08:49:37 GMT`   (two-digit year, resolved against `now`)
//   asctime      `Sun Nov  6 08:49:37 1994`         (day space- or zero-padded)
// The day name must be a valid name for the form but is not checked against the date (RFC 9110
// does not ask recipients to). Anything else is nullopt, which callers treat as an absent
// header (R-T5).

#include "protocol/http_date.hpp"

#include "protocol/text.hpp"

#include <array>
#include <cstdio>

namespace ifmatch::protocol {

namespace {

namespace chr = std::chrono;

constexpr std::array<std::string_view, 7> short_days = {"Sun", "Mon", "Tue", "Wed",
                                                        "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> long_days = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// The fields of a date before they are validated as a calendar date.
struct date_fields {
    int year = 0;
    unsigned month = 0; // 1..12
    unsigned day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
};

// Reads exactly `n` decimal digits at `pos`; nullopt if any is not a digit.
std::optional<int> digits(std::string_view v, std::size_t pos, std::size_t n) {
    if (pos + n > v.size()) {
        return std::nullopt;
    }
    int out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (v[i] < '0' || v[i] > '9') {
            return std::nullopt;
        }
        out = out * 10 + (v[i] - '0');
    }
    return out;
}

template <std::size_t N>
bool is_one_of(const std::array<std::string_view, N> &names, std::string_view v) {
    for (auto n : names) {
        if (n == v) {
            return true;
        }
    }
    return false;
}

std::optional<unsigned> month_number(std::string_view v) {
    for (unsigned i = 0; i < months.size(); ++i) {
        if (months[i] == v) {
            return i + 1;
        }
    }
    return std::nullopt;
}

// Reads `HH:MM:SS` at `pos` into `f`. A leap second (60) is accepted, as RFC 9110 allows.
bool parse_time_of_day(std::string_view v, std::size_t pos, date_fields &f) {
    if (pos + 8 > v.size() || v[pos + 2] != ':' || v[pos + 5] != ':') {
        return false;
    }
    const auto h = digits(v, pos, 2);
    const auto m = digits(v, pos + 3, 2);
    const auto s = digits(v, pos + 6, 2);
    if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) {
        return false;
    }
    f.hour = *h;
    f.minute = *m;
    f.second = *s;
    return true;
}

// Turns validated-shape fields into a time point; nullopt for impossible dates (31 Feb).
std::optional<sys_seconds> to_time(const date_fields &f) {
    const chr::year_month_day ymd{chr::year{f.year}, chr::month{f.month}, chr::day{f.day}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return sys_seconds{chr::sys_days{ymd}} + chr::hours{f.hour} + chr::minutes{f.minute} +
           chr::seconds{f.second};
}

// `Sun, 06 Nov 1994 08:49:37 GMT`
std::optional<sys_seconds> parse_imf_fixdate(std::string_view v) {
    if (v.size() != 29 || !is_one_of(short_days, v.substr(0, 3)) || v.substr(3, 2) != ", " ||
        v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v.substr(25) != " GMT") {
        return std::nullopt;
    }
    date_fields f;
    const auto day = digits(v, 5, 2);
    const auto month = month_number(v.substr(8, 3));
    const auto year = digits(v, 12, 4);
    if (!day || !month || !year || !parse_time_of_day(v, 17, f)) {
        return std::nullopt;
    }
    f.day = static_cast<unsigned>(*day);
    f.month = *month;
    f.year = *year;
    return to_time(f);
}

// RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future is the
// most recent past year with the same last two digits. The year chosen is therefore the latest
// one with those digits that is no more than 50 years ahead of `now`.
std::optional<sys_seconds> resolve_two_digit_year(date_fields f, sys_seconds now) {
    const auto today_start = chr::floor<chr::days>(now);
    const chr::year_month_day today{today_start};
    auto limit_day = today + chr::years{50};
    if (!limit_day.ok()) {
        limit_day = limit_day.year() / limit_day.month() / chr::last; // 29 Feb in a common year
    }
    const auto limit = sys_seconds{chr::sys_days{limit_day}} + (now - today_start);
    const int this_year = static_cast<int>(today.year());
    const int two_digits = f.year;
    for (int century = this_year - this_year % 100 + 100; century >= this_year - 200;
         century -= 100) {
        f.year = century + two_digits;
        // A candidate that is no calendar date (29 Feb of a common year) is skipped.
        if (const auto t = to_time(f); t && *t <= limit) {
            return t;
        }
    }
    return std::nullopt;
}

// `Sunday, 06-Nov-94 08:49:37 GMT`
std::optional<sys_seconds> parse_rfc850(std::string_view v, sys_seconds now) {
    const auto comma = v.find(", ");
    if (comma == std::string_view::npos || !is_one_of(long_days, v.substr(0, comma))) {
        return std::nullopt;
    }
    const auto rest = v.substr(comma + 2);
    if (rest.size() != 22 || rest[2] != '-' || rest[6] != '-' || rest[9] != ' ' ||
        rest.substr(18) != " GMT") {
        return std::nullopt;
    }
    date_fields f;
    const auto day = digits(rest, 0, 2);
    const auto month = month_number(rest.substr(3, 3));
    const auto year = digits(rest, 7, 2);
    if (!day || !month || !year || !parse_time_of_day(rest, 10, f)) {
        return std::nullopt;
    }
    f.day = static_cast<unsigned>(*day);
    f.month = *month;
    f.year = *year;
    return resolve_two_digit_year(f, now);
}

// `Sun Nov  6 08:49:37 1994` (also `Sun Nov 06 ...`).
std::optional<sys_seconds> parse_asctime(std::string_view v) {
    if (v.size() != 24 || !is_one_of(short_days, v.substr(0, 3)) || v[3] != ' ' || v[7] != ' ' ||
        v[10] != ' ' || v[19] != ' ') {
        return std::nullopt;
    }
    date_fields f;
    const auto month = month_number(v.substr(4, 3));
    const auto day = v[8] == ' ' ? digits(v, 9, 1) : digits(v, 8, 2);
    const auto year = digits(v, 20, 4);
    if (!day || !month || !year || !parse_time_of_day(v, 11, f)) {
        return std::nullopt;
    }
    f.day = static_cast<unsigned>(*day);
    f.month = *month;
    f.year = *year;
    return to_time(f);
}

// Splits a time point into calendar fields (floor: works before 1970 too).
date_fields fields_of(sys_seconds t) {
    const auto day = chr::floor<chr::days>(t);
    const chr::year_month_day ymd{day};
    const chr::hh_mm_ss<chr::seconds> tod{t - day};
    date_fields f;
    f.year = static_cast<int>(ymd.year());
    f.month = static_cast<unsigned>(ymd.month());
    f.day = static_cast<unsigned>(ymd.day());
    f.hour = static_cast<int>(tod.hours().count());
    f.minute = static_cast<int>(tod.minutes().count());
    f.second = static_cast<int>(tod.seconds().count());
    return f;
}

constexpr std::int64_t iso_day_ms = 86'400'000;

// Reads exactly `n` digits at `pos`.
std::optional<int> iso_digits(std::string_view s, std::size_t &pos, std::size_t n) {
    if (pos + n > s.size()) {
        return std::nullopt;
    }
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + (c - '0');
    }
    pos += n;
    return v;
}

bool iso_take(std::string_view s, std::size_t &pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

} // namespace

std::optional<sys_seconds> parse_http_date(std::string_view v, sys_seconds now) {
    v = ascii::trim_ows(v);
    if (v.size() > 3 && v[3] == ',') {
        return parse_imf_fixdate(v);
    }
    if (v.size() > 3 && v[3] == ' ') {
        return parse_asctime(v);
    }
    return parse_rfc850(v, now);
}

std::optional<sys_seconds> parse_http_date(std::string_view v) {
    return parse_http_date(v, chr::floor<chr::seconds>(chr::system_clock::now()));
}

std::string format_http_date(sys_seconds t) {
    const auto f = fields_of(t);
    const chr::weekday wd{chr::floor<chr::days>(t)};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                  short_days[wd.c_encoding()].data(), f.day, months[f.month - 1].data(), f.year,
                  f.hour, f.minute, f.second);
    return buf;
}

std::string format_iso8601(sys_millis t) {
    const auto secs = chr::floor<chr::seconds>(t);
    const auto f = fields_of(secs);
    const auto ms = static_cast<int>((t - secs).count());
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", f.year, f.month, f.day,
                  f.hour, f.minute, f.second, ms);
    return buf;
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view s) {
    using namespace std::chrono;
    std::size_t pos = 0;
    const auto y = iso_digits(s, pos, 4);
    if (!y || !iso_take(s, pos, '-')) {
        return std::nullopt;
    }
    const auto mo = iso_digits(s, pos, 2);
    if (!mo || !iso_take(s, pos, '-')) {
        return std::nullopt;
    }
    const auto d = iso_digits(s, pos, 2);
    if (!d) {
        return std::nullopt;
    }
    const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                             day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    std::int64_t ms = sys_days{ymd}.time_since_epoch().count() * iso_day_ms;
    if (pos == s.size()) {
        return ms;
    }
    if (!iso_take(s, pos, 'T')) {
        return std::nullopt;
    }
    const auto h = iso_digits(s, pos, 2);
    std::optional<int> mi, sec;
    if (h && iso_take(s, pos, ':')) {
        mi = iso_digits(s, pos, 2);
    }
    if (mi && iso_take(s, pos, ':')) {
        sec = iso_digits(s, pos, 2);
    }
    if (!sec || *h > 23 || *mi > 59 || *sec > 59) {
        return std::nullopt;
    }
    ms += (*h * 3600LL + *mi * 60LL + *sec) * 1000;
    if (iso_take(s, pos, '.')) {
        // Fractional seconds: any number of digits, kept to the millisecond (a non-zero finer
        // part still makes the time "not midnight").
        const std::size_t start = pos;
        std::int64_t frac_ms = 0;
        bool finer = false;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            const std::size_t i = pos - start;
            if (i < 3) {
                frac_ms = frac_ms * 10 + (s[pos] - '0');
            } else if (s[pos] != '0') {
                finer = true;
            }
            ++pos;
        }
        const std::size_t n = pos - start;
        if (n == 0) {
            return std::nullopt;
        }
        for (std::size_t i = n; i < 3; ++i) {
            frac_ms *= 10;
        }
        ms += frac_ms + (finer ? 1 : 0);
    }
    if (iso_take(s, pos, 'Z')) {
        return pos == s.size() ? std::optional<std::int64_t>(ms) : std::nullopt;
    }
    const bool plus = iso_take(s, pos, '+');
    if (!plus && !iso_take(s, pos, '-')) {
        return std::nullopt;
    }
    const auto oh = iso_digits(s, pos, 2);
    iso_take(s, pos, ':');
    const auto om = iso_digits(s, pos, 2);
    if (!oh || !om || *oh > 23 || *om > 59 || pos != s.size()) {
        return std::nullopt;
    }
    const std::int64_t offset = (*oh * 60LL + *om) * 60'000;
    return plus ? ms - offset : ms + offset;
}

std::optional<sys_seconds> parse_amz_date(std::string_view v) {
    if (v.size() != 16 || v[8] != 'T' || v[15] != 'Z') {
        return std::nullopt;
    }
    const auto year = digits(v, 0, 4);
    const auto month = digits(v, 4, 2);
    const auto day = digits(v, 6, 2);
    const auto h = digits(v, 9, 2);
    const auto m = digits(v, 11, 2);
    const auto s = digits(v, 13, 2);
    if (!year || !month || !day || !h || !m || !s || *h > 23 || *m > 59 || *s > 60) {
        return std::nullopt;
    }
    return to_time({*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day), *h, *m, *s});
}

std::string format_amz_date(sys_seconds t) {
    const auto f = fields_of(t);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", f.year, f.month, f.day, f.hour,
                  f.minute, f.second);
    return buf;
}

} // namespace ifmatch::protocol
