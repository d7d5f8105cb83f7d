// InMemoryLedger: a LedgerView over a std::map, for driving decide() without a database.
// It also folds decided events back in the way the store does (evolve each customer, remove the
// purged ones), so a test can run a sequence of commands. Not thread-safe; tests only.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "domain/decide.h"

namespace ledger::domain::testing {

class InMemoryLedger : public LedgerView {
 public:
  std::optional<Customer> customer_by_number(CustomerNumber number) const override {
    auto it = by_number_.find(number);
    if (it == by_number_.end()) return std::nullopt;
    return it->second;
  }

  CustomerNumber lowest_free_number() const override {
    CustomerNumber number = kFirstCustomerNumber;
    // The map is ordered by number, so the first gap is the lowest free number.
    for (const auto& [held, customer] : by_number_) {
      if (held != number) break;
      ++number;
    }
    return number;
  }

  CustomerId next_customer_id() const override { return next_id_; }

  std::vector<Customer> deleted_customers() const override {
    std::vector<Customer> deleted;
    for (const auto& [number, customer] : by_number_) {
      if (customer.status == CustomerStatus::kDeleted) deleted.push_back(customer);
    }
    return deleted;
  }

  // Folds events in as the store would after appending them.
  void apply(const std::vector<Event>& events) {
    for (const Event& event : events) apply(event);
  }

  void apply(const Event& event) {
    if (const auto* purged = std::get_if<CustomersPurged>(&event)) {
      for (CustomerNumber number : purged->numbers) by_number_.erase(number);
      return;
    }
    if (const auto* created = std::get_if<CustomerCreated>(&event)) {
      by_number_[created->number] = evolve(std::nullopt, event);
      next_id_ = std::max(next_id_, created->id + 1);
      return;
    }
    const CustomerNumber number = std::visit(
        [](const auto& e) -> CustomerNumber {
          if constexpr (requires { e.number; }) {
            return e.number;
          } else {
            return 0;
          }
        },
        event);
    auto it = by_number_.find(number);
    if (it == by_number_.end()) throw std::logic_error("apply: no customer holds the number");
    it->second = evolve(it->second, event);
  }

  // Puts a customer in place directly, as if created (and deleted) earlier.
  Customer& put(CustomerNumber number, std::string name,
                CustomerStatus status = CustomerStatus::kActive) {
    Customer customer;
    customer.id = next_id_++;
    customer.number = number;
    customer.status = status;
    customer.revision = status == CustomerStatus::kActive ? 1 : 2;
    customer.fields.name = std::move(name);
    return by_number_[number] = customer;
  }

  std::size_t size() const { return by_number_.size(); }

 private:
  std::map<CustomerNumber, Customer> by_number_;
  CustomerId next_id_ = 1;
};

}  // namespace ledger::domain::testing
