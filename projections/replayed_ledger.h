// The customers a replay of the log arrives at: what the fold (projections/replay.h) produces
// and what the projection rows (projections/projection_rows.h) are made from. A plain value;
// not thread-safe while being filled.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "domain/customer.h"

namespace ledger::projections {

// The replayed customers by id. Ids are handed out one after another from 1 and never reused,
// so they index a vector of one pointer each (8 bytes per id ever created, purged ones
// included); iteration yields (id, customer) pairs in ascending id order.
class ReplayedCustomers {
 public:
  using Slots = std::vector<std::unique_ptr<domain::Customer>>;

  class iterator {
   public:
    using value_type = std::pair<domain::CustomerId, const domain::Customer&>;
    iterator(const Slots* slots, std::size_t i) : slots_(slots), i_(i) { skip(); }
    value_type operator*() const { return {static_cast<domain::CustomerId>(i_), *(*slots_)[i_]}; }
    iterator& operator++() {
      ++i_;
      skip();
      return *this;
    }
    bool operator==(const iterator& other) const { return i_ == other.i_; }

   private:
    void skip() {
      while (i_ < slots_->size() && !(*slots_)[i_]) ++i_;
    }
    const Slots* slots_;
    std::size_t i_;
  };

  iterator begin() const { return {&slots_, 0}; }
  iterator end() const { return {&slots_, slots_.size()}; }
  // The first customer whose id is `id` or higher.
  iterator from(domain::CustomerId id) const { return {&slots_, std::min<std::size_t>(id, slots_.size())}; }
  std::size_t size() const { return count_; }
  // Every id is below this.
  domain::CustomerId id_limit() const { return slots_.size(); }

  // The customer with this id; nullptr when there is none.
  domain::Customer* find(domain::CustomerId id);
  // Adds or replaces the customer with this id. Memory grows with the highest id: the caller
  // refuses ids no valid log holds.
  void put(domain::CustomerId id, domain::Customer customer);
  void erase(domain::CustomerId id);

 private:
  Slots slots_;  // slots_[id]; slot 0 is never used
  std::size_t count_ = 0;
};

// Customers as the log says they are now, and the next id.
struct ReplayedLedger {
  ReplayedCustomers customers;
  domain::CustomerId next_id = 1;
  std::uint64_t entries = 0;
};

}  // namespace ledger::projections
