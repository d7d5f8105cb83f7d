// Request keys, through the in-process command service and the group batch: the same command
// sent again with its key gets the first outcome exactly, marked replayed; another command with
// that key is refused, says which command the key belongs to, and is not done. Also for
// outcomes an older version remembered without binding them to their command.
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "projections/verify.h"
#include "server/group_batch.h"
#include "server/open_ledger.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::Ledger;
using ledger::testing::person;
using ledger::testing::refused;

namespace {

using Numbers = std::vector<domain::CustomerNumber>;

server::Outcome run(Ledger& ledger, domain::Command command, const std::string& key) {
  return ledger.service().execute(std::move(command), {"pos", key});
}

// What a client could see of the ledger: every customer of both lists, and the log's length.
struct Seen {
  std::vector<domain::Customer> active, deleted;
  std::uint64_t next_seq = 0;
  bool operator==(const Seen&) const = default;
};

Seen seen(Ledger& ledger) {
  auto& service = ledger.service();
  return {service.list(projections::CustomerList::kActive, 0, 1000).customers,
          service.list(projections::CustomerList::kDeleted, 0, 1000).customers,
          eventstore::load_head(eventstore::DatabaseReader(ledger.database())).next_seq};
}

// The outcome `first` as its replay must give it.
server::Accepted replay_of(server::Accepted first) {
  first.replayed = true;
  return first;
}

// Refused because the key belongs to a command of kind `first_kind`, and nothing changed.
void check_refused_as_reused(Ledger& ledger, domain::Command command, const std::string& key,
                             const std::string& first_kind) {
  const auto before = seen(ledger);
  const auto refusal = refused(run(ledger, std::move(command), key));
  CHECK(refusal.code == domain::RefusalCode::kRequestKeyReused);
  CHECK(refusal.field == "requestKey");
  CHECK_THAT(refusal.message, Catch::Contains("already used for a " + first_kind) && Catch::Contains("new request key"));
  CHECK(seen(ledger) == before);
}

void check_verifies(Ledger& ledger) {
  auto report = projections::verify_ledger(eventstore::DatabaseReader(ledger.database()),
                                           {.digests = true, .read_remembered = server::remembered_write});
  INFO(report.problem);
  CHECK(report.ok);
}

// The value an older version wrote for an outcome (format 1: no command fingerprint).
std::string unbound_outcome(std::int64_t written_at_us, const server::Accepted& a) {
  std::string out;
  eventstore::put_u64(out, static_cast<std::uint64_t>(written_at_us));
  out.push_back(1);
  eventstore::put_u64(out, a.id);
  eventstore::put_u64(out, a.revision);
  eventstore::put_u64(out, a.purged);
  for (const auto* list : {&a.seqs, &a.numbers}) {
    eventstore::put_u64(out, list->size());
    for (auto v : *list) eventstore::put_u64(out, v);
  }
  return out;
}

// Rewrites the outcome remembered for `key` as an older version would have written it.
void unbind(Ledger& ledger, const std::string& key) {
  auto& db = ledger.database();
  const auto row = eventstore::request_row_key("pos", key);
  const auto value = eventstore::DatabaseReader(db).get(eventstore::Family::kRequests, row);
  REQUIRE(value);
  const auto remembered = server::decode_remembered(*value);
  REQUIRE(remembered);
  REQUIRE(remembered->command);
  testing::put_raw(db, eventstore::Family::kRequests, row, unbound_outcome(remembered->written_at_us, remembered->accepted));
}

}  // namespace

TEST_CASE("a request key sent again with another command is refused, and that command is not done",
          "[service][idempotency]") {
  Ledger ledger;

  // Created #512 with K; a delete of #512 with K would have been answered "deleted".
  const auto ada = accepted(run(ledger, domain::CreateCustomer{person("Ada"), 512}, "K"));
  check_refused_as_reused(ledger, domain::DeleteCustomers{{512}}, "K", "create");
  CHECK(ledger.service().customer(512)->status == domain::CustomerStatus::kActive);

  // Deleted #513 with K3; a purge with K3 would have been answered with #513 freed.
  ledger.create("Bo", 513);
  accepted(run(ledger, domain::DeleteCustomers{{513}}, "K3"));
  check_refused_as_reused(ledger, domain::PurgeDeletedCustomers{true, {}}, "K3", "delete");
  CHECK(ledger.service().customer(513)->status == domain::CustomerStatus::kDeleted);

  // Deleted with K2; a create with K2 would have been answered "number 1, id 0".
  accepted(run(ledger, domain::DeleteCustomers{{512}}, "K2"));
  check_refused_as_reused(ledger, domain::CreateCustomer{person("Cy"), {}}, "K2", "delete");

  // The first command with each key is still answered as it was.
  CHECK(accepted(run(ledger, domain::CreateCustomer{person("Ada"), 512}, "K")) == replay_of(ada));
  // A key is bound per principal: another one may use K for anything.
  CHECK_FALSE(accepted(ledger.service().execute(domain::UndeleteCustomers{{512}}, {"till-2", "K"})).replayed);
  check_verifies(ledger);
}

TEST_CASE("every command kind: the same command with its key replays the first outcome exactly, another is refused",
          "[service][idempotency]") {
  struct Case {
    const char* kind;
    std::function<void(Ledger&)> setup;  // without keys
    domain::Command first;
    domain::Command same_kind_other;  // the same kind with other arguments
    domain::Command other_kind;
  };
  const auto email = [](const char* value) { return std::vector<domain::FieldChange>{{domain::Field::kEmail, value}}; };
  const auto two = [](Ledger& ledger) {
    ledger.create("Ada");
    ledger.create("Bo");
  };
  const auto two_deleted = [two](Ledger& ledger) {
    two(ledger);
    accepted(ledger.service().execute(domain::DeleteCustomers{{1, 2}}));
  };
  const std::vector<Case> cases = {
      {"create", [](Ledger&) {}, domain::CreateCustomer{person("Ada"), {}}, domain::CreateCustomer{person("Bo"), {}},
       domain::DeleteCustomers{{1}}},
      {"create", [](Ledger&) {}, domain::CreateCustomer{person("Ada"), 7}, domain::CreateCustomer{person("Ada"), {}},
       domain::EditCustomer{7, email("ada@example.org"), {}}},
      {"edit", two, domain::EditCustomer{1, email("ada@example.org"), {}},
       domain::EditCustomer{1, email("ada@example.com"), {}}, domain::CreateCustomer{person("Ada"), {}}},
      {"edit", two, domain::EditCustomer{1, email("ada@example.org"), 1}, domain::EditCustomer{1, email("ada@example.org"), {}},
       domain::UndeleteCustomers{{1}}},
      // An edit that changes nothing writes no entry, and is remembered all the same.
      {"edit", two, domain::EditCustomer{1, {{domain::Field::kName, "Ada"}}, {}},
       domain::EditCustomer{2, {{domain::Field::kName, "Bo"}}, {}}, domain::PurgeDeletedCustomers{true, {}}},
      {"delete", two, domain::DeleteCustomers{{1, 2}}, domain::DeleteCustomers{{1}}, domain::UndeleteCustomers{{1, 2}}},
      {"delete", two, domain::DeleteCustomers{{1, 2}}, domain::DeleteCustomers{{2, 1}}, domain::CreateCustomer{person("Cy"), {}}},
      {"undelete", two_deleted, domain::UndeleteCustomers{{2, 1}}, domain::UndeleteCustomers{{2}},
       domain::DeleteCustomers{{2, 1}}},
      {"purge", two_deleted, domain::PurgeDeletedCustomers{true, 2}, domain::PurgeDeletedCustomers{true, {}},
       domain::CreateCustomer{person("Cy"), {}}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    CAPTURE(i, c.kind);
    Ledger ledger;
    c.setup(ledger);
    const auto first = accepted(run(ledger, c.first, "key-1"));
    CHECK_FALSE(first.replayed);
    const auto after_first = seen(ledger);

    CHECK(accepted(run(ledger, c.first, "key-1")) == replay_of(first));
    CHECK(seen(ledger) == after_first);
    check_refused_as_reused(ledger, c.same_kind_other, "key-1", c.kind);
    check_refused_as_reused(ledger, c.other_kind, "key-1", c.kind);

    // Also after a restart, from what is on disk.
    ledger.reopen();
    CHECK(accepted(run(ledger, c.first, "key-1")) == replay_of(first));
    check_refused_as_reused(ledger, c.same_kind_other, "key-1", c.kind);
    CHECK(seen(ledger) == after_first);
    check_verifies(ledger);
  }
}

TEST_CASE("a replayed purge frees nothing more, though customers were deleted since", "[service][idempotency]") {
  Ledger ledger;
  ledger.create("Ada");
  ledger.create("Bo");
  accepted(ledger.service().execute(domain::DeleteCustomers{{1}}));
  const auto first = accepted(run(ledger, domain::PurgeDeletedCustomers{true, {}}, "cleanup-1"));
  CHECK(first.numbers == Numbers{1});
  accepted(ledger.service().execute(domain::DeleteCustomers{{2}}));
  CHECK(accepted(run(ledger, domain::PurgeDeletedCustomers{true, {}}, "cleanup-1")) == replay_of(first));
  CHECK(ledger.service().customer(2)->status == domain::CustomerStatus::kDeleted);
}

TEST_CASE("in one group and over the group being written: a key's second use replays or is refused",
          "[service][idempotency][group]") {
  testing::TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  const server::RequestContext k{"pos", "K"};
  server::GroupBatch group(*db, server::prepare_ledger(*db));
  const auto first = accepted(group.add(domain::CreateCustomer{person("Ada"), {}}, k));
  // Pipelined behind it in the same group: the same create, then other commands with its key.
  CHECK(accepted(group.add(domain::CreateCustomer{person("Ada"), {}}, k)) == replay_of(first));
  CHECK(refused(group.add(domain::DeleteCustomers{{1}}, k)).code == domain::RefusalCode::kRequestKeyReused);
  CHECK(refused(group.add(domain::CreateCustomer{person("Bo"), {}}, k)).code == domain::RefusalCode::kRequestKeyReused);
  auto* rows = group.finish();

  // The next group is decided while this one is not yet written.
  server::GroupBatch next(*db, group.state(), &group);
  CHECK(accepted(next.add(domain::CreateCustomer{person("Ada"), {}}, k)) == replay_of(first));
  const auto reused = refused(next.add(domain::EditCustomer{1, {{domain::Field::kNotes, "x"}}, {}}, k));
  CHECK(reused.code == domain::RefusalCode::kRequestKeyReused);
  CHECK_THAT(reused.message, Catch::Contains("already used for a create") && Catch::Contains("this edit was not done"));
  CHECK(next.empty());

  rocksdb::WriteOptions sync;
  sync.sync = true;
  REQUIRE(db->db().Write(sync, rows).ok());
  eventstore::DatabaseReader reader(*db);
  CHECK(eventstore::load_head(reader).next_seq == 2);
  CHECK(projections::customer_by_number(reader, 1)->fields.name == "Ada");
  CHECK(projections::customer_by_number(reader, 1)->revision == 1);
}

TEST_CASE("a group's request keys looked up together: stored outcomes replay, the group's and the one below's shadow them",
          "[service][idempotency][group]") {
  testing::TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  const server::RequestContext k1{"pos", "K1"}, k2{"pos", "K2"}, k3{"pos", "K3"};
  rocksdb::WriteOptions sync;
  sync.sync = true;
  server::GroupBatch stored(*db, server::prepare_ledger(*db));
  const auto ada = accepted(stored.add(domain::CreateCustomer{person("Ada"), {}}, k1));
  REQUIRE(db->db().Write(sync, stored.finish()).ok());

  // Looked up before the group's commands run: K1's outcome is stored, K2 and K3 are not.
  server::GroupBatch group(*db, stored.state());
  group.prefetch_requests({server::GroupBatch::request_row(k1), server::GroupBatch::request_row(k2), "",
                           server::GroupBatch::request_row(k2), server::GroupBatch::request_row(k3)});
  CHECK(accepted(group.add(domain::CreateCustomer{person("Ada"), {}}, k1)) == replay_of(ada));
  const auto bo = accepted(group.add(domain::CreateCustomer{person("Bo"), {}}, k2));
  // K2 was not stored when looked up; its outcome in this group answers now.
  CHECK(accepted(group.add(domain::CreateCustomer{person("Bo"), {}}, k2)) == replay_of(bo));
  auto* rows = group.finish();

  // Over the group not yet written: K2 is not stored yet, the group below answers for it.
  server::GroupBatch next(*db, group.state(), &group);
  next.prefetch_requests({server::GroupBatch::request_row(k2), server::GroupBatch::request_row(k3)});
  CHECK(accepted(next.add(domain::CreateCustomer{person("Bo"), {}}, k2)) == replay_of(bo));
  const auto cy = accepted(next.add(domain::CreateCustomer{person("Cy"), {}}, k3));
  CHECK(cy.numbers == std::vector<domain::CustomerNumber>{3});
  REQUIRE(db->db().Write(sync, rows).ok());
  REQUIRE(db->db().Write(sync, next.finish()).ok());

  eventstore::DatabaseReader reader(*db);
  CHECK(eventstore::load_head(reader).next_seq == 4);
  CHECK(projections::list_customers(reader, projections::CustomerList::kActive, 0, 10).customers.size() == 3);
}

TEST_CASE("an outcome remembered before keys were bound to commands answers only a command of its kind",
          "[service][idempotency][upgrade]") {
  Ledger ledger;
  const auto ada = accepted(run(ledger, domain::CreateCustomer{person("Ada"), {}}, "old-create"));
  ledger.create("Bo");
  const auto deleted = accepted(run(ledger, domain::DeleteCustomers{{2}}, "old-delete"));
  const auto unchanged = accepted(run(ledger, domain::EditCustomer{1, {{domain::Field::kName, "Ada"}}, {}}, "old-edit"));
  REQUIRE(unchanged.seqs.empty());
  for (auto key : {"old-create", "old-delete", "old-edit"}) unbind(ledger, key);
  ledger.reopen();
  check_verifies(ledger);

  // Without a fingerprint, any command of the kind the log says the key wrote replays it, as
  // before; another kind is refused.
  CHECK(accepted(run(ledger, domain::CreateCustomer{person("Ada"), {}}, "old-create")) == replay_of(ada));
  CHECK(accepted(run(ledger, domain::CreateCustomer{person("Someone else"), {}}, "old-create")) == replay_of(ada));
  check_refused_as_reused(ledger, domain::DeleteCustomers{{1}}, "old-create", "create");
  // Delete and undelete are told apart by the kind of the entries the outcome names.
  CHECK(accepted(run(ledger, domain::DeleteCustomers{{2}}, "old-delete")) == replay_of(deleted));
  check_refused_as_reused(ledger, domain::UndeleteCustomers{{2}}, "old-delete", "delete");
  // An outcome that names no entry is an edit that changed nothing.
  CHECK(accepted(run(ledger, domain::EditCustomer{1, {{domain::Field::kName, "Ada"}}, {}}, "old-edit")) ==
        replay_of(unchanged));
  check_refused_as_reused(ledger, domain::CreateCustomer{person("Cy"), {}}, "old-edit", "edit");
}
