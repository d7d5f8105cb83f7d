// A ledger filled with customers whose every field value carries a unique marker, so that a
// test can tell, byte for byte, whose data is still in a data directory. Used by the erasure
// tests and by the crash child process, so it does not depend on Catch.
//
// Customer i (0-based) has markers "zqm-<f>-<iiiii>-<v>" in name, company, email, address and
// notes, and "+998 <iiiii> <v>" in phone; v is the version: created with v = 0, the first edit
// sets notes, address and phone to v = 1, the second edit sets email and name to v = 2. Old
// versions stay in surviving customers' logs, so all eleven markers of a survivor must remain.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/command_service.h"

namespace ledger::testing {

inline std::string index_text(int i) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%05d", i);
  return buffer;
}
inline std::string marker(char field, int i, int version) {
  return std::string("zqm-") + field + "-" + index_text(i) + "-" + std::to_string(version);
}
inline std::string phone_marker(int i, int version) { return "+998 " + index_text(i) + " " + std::to_string(version); }

inline domain::CustomerFields marked_fields(int i) {
  domain::CustomerFields f;
  f.name = "Cust " + marker('n', i, 0) + " Example";
  f.company = marker('c', i, 0) + " GmbH";
  f.email = marker('e', i, 0) + "@example.org";
  f.phone = phone_marker(i, 0);
  f.address = marker('a', i, 0) + " Main Street 1";
  f.notes = marker('o', i, 0) + " likes tea";
  return f;
}
inline std::vector<domain::FieldChange> first_edit(int i) {
  return {{domain::Field::kNotes, marker('o', i, 1) + " prefers coffee"},
          {domain::Field::kAddress, marker('a', i, 1) + " Side Road 2"},
          {domain::Field::kPhone, phone_marker(i, 1)}};
}
inline std::vector<domain::FieldChange> second_edit(int i) {
  return {{domain::Field::kEmail, marker('e', i, 2) + "@example.net"},
          {domain::Field::kName, "Cust " + marker('n', i, 2) + " Renamed"}};
}
// Every marker customer i's data ever held.
inline std::vector<std::string> markers_of(int i) {
  std::vector<std::string> out;
  for (char f : {'n', 'c', 'e', 'a', 'o'}) out.push_back(marker(f, i, 0));
  out.push_back(phone_marker(i, 0));
  out.push_back(marker('o', i, 1));
  out.push_back(marker('a', i, 1));
  out.push_back(phone_marker(i, 1));
  out.push_back(marker('e', i, 2));
  out.push_back(marker('n', i, 2));
  return out;
}
inline std::string create_request(int i) { return "create-" + index_text(i); }
inline server::RequestContext loader_context(int i) { return {"loader", create_request(i)}; }
// Every field value (and the request key) of customer i that is long enough to be a probe.
inline std::set<std::string> probe_values_of(int i) {
  std::set<std::string> out;
  const auto f = marked_fields(i);
  for (auto field : domain::kAllFields) out.insert(f.get(field));
  for (const auto& c : first_edit(i)) out.insert(c.value);
  for (const auto& c : second_edit(i)) out.insert(c.value);
  out.insert(create_request(i));
  return out;
}

// Submits every command without waiting in between (so the writer groups them), at most
// kMaxOutstanding at a time (the writer's queue is bounded), then waits for all outcomes. Throws
// when they do not all arrive within `timeout`.
inline std::vector<server::Outcome> run_all(server::CommandService& service, std::vector<domain::Command> commands,
                                            std::vector<server::RequestContext> contexts = {},
                                            std::chrono::seconds timeout = std::chrono::seconds(120)) {
  constexpr std::size_t kMaxOutstanding = 50'000;
  std::vector<server::Outcome> outcomes(commands.size());
  std::mutex mutex;
  std::condition_variable done;
  std::size_t answered = 0;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (i >= kMaxOutstanding) {
      std::unique_lock lock(mutex);
      if (!done.wait_for(lock, timeout, [&] { return answered + kMaxOutstanding > i; })) {
        throw std::runtime_error("commands not answered in time");
      }
    }
    auto context = i < contexts.size() ? contexts[i] : server::RequestContext{};
    service.submit(std::move(commands[i]), std::move(context), [&, i](server::Outcome outcome) {
      std::lock_guard lock(mutex);
      outcomes[i] = std::move(outcome);
      ++answered;
      done.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  if (!done.wait_for(lock, timeout, [&] { return answered == outcomes.size(); })) {
    throw std::runtime_error("commands not answered in time");
  }
  return outcomes;
}

inline void require_accepted(const std::vector<server::Outcome>& outcomes, const char* what) {
  for (const auto& o : outcomes) {
    if (!std::holds_alternative<server::Accepted>(o)) throw std::runtime_error(std::string(what) + " not accepted");
  }
}

struct MarkedLedgerPlan {
  int customers = 10'000;
  int purge_every = 100;  // customers i with i % purge_every == 0 are deleted and purged
  // Between the stages, call this (e.g. to flush) — or leave empty to keep all in memtables.
  std::function<void(int stage)> between;
};

// The id of customer i: fill_marked_ledger creates them in order (it checks).
inline std::uint64_t customer_id_of(int i) { return static_cast<std::uint64_t>(i) + 1; }

// Creates, edits twice, deletes. Returns each customer's number (index i -> number).
inline std::vector<domain::CustomerNumber> fill_marked_ledger(server::CommandService& service,
                                                               const MarkedLedgerPlan& plan) {
  std::vector<domain::Command> creates;
  std::vector<server::RequestContext> contexts;
  for (int i = 0; i < plan.customers; ++i) {
    creates.push_back(domain::CreateCustomer{marked_fields(i), {}});
    contexts.push_back(loader_context(i));
  }
  auto created = run_all(service, std::move(creates), std::move(contexts));
  require_accepted(created, "create");
  std::vector<domain::CustomerNumber> numbers;
  for (std::size_t i = 0; i < created.size(); ++i) {
    const auto& accepted = std::get<server::Accepted>(created[i]);
    if (accepted.id != customer_id_of(static_cast<int>(i))) throw std::runtime_error("customers not created in order");
    numbers.push_back(accepted.numbers.at(0));
  }
  if (plan.between) plan.between(1);

  std::vector<domain::Command> edits;
  for (int i = 0; i < plan.customers; ++i) edits.push_back(domain::EditCustomer{numbers[i], first_edit(i), {}});
  require_accepted(run_all(service, std::move(edits)), "first edit");
  if (plan.between) plan.between(2);
  edits.clear();
  for (int i = 0; i < plan.customers; ++i) edits.push_back(domain::EditCustomer{numbers[i], second_edit(i), {}});
  require_accepted(run_all(service, std::move(edits)), "second edit");

  domain::DeleteCustomers deletes;
  for (int i = 0; i < plan.customers; i += plan.purge_every) deletes.numbers.push_back(numbers[i]);
  require_accepted(run_all(service, {deletes}), "delete");
  return numbers;
}

inline bool purged_index(int i, const MarkedLedgerPlan& plan) { return i % plan.purge_every == 0; }

}  // namespace ledger::testing
