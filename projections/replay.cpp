#include "projections/replay.h"

#include <algorithm>
#include <set>
#include <variant>

#include <rocksdb/write_batch.h>

#include "domain/decide.h"
#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "projections/customer_codec.h"
#include "projections/free_numbers.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "projections/search_index.h"

namespace ledger::projections {
namespace {

using eventstore::Family;

constexpr auto kPurgedKind = static_cast<std::uint16_t>(domain::EventKind::kPurged);

// Every row each projection family should hold, from replayed customers.
struct ExpectedRows {
  std::map<std::string, std::string> customers, active, deleted, numbers_free, search;
};

ExpectedRows expected_rows(const ReplayedLedger& ledger) {
  ExpectedRows rows;
  std::vector<domain::CustomerNumber> held;
  for (const auto& [id, c] : ledger.customers) {
    const auto id_key = eventstore::u64_key(id);
    rows.customers.emplace(id_key, encode_customer(c));
    auto& view = c.status == domain::CustomerStatus::kActive ? rows.active : rows.deleted;
    view.emplace(eventstore::u64_key(c.number), id_key);
    held.push_back(c.number);
    for (auto& row : search_rows(id, c.fields)) rows.search.emplace(std::move(row), std::string());
  }
  std::sort(held.begin(), held.end());
  for (const auto& interval : complement(held)) {
    rows.numbers_free.insert(free_interval_row(interval));
  }
  return rows;
}

std::string describe_key(Family family, std::string_view key) {
  std::string what = std::string(eventstore::family_name(family)) + " row ";
  if (key.size() == 8) return what + std::to_string(eventstore::get_u64(key));
  if (key.size() == 10) {
    return what + "bucket " + std::to_string(eventstore::get_u16(key)) + " id " +
           std::to_string(eventstore::get_u64(key, 2));
  }
  return what + eventstore::to_hex(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
}

// The first difference between a family and the rows it should hold; empty when equal.
std::string compare_family(const eventstore::Reader& reader, Family family, const std::map<std::string, std::string>& expected) {
  auto it = reader.iterate(family);
  auto want = expected.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++want) {
    const std::string_view key(it->key().data(), it->key().size());
    const std::string_view value(it->value().data(), it->value().size());
    if (want == expected.end() || key < want->first) return describe_key(family, key) + " should not exist";
    if (key > want->first) return describe_key(family, want->first) + " is missing";
    if (value != want->second) return describe_key(family, key) + " differs from the log";
  }
  eventstore::Database::check(it->status(), std::string("reading ") + eventstore::family_name(family));
  if (want != expected.end()) return describe_key(family, want->first) + " is missing";
  return {};
}

}  // namespace

ReplayedLedger replay_log(const eventstore::Reader& reader, std::uint64_t until) {
  ReplayedLedger ledger;
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (until != 0 && e.seq > until) return false;
    ++ledger.entries;
    ledger.next_id = std::max(ledger.next_id, e.customer + 1);
    if (e.redacted()) return true;
    auto event = decode_payload(e);
    if (auto* purged = std::get_if<domain::CustomersPurged>(&event)) {
      for (auto id : purged->ids) ledger.customers.erase(id);
      return true;
    }
    const auto id = domain::customer_of(event);
    auto found = ledger.customers.find(id);
    std::optional<domain::Customer> before;
    if (found != ledger.customers.end()) before = found->second;
    ledger.customers[id] = domain::evolve(before, event);
    return true;
  });
  return ledger;
}

std::uint64_t rebuild_projections(eventstore::Database& database) {
  eventstore::DatabaseReader reader(database);
  const auto ledger = replay_log(reader);
  const auto rows = expected_rows(ledger);
  rocksdb::WriteBatch batch;
  const std::string lowest(8, '\0'), highest(16, '\xff');
  auto refill = [&](Family family, const std::map<std::string, std::string>& wanted) {
    eventstore::Database::check(batch.DeleteRange(database.family(family), lowest, highest), "adding to batch");
    for (const auto& [key, value] : wanted) {
      eventstore::Database::check(batch.Put(database.family(family), key, value), "adding to batch");
    }
  };
  refill(Family::kCustomers, rows.customers);
  refill(Family::kActive, rows.active);
  refill(Family::kDeleted, rows.deleted);
  refill(Family::kNumbersFree, rows.numbers_free);
  refill(Family::kSearch, rows.search);
  store_next_customer_id(database, batch, ledger.next_id);
  record_free_number_layout(database, batch);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  eventstore::Database::check(database.db().Write(sync, &batch), "writing rebuilt projections");
  return ledger.entries;
}

VerifyReport verify_ledger(const eventstore::Reader& reader, const VerifyOptions& options) {
  VerifyReport report;
  report.digests_checked = options.digests;
  auto fail = [&report](std::uint64_t seq, std::string problem) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.problem = std::move(problem);
    return report;
  };

  // Stubs by the purge that made them, then by customer: the receipts' evidence.
  std::map<std::uint64_t, std::map<domain::CustomerId, std::vector<eventstore::Digest>>> stubs;
  std::map<std::uint64_t, domain::CustomersPurged> receipts;
  std::map<domain::CustomerId, std::optional<eventstore::StreamKey>> keys;
  eventstore::Digest chain{};
  std::uint64_t expected_seq = 1;
  std::string problem;
  std::uint64_t bad_seq = 0;

  try {
    eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
      auto bad = [&](std::string why) {
        bad_seq = e.seq;
        problem = "entry " + std::to_string(e.seq) + ": " + std::move(why);
        return false;
      };
      if (e.seq != expected_seq) {
        bad_seq = expected_seq;
        problem = "entry " + std::to_string(expected_seq) + " is missing (the next entry is " + std::to_string(e.seq) + ")";
        return false;
      }
      ++expected_seq;
      ++report.entries;
      const auto link = eventstore::chain_link(chain, e.seq, e.at_us, e.kind, e.customer, e.actor, e.digest);
      if (link != e.chain) return bad("the chain does not link to the previous entry");
      chain = e.chain;

      if (e.redacted()) {
        ++report.stubs;
        if (!e.payload.empty()) return bad("redacted but still holds a payload");
        stubs[e.redacted_by][e.customer].push_back(e.digest);
        return true;
      }
      if (e.kind == kPurgedKind) {
        if (eventstore::sha256(e.payload) != e.digest) return bad("the purge receipt does not match its digest");
        auto event = domain::decode_event(e.payload);
        if (!event || !std::holds_alternative<domain::CustomersPurged>(*event)) return bad("the purge receipt cannot be read");
        receipts.emplace(e.seq, std::get<domain::CustomersPurged>(*event));
        return true;
      }
      if (options.digests) {
        auto found = keys.find(e.customer);
        if (found == keys.end()) found = keys.emplace(e.customer, eventstore::stream_key(reader, e.customer)).first;
        if (!found->second) return bad("its customer's key is gone but the entry was not redacted");
        if (eventstore::hmac_sha256(*found->second, e.payload) != e.digest) return bad("the payload does not match its digest");
      }
      auto event = domain::decode_event(e.payload);
      if (!event) return bad("the payload cannot be read: " + event.error());
      if (static_cast<std::uint16_t>(domain::kind_of(*event)) != e.kind || domain::customer_of(*event) != e.customer) {
        return bad("the envelope's kind or customer differs from its payload");
      }
      return true;
    });
  } catch (const eventstore::CorruptionError& error) {
    return fail(expected_seq, error.what());
  }
  if (!problem.empty()) return fail(bad_seq, problem);
  const auto head = eventstore::load_head(reader);
  if (head.next_seq != expected_seq || head.chain != chain) {
    return fail(expected_seq, "the log head in meta does not match the last entry (entries may have been removed)");
  }

  for (const auto& [purge_seq, by_customer] : stubs) {
    if (!receipts.contains(purge_seq)) {
      return fail(purge_seq, "stubs name entry " + std::to_string(purge_seq) + " as their purge, which is not a purge");
    }
  }
  for (const auto& [purge_seq, receipt] : receipts) {
    ++report.purges;
    const auto& evidence = stubs[purge_seq];
    std::map<domain::CustomerId, std::uint32_t> claimed;
    for (std::size_t i = 0; i < receipt.ids.size(); ++i) {
      claimed[receipt.ids[i]] = i < receipt.entries_redacted.size() ? receipt.entries_redacted[i] : 0;
    }
    std::vector<eventstore::Digest> leaves;
    for (const auto& [id, count] : claimed) {
      auto found = evidence.find(id);
      const std::size_t have = found == evidence.end() ? 0 : found->second.size();
      if (have != count) {
        return fail(purge_seq, "purge " + std::to_string(purge_seq) + " claims " + std::to_string(count) +
                                   " entries of customer id " + std::to_string(id) + " but " + std::to_string(have) +
                                   " stubs exist");
      }
      if (found != evidence.end()) leaves.insert(leaves.end(), found->second.begin(), found->second.end());
    }
    for (const auto& [id, digests] : evidence) {
      if (!claimed.contains(id)) {
        return fail(purge_seq, "customer id " + std::to_string(id) + " has stubs of purge " + std::to_string(purge_seq) +
                                   " that its receipt does not name");
      }
    }
    if (eventstore::merkle_root(leaves) != receipt.merkle_root) {
      return fail(purge_seq, "purge " + std::to_string(purge_seq) + ": the receipt's Merkle root does not match its stubs");
    }
  }

  ReplayedLedger ledger;
  try {
    ledger = replay_log(reader);
  } catch (const eventstore::CorruptionError& error) {
    return fail(0, error.what());
  }
  report.customers = ledger.customers.size();
  auto rows = expected_rows(ledger);
  if (!free_number_rows_by_last(reader)) {
    // Written before the rows were keyed by their last number, and not opened by ledgerd since.
    std::map<std::string, std::string> by_first;
    for (const auto& [last, first] : rows.numbers_free) by_first.emplace(first, last);
    rows.numbers_free = std::move(by_first);
  }
  for (auto [family, wanted] : {std::pair{Family::kCustomers, &rows.customers}, std::pair{Family::kActive, &rows.active},
                                std::pair{Family::kDeleted, &rows.deleted}, std::pair{Family::kNumbersFree, &rows.numbers_free},
                                std::pair{Family::kSearch, &rows.search}}) {
    if (auto difference = compare_family(reader, family, *wanted); !difference.empty()) {
      return fail(0, "projection differs from the log: " + difference);
    }
  }
  if (load_next_customer_id(reader) != ledger.next_id) {
    return fail(0, "the next customer id in meta differs from the log");
  }
  return report;
}

}  // namespace ledger::projections
