// The reads the request handler answers stats and erasure reports from, through the command
// service: the lists' counts, the log's head, which entries are purges and their receipts.
#include <catch2/catch.hpp>

#include "eventstore/event_log.h"
#include "eventstore/reader.h"
#include "support/ledger_fixture.h"

using namespace ledger;

TEST_CASE("the service counts the active and deleted customers and reads the log's head", "[service][reads]") {
  testing::Ledger ledger;
  auto& service = ledger.service();
  CHECK(service.counts().active == 0);
  CHECK(service.counts().deleted == 0);
  CHECK(service.log_head().next_seq == 1);

  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  testing::accepted(service.execute(domain::DeleteCustomers{{2}}));
  const auto counts = service.counts();
  CHECK(counts.active == 2);
  CHECK(counts.deleted == 1);
  const auto head = service.log_head();
  CHECK(head.next_seq == 5);
  CHECK(head == eventstore::load_head(eventstore::DatabaseReader(ledger.database())));
}

TEST_CASE("the service tells a purge's entry from others and reads its receipt", "[service][reads]") {
  testing::Ledger ledger;
  testing::fill_with_purge(ledger);  // 8 is the purge of Cy and Di (numbers 3 and 4)
  auto& service = ledger.service();

  CHECK(service.is_purge(8));
  CHECK_FALSE(service.is_purge(1));
  CHECK_FALSE(service.is_purge(7));
  CHECK_FALSE(service.is_purge(100));  // no entry

  const auto receipt = service.purge_receipt(8);
  REQUIRE(receipt);
  CHECK(receipt->numbers == std::vector<domain::CustomerNumber>{3, 4});
  CHECK(receipt->ids == std::vector<domain::CustomerId>{3, 4});
  CHECK_FALSE(service.purge_receipt(100));

  REQUIRE(service.wait_for_erasure(8, std::chrono::minutes(2)));
  const auto report = service.erasure_report(8);
  REQUIRE(report);
  CHECK(report->purge_seqs == std::vector<std::uint64_t>{8});
  CHECK_FALSE(service.erasure_report(1));
}
