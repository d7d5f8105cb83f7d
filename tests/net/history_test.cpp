// A customer's history as a client reads it from a real ledgerd over TCP: each change carries
// its fields' old and new values, so "who changed what, old -> new" needs no replay.
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "support/ledgerd_client.h"
#include "support/ledgerd_process.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdClient;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;
using protocol::Field;

namespace {

using Changed = std::vector<std::tuple<Field, std::string, std::string>>;  // field, old, new
using Changes = std::vector<std::pair<Field, std::string>>;               // field, new

// Edits customer `number`; the edit must be written.
void edit(LedgerdClient& client, std::uint64_t number, const Changes& changes) {
  auto reply = client.call([&](auto r) {
    auto edit = r.initEdit();
    edit.setNumber(number);
    auto list = edit.initChanges(static_cast<unsigned>(changes.size()));
    for (unsigned i = 0; i < changes.size(); ++i) {
      list[i].setField(changes[i].first);
      list[i].setValue(changes[i].second);
    }
  });
  REQUIRE(reply.get().isWritten());
}

Changed changed_of(protocol::HistoryEvent::Reader event) {
  Changed out;
  for (auto c : event.getChangedFields()) out.emplace_back(c.getField(), c.getOldValue().cStr(), c.getNewValue().cStr());
  return out;
}

Changes changes_of(protocol::HistoryEvent::Reader event) {
  Changes out;
  for (auto c : event.getChanges()) out.emplace_back(c.getField(), c.getValue().cStr());
  return out;
}

}  // namespace

TEST_CASE("history over TCP: created, edited and edited again, each field old to new", "[ledgerd][history]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  LedgerdClient client(server);
  REQUIRE(client.call([](auto r) {
                  auto fields = r.initCreate().initFields();
                  fields.setName("Ada");
                  fields.setEmail("ada@example.org");
                }).get().isWritten());
  edit(client, 1, {{Field::NAME, "Ada Lovelace"}, {Field::NOTES, "owes 12.50"}});
  edit(client, 1, {{Field::NOTES, ""}, {Field::NAME, "Ada King"}, {Field::EMAIL, "ada@example.org"}});
  REQUIRE(client.call([](auto r) { r.initDelete().initNumbers(1).set(0, 1); }).get().isChanged());

  auto reply = client.call([](auto r) { r.initHistory().setNumber(1); });
  REQUIRE(reply.get().isHistory());
  auto events = reply.get().getHistory().getEvents();
  REQUIRE(events.size() == 4);

  CHECK(events[0].getEventKind() == protocol::EventKind::CREATED);
  CHECK(changed_of(events[0]) == Changed{{Field::NAME, "", "Ada"}, {Field::EMAIL, "", "ada@example.org"}});
  CHECK(events[1].getEventKind() == protocol::EventKind::EDITED);
  CHECK(changed_of(events[1]) == Changed{{Field::NAME, "Ada", "Ada Lovelace"}, {Field::NOTES, "", "owes 12.50"}});
  // The e-mail address it names unchanged is not a change.
  CHECK(changed_of(events[2]) == Changed{{Field::NOTES, "owes 12.50", ""}, {Field::NAME, "Ada Lovelace", "Ada King"}});
  CHECK(events[3].getEventKind() == protocol::EventKind::DELETED);
  CHECK(changed_of(events[3]).empty());

  // What clients read before old values were sent is still sent: the new values.
  CHECK(changes_of(events[0]) == Changes{{Field::NAME, "Ada"}, {Field::EMAIL, "ada@example.org"}});
  CHECK(changes_of(events[2]) == Changes{{Field::NOTES, ""}, {Field::NAME, "Ada King"}});
  CHECK(std::string(events[2].getKind().cStr()) == "CustomerEdited");

  // Purged, the customer has no history; its number's next holder has only its own.
  auto purge = client.call([](auto r) { r.initPurge().setConfirm(true); });
  REQUIRE(purge.get().isPurged());
  auto gone = client.call([](auto r) { r.initHistory().setNumber(1); });
  REQUIRE(gone.get().isError());
  CHECK(gone.get().getError().getCode() == protocol::ErrorCode::NOT_FOUND);
  REQUIRE(client.call([](auto r) { r.initCreate().initFields().setName("Bo"); }).get().isWritten());
  auto bo = client.call([](auto r) { r.initHistory().setNumber(1); });
  REQUIRE(bo.get().isHistory());
  REQUIRE(bo.get().getHistory().getEvents().size() == 1);
  CHECK(changed_of(bo.get().getHistory().getEvents()[0]) == Changed{{Field::NAME, "", "Bo"}});
  CHECK(server.stop() == 0);
}
