#include "projections/verify.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <set>
#include <unordered_map>
#include <variant>

#include <openssl/crypto.h>

#include "domain/events.h"
#include "domain/stored_event.h"
#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/log_scan.h"
#include "projections/free_numbers.h"
#include "projections/projection_rows.h"
#include "projections/projector.h"
#include "projections/rebuild.h"
#include "projections/replay.h"

namespace ledger::projections {
namespace {

using eventstore::Family;

constexpr auto kCreatedKind = static_cast<std::uint16_t>(domain::EventKind::kCreated);
constexpr auto kEditedKind = static_cast<std::uint16_t>(domain::EventKind::kEdited);
constexpr auto kDeletedKind = static_cast<std::uint16_t>(domain::EventKind::kDeleted);
constexpr auto kUndeletedKind = static_cast<std::uint16_t>(domain::EventKind::kUndeleted);
constexpr auto kPurgedKind = static_cast<std::uint16_t>(domain::EventKind::kPurged);

std::string describe_key(Family family, std::string_view key) {
  std::string what = std::string(eventstore::family_name(family)) + " row ";
  if (key.size() == 8) return what + std::to_string(eventstore::get_u64(key));
  if (key.size() == 16) {
    return what + "customer " + std::to_string(eventstore::get_u64(key)) + " seq " + std::to_string(eventstore::get_u64(key, 8));
  }
  if (key.size() == 10) {
    return what + "bucket " + std::to_string(eventstore::get_u16(key)) + " id " +
           std::to_string(eventstore::get_u64(key, 2));
  }
  return what + eventstore::to_hex(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
}

// Walks the stored rows of a family alongside the rows it should hold (which arrive in
// ascending order) and keeps the first difference.
class FamilyComparison {
 public:
  FamilyComparison(const eventstore::Reader& reader, Family family)
      : family_(family), keys_(reader.database().key_store()), it_(reader.scan(family)) {
    it_->SeekToFirst();
  }

  void expect(std::string_view key, std::string_view value) {
    if (!difference_.empty()) return;
    if (!it_->Valid()) {
      check_status();
      difference_ = describe_key(family_, key) + " is missing";
      return;
    }
    const std::string_view stored(it_->key().data(), it_->key().size());
    if (stored < key) {
      difference_ = describe_key(family_, stored) + " should not exist";
    } else if (stored > key) {
      difference_ = describe_key(family_, key) + " is missing";
    } else if (!same_value(key, value)) {
      difference_ = describe_key(family_, key) + " differs from the log";
    } else {
      it_->Next();
    }
  }

  // The first difference; empty when the family holds exactly the expected rows.
  std::string finish() {
    if (!difference_.empty()) return difference_;
    if (it_->Valid()) return describe_key(family_, std::string_view(it_->key().data(), it_->key().size())) + " should not exist";
    check_status();
    return {};
  }

 private:
  void check_status() {
    eventstore::Database::check(it_->status(), std::string("reading ") + eventstore::family_name(family_));
  }

  bool same_value(std::string_view key, std::string_view value) {
    try {
      return stored_value(key) == value;
    } catch (const eventstore::CorruptionError& error) {
      difference_ = error.what();
      return true;
    }
  }

  // The row's value, a sealed state opened (the expected rows are plaintext: sealing uses a
  // fresh nonce each time, so two sealings of one state differ).
  std::string_view stored_value(std::string_view key) {
    const std::string_view value(it_->value().data(), it_->value().size());
    if (family_ != Family::kCustomers || key.size() != 8) return value;
    const auto id = eventstore::get_u64(key);
    const eventstore::SealPlace place{eventstore::SealedIn::kCustomers, id, 0};
    eventstore::require_sealed(place, value);
    auto keys = keys_.find(id);
    if (!keys) throw eventstore::CorruptionError(eventstore::describe(place) + " is sealed, but the customer has no keys");
    eventstore::open_sealed(keys->data, place, value, opened_);
    OPENSSL_cleanse(&*keys, sizeof(*keys));
    return opened_;
  }

  Family family_;
  // The rows come in ascending id order: their keys through a cursor, a step each, where a
  // Get per row searched the key store from the top.
  eventstore::KeyCursor keys_;
  std::string opened_;
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string difference_;
};


// What the log says of one customer so far: from the envelopes, which stubs keep and the chain
// protects, so it holds for purged customers too.
struct CustomerTrace {
  std::uint64_t number = 0;     // 0 until an entry names it
  std::uint64_t purged_by = 0;  // the purge that ended it; 0 while it exists
  std::uint32_t entries = 0;
  bool created = false;
};

// One unredacted entry written with a request key, for the `requests` check.
struct RequestedEntry {
  eventstore::Digest key{};  // its `requests` key
  std::uint64_t key_start = 0;  // the key's first eight bytes, big-endian: most comparisons end there
  std::uint64_t seq = 0;
  std::int64_t at_us = 0;
};

// The envelope facts of every entry that the `requests` check looks up by seq.
struct EntryFacts {
  std::uint16_t kind = 0;
  bool stub = false;
  std::uint32_t actor = 0;  // index into the actors seen
  std::uint64_t customer = 0;
};

std::string_view view_of(const eventstore::Digest& digest) { return eventstore::as_bytes(digest); }

// The customers' HMAC keys through one iterator over the key store. Customers are created, and
// so first need their key, in id order: each lookup is usually the row after the last one,
// where a RocksDB Get per customer cost a tenth of verify.
class KeyCursor {
 public:
  explicit KeyCursor(const eventstore::Reader& reader) : store_(reader.database().key_store()) {}

  // Throws CorruptionError when a key is malformed, StorageError when reading fails.
  std::optional<eventstore::StreamKey> find(std::uint64_t customer) {
    if (auto keys = store_.find(customer)) return keys->hmac;
    return std::nullopt;
  }

 private:
  eventstore::KeyCursor store_;
};

// An entry's digest against its customer's key, as DigestCheck finds it.
enum class PayloadDigest : std::uint8_t { kUnchecked, kMatches, kDiffers, kNoKey, kUnreadableKey };

// Works out an unredacted customer entry's PayloadDigest (HMAC(its customer's key, payload)
// against its digest), for LogCheck, on the caller's thread of the LogScan: the scanning thread
// reads and decodes every entry and looks up every data key, and the two share the opening of
// the payloads, whose plaintext the HMAC covers; with the digests on the scanning thread too,
// it did most of the pass's work while the caller's thread waited (docs/performance.md,
// "Verify's digests").
class DigestCheck {
 public:
  explicit DigestCheck(const eventstore::Reader& reader) : keys_(reader) {}

  // kUnchecked for an entry without a customer's payload.
  PayloadDigest check(const eventstore::EnvelopeView& e, eventstore::Sha256& hash) {
    // An id beyond the entries so far is refused by the checks; it must not size the table.
    if (e.customer == 0 || e.redacted() || e.customer > e.seq) return PayloadDigest::kUnchecked;
    if (e.customer >= keys_by_customer_.size()) keys_by_customer_.resize(e.customer + 1);
    auto& key = keys_by_customer_[e.customer];
    if (key.state == Key::kUnread) {
      try {
        auto found = keys_.find(e.customer);
        key.state = found ? Key::kPresent : Key::kAbsent;
        if (found) key.bytes = *found;
      } catch (const eventstore::CorruptionError&) {
        return PayloadDigest::kUnreadableKey;  // thrown where the checks come to it
      }
    }
    if (key.state == Key::kAbsent) return PayloadDigest::kNoKey;
    return hash.hmac(key.bytes, e.payload) == e.digest ? PayloadDigest::kMatches : PayloadDigest::kDiffers;
  }

 private:
  struct Key {
    enum State : std::uint8_t { kUnread, kPresent, kAbsent } state = kUnread;
    eventstore::StreamKey bytes{};
  };

  KeyCursor keys_;
  std::vector<Key> keys_by_customer_;
};

// Checks the log entry by entry and folds each entry that passes into `ledger`, so that the
// log is read once.
class LogCheck {
 public:
  LogCheck(const eventstore::Reader& reader, const VerifyOptions& options, VerifyReport& report, ReplayedLedger& ledger)
      : reader_(reader), options_(options), report_(report), ledger_(ledger), digests_(reader) {}

  // Checks one entry; false and problem() set at the first that fails.
  bool entry(const eventstore::EnvelopeView& e) {
    if (e.seq != expected_seq_) {
      bad_seq_ = expected_seq_;
      problem_ = "entry " + std::to_string(expected_seq_) + " is missing (the next entry is " + std::to_string(e.seq) + ")";
      return false;
    }
    ++expected_seq_;
    ++report_.entries;
    if (hash_.chain_link(chain_, e.seq, e.at_us, e.kind, e.customer, e.actor, e.digest, e.number) != e.chain) {
      return bad(e, "the chain does not link to the previous entry");
    }
    chain_ = e.chain;
    facts_.push_back({e.kind, e.redacted(), actor_index(e.actor), e.customer});
    if (e.customer == 0) return purge(e);
    return customer_entry(e);
  }

  const std::string& problem() const { return problem_; }
  std::uint64_t bad_seq() const { return bad_seq_; }
  std::uint64_t next_seq() const { return expected_seq_; }
  const eventstore::Digest& chain() const { return chain_; }
  // The fold's first problem, after which it folded nothing more; empty when none. Reported
  // after the log's own checks, as when the fold was a pass of its own after them.
  const std::string& fold_problem() const { return fold_problem_; }

  // The stub evidence against every receipt: counts and Merkle roots.
  std::string receipts_against_stubs(std::uint64_t& bad_seq);
  // `streams`, read through `stored`, against the unredacted entries.
  std::string streams(FamilyComparison& stored) const;
  // `requests`, read through `rows`, against the entries; counts the rows into `rows_checked`.
  std::string requests(rocksdb::Iterator& rows, std::uint64_t& rows_checked, std::uint64_t& bad_seq);

 private:
  bool bad(const eventstore::EnvelopeView& e, std::string why) {
    bad_seq_ = e.seq;
    problem_ = "entry " + std::to_string(e.seq) + ": " + std::move(why);
    return false;
  }

  std::uint32_t actor_index(std::string_view actor) {
    // Runs of entries by one actor are the rule: the last one is compared before the table.
    if (!actors_.empty() && actor == last_actor_->first) return last_actor_->second;
    last_actor_ = actors_.try_emplace(std::string(actor), static_cast<std::uint32_t>(actors_.size())).first;
    return last_actor_->second;
  }

  void fold(const eventstore::EnvelopeView& e, const domain::StoredEvent* event = nullptr) {
    if (!fold_problem_.empty()) return;
    try {
      if (event) {
        fold_entry(ledger_, e, *event);
      } else {
        fold_entry(ledger_, e);
      }
    } catch (const eventstore::CorruptionError& error) {
      fold_problem_ = error.what();
    }
  }

  void remember_request(const eventstore::EnvelopeView& e) {
    if (e.request.empty()) return;
    const auto key = eventstore::request_row_key(hash_, e.actor, e.request);
    requested_.push_back({key, eventstore::get_u64(view_of(key)), e.seq, e.at_us});
  }

  bool purge(const eventstore::EnvelopeView& e) {
    if (e.kind != kPurgedKind) return bad(e, "it belongs to no customer but is not a purge");
    if (e.redacted()) return bad(e, "a purge receipt is never redacted, but this one is a stub");
    if (e.number != 0) return bad(e, "a purge belongs to no customer but carries a customer number");
    if (hash_.of(e.payload) != e.digest) return bad(e, "the purge receipt does not match its digest");
    auto event = domain::decode_event(e.payload);
    if (!event || !std::holds_alternative<domain::CustomersPurged>(*event)) return bad(e, "the purge receipt cannot be read");
    auto& receipt = std::get<domain::CustomersPurged>(*event);
    if (receipt.numbers.size() != receipt.ids.size() || receipt.entries_redacted.size() != receipt.ids.size()) {
      return bad(e, "the purge receipt's ids, numbers and entry counts are not one per customer");
    }
    // Every customer deleted at this moment, and no other: the kinds before it say which.
    const std::set<domain::CustomerId> named(receipt.ids.begin(), receipt.ids.end());
    if (named.size() != receipt.ids.size()) return bad(e, "the purge receipt names a customer twice");
    for (auto id : named) {
      if (!deleted_.contains(id)) {
        return bad(e, "the purge receipt names customer id " + std::to_string(id) + ", which was not deleted at that moment");
      }
    }
    for (auto id : deleted_) {
      if (!named.contains(id)) {
        return bad(e, "customer id " + std::to_string(id) + " was deleted at that moment but the purge receipt leaves it out");
      }
    }
    for (std::size_t i = 0; i < receipt.ids.size(); ++i) {
      auto& trace = traces_[receipt.ids[i]];
      if (trace.number == 0) {
        ++report_.numbers_unchecked;
      } else if (receipt.numbers[i] != trace.number) {
        return bad(e, "the purge receipt frees number " + std::to_string(receipt.numbers[i]) + " for customer id " +
                          std::to_string(receipt.ids[i]) + ", but the log gives that customer number " +
                          std::to_string(trace.number));
      }
      if (receipt.entries_redacted[i] != trace.entries) {
        return bad(e, "the purge receipt counts " + std::to_string(receipt.entries_redacted[i]) +
                          " entries of customer id " + std::to_string(receipt.ids[i]) + ", but the log holds " +
                          std::to_string(trace.entries));
      }
      trace.purged_by = e.seq;
    }
    deleted_.clear();
    receipts_.emplace(e.seq, std::move(receipt));
    remember_request(e);
    fold(e);
    return true;
  }

  bool customer_entry(const eventstore::EnvelopeView& e) {
    if (e.kind == kPurgedKind) return bad(e, "a purge receipt names a customer of its own");
    // Ids are handed out from 1, one per create: the n-th entry names an id of at most n.
    if (e.customer > report_.entries) return bad(e, "it names customer id " + std::to_string(e.customer) + ", more than the entries up to it could create");
    if (e.customer >= traces_.size()) traces_.resize(e.customer + 1);
    auto& trace = traces_[e.customer];
    auto id = [&e] { return std::to_string(e.customer); };
    if (trace.purged_by != 0) return bad(e, "customer id " + id() + " was purged by entry " + std::to_string(trace.purged_by) + "; nothing of it may follow");
    if (e.kind == kCreatedKind) {
      if (trace.created) return bad(e, "customer id " + id() + " is created a second time");
      trace.created = true;
    } else if (!trace.created) {
      return bad(e, "an entry of customer id " + id() + " comes before its creation");
    }
    if (e.kind == kDeletedKind) {
      deleted_.insert(e.customer);
    } else if (e.kind == kUndeletedKind) {
      deleted_.erase(e.customer);
    } else if (e.kind != kCreatedKind && e.kind != kEditedKind) {
      return bad(e, "its kind " + std::to_string(e.kind) + " is not a customer event");
    }
    ++trace.entries;

    // A customer keeps its number for life; envelopes carry it from a given point of the log on.
    if (e.number == 0 && numbered_) return bad(e, "it carries no customer number, but entries before it do");
    if (e.number != 0) {
      numbered_ = true;
      if (trace.number != 0 && trace.number != e.number) {
        return bad(e, "it carries number " + std::to_string(e.number) + ", but customer id " + id() + "'s entries carry " +
                          std::to_string(trace.number));
      }
      trace.number = e.number;
    }

    if (e.redacted()) {
      ++report_.stubs;
      if (!e.payload.empty()) return bad(e, "redacted but still holds a payload");
      if (e.redacted_by <= e.seq) return bad(e, "it names entry " + std::to_string(e.redacted_by) + " as its purge, which comes before it");
      stubs_[e.redacted_by][e.customer].push_back(e.digest);
      fold(e);
      return true;
    }
    if (options_.digests) {
      switch (digests_.check(e, hash_)) {
        case PayloadDigest::kUnreadableKey:
          throw eventstore::CorruptionError("the key of stream " + std::to_string(e.customer) + " is corrupt");
        case PayloadDigest::kNoKey: return bad(e, "its customer's key is gone but the entry was not redacted");
        case PayloadDigest::kDiffers: return bad(e, "the payload does not match its digest");
        case PayloadDigest::kMatches:
        case PayloadDigest::kUnchecked: break;
      }
    }
    // The payload is read in place, checked as decode_event would check it, then folded.
    std::string unreadable;
    try {
      return domain::read_stored_event(e.payload, [&](const domain::StoredEvent& event) {
        if (auto error = event.decode_error()) {
          unreadable = std::move(*error);
          return false;
        }
        return payload(e, trace, event);
      });
    } catch (const domain::MessageError& error) {
      unreadable = std::string("event: ") + error.what();
    }
    return bad(e, "the payload cannot be read: " + unreadable);
  }

  // An unredacted customer entry's payload, readable, against its envelope and customer.
  bool payload(const eventstore::EnvelopeView& e, CustomerTrace& trace, const domain::StoredEvent& event) {
    if (static_cast<std::uint16_t>(event.kind()) != e.kind || event.customer() != e.customer) {
      return bad(e, "the envelope's kind or customer differs from its payload");
    }
    const auto number = event.number();
    if (e.number != 0 && e.number != number) return bad(e, "the envelope's number differs from its payload");
    if (trace.number != 0 && trace.number != number) {
      return bad(e, "its payload names number " + std::to_string(number) + ", but customer id " + std::to_string(e.customer) +
                        "'s entries carry " + std::to_string(trace.number));
    }
    trace.number = number;
    streams_.emplace_back(e.customer, e.seq);
    remember_request(e);
    fold(e, &event);
    return true;
  }

  // Whether a purge may have removed the `requests` row of the command that wrote the entries
  // `first_seq` to `last_seq`. Only a delete or an undelete writes entries of several customers;
  // its entries are consecutive, so one that also touched a customer purged since has a stub of
  // the same actor and kind right beside the entries that remain.
  bool row_removed_by_purge(std::uint64_t first_seq, std::uint64_t last_seq) const {
    const auto& first = facts_[first_seq - 1];
    if (first.kind != kDeletedKind && first.kind != kUndeletedKind) return false;
    auto beside = [&](std::uint64_t seq) {
      if (seq == 0 || seq > facts_.size()) return false;
      const auto& f = facts_[seq - 1];
      return f.stub && f.actor == first.actor && f.kind == first.kind;
    };
    return beside(first_seq - 1) || beside(last_seq + 1);
  }

  const eventstore::Reader& reader_;
  const VerifyOptions& options_;
  VerifyReport& report_;
  ReplayedLedger& ledger_;
  std::string fold_problem_;
  eventstore::Sha256 hash_;
  DigestCheck digests_;
  std::uint64_t expected_seq_ = 1;
  eventstore::Digest chain_{};
  std::string problem_;
  std::uint64_t bad_seq_ = 0;

  std::vector<CustomerTrace> traces_;  // by customer id
  std::set<domain::CustomerId> deleted_;  // deleted now, not yet purged
  bool numbered_ = false;
  // Stubs by the purge that made them, then by customer: the receipts' evidence.
  std::map<std::uint64_t, std::map<domain::CustomerId, std::vector<eventstore::Digest>>> stubs_;
  std::map<std::uint64_t, domain::CustomersPurged> receipts_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> streams_;  // (customer, seq), in seq order
  std::vector<RequestedEntry> requested_;  // in seq order until requests() sorts them by key
  std::unordered_map<std::string, std::uint32_t> actors_;
  std::unordered_map<std::string, std::uint32_t>::const_iterator last_actor_;
  std::vector<EntryFacts> facts_;  // by seq - 1
};

std::string LogCheck::receipts_against_stubs(std::uint64_t& bad_seq) {
  for (const auto& [purge_seq, by_customer] : stubs_) {
    if (!receipts_.contains(purge_seq)) {
      bad_seq = purge_seq;
      return "stubs name entry " + std::to_string(purge_seq) + " as their purge, which is not a purge";
    }
  }
  static const std::map<domain::CustomerId, std::vector<eventstore::Digest>> kNone;
  for (const auto& [purge_seq, receipt] : receipts_) {
    ++report_.purges;
    bad_seq = purge_seq;
    auto found_stubs = stubs_.find(purge_seq);
    const auto& evidence = found_stubs == stubs_.end() ? kNone : found_stubs->second;
    std::map<domain::CustomerId, std::uint32_t> claimed;
    for (std::size_t i = 0; i < receipt.ids.size(); ++i) claimed[receipt.ids[i]] = receipt.entries_redacted[i];
    std::vector<eventstore::Digest> leaves;
    for (const auto& [id, count] : claimed) {
      auto found = evidence.find(id);
      const std::size_t have = found == evidence.end() ? 0 : found->second.size();
      if (have != count) {
        return "purge " + std::to_string(purge_seq) + " claims " + std::to_string(count) + " entries of customer id " +
               std::to_string(id) + " but " + std::to_string(have) + " stubs exist";
      }
      if (found != evidence.end()) leaves.insert(leaves.end(), found->second.begin(), found->second.end());
    }
    for (const auto& [id, digests] : evidence) {
      if (!claimed.contains(id)) {
        return "customer id " + std::to_string(id) + " has stubs of purge " + std::to_string(purge_seq) +
               " that its receipt does not name";
      }
    }
    if (eventstore::merkle_root(leaves) != receipt.merkle_root) {
      return "purge " + std::to_string(purge_seq) + ": the receipt's Merkle root does not match its stubs";
    }
  }
  bad_seq = 0;
  return {};
}

std::string LogCheck::streams(FamilyComparison& stored) const {
  // The rows in key order, (customer, seq): a counting sort by customer, which keeps each
  // customer's seqs in the ascending order they were seen in. Every customer here has a trace.
  std::vector<std::size_t> begin(traces_.size() + 1, 0);
  for (const auto& [customer, seq] : streams_) ++begin[customer + 1];
  for (std::size_t i = 1; i < begin.size(); ++i) begin[i] += begin[i - 1];
  std::vector<std::uint64_t> seqs(streams_.size());
  auto next = begin;
  for (const auto& [customer, seq] : streams_) seqs[next[customer]++] = seq;
  char key[16];
  for (std::size_t customer = 0; customer + 1 < begin.size(); ++customer) {
    eventstore::store_u64(key, customer);
    for (auto i = begin[customer]; i < begin[customer + 1]; ++i) {
      eventstore::store_u64(key + 8, seqs[i]);
      stored.expect({key, sizeof key}, {});
    }
  }
  return stored.finish();
}

std::string LogCheck::requests(rocksdb::Iterator& rows, std::uint64_t& rows_checked, std::uint64_t& bad_seq) {
  auto row_name = [](std::string_view key) {
    return "requests row " + eventstore::to_hex(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
  };
  // By key, each key's entries in seq order: the rows arrive in key order, so each row finds
  // its entries by walking forward.
  std::sort(requested_.begin(), requested_.end(), [](const RequestedEntry& a, const RequestedEntry& b) {
    if (a.key_start != b.key_start) return a.key_start < b.key_start;
    const int order = std::memcmp(a.key.data(), b.key.data(), a.key.size());
    return order < 0 || (order == 0 && a.seq < b.seq);
  });
  auto same_key_end = [&](std::size_t begin) {
    auto end = begin;
    while (end < requested_.size() && requested_[end].key == requested_[begin].key) ++end;
    return end;
  };
  std::vector<bool> row_seen(requested_.size());  // at the first entry of each key
  std::size_t next = 0;
  std::vector<std::uint64_t> numbers;
  auto* it = &rows;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    ++rows_checked;
    auto remembered = options_.read_remembered(std::string_view(it->value().data(), it->value().size()));
    if (!remembered) return row_name(key) + " is not a remembered outcome";
    while (next < requested_.size() && view_of(requested_[next].key) < key) ++next;
    const auto begin = next;
    const auto end = next < requested_.size() && view_of(requested_[next].key) == key ? same_key_end(next) : next;
    if (begin != end) row_seen[begin] = true;
    if (remembered->seqs.empty()) {
      if (begin != end) {
        bad_seq = requested_[begin].seq;
        return row_name(key) + " answers that nothing changed, but its request key wrote entry " + std::to_string(bad_seq);
      }
      continue;
    }
    numbers.clear();
    for (auto seq : remembered->seqs) {
      const bool carries = std::any_of(requested_.begin() + static_cast<std::ptrdiff_t>(begin),
                                       requested_.begin() + static_cast<std::ptrdiff_t>(end),
                                       [&](const RequestedEntry& r) { return r.seq == seq; });
      if (!carries) {
        bad_seq = seq;
        return row_name(key) + " names entry " + std::to_string(seq) + ", which was not written with its request key";
      }
      const auto& facts = facts_[seq - 1];
      if (facts.kind == kPurgedKind) {
        const auto& receipt = receipts_.at(seq);
        numbers.insert(numbers.end(), receipt.numbers.begin(), receipt.numbers.end());
      } else {
        numbers.push_back(traces_[facts.customer].number);
        const bool names_customer = facts.kind == kCreatedKind || facts.kind == kEditedKind;
        if (names_customer && remembered->customer != facts.customer) {
          bad_seq = seq;
          return row_name(key) + " answers customer id " + std::to_string(remembered->customer) + " for entry " +
                 std::to_string(seq) + " of customer id " + std::to_string(facts.customer);
        }
      }
    }
    auto answered = remembered->numbers;
    std::sort(answered.begin(), answered.end());
    std::sort(numbers.begin(), numbers.end());
    if (answered != numbers) {
      bad_seq = remembered->seqs.front();
      return row_name(key) + " answers numbers that differ from those of the entries it names";
    }
  }
  eventstore::Database::check(it->status(), "reading requests");

  // A recent entry written with a request key keeps its row until the retention ends, unless a
  // purge removed the row with the other entries of its command.
  const auto retention_us = static_cast<std::int64_t>(reader_.database().options().request_retention_seconds) * 1'000'000;
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (std::size_t begin = 0, end = 0; begin < requested_.size(); begin = end) {
    end = same_key_end(begin);
    if (row_seen[begin]) continue;
    // The entries of the last command written with this key: one consecutive run.
    const auto& last = requested_[end - 1];
    auto first_seq = last.seq;
    for (auto i = end - 1; i > begin && requested_[i - 1].seq + 1 == first_seq; --i) first_seq = requested_[i - 1].seq;
    if (last.at_us + retention_us <= now_us || row_removed_by_purge(first_seq, last.seq)) continue;
    bad_seq = first_seq;
    return "the requests row of entry " + std::to_string(bad_seq) + " (" + row_name(view_of(last.key)) + ") is missing";
  }
  bad_seq = 0;
  return {};
}

}  // namespace

VerifyReport verify_ledger(const eventstore::Reader& reader, const VerifyOptions& options) {
  VerifyReport report;
  report.digests_checked = options.digests;
  report.requests_checked = static_cast<bool>(options.read_remembered);
  auto fail = [&report](std::uint64_t seq, std::string problem) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.problem = std::move(problem);
    return report;
  };

  ReplayedLedger ledger;
  LogCheck log(reader, options, report, ledger);
  try {
    eventstore::LogScan scan(reader, 1);
    while (const auto* entry = scan.next()) {
      if (!log.entry(*entry)) break;
    }
  } catch (const eventstore::CorruptionError& error) {
    return fail(log.next_seq(), error.what());
  }
  if (!log.problem().empty()) return fail(log.bad_seq(), log.problem());
  const auto head = eventstore::load_head(reader);
  if (head.next_seq != log.next_seq() || head.chain != log.chain()) {
    return fail(log.next_seq(), "the log head in meta does not match the last entry (entries may have been removed)");
  }
  std::uint64_t bad_seq = 0;
  if (auto problem = log.receipts_against_stubs(bad_seq); !problem.empty()) return fail(bad_seq, problem);
  if (!log.fold_problem().empty()) return fail(0, log.fold_problem());
  report.customers = ledger.customers.size();
  if (rebuild_interrupted(reader)) {
    return fail(0, "a projection rebuild was cut off before it finished; ledgerd or `ledger-admin rebuild` completes it");
  }
  // The stored rows against what the pass over the log derived: `requests` on a second thread
  // while this one compares the projections and `streams`. Each reads through iterators made
  // here; problems are reported in the order the checks had when they ran one after another.
  std::vector<std::unique_ptr<FamilyComparison>> projections;
  for (auto family : kProjectionFamilies) projections.push_back(std::make_unique<FamilyComparison>(reader, family));
  FamilyComparison streams(reader, Family::kStreams);
  std::unique_ptr<rocksdb::Iterator> requests;
  if (options.read_remembered) requests = reader.scan(Family::kRequests);
  struct RequestsCheck {
    std::string problem;
    std::uint64_t bad_seq = 0;
    std::uint64_t rows = 0;
  };
  auto requests_check = std::async(std::launch::async, [&] {
    RequestsCheck out;
    if (requests) out.problem = log.requests(*requests, out.rows, out.bad_seq);
    return out;
  });
  std::string projection_difference;
  for (std::size_t i = 0; i < kProjectionFamilies.size() && projection_difference.empty(); ++i) {
    auto& comparison = *projections[i];
    projection_rows(
        ledger, kProjectionFamilies[i], [&](std::string_view key, std::string_view value) { comparison.expect(key, value); });
    projection_difference = comparison.finish();
  }
  const bool next_id_differs = projection_difference.empty() && load_next_customer_id(reader) != ledger.next_id;
  const auto streams_difference = projection_difference.empty() && !next_id_differs ? log.streams(streams) : std::string();
  // Freed while the requests check may still run: nothing after this reads the replay.
  ledger = ReplayedLedger();
  const auto requests_checked = requests_check.get();
  if (!projection_difference.empty()) return fail(0, "projection differs from the log: " + projection_difference);
  if (next_id_differs) return fail(0, "the next customer id in meta differs from the log");
  if (!streams_difference.empty()) return fail(0, "stream index differs from the log: " + streams_difference);
  report.requests = requests_checked.rows;
  if (!requests_checked.problem.empty()) return fail(requests_checked.bad_seq, requests_checked.problem);
  return report;
}

}  // namespace ledger::projections

