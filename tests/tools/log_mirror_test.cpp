// LogMirror against a real ledgerd: a purge that arrives after the copy took its customers'
// entries redacts them in the copy as on the server, and a stub that names a purge beyond the
// bound makes the copy read up to that purge, so the copy verifies as a whole prefix.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include <catch2/catch.hpp>

#include "domain/events.h"
#include "eventstore/encoding.h"
#include "eventstore/event_log.h"
#include "eventstore/sealing.h"
#include "support/ledgerd_process.h"
#include "projections/verify.h"
#include "support/ledger_fixture.h"
#include "tools/audit/log_mirror.h"
#include "tools/common/log_json.h"

using namespace ledger;
using ledger::testing::accepted;
using ledger::testing::Ledger;
using ledger::testing::LedgerdProcess;

namespace {

tools::ClientOptions at(const LedgerdProcess& server) {
  return tools::ClientOptions{.server = server.address(), .tls = false, .tls_ca = ""};
}

// Every entry of the log as export writes it.
std::vector<std::string> exported(eventstore::Database& database) {
  std::vector<std::string> lines;
  eventstore::scan_entries(eventstore::DatabaseReader(database), 1, [&](const eventstore::Envelope& e) {
    lines.push_back(tools::to_line(tools::envelope_json(e)));
    return true;
  });
  return lines;
}

void purge(const LedgerdProcess& server) {
  tools::ServerSession admin(at(server), "any", "test");
  auto reply = admin.call([](protocol::Request::Builder r) {
    auto p = r.initPurge();
    p.setConfirm(true);
    p.setWait(true);
  });
  REQUIRE(reply.get().isPurged());
}

}  // namespace

TEST_CASE("the log's copy redacts what a purge read after its entries redacted", "[audit][server]") {
  Ledger ledger;
  ledger.create("Bo");   // seq 1, id 1
  ledger.create("Ada");  // seq 2, id 2
  accepted(ledger.service().execute(domain::DeleteCustomers{{1}}));  // seq 3
  ledger.close();
  LedgerdProcess server(ledger.dir() / "data");  // no tokens file: every token is an admin

  tools::LogMirror mirror(at(server), "any", "test");
  mirror.follow_to(3);
  REQUIRE(mirror.next_seq() == 4);
  CHECK_FALSE(eventstore::read_entry(eventstore::DatabaseReader(mirror.database()), 1)->redacted());

  purge(server);  // seq 4 redacts Bo's entries 1 and 3
  mirror.follow_to(4);
  CHECK(mirror.next_seq() == 5);
  mirror.rebuild();
  auto report = projections::verify_ledger(eventstore::DatabaseReader(mirror.database()), {.digests = false, .read_remembered = {}});
  INFO(report.problem);
  CHECK(report.ok);
  CHECK(report.stubs == 2);

  // The copy now equals the server's log, byte for byte as exported.
  REQUIRE(server.stop() == 0);
  ledger.open();
  CHECK(exported(mirror.database()) == exported(ledger.database()));
}

TEST_CASE("a stub that names a later purge makes the copy read up to that purge", "[audit][server]") {
  Ledger ledger;
  ledger.create("Bo");   // seq 1
  ledger.create("Ada");  // seq 2
  accepted(ledger.service().execute(domain::DeleteCustomers{{1}}));  // seq 3
  accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 1}));  // seq 4
  ledger.create("Cy");  // seq 5
  ledger.close();
  LedgerdProcess server(ledger.dir() / "data");

  tools::LogMirror mirror(at(server), "any", "test");
  mirror.follow_to(1);  // entry 1 is a stub of purge 4
  CHECK(mirror.next_seq() == 5);
  mirror.rebuild();
  auto report = projections::verify_ledger(eventstore::DatabaseReader(mirror.database()), {.digests = false, .read_remembered = {}});
  INFO(report.problem);
  CHECK(report.ok);
  CHECK(report.purges == 1);
}

TEST_CASE("the log's copy stores payloads sealed under keys of its own: no customer value in its files", "[audit][server]") {
  Ledger ledger;
  ledger.create("Quorbly Plaintextmarker");  // seq 1, id 1
  accepted(ledger.service().execute(domain::EditCustomer{1, {{domain::Field::kNotes, "Vexlow Notemarker"}}, {}}));
  ledger.close();
  LedgerdProcess server(ledger.dir() / "data");

  tools::LogMirror mirror(at(server), "any", "test");
  mirror.follow_to(2);
  mirror.rebuild();
  // Read through the copy, the values open.
  eventstore::DatabaseReader reader(mirror.database());
  const auto first = eventstore::read_entry(reader, 1);
  REQUIRE(first);
  auto event = domain::decode_event(first->payload);
  REQUIRE(event.ok());
  CHECK(std::get<domain::CustomerCreated>(event.value()).fields.name == "Quorbly Plaintextmarker");
  // On disk, every payload is sealed and neither value appears in any file.
  eventstore::EnvelopeDecoder raw;  // no keys: payloads as stored
  for (std::uint64_t seq = 1; seq <= 2; ++seq) {
    const auto stored = reader.get(eventstore::Family::kLog, eventstore::u64_key(seq));
    REQUIRE(stored);
    CHECK(eventstore::is_sealed(raw.decode(*stored, seq).payload));
  }
  auto& db = mirror.database();
  REQUIRE(db.db().Flush(rocksdb::FlushOptions(), db.all_families()).ok());
  std::size_t files = 0;
  for (const auto& file : std::filesystem::recursive_directory_iterator(db.dir())) {
    if (!file.is_regular_file()) continue;
    ++files;
    std::ifstream in(file.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(file.path());
    CHECK(bytes.find("Plaintextmarker") == std::string::npos);
    CHECK(bytes.find("Notemarker") == std::string::npos);
  }
  CHECK(files > 0);
}
