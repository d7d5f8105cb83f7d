#include "projections/replayed_ledger.h"

namespace ledger::projections {

domain::Customer* ReplayedCustomers::find(domain::CustomerId id) {
  return id < slots_.size() ? slots_[id].get() : nullptr;
}

void ReplayedCustomers::put(domain::CustomerId id, domain::Customer customer) {
  if (id >= slots_.size()) slots_.resize(id + 1);
  if (slots_[id]) {
    *slots_[id] = std::move(customer);
  } else {
    slots_[id] = std::make_unique<domain::Customer>(std::move(customer));
    ++count_;
  }
}

void ReplayedCustomers::erase(domain::CustomerId id) {
  if (id < slots_.size() && slots_[id]) {
    slots_[id].reset();
    --count_;
  }
}

}  // namespace ledger::projections
