#include "tools/common/json_format.h"

#include <charconv>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>

#include "domain/changed_fields.h"

namespace ledger::tools {
namespace {

boost::json::array ids_json(const std::vector<std::uint64_t>& values) {
  boost::json::array out;
  for (auto v : values) out.emplace_back(v);
  return out;
}

bool parse_int(std::string_view text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

boost::json::object fields_json(const domain::CustomerFields& fields) {
  boost::json::object out;
  for (auto field : domain::kAllFields) out[domain::field_name(field)] = fields.get(field);
  return out;
}

boost::json::object customer_json(const domain::Customer& customer) {
  boost::json::object out;
  out["number"] = customer.number;
  out["id"] = customer.id;
  out["status"] = domain::status_name(customer.status);
  out["revision"] = customer.revision;
  for (auto field : domain::kAllFields) out[domain::field_name(field)] = customer.fields.get(field);
  return out;
}

boost::json::object event_json(const domain::Event& event, const domain::Customer* before) {
  boost::json::object out;
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::CustomersPurged>) {
          out["ids"] = ids_json(e.ids);
          out["numbers"] = ids_json(e.numbers);
          boost::json::array counts;
          for (auto c : e.entries_redacted) counts.emplace_back(c);
          out["entries_redacted"] = std::move(counts);
          out["merkle_root"] = eventstore::to_hex(e.merkle_root);
        } else {
          out["id"] = e.id;
          out["number"] = e.number;
          if constexpr (std::is_same_v<T, domain::CustomerCreated>) out["fields"] = fields_json(e.fields);
          if constexpr (std::is_same_v<T, domain::CustomerEdited>) {
            boost::json::object changes;
            for (const auto& change : e.changes) changes[domain::field_name(change.field)] = change.value;
            out["changes"] = std::move(changes);
            if (before) {
              boost::json::object old;
              for (const auto& changed : domain::changed_fields(*before, e)) {
                old[domain::field_name(changed.field)] = changed.old_value;
              }
              out["old"] = std::move(old);
            }
          }
        }
      },
      event);
  return out;
}

boost::json::object entry_json(const EntryView& entry, const domain::Event* event, const domain::Customer* before) {
  boost::json::object out;
  out["seq"] = entry.seq;
  out["at"] = entry.at_us;
  out["time"] = format_time(entry.at_us);
  out["actor"] = entry.actor;
  out["customer"] = entry.customer;
  out["number"] = entry.number;
  out["kind"] = entry.kind;
  out["kind_name"] = domain::kind_name(static_cast<domain::EventKind>(entry.kind));
  out["digest"] = eventstore::to_hex(entry.digest);
  out["chain"] = eventstore::to_hex(entry.chain);
  out["redacted_by"] = entry.redacted_by;
  if (entry.redacted()) {
    out["stub"] = true;
    return out;
  }
  if (event == nullptr) {
    throw std::invalid_argument("log entry " + std::to_string(entry.seq) + " is not a stub but has no event");
  }
  out["stub"] = false;
  out["request"] = eventstore::to_hex(reinterpret_cast<const std::uint8_t*>(entry.request.data()), entry.request.size());
  out["event"] = event_json(*event, before);
  return out;
}

std::string format_time(std::int64_t at_us) {
  std::int64_t seconds = at_us / 1'000'000;
  std::int64_t micros = at_us % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

std::optional<std::int64_t> parse_time(std::string_view text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t us = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), us);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return us;
  }
  if (!text.empty() && text.back() == 'Z') text.remove_suffix(1);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::int64_t micros = 0;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!parse_int(text.substr(0, 4), year) || !parse_int(text.substr(5, 2), month) || !parse_int(text.substr(8, 2), day)) {
    return std::nullopt;
  }
  if (text.size() > 10) {
    if (text.size() < 19 || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':') return std::nullopt;
    if (!parse_int(text.substr(11, 2), hour) || !parse_int(text.substr(14, 2), minute) ||
        !parse_int(text.substr(17, 2), second)) {
      return std::nullopt;
    }
    if (text.size() > 19) {
      if (text[19] != '.' || text.size() > 26 || text.size() == 20) return std::nullopt;
      auto fraction = std::string(text.substr(20));
      if (fraction.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
      fraction.resize(6, '0');
      micros = std::stoll(fraction);
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  return static_cast<std::int64_t>(t) * 1'000'000 + micros;
}

bool digest_from_hex(std::string_view hex, eventstore::Digest& out) {
  if (hex.size() != 64) return false;
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, value, 16);
    if (ec != std::errc() || end != hex.data() + 2 * i + 2) return false;
    out[i] = static_cast<std::uint8_t>(value);
  }
  return true;
}

std::string to_line(const boost::json::value& value) { return boost::json::serialize(value); }

}  // namespace ledger::tools
