#include "projections/verify.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <variant>

#include "domain/events.h"
#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "projections/free_numbers.h"
#include "projections/projection_rows.h"
#include "projections/projector.h"
#include "projections/queries.h"
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
  FamilyComparison(const eventstore::Reader& reader, Family family) : family_(family), it_(reader.scan(family)) {
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
    } else if (std::string_view(it_->value().data(), it_->value().size()) != value) {
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

  Family family_;
  std::unique_ptr<rocksdb::Iterator> it_;
  std::string difference_;
};


// What the log says of one customer so far: from the envelopes, which stubs keep and the chain
// protects, so it holds for purged customers too.
struct CustomerTrace {
  std::uint64_t number = 0;     // 0 until an entry names it
  std::uint32_t entries = 0;
  bool created = false;
  std::uint64_t purged_by = 0;  // the purge that ended it; 0 while it exists
};

// One unredacted entry written with a request key, for the `requests` check.
struct RequestedEntry {
  std::uint64_t seq = 0;
  std::int64_t at_us = 0;
};

// The unredacted entries written with one request key, and whether `requests` holds its row.
struct Requested {
  std::vector<RequestedEntry> entries;  // in seq order
  bool row_seen = false;
};

// The envelope facts of every entry that the `requests` check looks up by seq.
struct EntryFacts {
  std::uint16_t kind = 0;
  bool stub = false;
  std::uint32_t actor = 0;  // index into the actors seen
  std::uint64_t customer = 0;
};

class LogCheck {
 public:
  LogCheck(const eventstore::Reader& reader, const VerifyOptions& options, VerifyReport& report)
      : reader_(reader), options_(options), report_(report) {}

  // Checks one entry; false and problem() set at the first that fails.
  bool entry(const eventstore::Envelope& e) {
    if (e.seq != expected_seq_) {
      bad_seq_ = expected_seq_;
      problem_ = "entry " + std::to_string(expected_seq_) + " is missing (the next entry is " + std::to_string(e.seq) + ")";
      return false;
    }
    ++expected_seq_;
    ++report_.entries;
    if (eventstore::chain_link(chain_, e) != e.chain) return bad(e, "the chain does not link to the previous entry");
    chain_ = e.chain;
    facts_.push_back({e.kind, e.redacted(), actor_index(e.actor), e.customer});
    if (e.customer == 0) return purge(e);
    return customer_entry(e);
  }

  const std::string& problem() const { return problem_; }
  std::uint64_t bad_seq() const { return bad_seq_; }
  std::uint64_t next_seq() const { return expected_seq_; }
  const eventstore::Digest& chain() const { return chain_; }

  // The stub evidence against every receipt: counts and Merkle roots.
  std::string receipts_against_stubs(std::uint64_t& bad_seq);
  // `streams` against the unredacted entries.
  std::string streams() const;
  // `requests` against the entries; counts the rows into the report.
  std::string requests(std::uint64_t& bad_seq);

 private:
  bool bad(const eventstore::Envelope& e, std::string why) {
    bad_seq_ = e.seq;
    problem_ = "entry " + std::to_string(e.seq) + ": " + std::move(why);
    return false;
  }

  std::uint32_t actor_index(const std::string& actor) {
    return actors_.try_emplace(actor, static_cast<std::uint32_t>(actors_.size())).first->second;
  }

  bool purge(const eventstore::Envelope& e) {
    if (e.kind != kPurgedKind) return bad(e, "it belongs to no customer but is not a purge");
    if (e.redacted()) return bad(e, "a purge receipt is never redacted, but this one is a stub");
    if (e.number != 0) return bad(e, "a purge belongs to no customer but carries a customer number");
    if (eventstore::sha256(e.payload) != e.digest) return bad(e, "the purge receipt does not match its digest");
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
    if (!e.request.empty()) requested_[eventstore::request_row_key(e.actor, e.request)].entries.push_back({e.seq, e.at_us});
    return true;
  }

  bool customer_entry(const eventstore::Envelope& e) {
    if (e.kind == kPurgedKind) return bad(e, "a purge receipt names a customer of its own");
    // Ids are handed out from 1, one per create: the n-th entry names an id of at most n.
    if (e.customer > report_.entries) return bad(e, "it names customer id " + std::to_string(e.customer) + ", more than the entries up to it could create");
    if (e.customer >= traces_.size()) traces_.resize(e.customer + 1);
    auto& trace = traces_[e.customer];
    const auto id = std::to_string(e.customer);
    if (trace.purged_by != 0) return bad(e, "customer id " + id + " was purged by entry " + std::to_string(trace.purged_by) + "; nothing of it may follow");
    if (e.kind == kCreatedKind) {
      if (trace.created) return bad(e, "customer id " + id + " is created a second time");
      trace.created = true;
    } else if (!trace.created) {
      return bad(e, "an entry of customer id " + id + " comes before its creation");
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
        return bad(e, "it carries number " + std::to_string(e.number) + ", but customer id " + id + "'s entries carry " +
                          std::to_string(trace.number));
      }
      trace.number = e.number;
    }

    if (e.redacted()) {
      ++report_.stubs;
      if (!e.payload.empty()) return bad(e, "redacted but still holds a payload");
      if (e.redacted_by <= e.seq) return bad(e, "it names entry " + std::to_string(e.redacted_by) + " as its purge, which comes before it");
      stubs_[e.redacted_by][e.customer].push_back(e.digest);
      return true;
    }
    if (options_.digests) {
      auto found = keys_.find(e.customer);
      if (found == keys_.end()) found = keys_.emplace(e.customer, eventstore::stream_key(reader_, e.customer)).first;
      if (!found->second) return bad(e, "its customer's key is gone but the entry was not redacted");
      if (eventstore::hmac_sha256(*found->second, e.payload) != e.digest) return bad(e, "the payload does not match its digest");
    }
    auto event = domain::decode_event(e.payload);
    if (!event) return bad(e, "the payload cannot be read: " + event.error());
    if (static_cast<std::uint16_t>(domain::kind_of(*event)) != e.kind || domain::customer_of(*event) != e.customer) {
      return bad(e, "the envelope's kind or customer differs from its payload");
    }
    const auto number = domain::number_of(*event);
    if (e.number != 0 && e.number != number) return bad(e, "the envelope's number differs from its payload");
    if (trace.number != 0 && trace.number != number) {
      return bad(e, "its payload names number " + std::to_string(number) + ", but customer id " + id + "'s entries carry " +
                        std::to_string(trace.number));
    }
    trace.number = number;
    streams_.emplace_back(e.customer, e.seq);
    if (!e.request.empty()) requested_[eventstore::request_row_key(e.actor, e.request)].entries.push_back({e.seq, e.at_us});
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
  std::uint64_t expected_seq_ = 1;
  eventstore::Digest chain_{};
  std::string problem_;
  std::uint64_t bad_seq_ = 0;

  std::vector<CustomerTrace> traces_;  // by customer id
  std::set<domain::CustomerId> deleted_;  // deleted now, not yet purged
  bool numbered_ = false;
  std::map<domain::CustomerId, std::optional<eventstore::StreamKey>> keys_;
  // Stubs by the purge that made them, then by customer: the receipts' evidence.
  std::map<std::uint64_t, std::map<domain::CustomerId, std::vector<eventstore::Digest>>> stubs_;
  std::map<std::uint64_t, domain::CustomersPurged> receipts_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> streams_;  // (customer, seq), in seq order
  std::unordered_map<std::string, Requested> requested_;  // by `requests` key
  std::unordered_map<std::string, std::uint32_t> actors_;
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

std::string LogCheck::streams() const {
  auto expected = streams_;
  std::sort(expected.begin(), expected.end());
  FamilyComparison comparison(reader_, Family::kStreams);
  for (const auto& [customer, seq] : expected) comparison.expect(eventstore::u64_pair_key(customer, seq), {});
  return comparison.finish();
}

std::string LogCheck::requests(std::uint64_t& bad_seq) {
  auto row_name = [](std::string_view key) {
    return "requests row " + eventstore::to_hex(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
  };
  auto it = reader_.scan(Family::kRequests);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key(it->key().data(), it->key().size());
    ++report_.requests;
    auto remembered = options_.read_remembered(std::string_view(it->value().data(), it->value().size()));
    if (!remembered) return row_name(key) + " is not a remembered outcome";
    auto found = requested_.find(key);
    if (found != requested_.end()) found->second.row_seen = true;
    if (remembered->seqs.empty()) {
      if (found != requested_.end()) {
        bad_seq = found->second.entries.front().seq;
        return row_name(key) + " answers that nothing changed, but its request key wrote entry " + std::to_string(bad_seq);
      }
      continue;
    }
    std::vector<std::uint64_t> numbers;
    for (auto seq : remembered->seqs) {
      const bool carries = found != requested_.end() &&
                           std::any_of(found->second.entries.begin(), found->second.entries.end(),
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
  for (const auto& [key, requested] : requested_) {
    if (requested.row_seen) continue;
    // The entries of the last command written with this key: one consecutive run.
    const auto& entries = requested.entries;
    const auto& last = entries.back();
    auto first_seq = last.seq;
    for (auto r = entries.rbegin() + 1; r != entries.rend() && r->seq + 1 == first_seq; ++r) first_seq = r->seq;
    if (last.at_us + retention_us <= now_us || row_removed_by_purge(first_seq, last.seq)) continue;
    bad_seq = first_seq;
    return "the requests row of entry " + std::to_string(bad_seq) + " (" + row_name(key) + ") is missing";
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

  LogCheck log(reader, options, report);
  try {
    eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) { return log.entry(e); });
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

  ReplayedLedger ledger;
  try {
    ledger = replay_log(reader);
  } catch (const eventstore::CorruptionError& error) {
    return fail(0, error.what());
  }
  report.customers = ledger.customers.size();
  if (rebuild_interrupted(reader)) {
    return fail(0, "a projection rebuild was cut off before it finished; ledgerd or `ledger-admin rebuild` completes it");
  }
  // Written before the free-number rows were keyed by their last number, and not opened by
  // ledgerd since: compare them as first -> last.
  RowOptions expected;
  expected.free_rows_by_last = free_number_rows_by_last(reader);
  for (auto family : kProjectionFamilies) {
    FamilyComparison comparison(reader, family);
    projection_rows(
        ledger, family, [&](std::string_view key, std::string_view value) { comparison.expect(key, value); },
        expected);
    if (auto difference = comparison.finish(); !difference.empty()) {
      return fail(0, "projection differs from the log: " + difference);
    }
  }
  if (load_next_customer_id(reader) != ledger.next_id) {
    return fail(0, "the next customer id in meta differs from the log");
  }
  if (auto difference = log.streams(); !difference.empty()) return fail(0, "stream index differs from the log: " + difference);
  if (options.read_remembered) {
    if (auto problem = log.requests(bad_seq); !problem.empty()) return fail(bad_seq, problem);
  }
  return report;
}

}  // namespace ledger::projections

