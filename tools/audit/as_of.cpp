#include "tools/audit/as_of.h"

#include <algorithm>
#include <map>
#include <variant>

#include <fmt/format.h>

#include "domain/events.h"
#include "eventstore/event_log.h"
#include "projections/queries.h"
#include "projections/replay.h"
#include "tools/common/log_json.h"

namespace ledger::tools {
namespace {

// The number a purge freed for `id`, from its receipt; 0 when the receipt does not name it.
domain::CustomerNumber number_in_receipt(const eventstore::Reader& reader, std::uint64_t purge_seq, domain::CustomerId id) {
  auto purge = eventstore::read_entry(reader, purge_seq);
  if (!purge || purge->redacted()) return 0;
  auto event = projections::decode_payload(*purge);
  auto* receipt = std::get_if<domain::CustomersPurged>(&event);
  if (!receipt) return 0;
  for (std::size_t i = 0; i < receipt->ids.size() && i < receipt->numbers.size(); ++i) {
    if (receipt->ids[i] == id) return receipt->numbers[i];
  }
  return 0;
}

}  // namespace

LedgerAsOf ledger_as_of_seq(const eventstore::Reader& reader, std::uint64_t until) {
  LedgerAsOf out;
  if (until == 0) return out;
  struct Erased {
    domain::CustomerStatus status = domain::CustomerStatus::kActive;
    std::uint64_t erased_by = 0;
  };
  std::map<domain::CustomerId, Erased> erased;
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (e.seq > until) return false;
    out.seq = e.seq;
    out.at_us = e.at_us;
    // A stub of a purge that had not happened yet at `until`: the customer existed then.
    if (e.redacted() && e.redacted_by > until) {
      auto& state = erased[e.customer];
      state.erased_by = e.redacted_by;
      if (e.kind == static_cast<std::uint16_t>(domain::EventKind::kDeleted)) state.status = domain::CustomerStatus::kDeleted;
      if (e.kind == static_cast<std::uint16_t>(domain::EventKind::kUndeleted)) state.status = domain::CustomerStatus::kActive;
    }
    return true;
  });
  const auto replayed = projections::replay_log(reader, out.seq);
  for (const auto& [id, customer] : replayed.customers) {
    (customer.status == domain::CustomerStatus::kActive ? out.active : out.deleted).push_back({customer, 0});
  }
  for (const auto& [id, state] : erased) {
    domain::Customer customer;
    customer.id = id;
    customer.status = state.status;
    customer.number = number_in_receipt(reader, state.erased_by, id);
    (state.status == domain::CustomerStatus::kActive ? out.active : out.deleted).push_back({customer, state.erased_by});
  }
  auto by_number = [](const ListedCustomer& a, const ListedCustomer& b) { return a.customer.number < b.customer.number; };
  std::sort(out.active.begin(), out.active.end(), by_number);
  std::sort(out.deleted.begin(), out.deleted.end(), by_number);
  return out;
}

LedgerAsOf ledger_as_of_time(const eventstore::Reader& reader, std::int64_t at_us) {
  std::uint64_t until = 0;
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (e.at_us > at_us) return false;
    until = e.seq;
    return true;
  });
  return ledger_as_of_seq(reader, until);
}

boost::json::object as_of_json(const LedgerAsOf& ledger) {
  auto list = [](const std::vector<ListedCustomer>& customers) {
    boost::json::array out;
    for (const auto& c : customers) {
      auto o = customer_json(c.customer);
      if (c.erased_by != 0) {
        o = boost::json::object{{"number", c.customer.number}, {"id", c.customer.id},
                                {"status", domain::status_name(c.customer.status)}, {"erased_by", c.erased_by}};
      }
      out.push_back(std::move(o));
    }
    return out;
  };
  boost::json::object out;
  out["seq"] = ledger.seq;
  out["at"] = ledger.at_us;
  out["time"] = ledger.seq == 0 ? "" : format_time(ledger.at_us);
  out["active"] = list(ledger.active);
  out["deleted"] = list(ledger.deleted);
  return out;
}

std::string as_of_text(const LedgerAsOf& ledger) {
  std::string out = ledger.seq == 0 ? std::string("before the first entry\n")
                                    : fmt::format("as of seq {} ({})\n", ledger.seq, format_time(ledger.at_us));
  auto list = [&](const char* title, const std::vector<ListedCustomer>& customers) {
    out += fmt::format("{} ({}):\n", title, customers.size());
    for (const auto& c : customers) {
      if (c.erased_by != 0) {
        out += fmt::format("  {:>12}  id {}  (erased by purge {})\n", c.customer.number, c.customer.id, c.erased_by);
      } else {
        out += fmt::format("  {:>12}  id {}  {}\n", c.customer.number, c.customer.id, c.customer.fields.name);
      }
    }
  };
  list("active", ledger.active);
  list("deleted", ledger.deleted);
  return out;
}

}  // namespace ledger::tools
