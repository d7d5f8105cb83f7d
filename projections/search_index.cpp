#include "projections/search_index.h"

#include <algorithm>
#include <array>
#include <future>
#include <iterator>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <roaring/roaring.hh>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "eventstore/envelope.h"
#include "projections/customer_codec.h"
#include "projections/search_documents.h"

namespace ledger::projections {
namespace {

constexpr std::uint64_t kLargestInBitmaps = std::numeric_limits<std::uint32_t>::max();
// Separates the folded fields in a customer's search text; folding never produces it from a
// field that does not contain it.
constexpr char kSeparator = '\0';
// Customers the load reads before it adds their trigrams to the bitmaps, each bitmap at once.
constexpr std::size_t kLoadChunk = 16'384;

bool ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string digits_only(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

bool phone_like(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '+' || c == '(' || c == ')' || c == '-' || c == '.' || c == ' ';
  });
}

// name, email and phone folded, separated: the segments a query is compared with.
std::string search_text(const domain::CustomerFields& fields) {
  std::string text = fold_for_search(fields.name);
  text.push_back(kSeparator);
  text += fold_for_search(fields.email);
  text.push_back(kSeparator);
  text += fold_for_search(fields.phone);
  return text;
}

// The phone's segment: the last one.
std::string_view phone_of(std::string_view text) { return text.substr(text.rfind(kSeparator) + 1); }

// A query as the index compares it: folded, and for a phone-like query also as digits.
struct Query {
  std::string folded;
  std::optional<std::string> digits;

  explicit Query(std::string_view typed) : folded(fold_for_search(typed)) {
    if (phone_like(typed)) digits = digits_only(typed);
  }

  // Both forms long enough to have trigrams; shorter queries check every customer.
  bool indexed() const { return folded.size() >= 3 && (!digits || digits->size() >= 3); }

  bool matches(std::string_view text) const {
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto end = std::min(text.find(kSeparator, start), text.size());
      if (text.substr(start, end - start).find(folded) != std::string_view::npos) return true;
      start = end + 1;
    }
    return digits && !digits->empty() && digits_only(phone_of(text)).find(*digits) != std::string::npos;
  }
};

std::uint32_t trigram_at(std::string_view s, std::size_t i) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + 2]));
}

// The distinct trigrams of each separator-free piece of `text`, ascending; with `phone`, also
// those of the last piece's digits.
std::vector<std::uint32_t> trigrams(std::string_view text, bool phone) {
  std::vector<std::uint32_t> out;
  auto add = [&out](std::string_view piece) {
    for (std::size_t i = 0; i + 3 <= piece.size(); ++i) out.push_back(trigram_at(piece, i));
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(kSeparator, start), text.size());
    add(text.substr(start, end - start));
    start = end + 1;
  }
  if (phone) add(digits_only(phone_of(text)));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::string fold_for_search(std::string_view text) {
  if (ascii(text)) {
    // NFKC_Casefold leaves ASCII as it is apart from case (tested against ICU).
    std::string out(text);
    for (auto& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* fold = icu::Normalizer2::getNFKCCasefoldInstance(status);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU's case folding is unavailable: ") + u_errorName(status));
  const auto source = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<std::int32_t>(text.size())));
  const auto folded = fold->normalize(source, status);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("folding search text failed: ") + u_errorName(status));
  std::string out;
  folded.toUTF8String(out);
  return out;
}

bool matches(const domain::CustomerFields& fields, std::string_view query) {
  return Query(query).matches(search_text(fields));
}

struct SearchIndex::Tables {
  SearchDocuments docs;
  std::unordered_map<std::uint32_t, Roaring> postings;  // trigram -> numbers
  Roaring active, deleted;                              // numbers up to kLargestInBitmaps
  std::set<domain::CustomerNumber> large;               // numbers above it

  Roaring& listed(domain::CustomerStatus status) {
    return status == domain::CustomerStatus::kActive ? active : deleted;
  }
  const Roaring& listed(domain::CustomerStatus status) const {
    return status == domain::CustomerStatus::kActive ? active : deleted;
  }

  // Puts the customer's document; returns its trigrams, or nothing for a number kept beside
  // the bitmaps.
  std::vector<std::uint32_t> put_document(const domain::Customer& c) {
    const auto text = search_text(c.fields);
    docs.put(c.number, c.id, c.status, text);
    if (c.number > kLargestInBitmaps) {
      large.insert(c.number);
      return {};
    }
    listed(c.status).add(static_cast<std::uint32_t>(c.number));
    return trigrams(text, true);
  }

  // Postings not yet added and not yet removed, as trigram << 32 | number: a group's creates
  // and edits (and a load's chunk) share most trigrams, and one call per trigram costs a fraction
  // of one per trigram and customer. post() removes before it adds, so a customer whose postings
  // were removed and added again in one group (an edit) ends with the added ones; a customer
  // removed after it was added in the same group (created, then edited) has its held-back
  // additions dropped instead, the numbers in `unposted_numbers` saying which.
  std::vector<std::uint64_t> unposted;
  std::vector<std::uint64_t> unremoved;
  std::unordered_set<std::uint32_t> unposted_numbers;

  // Orders trigram << 32 | number pairs by trigram, keeping the numbers of each trigram in the
  // order they were added (a group's creates take ascending numbers, and a bitmap adds
  // ascending numbers fastest): a stable radix sort on the trigram's three bytes, three passes
  // over the pairs. A sort of the whole pairs (Boost's spreadsort, falling back to pdqsort for
  // small bins) took about a fifth of the publisher's time. The scratch space lives for one
  // sort: a load's chunks make it megabytes, which the index need not keep.
  static void sort_by_trigram(std::vector<std::uint64_t>& pairs) {
    std::vector<std::uint64_t> sort_space(pairs.size());
    for (unsigned shift = 32; shift < 56; shift += 8) {
      std::array<std::size_t, 257> starts{};
      for (auto pair : pairs) ++starts[((pair >> shift) & 0xff) + 1];
      for (std::size_t b = 1; b < starts.size(); ++b) starts[b] += starts[b - 1];
      for (auto pair : pairs) sort_space[starts[(pair >> shift) & 0xff]++] = pair;
      pairs.swap(sort_space);
    }
  }

  void insert(const domain::Customer& c) {
    const auto n = static_cast<std::uint32_t>(c.number);
    const auto before = unposted.size();
    for (auto t : put_document(c)) unposted.push_back(std::uint64_t{t} << 32 | n);
    if (unposted.size() != before) unposted_numbers.insert(n);
  }

  // Applies the postings held back by insert() and remove(): at the end of apply and after each
  // chunk of the load.
  void post() {
    std::vector<std::uint32_t> numbers;
    auto by_trigram = [&numbers](std::vector<std::uint64_t>& pairs, auto&& each) {
      sort_by_trigram(pairs);
      for (std::size_t i = 0; i < pairs.size();) {
        const auto t = static_cast<std::uint32_t>(pairs[i] >> 32);
        numbers.clear();
        for (; i < pairs.size() && pairs[i] >> 32 == t; ++i) numbers.push_back(static_cast<std::uint32_t>(pairs[i]));
        each(t);
      }
      pairs.clear();
    };
    by_trigram(unremoved, [&](std::uint32_t t) {
      auto posting = postings.find(t);
      if (posting == postings.end()) return;
      roaring_bitmap_remove_many(&posting->second.roaring, numbers.size(), numbers.data());
      if (posting->second.isEmpty()) postings.erase(posting);
    });
    by_trigram(unposted, [&](std::uint32_t t) { postings[t].addMany(numbers.size(), numbers.data()); });
    unposted_numbers.clear();
  }

  // The load: customers in chunks, each trigram's numbers added to its bitmap at once.
  void insert_all(const std::vector<domain::Customer>& customers) {
    for (const auto& c : customers) insert(c);
    post();
  }

  // Takes in what `other` holds; no number may be in both.
  void merge(Tables&& other) {
    other.docs.for_each([this](domain::CustomerNumber number, const SearchDocuments::Document& doc) {
      docs.put(number, doc.id, doc.status, doc.text);
    });
    for (auto& [t, posting] : other.postings) {
      auto [mine, fresh] = postings.try_emplace(t, std::move(posting));
      if (!fresh) mine->second |= posting;
    }
    active |= other.active;
    deleted |= other.deleted;
    large.merge(other.large);
  }

  void remove(domain::CustomerNumber number) {
    SearchDocuments::Document doc;
    if (!docs.find(number, doc)) return;
    if (number > kLargestInBitmaps) {
      large.erase(number);
    } else {
      const auto n = static_cast<std::uint32_t>(number);
      listed(doc.status).remove(n);
      if (unposted_numbers.erase(n) != 0) {
        // Added since the last post(): those postings are dropped before they reach a bitmap.
        std::erase_if(unposted, [n](std::uint64_t pair) { return static_cast<std::uint32_t>(pair) == n; });
      }
      // An edit since the last post() may have held back only its new trigrams (reword()), so
      // every trigram of doc.text is removed; removing one a bitmap lacks does nothing.
      for (auto t : trigrams(doc.text, true)) unremoved.push_back(std::uint64_t{t} << 32 | n);
    }
    docs.erase(number);
  }

  // An edit of the customer the index holds as `doc` under the same number: only the trigrams
  // its search text lost are removed and only those it gained are added, none at all when the
  // edit left name, email and phone alone. Only for a number with no postings held back since
  // the last post() (unposted_numbers), so that what post() removes was posted before.
  void reword(const SearchDocuments::Document& doc, const domain::Customer& after) {
    const auto n = static_cast<std::uint32_t>(after.number);
    if (doc.status != after.status) {
      listed(doc.status).remove(n);
      listed(after.status).add(n);
    }
    auto text = search_text(after.fields);
    if (text == doc.text) {
      docs.set_status(after.number, after.status);
      return;
    }
    const auto had = trigrams(doc.text, true);
    const auto has = trigrams(text, true);
    std::vector<std::uint32_t> changed;
    std::set_difference(had.begin(), had.end(), has.begin(), has.end(), std::back_inserter(changed));
    for (auto t : changed) unremoved.push_back(std::uint64_t{t} << 32 | n);
    changed.clear();
    std::set_difference(has.begin(), has.end(), had.begin(), had.end(), std::back_inserter(changed));
    for (auto t : changed) unposted.push_back(std::uint64_t{t} << 32 | n);
    if (!changed.empty()) unposted_numbers.insert(n);
    docs.put(after.number, after.id, after.status, text);
  }

  void apply(const Change& change) {
    const auto& [before, after] = change;
    if (before && after && before->number == after->number) {
      SearchDocuments::Document doc;
      if (docs.find(after->number, doc) && doc.id == after->id) {
        if (before->fields == after->fields) {
          // A delete or undelete: only the lists change.
          if (after->number <= kLargestInBitmaps) {
            const auto n = static_cast<std::uint32_t>(after->number);
            listed(doc.status).remove(n);
            listed(after->status).add(n);
          }
          docs.set_status(after->number, after->status);
          return;
        }
        if (after->number <= kLargestInBitmaps && !unposted_numbers.contains(static_cast<std::uint32_t>(after->number))) {
          reword(doc, *after);
          return;
        }
      }
    }
    if (before) remove(before->number);
    if (after) insert(*after);
  }

  // The numbers holding every trigram of `text` (at least 3 bytes). A text whose pieces are
  // all shorter than a trigram holds a separator, which no field holds: nobody.
  Roaring holding(std::string_view text) const {
    std::vector<const Roaring*> lists;
    for (auto t : trigrams(text, false)) {
      auto found = postings.find(t);
      if (found == postings.end()) return {};
      lists.push_back(&found->second);
    }
    if (lists.empty()) return {};
    std::sort(lists.begin(), lists.end(),
              [](const Roaring* a, const Roaring* b) { return a->cardinality() < b->cardinality(); });
    Roaring out = *lists.front();
    for (std::size_t i = 1; i < lists.size() && !out.isEmpty(); ++i) out &= *lists[i];
    return out;
  }

  SearchMatches find(domain::CustomerStatus status, domain::CustomerNumber after, std::uint32_t limit,
                     std::string_view typed) const {
    const Query query(typed);
    SearchMatches out;
    // Adds a confirmed candidate; false once the page is full.
    auto take = [&](domain::CustomerNumber number) {
      SearchDocuments::Document doc;
      if (!docs.find(number, doc) || doc.status != status || !query.matches(doc.text)) return true;
      if (out.matches.size() == limit) {
        out.more = true;
        return false;
      }
      out.matches.push_back({number, doc.id});
      return true;
    };

    if (after < kLargestInBitmaps) {
      std::optional<Roaring> candidates;
      if (query.indexed()) {
        candidates = holding(query.folded);
        // Digits-only, the query may have other trigrams (a phone typed with separators).
        if (query.digits && *query.digits != query.folded) *candidates |= holding(*query.digits);
        *candidates &= listed(status);
      }
      const Roaring& walk = candidates ? *candidates : listed(status);
      roaring_uint32_iterator_t it;
      roaring_init_iterator(&walk.roaring, &it);
      bool more = roaring_move_uint32_iterator_equalorlarger(&it, static_cast<std::uint32_t>(after + 1));
      for (; more; more = roaring_advance_uint32_iterator(&it)) {
        if (!take(it.current_value)) return out;
      }
    }
    for (auto number = large.upper_bound(after); number != large.end(); ++number) {
      if (!take(*number)) return out;
    }
    return out;
  }
};

namespace {

void read_customers(eventstore::Database& database, const rocksdb::ReadOptions& options, domain::CustomerId from,
                    domain::CustomerId to, SearchIndex::Tables& tables) {
  std::vector<domain::Customer> chunk;
  std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(options, database.family(eventstore::Family::kCustomers)));
  eventstore::KeyCursor keys(database.key_store());
  for (it->Seek(eventstore::u64_key(from)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) throw eventstore::CorruptionError("a customers row key is corrupt");
    const auto id = eventstore::get_u64(std::string_view(it->key().data(), 8));
    if (id >= to) break;
    // A state whose keys are gone belongs to a customer purged after the snapshot was taken: the
    // purge's change, applied over the load, removes it anyway.
    auto customer = read_customer(keys.find(id), std::string_view(it->value().data(), it->value().size()), id);
    if (!customer) continue;
    chunk.push_back(std::move(*customer));
    if (chunk.size() == kLoadChunk) {
      tables.insert_all(chunk);
      chunk.clear();
    }
  }
  eventstore::Database::check(it->status(), "loading the search index");
  tables.insert_all(chunk);
}

}  // namespace

SearchIndex::SearchIndex(Hooks hooks) : hooks_(std::move(hooks)) {}

SearchIndex::~SearchIndex() = default;

void SearchIndex::apply(const std::vector<Change>& changes) {
  if (changes.empty()) return;
  eventstore::WriterMutexLock lock(mutex_);
  if (!tables_) {
    pending_.insert(pending_.end(), changes.begin(), changes.end());
    return;
  }
  for (const auto& change : changes) tables_->apply(change);
  tables_->post();
}

namespace {

// Reads the customers with ids in [from, to) into `tables`, in chunks.
void read_customers(eventstore::Database& database, const rocksdb::ReadOptions& options, domain::CustomerId from,
                    domain::CustomerId to, SearchIndex::Tables& tables);

}  // namespace

void SearchIndex::load(eventstore::Database& database) {
  try {
    if (hooks_.before_load) hooks_.before_load();
    // Both halves read one snapshot, so every number is in exactly one of them.
    rocksdb::ManagedSnapshot snapshot(&database.db());
    auto options = eventstore::scan_options();
    options.snapshot = snapshot.snapshot();
    if (hooks_.after_snapshot) hooks_.after_snapshot();
    domain::CustomerId last = 0;
    {
      std::unique_ptr<rocksdb::Iterator> it(database.db().NewIterator(options, database.family(eventstore::Family::kCustomers)));
      it->SeekToLast();
      eventstore::Database::check(it->status(), "loading the search index");
      if (it->Valid() && it->key().size() == 8) last = eventstore::get_u64(std::string_view(it->key().data(), 8));
    }
    // Folding and trigrams cost more than reading: two threads, split by customer id.
    const domain::CustomerId middle = last / 2 + 1;
    auto upper = std::async(std::launch::async, [&] {
      auto half = std::make_unique<Tables>();
      read_customers(database, options, middle, std::numeric_limits<domain::CustomerId>::max(), *half);
      return half;
    });
    auto tables = std::make_unique<Tables>();
    read_customers(database, options, 0, middle, *tables);
    tables->merge(std::move(*upper.get()));
    // Runs where they are smaller, and no spare capacity from growing while loading.
    for (auto& [trigram, posting] : tables->postings) {
      posting.runOptimize();
      posting.shrinkToFit();
    }
    tables->active.runOptimize();
    tables->deleted.runOptimize();

    // The changes committed since construction are replayed over what the iterator saw: each
    // sets what one number holds, so those it already saw are set again to the same.
    eventstore::WriterMutexLock lock(mutex_);
    for (const auto& change : pending_) tables->apply(change);
    tables->post();
    pending_.clear();
    pending_.shrink_to_fit();
    tables_ = std::move(tables);
    eventstore::MutexLock loaded(load_mutex_);
    loaded_ = true;
  } catch (const std::exception& error) {
    eventstore::MutexLock loaded(load_mutex_);
    load_error_ = error.what();
    loaded_cv_.notify_all();
    throw;
  }
  loaded_cv_.notify_all();
}

bool SearchIndex::loaded() const {
  eventstore::MutexLock lock(load_mutex_);
  return loaded_;
}

SearchMatches SearchIndex::find(domain::CustomerStatus status, domain::CustomerNumber after, std::uint32_t limit,
                                std::string_view query, std::chrono::milliseconds wait) const {
  {
    eventstore::MutexLock lock(load_mutex_);
    if (!loaded_ && load_error_.empty()) {
      if (hooks_.on_wait) hooks_.on_wait();
      const auto deadline = std::chrono::steady_clock::now() + wait;
      while (!loaded_ && load_error_.empty()) {
        if (loaded_cv_.wait_until(lock, deadline) == std::cv_status::timeout) break;
      }
    }
    if (!load_error_.empty()) throw SearchNotReady("the search index could not be loaded: " + load_error_);
    if (!loaded_) throw SearchNotReady("the search index is still loading; retry shortly");
  }
  eventstore::ReaderMutexLock lock(mutex_);
  return tables_->find(status, after, limit, query);
}

SearchIndex::Stats SearchIndex::stats() const {
  eventstore::ReaderMutexLock lock(mutex_);
  Stats stats;
  if (!tables_) return stats;
  stats.customers = tables_->docs.size();
  stats.text_bytes = tables_->docs.text_bytes();
  stats.trigrams = tables_->postings.size();
  stats.bitmap_bytes = tables_->active.getSizeInBytes(false) + tables_->deleted.getSizeInBytes(false);
  for (const auto& [trigram, posting] : tables_->postings) {
    stats.postings += posting.cardinality();
    stats.bitmap_bytes += posting.getSizeInBytes(false);
  }
  return stats;
}

}  // namespace ledger::projections
