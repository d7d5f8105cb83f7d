// Replay of the log: rebuilding every projection from it, and verifying the whole ledger
// (chain, digests, purge receipts, stored projections against a fresh replay).
// Both scan the full log; they hold the replayed customers in memory (about the size of the
// customers column family) and produce the projection rows family by family
// (projections/projection_rows.h), never all at once. Not thread-safe with a running writer:
// callers stop writes first, or verify a consistent view.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/customer.h"
#include "eventstore/database.h"
#include "eventstore/reader.h"

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
  std::size_t size() const { return count_; }

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

// Folds the log (seq <= until, all when 0) into customer states. Stubs are skipped; a purge
// removes its customers. Throws CorruptionError naming the seq of an unreadable entry.
ReplayedLedger replay_log(const eventstore::Reader& reader, std::uint64_t until = 0);

// Replaces every projection with one built from the log. The new rows are written as SST
// files and ingested, not put through the memtable; the old rows are removed just before. A
// marker in meta covers the gap between the two: until the rebuild finishes, reopening the
// directory for writing runs it again (finish_interrupted_rebuild) and verify fails.
// Returns the number of log entries replayed. Throws StorageError on failure.
std::uint64_t rebuild_projections(eventstore::Database& database);

// True while a rebuild has removed the old projection rows and not finished loading new ones:
// the projections must not be read or written until it is run again.
bool rebuild_interrupted(const eventstore::Reader& reader);

// For whoever opens a data directory to write (the command service): runs the rebuild again
// when one was cut off and returns true; otherwise removes files a rebuild cut off before
// changing anything left behind, and returns false. Throws StorageError on failure.
bool finish_interrupted_rebuild(eventstore::Database& database);

// What a `requests` row remembers of the command that wrote it, as far as the log can confirm
// it: the entries it wrote and what the answer said of them.
struct RememberedWrite {
  std::vector<std::uint64_t> seqs;     // the entries the command wrote; empty: it changed nothing
  std::uint64_t customer = 0;          // create and edit: the customer's id; otherwise 0
  std::vector<std::uint64_t> numbers;  // the numbers in the answer (a purge: the numbers freed)
};

struct VerifyOptions {
  // Check every unredacted entry's digest against its customer's key. Off for a copy of a log
  // received from a server: the keys never leave it.
  bool digests = true;
  // Reads a `requests` row's value (its format belongs to the server: server/outcome.h);
  // nullopt when the bytes are not a remembered outcome. Unset: `requests` is not checked.
  std::function<std::optional<RememberedWrite>(std::string_view)> read_remembered;
};

struct VerifyReport {
  bool ok = true;
  std::uint64_t entries = 0;     // log entries checked
  std::uint64_t stubs = 0;       // of which redacted
  std::uint64_t purges = 0;      // purge receipts checked
  std::uint64_t customers = 0;   // customers compared against the replay
  std::uint64_t requests = 0;    // `requests` rows checked
  // Purged customers whose number freed could not be checked: every entry of theirs was
  // written before entries carried the customer's number.
  std::uint64_t numbers_unchecked = 0;
  std::uint64_t first_bad_seq = 0;  // 0 when the problem is not tied to one entry
  std::string problem;           // empty when ok
  bool digests_checked = true;   // false when VerifyOptions::digests was off
  bool requests_checked = false;  // true when VerifyOptions::read_remembered was given
};

// Checks (docs/storage.md, "Verify"): seqs dense from 1 and the head in meta; every chain link;
// every unredacted digest against its customer's key (unless options.digests is off; a purge's
// against SHA-256 always); each customer's entries in a possible order (created first, nothing
// after its purge) under one number; every field of every purge receipt against what the log
// says of its customers at that moment (exactly the customers deleted then, their numbers,
// their entries, the Merkle root of their stubs); every projection row and every `streams` row
// against a fresh replay; every `requests` row against the entries it names, and that recent
// entries written with a request key still have theirs. Stops at the first problem.
VerifyReport verify_ledger(const eventstore::Reader& reader, const VerifyOptions& options = {});

}  // namespace ledger::projections
