// SearchDocuments: what the search index keeps of each customer to confirm a match — its id,
// its list and its folded search text — by customer number, compactly: an open-addressing
// table of 24-byte slots (linear probing, at most 70 % full, deletion by backward shift) and
// one arena for the texts. A text replaced or erased stays in the arena as garbage until the
// garbage is half the arena, when the live texts are copied into a new one.
// At 1,000,000 customers: about 48 MB of slots and the texts themselves (about 60 bytes each),
// where a node-based map with a string per customer took about 170 MB.
// Not thread-safe: the index's lock guards it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer.h"

namespace ledger::projections {

class SearchDocuments {
 public:
  struct Document {
    domain::CustomerId id = 0;
    domain::CustomerStatus status = domain::CustomerStatus::kActive;
    std::string_view text;  // valid until the next put() or erase()
  };

  // Sets what `number` (> 0) holds.
  void put(domain::CustomerNumber number, domain::CustomerId id, domain::CustomerStatus status, std::string_view text);
  // Changes only the list of the customer holding `number`; false when none does.
  bool set_status(domain::CustomerNumber number, domain::CustomerStatus status);
  void erase(domain::CustomerNumber number);
  // nullopt-like: a Document with id 0 when no customer holds `number`.
  bool find(domain::CustomerNumber number, Document& out) const;

  // Calls `use(number, document)` for every number held, in no particular order.
  template <typename Use>
  void for_each(Use&& use) const {
    for (const auto& slot : slots_) {
      if (slot.number != 0) use(slot.number, document_of(slot));
    }
  }

  std::size_t size() const { return size_; }
  std::size_t text_bytes() const { return arena_.size() - garbage_; }
  std::size_t arena_bytes() const { return arena_.capacity(); }

 private:
  struct Slot {
    domain::CustomerNumber number = 0;  // 0: empty
    domain::CustomerId id = 0;
    std::uint32_t offset = 0;
    std::uint32_t length_and_status = 0;  // length << 1 | deleted
  };

  Document document_of(const Slot& slot) const;
  std::size_t home(domain::CustomerNumber number) const;
  Slot* slot_of(domain::CustomerNumber number);
  const Slot* slot_of(domain::CustomerNumber number) const;
  void grow();
  void compact();
  std::uint32_t store(std::string_view text);

  std::vector<Slot> slots_;
  unsigned shift_ = 64;  // 64 - log2(slots_.size())
  std::size_t size_ = 0;
  std::string arena_;
  std::size_t garbage_ = 0;
};

}  // namespace ledger::projections
