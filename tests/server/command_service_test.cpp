// The help page's workflow, concurrency, restarts and idempotency, through the in-process
// command service on a real RocksDB data directory.
#include <algorithm>
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/key_store.h"
#include "eventstore/pending_erasure.h"
#include "eventstore/sorted_batch.h"
#include "projections/projector.h"
#include "projections/replay.h"
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

std::vector<domain::CustomerNumber> numbers_of(const projections::CustomerPage& page) {
  std::vector<domain::CustomerNumber> out;
  for (const auto& c : page.customers) out.push_back(c.number);
  return out;
}

using Numbers = std::vector<domain::CustomerNumber>;

}  // namespace

TEST_CASE("the help page's workflow: delete, undelete, edit deleted, cleanup, reuse numbers", "[service]") {
  Ledger ledger;
  auto& service = ledger.service();
  for (auto name : {"Ada", "Brook", "Cyd", "Dee", "Eve"}) ledger.create(name);

  // Select three rows and delete them at once.
  auto deleted = accepted(service.execute(domain::DeleteCustomers{{2, 3, 4}}));
  CHECK(deleted.numbers == Numbers{2, 3, 4});
  CHECK(numbers_of(service.list(projections::CustomerList::kActive, 0, 100)) == Numbers{1, 5});
  CHECK(numbers_of(service.list(projections::CustomerList::kDeleted, 0, 100)) == Numbers{2, 3, 4});

  // A deleted customer keeps its number.
  auto held = refused(service.execute(domain::CreateCustomer{person("Intruder"), 2}));
  CHECK(held.code == domain::RefusalCode::kNumberHeldByDeleted);
  CHECK_THAT(held.message, Catch::Contains("undelete") && Catch::Contains("cleanup"));
  CHECK(service.customer(2)->fields.name == "Brook");

  // Manage Deleted Customers: undelete one, edit another (it stays deleted).
  accepted(service.execute(domain::UndeleteCustomers{{3}}));
  auto edited = accepted(service.execute(domain::EditCustomer{4, {{domain::Field::kNotes, "owes 12.50"}}, {}}));
  CHECK(edited.revision == 3);
  CHECK(service.customer(4)->status == domain::CustomerStatus::kDeleted);
  CHECK(service.customer(4)->fields.notes == "owes 12.50");
  CHECK(numbers_of(service.list(projections::CustomerList::kActive, 0, 100)) == Numbers{1, 3, 5});

  const auto purged_ids = std::vector<domain::CustomerId>{service.customer(2)->id, service.customer(4)->id};

  // Cleanup old customers: every deleted customer at once.
  refused(service.execute(domain::PurgeDeletedCustomers{false, {}}));
  CHECK(refused(service.execute(domain::PurgeDeletedCustomers{true, 3})).code == domain::RefusalCode::kCountMismatch);
  auto purge = accepted(service.execute(domain::PurgeDeletedCustomers{true, 2}));
  CHECK(purge.purged == 2);
  CHECK(purge.numbers == Numbers{2, 4});

  // Purged customers are gone by number and by id, cannot be undeleted or edited.
  CHECK_FALSE(service.customer(2));
  CHECK_FALSE(service.customer(4));
  eventstore::DatabaseReader reader(ledger.database());
  for (auto id : purged_ids) {
    CHECK_FALSE(projections::customer_by_id(reader, id));
    CHECK(eventstore::stream_seqs(reader, id).empty());
  }
  CHECK(refused(service.execute(domain::UndeleteCustomers{{2}})).code == domain::RefusalCode::kNotFound);
  CHECK(refused(service.execute(domain::EditCustomer{4, {{domain::Field::kName, "Back"}}, {}})).code ==
        domain::RefusalCode::kNotFound);
  CHECK(service.list(projections::CustomerList::kDeleted, 0, 100).customers.empty());
  CHECK(refused(service.execute(domain::PurgeDeletedCustomers{true, {}})).code == domain::RefusalCode::kNothingToDo);

  // Their log entries are stubs: no payload, but seq, kind, customer, digest and chain remain.
  std::size_t stubs = 0;
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (std::find(purged_ids.begin(), purged_ids.end(), e.customer) != purged_ids.end()) {
      CHECK(e.redacted_by == purge.seqs.front());
      CHECK(e.payload.empty());
      CHECK(e.request.empty());
      CHECK(e.digest != eventstore::Digest{});
      ++stubs;
    }
    return true;
  });
  CHECK(stubs == 2 + 2 + 1);  // 2 created+deleted, 4 created+deleted+edited
  // The erasure pass runs on its own thread; once it has verified, nothing is pending.
  const auto typed = service.wait_for_erasure(purge.seqs.front(), std::chrono::seconds(60));
  REQUIRE(typed);
  CHECK(typed->state == eventstore::ErasureState::kVerified);
  const auto erasure = eventstore::to_json(*typed);  // as stored and shown
  CHECK_THAT(erasure, Catch::Contains("\"verified\":true") && Catch::Contains("\"residue\":0"));
  // It says what it looked for: probes taken from every one of the five entries the purge redacted.
  CHECK_THAT(erasure, Catch::Contains("\"check\":\"probed\"") && Catch::Contains("\"purged_entries\":5,") &&
                           Catch::Contains("\"entries_probed\":5,"));
  CHECK(eventstore::pending_erasures(reader).empty());
  // Before compacting, the pass destroyed both customers' keys and found no byte of them left.
  CHECK_THAT(erasure, Catch::Contains("\"unreadable\":{\"verified\":true") &&
                           Catch::Contains("\"customers\":2,\"keys_deleted\":2,\"keys_probed\":2,"));
  for (auto id : purged_ids) CHECK_FALSE(ledger.database().key_store().get(id));

  // A new customer gets the lowest freed number, with a fresh history.
  auto fresh = ledger.create("Fay");
  CHECK(fresh.numbers == Numbers{2});
  CHECK(std::find(purged_ids.begin(), purged_ids.end(), fresh.id) == purged_ids.end());
  auto history = service.history(2);
  REQUIRE(history.size() == 1);
  CHECK(std::holds_alternative<domain::CustomerCreated>(history[0].event));
  CHECK(ledger.create("Gus").numbers == Numbers{4});
  CHECK(ledger.create("Hal").numbers == Numbers{6});

  auto report = projections::verify_ledger(reader);
  INFO(report.problem);
  CHECK(report.ok);
  CHECK(report.purges == 1);
  CHECK(report.stubs == 5);
}

TEST_CASE("batch delete is all or none and names every offending number", "[service]") {
  Ledger ledger;
  for (int i = 0; i < 4; ++i) ledger.create("C" + std::to_string(i));
  accepted(ledger.service().execute(domain::DeleteCustomers{{2}}));
  auto refusal = refused(ledger.service().execute(domain::DeleteCustomers{{1, 2, 3, 9}}));
  CHECK(refusal.numbers.size() == 2);
  CHECK(refusal.numbers[0].number == 2);
  CHECK(refusal.numbers[0].code == domain::RefusalCode::kAlreadyDeleted);
  CHECK(refusal.numbers[1].number == 9);
  CHECK(refusal.numbers[1].code == domain::RefusalCode::kNotFound);
  // Nothing was deleted.
  CHECK(ledger.service().customer(1)->status == domain::CustomerStatus::kActive);
  CHECK(ledger.service().customer(3)->status == domain::CustomerStatus::kActive);
}

TEST_CASE("an edit that changes nothing appends nothing, and a stale revision is refused", "[service]") {
  Ledger ledger;
  ledger.create("Ada");
  const auto head_before = eventstore::load_head(eventstore::DatabaseReader(ledger.database()));
  auto same = accepted(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kName, "Ada"}}, {}}));
  CHECK(same.seqs.empty());
  CHECK(same.revision == 1);
  CHECK(same.id == 1);
  CHECK(same.numbers == std::vector<domain::CustomerNumber>{1});
  CHECK(eventstore::load_head(eventstore::DatabaseReader(ledger.database())) == head_before);

  accepted(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kEmail, "ada@example.org"}}, 1}));
  auto stale = refused(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kEmail, "x@example.org"}}, 1}));
  CHECK(stale.code == domain::RefusalCode::kRevisionConflict);
  CHECK(ledger.service().customer(1)->fields.email == "ada@example.org");
}

TEST_CASE("8 threads x 1,000 concurrent creates get numbers 1..8000 once each, in a dense log", "[service][concurrency]") {
  Ledger ledger;
  constexpr int kThreads = 8, kEach = 1000;
  std::vector<std::vector<domain::CustomerNumber>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto outcome = ledger.service().execute(
            domain::CreateCustomer{person("T" + std::to_string(t) + " N" + std::to_string(i)), {}});
        if (auto* a = std::get_if<server::Accepted>(&outcome)) got[t].push_back(a->numbers.at(0));
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<domain::CustomerNumber> all;
  for (auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  REQUIRE(all.size() == kThreads * kEach);
  for (std::size_t i = 0; i < all.size(); ++i) REQUIRE(all[i] == i + 1);

  // Group commit: many commands shared each fsync.
  const auto stats = ledger.service().stats();
  CHECK(stats.commands == kThreads * kEach);
  CHECK(stats.batches < stats.commands);

  eventstore::DatabaseReader reader(ledger.database());
  CHECK(eventstore::load_head(reader).next_seq == kThreads * kEach + 1);
  auto report = projections::verify_ledger(reader);
  INFO(report.problem);
  CHECK(report.ok);
  CHECK(report.entries == kThreads * kEach);
}

TEST_CASE("a lone command is written on its caller's thread, queued ones go to the writer", "[service][concurrency]") {
  Ledger ledger;
  auto& service = ledger.service();
  const auto caller = std::this_thread::get_id();
  std::thread::id answered_on;
  bool returned = false;
  service.submit(
      domain::CreateCustomer{person("Lone"), {}}, {},
      [&](server::Outcome outcome) {
        accepted(outcome);
        answered_on = std::this_thread::get_id();
        CHECK_FALSE(returned);  // durable and answered before submit returns
      },
      server::CommandService::Submit::kWriteIfAlone);
  returned = true;
  CHECK(answered_on == caller);

  // kQueue always hands the command to the writer thread.
  auto queued = std::make_shared<std::promise<std::thread::id>>();
  service.submit(domain::CreateCustomer{person("Queued"), {}}, {},
                 [queued](server::Outcome) { queued->set_value(std::this_thread::get_id()); });
  CHECK(queued->get_future().get() != caller);
  CHECK(service.stats().commands == 2);
}

TEST_CASE("stop waits for commands written on callers' threads, and none acknowledged is lost", "[service][concurrency]") {
  Ledger ledger;
  std::atomic<bool> refused_seen{false};
  std::vector<std::vector<std::uint64_t>> seqs(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < seqs.size(); ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        auto outcome = ledger.service().execute(domain::CreateCustomer{person("S" + std::to_string(t)), {}});
        const auto* a = std::get_if<server::Accepted>(&outcome);
        if (!a) break;  // shutting down
        seqs[t].insert(seqs[t].end(), a->seqs.begin(), a->seqs.end());
      }
      refused_seen = true;
    });
  }
  while (ledger.service().stats().commands < 200) std::this_thread::yield();
  ledger.service().stop();
  for (auto& thread : threads) thread.join();
  CHECK(refused_seen);
  ledger.reopen();
  eventstore::DatabaseReader reader(ledger.database());
  std::size_t acknowledged = 0;
  for (const auto& list : seqs) {
    for (auto seq : list) CHECK(eventstore::read_entry(reader, seq).has_value());
    acknowledged += list.size();
  }
  CHECK(acknowledged >= 200);
  CHECK(eventstore::load_head(reader).next_seq == acknowledged + 1);
  CHECK(projections::verify_ledger(reader).ok);
}

TEST_CASE("reopen keeps seq, chain, ids and numbers, and start-up replays nothing", "[service][restart]") {
  Ledger ledger;
  ledger.create("Ada");
  ledger.create("Bo");
  accepted(ledger.service().execute(domain::DeleteCustomers{{1}}));
  const auto head = eventstore::load_head(eventstore::DatabaseReader(ledger.database()));
  const auto bo = *ledger.service().customer(2);

  ledger.reopen();
  eventstore::DatabaseReader reader(ledger.database());
  CHECK(eventstore::load_head(reader) == head);
  CHECK(*ledger.service().customer(2) == bo);
  CHECK(ledger.service().customer(1)->status == domain::CustomerStatus::kDeleted);
  auto cy = ledger.create("Cy");
  CHECK(cy.numbers == Numbers{3});
  CHECK(cy.id == bo.id + 1);
  CHECK(cy.seqs == std::vector<std::uint64_t>{head.next_seq});
  auto report = projections::verify_ledger(reader);
  INFO(report.problem);
  CHECK(report.ok);
}

TEST_CASE("a retried command gets its first outcome, also after reopen", "[service][idempotency]") {
  Ledger ledger;
  server::RequestContext context{"pos-1", "order-77"};
  auto first = accepted(ledger.service().execute(domain::CreateCustomer{person("Ada"), {}}, context));
  CHECK_FALSE(first.replayed);
  auto again = accepted(ledger.service().execute(domain::CreateCustomer{person("Ada"), {}}, context));
  CHECK(again.replayed);
  CHECK(again.numbers == first.numbers);
  CHECK(again.seqs == first.seqs);

  ledger.reopen();
  auto after = accepted(ledger.service().execute(domain::CreateCustomer{person("Ada"), {}}, context));
  CHECK(after.replayed);
  CHECK(after.id == first.id);
  CHECK(ledger.service().list(projections::CustomerList::kActive, 0, 10).customers.size() == 1);

  // The same key from another actor is another request.
  auto other = accepted(ledger.service().execute(domain::CreateCustomer{person("Ada"), {}}, {"pos-2", "order-77"}));
  CHECK_FALSE(other.replayed);
  CHECK(other.numbers == Numbers{2});
}

TEST_CASE("search by name, email or phone fragment, and pages by number", "[service][search]") {
  Ledger ledger;
  auto& service = ledger.service();
  accepted(service.execute(domain::CreateCustomer{person("Ada Lovelace", "ada@analytical.org", "+44 20 7946 0018"), {}}));
  accepted(service.execute(domain::CreateCustomer{person("Brook Taylor", "brook@series.net", "555-0101"), {}}));
  accepted(service.execute(domain::CreateCustomer{person("Lovell Ada", "", ""), {}}));
  for (int i = 0; i < 30; ++i) ledger.create("Filler " + std::to_string(i));

  using projections::CustomerList;
  CHECK(numbers_of(service.list(CustomerList::kActive, 0, 10, "LOVE")) == Numbers{1, 3});
  CHECK(numbers_of(service.list(CustomerList::kActive, 0, 10, "series")) == Numbers{2});
  CHECK(numbers_of(service.list(CustomerList::kActive, 0, 10, "5550101")) == Numbers{2});
  CHECK(numbers_of(service.list(CustomerList::kActive, 0, 10, "7946 00")) == Numbers{1});
  CHECK(numbers_of(service.list(CustomerList::kActive, 0, 10, "ad")) == Numbers{1, 3});
  CHECK(service.list(CustomerList::kActive, 0, 10, "nobody-here").customers.empty());

  // Edits move the index; deleted customers are searched in the deleted list.
  accepted(service.execute(domain::EditCustomer{3, {{domain::Field::kName, "Grace Hopper"}}, {}}));
  CHECK(numbers_of(service.list(CustomerList::kActive, 0, 10, "love")) == Numbers{1});
  accepted(service.execute(domain::DeleteCustomers{{1}}));
  CHECK(service.list(CustomerList::kActive, 0, 10, "love").customers.empty());
  CHECK(numbers_of(service.list(CustomerList::kDeleted, 0, 10, "love")) == Numbers{1});

  auto page = service.list(CustomerList::kActive, 0, 10);
  CHECK(page.customers.size() == 10);
  REQUIRE(page.next);
  auto second = service.list(CustomerList::kActive, *page.next, 10);
  CHECK(second.customers.front().number == *page.next + 1);

  // Search keeps nothing on disk: the directory has no family for it.
  std::vector<std::string> families;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), ledger.database().dir().string(), &families).ok());
  CHECK(std::find(families.begin(), families.end(), "search") == families.end());
}

TEST_CASE("a service without a search index refuses searches and leaves the next start to find all", "[service][search]") {
  server::CommandServiceOptions no_index;
  no_index.search_index = false;
  Ledger ledger(no_index);
  accepted(ledger.service().execute(domain::CreateCustomer{person("Ada Lovelace", "ada@analytical.org", ""), {}}));
  accepted(ledger.service().execute(domain::CreateCustomer{person("Lovell Ada", "", ""), {}}));
  using projections::CustomerList;
  CHECK(numbers_of(ledger.service().list(CustomerList::kActive, 0, 10)) == Numbers{1, 2});
  CHECK_THROWS_WITH(ledger.service().list(CustomerList::kActive, 0, 10, "love"),
                    Catch::Contains("keeps no search index"));

  // A service with the index, on the same directory, finds what the other one wrote.
  ledger.close();
  auto database = eventstore::Database::open(ledger.dir() / "data", {});
  auto service = server::open_ledger(*database);
  CHECK(numbers_of(service->list(CustomerList::kActive, 0, 10, "love")) == Numbers{1, 2});
}

TEST_CASE("the keys each command kind writes, as docs/storage.md counts them", "[service][storage]") {
  Ledger ledger;
  for (int i = 0; i < 5; ++i) ledger.create("Filler " + std::to_string(i));
  auto& db = ledger.database();
  // Keys the commands leave in one group's batch, each key once (the batch as written).
  auto keys_of_group = [&](const std::vector<domain::Command>& commands, const server::RequestContext& context = {}) {
    const eventstore::DatabaseReader reader(db);
    server::WriterState state;
    state.head = eventstore::load_head(reader);
    state.next_id = projections::load_next_customer_id(reader);
    server::GroupBatch group(db, state);
    for (const auto& command : commands) accepted(group.add(command, context));
    auto* written = group.finish();
    auto sorted = eventstore::sorted_batch(db, *written);
    REQUIRE(sorted);
    REQUIRE(db.db().Write(rocksdb::WriteOptions(), written).ok());
    return sorted->Count();
  };
  auto keys_of = [&](const domain::Command& command, const server::RequestContext& context = {}) {
    return keys_of_group({command}, context);
  };
  CHECK(keys_of(domain::CreateCustomer{person("Ada Lovelace", "ada@analytical.org", "+44 20 7946 0018"), {}}) == 8);
  CHECK(keys_of(domain::CreateCustomer{person("Bo"), {}}, {"pos-1", "key-1"}) == 9);
  CHECK(keys_of(domain::EditCustomer{6, {{domain::Field::kEmail, "ada@example.org"}}, {}}) == 5);
  CHECK(keys_of(domain::DeleteCustomers{{6}}) == 7);
  CHECK(keys_of(domain::UndeleteCustomers{{6}}) == 7);
  CHECK(keys_of(domain::DeleteCustomers{{1, 2}}) == 12);
  // A group writes the log head and the next id once, whatever the number of its commands (and
  // creates taking the lowest numbers one after another rewrite one free-number row).
  CHECK(keys_of_group({domain::CreateCustomer{person("Cy"), {}}, domain::CreateCustomer{person("Di"), {}}}) ==
        2 * 4 + 1 + 3);
}

TEST_CASE("commands on customers created earlier in their group see them, and a purge leads its group",
          "[service][group]") {
  testing::TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  {
    server::GroupBatch group(*db, server::prepare_ledger(*db));
    // The new customers' keys and log rows are not indexed in the batch: what follows in the
    // group must still find them.
    CHECK(accepted(group.add(domain::CreateCustomer{person("Ada"), {}}, {})).numbers == Numbers{1});
    CHECK(accepted(group.add(domain::CreateCustomer{person("Bo"), {}}, {})).numbers == Numbers{2});
    CHECK(accepted(group.add(domain::EditCustomer{1, {{domain::Field::kEmail, "ada@example.org"}}, 1}, {})).revision == 2);
    // Each command decides over the state the one before it left, not over what an earlier
    // command's decide read.
    CHECK(accepted(group.add(domain::EditCustomer{1, {{domain::Field::kPhone, "+44 20 7946 0001"}}, 2}, {})).revision == 3);
    CHECK(refused(group.add(domain::EditCustomer{1, {{domain::Field::kNotes, "stale"}}, 2}, {})).code ==
          domain::RefusalCode::kRevisionConflict);
    accepted(group.add(domain::DeleteCustomers{{1, 2}}, {}));
    accepted(group.add(domain::UndeleteCustomers{{2}}, {}));
    CHECK_THROWS_AS(group.add(domain::PurgeDeletedCustomers{true, {}}, {}), std::logic_error);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    REQUIRE(db->db().Write(sync, group.finish()).ok());
  }

  // The service decides a purge queued behind other commands first in a group of its own.
  auto service = server::open_ledger(*db);
  std::vector<std::future<server::Outcome>> outcomes;
  auto submit = [&](domain::Command command) {
    auto promise = std::make_shared<std::promise<server::Outcome>>();
    outcomes.push_back(promise->get_future());
    service->submit(std::move(command), {}, [promise](server::Outcome o) { promise->set_value(std::move(o)); });
  };
  submit(domain::CreateCustomer{person("Cy"), {}});
  submit(domain::DeleteCustomers{{3}});
  submit(domain::PurgeDeletedCustomers{true, {}});
  submit(domain::CreateCustomer{person("Di"), {}});
  for (auto& outcome : outcomes) accepted(outcome.get());
  // Ada and Cy were purged; Di took the lowest number freed.
  CHECK(!service->customer(3));
  CHECK(service->customer(1)->fields.name == "Di");
  CHECK(service->customer(2)->fields.name == "Bo");
  auto report = projections::verify_ledger(eventstore::DatabaseReader(*db));
  INFO(report.problem);
  CHECK(report.ok);
}

TEST_CASE("a number whose customer has no state is reported as corruption, by reads and by decide alike",
          "[service][group]") {
  testing::TempDir dir;
  auto db = eventstore::Database::open(dir.path() / "data", {});
  {
    server::GroupBatch group(*db, server::prepare_ledger(*db));
    accepted(group.add(domain::CreateCustomer{person("Ada"), {}}, {}));
    rocksdb::WriteOptions sync;
    sync.sync = true;
    REQUIRE(db->db().Write(sync, group.finish()).ok());
  }
  // Number 1's view row stays; the state it names goes.
  REQUIRE(db->db().Delete(rocksdb::WriteOptions(), db->family(eventstore::Family::kCustomers), eventstore::u64_key(1)).ok());
  const auto message = Catch::Matchers::Contains("number 1 names a customer without state");
  CHECK_THROWS_WITH(projections::customer_by_number(eventstore::DatabaseReader(*db), 1), message);
  server::GroupBatch group(*db, server::prepare_ledger(*db));
  CHECK_THROWS_WITH(group.add(domain::EditCustomer{1, {{domain::Field::kNotes, "n"}}, 1}, {}), message);
  // A free number is no corruption.
  CHECK(!projections::customer_by_number(eventstore::DatabaseReader(*db), 2));
}

TEST_CASE("a failed write fails the group decided over it too, and the ledger goes on from what is durable",
          "[service][group][failure]") {
  // The second write is held until the writer has decided the next group over it, then fails.
  std::atomic<int> writes{0};
  std::promise<void> held;
  std::atomic<bool> release{false};
  server::CommandServiceOptions options;
  options.before_write = [&]() -> rocksdb::Status {
    if (writes.fetch_add(1) != 1) return rocksdb::Status::OK();
    held.set_value();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!release && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    return rocksdb::Status::IOError("injected failure");
  };
  Ledger ledger(options);
  auto& service = ledger.service();
  ledger.create("Ada");  // the first write

  auto submit = [&](domain::Command command) {
    auto promise = std::make_shared<std::promise<server::Outcome>>();
    auto future = promise->get_future();
    service.submit(std::move(command), {}, [promise](server::Outcome o) { promise->set_value(std::move(o)); });
    return future;
  };
  auto bo = submit(domain::CreateCustomer{person("Bo"), {}});
  held.get_future().get();
  // Bo's group is being written: an edit of Bo is decided over it (decided alone, it would be
  // refused: no customer has number 2).
  const auto decided_before = service.stats().decide_cpu_ns;
  auto edit = submit(domain::EditCustomer{2, {{domain::Field::kNotes, "decided over Bo's create"}}, {}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (service.stats().decide_cpu_ns == decided_before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  release = true;

  const auto bo_outcome = bo.get();
  REQUIRE(std::holds_alternative<server::Failure>(bo_outcome));
  CHECK_THAT(std::get<server::Failure>(bo_outcome).message, Catch::Contains("injected failure"));
  const auto edit_outcome = edit.get();
  INFO(testing::describe(edit_outcome));
  REQUIRE(std::holds_alternative<server::Failure>(edit_outcome));
  CHECK_THAT(std::get<server::Failure>(edit_outcome).message,
             Catch::Contains("injected failure") && Catch::Contains("before this command"));

  // Nothing of Bo's group or the one over it was written: the next create takes Bo's number and
  // the next seq, and the log has no hole.
  const auto di = ledger.create("Di");
  CHECK(di.numbers == Numbers{2});
  CHECK(di.seqs == std::vector<std::uint64_t>{2});
  ledger.reopen();
  CHECK(ledger.service().customer(2)->fields.name == "Di");
  auto report = projections::verify_ledger(eventstore::DatabaseReader(ledger.database()));
  INFO(report.problem);
  CHECK(report.ok);
  CHECK(report.entries == 2);
}

TEST_CASE("a purge whose stream index lost a row is refused whole, and purges every entry once it is repaired",
          "[service][purge]") {
  Ledger ledger;
  ledger.create("Ada Lovelace");
  ledger.create("Bo Keeper");
  ledger.create("Cy Gone");
  accepted(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kEmail, "ada@example.org"}}, {}}));
  accepted(ledger.service().execute(domain::DeleteCustomers{{1, 3}}));
  const auto ada = ledger.service().customer(1)->id;
  ledger.close();

  // As `ldb delete` would, with ledgerd stopped: Ada's row for her creation (seq 1) goes.
  {
    auto database = eventstore::Database::open(ledger.dir() / "data", {});
    const auto row = eventstore::u64_pair_key(ada, 1);
    REQUIRE(database->db().Delete(rocksdb::WriteOptions(), database->family(eventstore::Family::kStreams), row).ok());
  }
  ledger.open();
  auto& service = ledger.service();
  const auto head_before = eventstore::load_head(eventstore::DatabaseReader(ledger.database()));

  const auto outcome = service.execute(domain::PurgeDeletedCustomers{true, 2});
  REQUIRE(std::holds_alternative<server::Failure>(outcome));
  const auto& message = std::get<server::Failure>(outcome).message;
  CHECK_THAT(message, Catch::Contains("cleanup refused, nothing was purged") && Catch::Contains("customer 1 ") &&
                          Catch::Contains("has 3 log entries") && Catch::Contains("lists 2") &&
                          Catch::Contains("ledger-admin rebuild"));
  // Nothing changed: both are still deleted and hold their numbers, the log is as it was.
  CHECK(numbers_of(service.list(projections::CustomerList::kDeleted, 0, 100)) == Numbers{1, 3});
  CHECK(service.customer(1)->fields.name == "Ada Lovelace");
  eventstore::DatabaseReader reader(ledger.database());
  CHECK(eventstore::load_head(reader) == head_before);
  CHECK(eventstore::pending_erasures(reader).empty());
  CHECK_FALSE(eventstore::read_entry(reader, 1)->redacted());

  // The repair `ledger-admin rebuild` runs, then the same cleanup redacts all three entries.
  ledger.close();
  {
    auto database = eventstore::Database::open(ledger.dir() / "data", {});
    const auto repair = eventstore::repair_stream_index(*database);
    CHECK(repair.rows_added == 1);
    CHECK(repair.rows_removed == 0);
  }
  ledger.open();
  auto purge = accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 2}));
  CHECK(purge.numbers == Numbers{1, 3});
  const auto erasure = ledger.service().wait_for_erasure(purge.seqs.back(), std::chrono::seconds(60));
  REQUIRE(erasure);
  CHECK(erasure->verified());
  CHECK(erasure->unredacted_entries.empty());
  eventstore::scan_entries(eventstore::DatabaseReader(ledger.database()), 1, [&](const eventstore::Envelope& e) {
    if (e.customer == ada) CHECK(e.redacted());
    return true;
  });
  CHECK(projections::verify_ledger(eventstore::DatabaseReader(ledger.database())).ok);
}
