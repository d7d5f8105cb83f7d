#include "server/group_batch.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>

#include <openssl/crypto.h>

#include "domain/decide.h"
#include "eventstore/encoding.h"
#include "projections/customer_codec.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "server/command_service.h"
#include "server/purge_batch.h"

namespace ledger::server {
namespace {

using eventstore::Family;

std::uint16_t kind_code(const domain::Event& event) { return static_cast<std::uint16_t>(domain::kind_of(event)); }

}  // namespace

// The ledger as decide sees it: the projections through the overlay, with the customers it
// reads by number kept for apply (an edit, delete or undelete then reads and opens its
// customer's state and keys once, not twice).
class GroupBatch::View final : public domain::LedgerView {
 public:
  explicit View(GroupBatch& batch) : batch_(batch), state_(batch.overlay_, batch.state_.next_id, &batch.state_.lowest_free) {}
  std::optional<domain::Customer> customer_by_number(domain::CustomerNumber number) const override {
    return projections::customer_by_number(batch_.overlay_, number,
                                           [this](domain::CustomerId id) { return batch_.read_for_decide(id); });
  }
  domain::CustomerNumber lowest_free_number() const override { return state_.lowest_free_number(); }
  domain::CustomerId next_customer_id() const override { return state_.next_customer_id(); }
  std::vector<domain::Customer> deleted_customers() const override { return state_.deleted_customers(); }

 private:
  GroupBatch& batch_;
  const projections::LedgerState state_;
};

GroupBatch::GroupBatch(eventstore::Database& database, WriterState state, GroupBatch* below)
    : database_(database),
      batch_(database),
      below_(below),
      overlay_(database, batch_, below ? &below->batch_ : nullptr),
      start_(state),
      state_(std::move(state)) {}

std::int64_t GroupBatch::now_us() {
  const auto now =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  // The log's times never go backwards, even if the clock does.
  state_.last_at_us = std::max<std::int64_t>(state_.last_at_us, now);
  return state_.last_at_us;
}

rocksdb::WriteBatch* GroupBatch::finish() {
  // Nothing reads these rows back while the group is decided, so they skip the batch's index.
  auto& rows = *batch_.GetWriteBatch();
  if (!(state_.head == start_.head)) eventstore::store_head(database_, rows, state_.head);
  if (state_.next_id != start_.next_id) projections::store_next_customer_id(database_, rows, state_.next_id);
  return &rows;
}

bool GroupBatch::must_lead_batch(const domain::Command& command) {
  return std::holds_alternative<domain::PurgeDeletedCustomers>(command);
}

std::optional<eventstore::CustomerKeys> GroupBatch::customer_keys(domain::CustomerId id) const {
  for (const GroupBatch* batch : {static_cast<const GroupBatch*>(this), static_cast<const GroupBatch*>(below_)}) {
    if (!batch) continue;
    if (auto created = batch->created_keys_.find(id); created != batch->created_keys_.end()) return created->second;
  }
  return database_.key_store().get(id);
}

std::optional<domain::Customer> GroupBatch::read_for_decide(domain::CustomerId id) {
  const auto stored = overlay_.get(Family::kCustomers, eventstore::u64_key(id));
  if (!stored) return std::nullopt;
  auto keys = customer_keys(id);
  // Without keys, as the store reads it: the codec's error for a state it cannot open.
  if (!keys) return projections::read_customer(database_.key_store(), *stored, id);
  auto customer = projections::read_customer(keys, *stored, id);
  read_.try_emplace(id, ReadCustomer{*customer, *keys});
  OPENSSL_cleanse(&*keys, sizeof(*keys));
  return customer;
}

auto GroupBatch::take_read(domain::CustomerId id) -> std::optional<ReadCustomer> {
  const auto found = read_.find(id);
  if (found == read_.end()) return std::nullopt;
  std::optional<ReadCustomer> taken(std::move(found->second));
  OPENSSL_cleanse(&found->second.keys, sizeof(found->second.keys));
  read_.erase(found);
  return taken;
}

void GroupBatch::forget_reads() {
  for (auto& [id, read] : read_) OPENSSL_cleanse(&read.keys, sizeof(read.keys));
  read_.clear();
}

std::string GroupBatch::request_row(const RequestContext& context) {
  if (context.request_key.empty()) return {};
  return eventstore::request_row_key(context.actor, context.request_key);
}

void GroupBatch::prefetch_requests(const std::vector<std::string>& rows) {
  std::vector<std::string> asked;
  asked.reserve(rows.size());
  for (const auto& row : rows) {
    if (!row.empty()) asked.push_back(row);
  }
  if (!asked.empty()) overlay_.prefetch(Family::kRequests, asked);
}

Outcome GroupBatch::add(const domain::Command& command, const RequestContext& context) {
  return add(command, context, request_row(context));
}

Outcome GroupBatch::add(const domain::Command& command, const RequestContext& context, std::string request_row) {
  if (must_lead_batch(command) && (!empty() || below_)) {
    throw std::logic_error("a purge must be the first command to write in its batch, over none: it reads log rows batches do not index");
  }
  std::optional<CommandFingerprint> bound_to;  // what the request key is kept for
  if (!context.request_key.empty()) {
    bound_to = fingerprint(command, context.request_key);
    if (auto value = overlay_.get(Family::kRequests, request_row)) {
      const auto retention_us = static_cast<std::int64_t>(database_.options().request_retention_seconds) * 1'000'000;
      auto remembered = decode_remembered(*value);
      if (remembered && remembered->written_at_us + retention_us >= now_us()) {
        return answer_remembered(std::move(*remembered), *bound_to, overlay_);
      }
    }
  }

  struct Forget {
    GroupBatch& batch;
    ~Forget() { batch.forget_reads(); }
  } forget{*this};
  auto decision = domain::decide(View(*this), command);
  if (auto* refusal = std::get_if<domain::Refusal>(&decision)) return *refusal;

  const auto saved = state_;
  const auto saved_changes = changes_.size();
  batch_.SetSavePoint();
  try {
    auto accepted = apply(command, context, std::move(std::get<std::vector<domain::Event>>(decision)));
    if (!request_row.empty()) {
      const auto value = encode_remembered(state_.last_at_us, *bound_to, accepted);
      eventstore::Database::check(batch_.Put(database_.family(Family::kRequests), request_row, value), "adding to batch");
    }
    batch_.PopSavePoint();
    return accepted;
  } catch (const std::exception& error) {
    batch_.RollbackToSavePoint();
    purge_probes_.erase(purge_probes_.lower_bound(saved.head.next_seq), purge_probes_.end());
    created_keys_.erase(created_keys_.lower_bound(saved.next_id), created_keys_.end());
    state_ = saved;
    changes_.resize(saved_changes);
    return Failure{FailureCode::kInternal, error.what()};
  }
}

std::uint64_t GroupBatch::append(const RequestContext& context, const domain::Event& event,
                                 const eventstore::CustomerKeys* keys) {
  const auto payload = domain::encode_event(event);
  eventstore::NewEntry entry;
  entry.at_us = now_us();
  entry.actor = context.actor;
  entry.request = context.request_key;
  entry.customer = domain::customer_of(event);
  entry.kind = kind_code(event);
  entry.payload = payload;
  entry.number = domain::number_of(event);
  return eventstore::append_entry(database_, *batch_.GetWriteBatch(), state_.head, entry, keys ? &keys->hmac : nullptr,
                                 keys ? &keys->data : nullptr)
      .seq;
}

Accepted GroupBatch::apply(const domain::Command& command, const RequestContext& context,
                           std::vector<domain::Event> events) {
  Accepted accepted;
  if (events.empty()) {
    // An edit that changes nothing appends nothing; report where the customer stands, as
    // decide read it (kept in read_), without reading it again.
    const auto& edit = std::get<domain::EditCustomer>(command);
    const auto read = std::find_if(read_.begin(), read_.end(),
                                   [&](const auto& kept) { return kept.second.customer.number == edit.number; });
    auto customer = read != read_.end() ? std::optional(read->second.customer)
                                        : projections::customer_by_number(overlay_, edit.number);
    if (!customer) throw std::logic_error("an edit was accepted for a free number");
    accepted.id = customer->id;
    accepted.revision = customer->revision;
    accepted.numbers.push_back(customer->number);
    return accepted;
  }
  for (auto& event : events) {
    if (auto* purged = std::get_if<domain::CustomersPurged>(&event)) {
      // Its own unit (server/purge_batch.h): redaction, receipt, projections, pending erasure.
      const auto purge_seq = state_.head.next_seq;
      auto writes = add_purge(database_, overlay_, batch_, purge_seq, *purged, state_.lowest_free,
                              [&] { accepted.seqs.push_back(append(context, event, nullptr)); });
      purge_probes_[purge_seq] = std::move(writes.probes);
      changes_.insert(changes_.end(), std::make_move_iterator(writes.changes.begin()),
                      std::make_move_iterator(writes.changes.end()));
      accepted.numbers = purged->numbers;
      accepted.purged = purged->ids.size();
      continue;
    }
    const auto id = domain::customer_of(event);
    std::optional<domain::Customer> before;
    std::optional<eventstore::CustomerKeys> keys;
    const bool created = std::holds_alternative<domain::CustomerCreated>(event);
    const bool written = created || std::holds_alternative<domain::CustomerEdited>(event);
    if (created) {
      // Durable in the key store before the batch that uses them (KeyStore::for_new_customer).
      keys = database_.key_store().for_new_customer(id);
      created_keys_.emplace(id, *keys);
      state_.next_id = std::max(state_.next_id, id + 1);
    } else if (auto read = take_read(id)) {
      before = std::move(read->customer);
      keys = read->keys;
      OPENSSL_cleanse(&read->keys, sizeof(read->keys));
    } else {
      before = projections::customer_by_id(overlay_, id);
      keys = customer_keys(id);
      if (!before || !keys) throw eventstore::CorruptionError("customer id " + std::to_string(id) + " has no state or keys");
    }
    accepted.seqs.push_back(append(context, event, &*keys));
    // Encoded: the event's strings can move into the state.
    auto after = domain::evolve(before, std::move(event));
    projections::project(overlay_, batch_, before, after, &state_.lowest_free, &keys->data);
    if (written) {
      accepted.id = after.id;
      accepted.revision = after.revision;
    }
    accepted.numbers.push_back(after.number);
    changes_.push_back({std::move(before), std::move(after)});
  }
  return accepted;
}

}  // namespace ledger::server
