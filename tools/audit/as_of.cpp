#include "tools/audit/as_of.h"

#include <algorithm>
#include <functional>
#include <map>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "domain/events.h"
#include "eventstore/event_log.h"
#include "eventstore/log_scan.h"
#include "projections/queries.h"
#include "projections/replay.h"
#include "tools/common/log_json.h"

namespace ledger::tools {
namespace {

using domain::CustomerStatus;

// The numbers the purges freed, from their receipts, each receipt read once.
class ReceiptNumbers {
 public:
  explicit ReceiptNumbers(const eventstore::Reader& reader) : reader_(reader) {}

  // The number purge `purge_seq` freed for `id`; 0 when its receipt does not name it.
  domain::CustomerNumber of(std::uint64_t purge_seq, domain::CustomerId id) {
    auto found = receipts_.find(purge_seq);
    if (found == receipts_.end()) found = receipts_.emplace(purge_seq, read(purge_seq)).first;
    const auto& receipt = found->second;
    for (std::size_t i = 0; i < receipt.ids.size() && i < receipt.numbers.size(); ++i) {
      if (receipt.ids[i] == id) return receipt.numbers[i];
    }
    return 0;
  }

 private:
  domain::CustomersPurged read(std::uint64_t purge_seq) const {
    auto purge = eventstore::read_entry(reader_, purge_seq);
    if (!purge || purge->redacted()) return {};
    auto event = projections::decode_payload(*purge);
    auto* receipt = std::get_if<domain::CustomersPurged>(&event);
    return receipt ? std::move(*receipt) : domain::CustomersPurged{};
  }

  const eventstore::Reader& reader_;
  std::map<std::uint64_t, domain::CustomersPurged> receipts_;
};

// The lists after the entries `included` accepts, in one pass over the log that stops at the
// first entry it refuses. Stubs of purges after `erased_after` are listed as erased; 0: after
// the last entry included.
LedgerAsOf lists_after(const eventstore::Reader& reader, const std::function<bool(const eventstore::EnvelopeView&)>& included,
                       std::uint64_t erased_after) {
  LedgerAsOf out;
  struct Erased {
    CustomerStatus status = CustomerStatus::kActive;
    std::uint64_t erased_by = 0;
  };
  std::map<domain::CustomerId, Erased> erased;
  projections::ReplayedLedger replayed;
  eventstore::LogScan scan(reader, 1);
  while (const auto* e = scan.next()) {
    if (!included(*e)) break;
    out.seq = e->seq;
    out.at_us = e->at_us;
    // A customer's stubs all name the one purge that erased it; whether that came after the
    // last entry included is known once the scan ends.
    if (e->redacted()) {
      auto& state = erased[e->customer];
      state.erased_by = e->redacted_by;
      if (e->kind == static_cast<std::uint16_t>(domain::EventKind::kDeleted)) state.status = CustomerStatus::kDeleted;
      if (e->kind == static_cast<std::uint16_t>(domain::EventKind::kUndeleted)) state.status = CustomerStatus::kActive;
    }
    projections::fold_entry(replayed, *e);
  }
  if (erased_after == 0) erased_after = out.seq;
  // Every customer listed, sorted by number, then each moved once into a list of the right
  // size: sorting the lists themselves, or letting them grow, would move whole customers
  // again and again.
  struct Listed {
    domain::CustomerNumber number = 0;
    domain::CustomerId id = 0;
    std::uint64_t erased_by = 0;
    CustomerStatus status = CustomerStatus::kActive;
  };
  std::vector<Listed> order;
  order.reserve(replayed.customers.size());
  for (const auto& [id, customer] : replayed.customers) order.push_back({customer.number, id, 0, customer.status});
  ReceiptNumbers numbers(reader);
  for (const auto& [id, state] : erased) {
    // A stub of a purge that had not happened yet: the customer existed then.
    if (state.erased_by > erased_after) order.push_back({numbers.of(state.erased_by, id), id, state.erased_by, state.status});
  }
  std::stable_sort(order.begin(), order.end(), [](const Listed& a, const Listed& b) { return a.number < b.number; });
  const auto active = std::count_if(order.begin(), order.end(), [](const Listed& l) { return l.status == CustomerStatus::kActive; });
  out.active.reserve(active);
  out.deleted.reserve(order.size() - active);
  for (const auto& listed : order) {
    auto& list = listed.status == CustomerStatus::kActive ? out.active : out.deleted;
    if (listed.erased_by == 0) {
      list.push_back({std::move(*replayed.customers.find(listed.id)), 0});
    } else {
      domain::Customer customer;
      customer.id = listed.id;
      customer.status = listed.status;
      customer.number = listed.number;
      list.push_back({std::move(customer), listed.erased_by});
    }
  }
  return out;
}

}  // namespace

LedgerAsOf ledger_as_of_seq(const eventstore::Reader& reader, std::uint64_t until) {
  if (until == 0) return {};
  return lists_after(reader, [until](const eventstore::EnvelopeView& e) { return e.seq <= until; }, until);
}

LedgerAsOf ledger_as_of_time(const eventstore::Reader& reader, std::int64_t at_us) {
  return lists_after(reader, [at_us](const eventstore::EnvelopeView& e) { return e.at_us <= at_us; }, 0);
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
