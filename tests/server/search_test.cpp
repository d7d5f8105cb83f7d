// Search through the command service: read-your-writes under concurrent writers, searches
// issued while the index loads, purged customers, and the `search` family of 0.1.0 dropped
// from an existing directory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <future>
#include <thread>

#include <rocksdb/db.h>

#include "eventstore/erasure_pass.h"
#include "projections/queries.h"
#include "projections/verify.h"
#include "support/layout_0_1_0.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::Ledger;
using ledger::testing::person;
using projections::CustomerList;

namespace {

using Numbers = std::vector<domain::CustomerNumber>;

Numbers numbers_of(const projections::CustomerPage& page) {
  Numbers out;
  for (const auto& c : page.customers) out.push_back(c.number);
  return out;
}

// Holds the index's load until release() (or the end of the test, so that a failing test
// does not leave the loading thread waiting); tells when a search starts waiting for it.
struct HeldLoad {
  std::promise<void> release_load;
  std::shared_future<void> load_released = release_load.get_future().share();
  std::promise<void> search_waits;
  bool released = false;

  server::CommandServiceOptions options(std::chrono::milliseconds wait) {
    server::CommandServiceOptions o;
    o.search_load_wait = wait;
    o.search_hooks.before_load = [f = load_released] { f.wait(); };
    o.search_hooks.on_wait = [this] { search_waits.set_value(); };
    return o;
  }
  void release() {
    if (!released) release_load.set_value();
    released = true;
  }
  ~HeldLoad() { release(); }
};

// Declared after the Ledger: releases the load before the service, which joins the loading
// thread, is stopped.
struct ReleaseAtEnd {
  HeldLoad& held;
  ~ReleaseAtEnd() { held.release(); }
};

}  // namespace

TEST_CASE("every writer finds its own change in its next search, while others write", "[service][search]") {
  Ledger ledger;
  constexpr int kWriters = 8, kEach = 40;
  std::vector<std::future<int>> writers;
  for (int w = 0; w < kWriters; ++w) {
    // Catch2's assertions are not thread-safe: the writers only count what went wrong.
    writers.push_back(std::async(std::launch::async, [&ledger, w] {
      int missed = 0;
      for (int i = 0; i < kEach; ++i) {
        const auto tag = "writer" + std::to_string(w) + "x" + std::to_string(i) + "q";
        const auto outcome = ledger.service().execute(domain::CreateCustomer{person("Ann " + tag), {}});
        const auto* created = std::get_if<server::Accepted>(&outcome);
        if (!created) return -1;
        const auto page = ledger.service().list(CustomerList::kActive, 0, 10, tag);
        if (numbers_of(page) != created->numbers) ++missed;
        const auto number = created->numbers.front();
        const auto edited =
            ledger.service().execute(domain::EditCustomer{number, {{domain::Field::kName, "Renamed " + tag + "z"}}, {}});
        if (!std::holds_alternative<server::Accepted>(edited)) return -1;
        if (numbers_of(ledger.service().list(CustomerList::kActive, 0, 10, tag + "z")) != created->numbers) ++missed;
        if (!ledger.service().list(CustomerList::kActive, 0, 10, "ann " + tag).customers.empty()) ++missed;
      }
      return missed;
    }));
  }
  for (auto& w : writers) CHECK(w.get() == 0);
  CHECK(ledger.service().list(CustomerList::kActive, 0, 1000, "renamed").customers.size() == kWriters * kEach);
}

TEST_CASE("a purged customer is never found again, and its number's next holder is", "[service][search]") {
  Ledger ledger;
  ledger.create("Ada Lovelace");
  ledger.create("Bo Lovelace");
  accepted(ledger.service().execute(domain::DeleteCustomers{{1}}));
  CHECK(numbers_of(ledger.service().list(CustomerList::kDeleted, 0, 10, "lovelace")) == Numbers{1});
  accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 1}));
  CHECK(ledger.service().list(CustomerList::kDeleted, 0, 10, "lovelace").customers.empty());
  CHECK(numbers_of(ledger.service().list(CustomerList::kActive, 0, 10, "lovelace")) == Numbers{2});
  ledger.create("Cy Newcomer");  // takes number 1 again
  CHECK(numbers_of(ledger.service().list(CustomerList::kActive, 0, 10, "newcomer")) == Numbers{1});
  CHECK(ledger.service().list(CustomerList::kActive, 0, 10, "ada").customers.empty());
  // After a restart the index is loaded from the customers' states: the same answers.
  ledger.reopen();
  CHECK(ledger.service().list(CustomerList::kActive, 0, 10, "ada").customers.empty());
  CHECK(numbers_of(ledger.service().list(CustomerList::kActive, 0, 10, "lovelace")) == Numbers{2});
  CHECK(numbers_of(ledger.service().list(CustomerList::kActive, 0, 10, "NEWCOMER")) == Numbers{1});
}

TEST_CASE("a search issued while the index loads waits for it, and sees what was written meanwhile",
          "[service][search]") {
  HeldLoad held;
  Ledger ledger(held.options(std::chrono::minutes(5)));
  const ReleaseAtEnd at_end{held};
  // Written while the load has not read anything: kept by the index, applied after the load.
  ledger.create("Straße Müller");
  auto search = std::async(std::launch::async, [&] {
    return numbers_of(ledger.service().list(CustomerList::kActive, 0, 10, "STRASSE"));
  });
  held.search_waits.get_future().wait();
  held.release();
  CHECK(search.get() == Numbers{1});
}

TEST_CASE("a search that would wait longer than allowed is refused, not answered wrong", "[service][search]") {
  HeldLoad held;
  Ledger ledger(held.options(std::chrono::milliseconds(0)));
  const ReleaseAtEnd at_end{held};
  ledger.create("Ada");
  CHECK_THROWS_AS(ledger.service().list(CustomerList::kActive, 0, 10, "ada"), projections::SearchNotReady);
  // Lists without a search fragment never wait for the index.
  CHECK(numbers_of(ledger.service().list(CustomerList::kActive, 0, 10)) == Numbers{1});
}

TEST_CASE("an open drops the search family of an earlier layout, and search works from memory", "[service][search]") {
  Ledger ledger;
  ledger.create("Ada Lovelace");
  ledger.close();
  const auto dir = ledger.dir() / "data";
  // What an earlier version left: a `search` family with hashed trigram rows.
  testing::change_families(dir, [](rocksdb::DB& db, const testing::FamilyByName& family) {
    REQUIRE(db.Put(rocksdb::WriteOptions(), family("search"), std::string("\x07\x22\0\0\0\0\0\0\0\x01", 10), "").ok());
    REQUIRE(db.Flush(rocksdb::FlushOptions(), family("search")).ok());
  });
  REQUIRE(testing::has_family(dir, "search"));

  ledger.open();
  CHECK_FALSE(testing::has_family(dir, "search"));
  CHECK(numbers_of(ledger.service().list(CustomerList::kActive, 0, 10, "lovelace")) == Numbers{1});
  ledger.close();
  // Read-only opens (the audit tools) of the migrated directory work as well.
  eventstore::OpenOptions read_only;
  read_only.create_if_missing = false;
  read_only.read_only = true;
  auto reader = eventstore::Database::open(dir, read_only);
  auto report = projections::verify_ledger(eventstore::DatabaseReader(*reader));
  INFO(report.problem);
  CHECK(report.ok);
}

TEST_CASE("after a restart the loaded index answers as a check of every customer would", "[service][search]") {
  Ledger ledger;
  const std::vector<std::string> names = {"Ada", "Åsa", "Bo", "Søren", "Zoë", "Σοφία", "Straße", "Li Wei"};
  for (int i = 0; i < 600; ++i) {
    const auto& name = names[static_cast<std::size_t>(i) % names.size()];
    accepted(ledger.service().execute(domain::CreateCustomer{
        person(name + " " + std::to_string(i * 7919 % 1000), "c" + std::to_string(i) + "@example.org",
               "+1 555 " + std::to_string(1000 + i)),
        {}}));
  }
  std::vector<domain::CustomerNumber> to_delete;
  for (domain::CustomerNumber n = 3; n <= 600; n += 5) to_delete.push_back(n);
  accepted(ledger.service().execute(domain::DeleteCustomers{to_delete}));
  ledger.reopen();

  // The answer a plain check of every customer gives, page by page.
  auto expected = [&](CustomerList list, const std::string& fragment) {
    Numbers out;
    std::optional<domain::CustomerNumber> after = 0;
    while (after) {
      auto page = ledger.service().list(list, *after, 100);
      for (const auto& c : page.customers) {
        if (projections::matches(c.fields, fragment)) out.push_back(c.number);
      }
      after = page.next;
    }
    return out;
  };
  auto searched = [&](CustomerList list, const std::string& fragment) {
    Numbers out;
    std::optional<domain::CustomerNumber> after = 0;
    while (after) {
      auto page = ledger.service().list(list, *after, 50, fragment);
      for (const auto& c : page.customers) out.push_back(c.number);
      after = page.next;
    }
    return out;
  };
  for (const std::string fragment : {"ada", "SØREN", "σοφ", "strasse", "li wei", "555 10", "5551042", "example",
                                     "c12", "zo", "9", "nobody"}) {
    INFO(fragment);
    CHECK(searched(CustomerList::kActive, fragment) == expected(CustomerList::kActive, fragment));
    CHECK(searched(CustomerList::kDeleted, fragment) == expected(CustomerList::kDeleted, fragment));
  }
  CHECK_FALSE(searched(CustomerList::kDeleted, "ada").empty());
}

TEST_CASE("the erasure pass starts as soon as the purge is durable, with no later command and the index not loaded",
          "[service][erasure]") {
  HeldLoad held;
  auto options = held.options(std::chrono::milliseconds(0));
  std::promise<void> flushed;
  std::atomic<bool> seen{false};
  options.erasure_stage_hook = [&](eventstore::ErasureStage stage) {
    if (stage == eventstore::ErasureStage::kFlushed && !seen.exchange(true)) flushed.set_value();
  };
  Ledger ledger(options);
  ReleaseAtEnd release{held};
  for (auto name : {"Ada Lovelace", "Bo Lovelace", "Cy Lovelace"}) ledger.create(name);
  accepted(ledger.service().execute(domain::DeleteCustomers{{1, 3}}));
  const auto purge = accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 2}));

  // Nothing else is sent and the search index is still held from loading: the pass starts on
  // its own, woken by the purge's durable batch.
  REQUIRE(flushed.get_future().wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  const auto report = ledger.service().wait_for_erasure(purge.seqs.front(), std::chrono::seconds(60));
  REQUIRE(report);
  const auto text = eventstore::to_json(*report);
  INFO(text);
  CHECK(text.find("\"verified\":true,\"unreadable\"") != std::string::npos);
  // With the probes the purge handed over, not recovered from old versions.
  CHECK(text.find("\"check\":\"probed\"") != std::string::npos);
  CHECK(text.find("\"entries_probed\":4,") != std::string::npos);  // each created and deleted
}
