// SearchIndex: finds customers by a fragment of name, email or phone, in memory. Nothing of it
// is on disk: the writer updates it after each durable batch, and a new process loads it from
// the `customers` family in the background (docs/storage.md, "Search").
//
// Text is folded with Unicode's NFKC_Casefold (ICU), so "STRASSE" finds "Straße" and "σοφία"
// finds "ΣΟΦΊΑ". Every byte trigram of the folded name, email, phone and phone digits maps to
// a Roaring bitmap of customer numbers; a query intersects its trigrams' bitmaps with the
// bitmap of the list asked for, then confirms candidates in number order and stops at the
// page's end. Numbers above 2^32 − 1 (only given explicitly) are kept beside the bitmaps and
// checked one by one.
//
// Thread-safe: one writer applies changes while any number of readers search.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer.h"
#include "eventstore/reader.h"
#include "eventstore/thread_annotations.h"

namespace ledger::projections {

// Search text as the index compares it: Unicode NFKC_Casefold, ASCII lowercased directly.
// Invalid UTF-8 sequences become U+FFFD. Pure.
std::string fold_for_search(std::string_view text);

// True when the customer's name, email or phone contains the query after folding both (and,
// for a phone-like query, when the phone's digits contain the query's digits). Pure.
bool matches(const domain::CustomerFields& fields, std::string_view query);

// A search asked for while the index is still loading, after waiting as long as allowed.
class SearchNotReady : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SearchMatch {
  domain::CustomerNumber number = 0;
  domain::CustomerId id = 0;
};

struct SearchMatches {
  std::vector<SearchMatch> matches;  // ascending by number
  bool more = false;                 // further matches follow the last one
};

class SearchIndex {
 public:
  // One customer's change, as the projector sees it: nullopt before is a create, nullopt
  // after a purge.
  struct Change {
    std::optional<domain::Customer> before;
    std::optional<domain::Customer> after;
  };

  struct Hooks {
    std::function<void()> before_load;  // on the loading thread, before it reads
    std::function<void()> after_snapshot;  // on the loading thread, once it holds its snapshot
    std::function<void()> on_wait;      // when a search starts waiting for the load
  };

  explicit SearchIndex(Hooks hooks = {});
  ~SearchIndex();
  SearchIndex(const SearchIndex&) = delete;
  SearchIndex& operator=(const SearchIndex&) = delete;

  // The writer, after a batch is durable, with its changes in commit order. Before the load
  // has finished they are kept and applied over what it read.
  void apply(const std::vector<Change>& changes) EXCLUDES(mutex_);

  // Reads every customer of `database` (the `customers` family, one snapshot, on two threads)
  // and then serves searches. Call once; apply() calls are recorded from construction on.
  // Throws what reading throws; the index then reports that error to searches.
  void load(eventstore::Database& database) EXCLUDES(mutex_, load_mutex_);

  // Customers of `status` with numbers above `after` whose fields match `query` (matches()),
  // ascending, at most `limit`. Waits up to `wait` for the load; throws SearchNotReady after.
  SearchMatches find(domain::CustomerStatus status, domain::CustomerNumber after, std::uint32_t limit,
                     std::string_view query, std::chrono::milliseconds wait) const EXCLUDES(mutex_, load_mutex_);

  bool loaded() const EXCLUDES(load_mutex_);

  struct Tables;  // the index itself (search_index.cpp)

  struct Stats {
    std::size_t customers = 0;
    std::size_t trigrams = 0;      // distinct trigrams with a bitmap
    std::size_t postings = 0;      // (trigram, customer) pairs
    std::size_t bitmap_bytes = 0;  // the bitmaps' own size (CRoaring's count)
    std::size_t text_bytes = 0;    // folded text kept for confirming matches
  };
  // All 0 before the load.
  Stats stats() const EXCLUDES(mutex_);

 private:
  const Hooks hooks_;
  // Taken before load_mutex_ when both are held.
  mutable eventstore::SharedMutex mutex_;
  mutable eventstore::Mutex load_mutex_;
  mutable std::condition_variable_any loaded_cv_;
  // Set while mutex_ is held too, as tables_ is: a search that sees it finds the tables.
  bool loaded_ GUARDED_BY(load_mutex_) = false;
  std::string load_error_ GUARDED_BY(load_mutex_);
  std::vector<Change> pending_ GUARDED_BY(mutex_);  // applied before the load finished
  std::unique_ptr<Tables> tables_ GUARDED_BY(mutex_);
};

}  // namespace ledger::projections
