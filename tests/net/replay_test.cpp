// Commands sent again with their request key, over TCP to a real ledgerd, as a client retrying
// after a broken connection does: for every command kind the replay's answer is the first
// answer field for field, with replayed = true, also after a restart; another command with the
// key is refused with requestKeyReused, names the command the key belongs to, and changes
// nothing a client can see.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>
#include <kj/string.h>

#include "ledger/client/client.h"
#include "support/ledgerd_client.h"
#include "support/ledgerd_process.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdClient;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;
using protocol::ErrorCode;

namespace {

using Fill = client::RequestFill;

// The request builders the cases use.
Fill create(std::string name, std::uint64_t number = 0) {
  return [name, number](protocol::Request::Builder r) {
    auto c = r.initCreate();
    c.initFields().setName(name);
    c.setNumber(number);
  };
}
Fill edit_email(std::uint64_t number, std::string email) {
  return [number, email](protocol::Request::Builder r) {
    auto e = r.initEdit();
    e.setNumber(number);
    auto change = e.initChanges(1)[0];
    change.setField(protocol::Field::EMAIL);
    change.setValue(email);
  };
}
Fill numbers_of(bool del, std::vector<std::uint64_t> numbers) {
  return [del, numbers](protocol::Request::Builder r) {
    auto list = del ? r.initDelete().initNumbers(static_cast<unsigned>(numbers.size()))
                    : r.initUndelete().initNumbers(static_cast<unsigned>(numbers.size()));
    for (unsigned i = 0; i < numbers.size(); ++i) list.set(i, numbers[i]);
  };
}
Fill del(std::vector<std::uint64_t> numbers) { return numbers_of(true, std::move(numbers)); }
Fill undel(std::vector<std::uint64_t> numbers) { return numbers_of(false, std::move(numbers)); }
Fill purge(std::int64_t expect_count, bool wait) {
  return [expect_count, wait](protocol::Request::Builder r) {
    auto p = r.initPurge();
    p.setConfirm(true);
    p.setExpectCount(expect_count);
    p.setWait(wait);
  };
}

template <typename Reader>
std::string text(Reader reader) {
  return kj::str(reader).cStr();
}

// The answer `first` as a replay sent as request `id` must be: every field the same, but
// replayed = true.
std::string as_replay(const client::Reply& first, std::uint64_t id) {
  capnp::MallocMessageBuilder message;
  message.setRoot(first.get());
  auto response = message.getRoot<protocol::Response>();
  response.setId(id);
  using W = protocol::Response::Which;
  switch (response.which()) {
    case W::WRITTEN: response.getWritten().setReplayed(true); break;
    case W::CHANGED: response.getChanged().setReplayed(true); break;
    case W::PURGED: response.getPurged().setReplayed(true); break;
    default: FAIL("not a command's answer: " << text(first.get()));
  }
  return text(response.asReader());
}

// What a client can see of the ledger: both lists, whole, and the log's next seq.
std::string seen(LedgerdClient& client) {
  std::string out;
  for (bool deleted : {false, true}) {
    auto page = client.call("", [deleted](auto r) {
      auto l = r.initList();
      l.setDeleted(deleted);
      l.setLimit(1000);
    });
    REQUIRE(page.get().isPage());
    out += text(page.get().getPage()) + "\n";
  }
  auto stats = client.call("", [](auto r) { r.setStats(); });
  REQUIRE(stats.get().isStats());
  return out + "next seq " + std::to_string(stats.get().getStats().getNextSeq());
}

void check_reused(LedgerdClient& client, const std::string& key, const Fill& fill, const std::string& first_kind) {
  const auto before = seen(client);
  auto reply = client.call(key, fill);
  INFO(text(reply.get()));
  REQUIRE(reply.get().isError());
  const auto error = reply.get().getError();
  CHECK(error.getCode() == ErrorCode::REQUEST_KEY_REUSED);
  CHECK(std::string(error.getField().cStr()) == "requestKey");
  CHECK_THAT(error.getMessage().cStr(), Catch::Contains("already used for a " + first_kind));
  CHECK(seen(client) == before);
}

}  // namespace

TEST_CASE("over TCP, every command kind: a replay answers as the first time, a reused key is refused",
          "[ledgerd][request-key]") {
  struct Case {
    const char* kind;
    std::vector<Fill> setup;  // sent without keys
    Fill first;
    Fill same_kind_other;
    Fill other_kind;
  };
  const std::vector<Fill> two = {create("Ada"), create("Bo")};
  const std::vector<Fill> two_deleted = {create("Ada"), create("Bo"), del({1, 2})};
  const std::vector<Case> cases = {
      {"create", {}, create("Ada"), create("Bo"), del({1})},
      {"create", {}, create("Ada", 512), create("Ada"), edit_email(512, "ada@example.org")},
      {"edit", two, edit_email(1, "ada@example.org"), edit_email(1, "ada@example.com"), undel({1})},
      {"delete", two, del({1, 2}), del({1}), undel({1, 2})},
      {"undelete", two_deleted, undel({1, 2}), undel({2}), purge(-1, false)},
      {"purge", two_deleted, purge(2, true), purge(-1, true), create("Cy")},
      {"purge", two_deleted, purge(-1, false), purge(2, false), del({1})},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    CAPTURE(i, c.kind);
    TempDir dir;
    std::string first_answer;
    {
      LedgerdProcess server(dir.path() / "data");
      LedgerdClient client(server);
      for (const auto& fill : c.setup) REQUIRE_FALSE(client.call("", fill).get().isError());
      const auto first = client.call("key-1", c.first);
      INFO(text(first.get()));
      REQUIRE_FALSE(first.get().isError());
      const auto after_first = seen(client);

      auto again = client.call("key-1", c.first);
      CHECK(text(again.get()) == as_replay(first, client.last_id()));
      CHECK(seen(client) == after_first);
      check_reused(client, "key-1", c.same_kind_other, c.kind);
      check_reused(client, "key-1", c.other_kind, c.kind);

      // Through another connection, as a client retrying after a broken one does.
      LedgerdClient retry(server);
      auto on_retry = retry.call("key-1", c.first);
      CHECK(text(on_retry.get()) == as_replay(first, retry.last_id()));
      CHECK(server.stop() == 0);
      first_answer = as_replay(first, 1);
    }
    LedgerdProcess server(dir.path() / "data");
    LedgerdClient client(server);
    auto after_restart = client.call("key-1", c.first);
    capnp::MallocMessageBuilder renumbered;
    renumbered.setRoot(after_restart.get());
    renumbered.getRoot<protocol::Response>().setId(1);
    CHECK(text(renumbered.getRoot<protocol::Response>().asReader()) == first_answer);
    check_reused(client, "key-1", c.other_kind, c.kind);
    CHECK(server.stop() == 0);
  }
}

TEST_CASE("over TCP, pipelined with one key: the same create is done once, another command is refused",
          "[ledgerd][request-key]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  LedgerdClient client(server);
  // One write carries all four, so that they are read together and share group commits.
  std::vector<Fill> sent = {create("Ada"), create("Ada"), del({1}), edit_email(1, "ada@example.org")};
  std::vector<capnp::byte> bytes;
  for (const auto& fill : sent) {
    auto words = capnp::messageToFlatArray(*client.build("K", fill));
    auto b = words.asBytes();
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
  client.connection().send_bytes(bytes.data(), bytes.size());
  std::map<std::uint64_t, client::Reply> answers;  // by request id
  const auto first_id = client.last_id() - sent.size() + 1;
  while (answers.size() < sent.size()) {
    auto reply = client.connection().receive();
    const auto id = reply.get().getId();
    answers.emplace(id, std::move(reply));
  }
  const auto& first = answers.at(first_id);
  REQUIRE(first.get().isWritten());
  CHECK_FALSE(first.get().getWritten().getReplayed());
  CHECK(text(answers.at(first_id + 1).get()) == as_replay(first, first_id + 1));
  for (auto id : {first_id + 2, first_id + 3}) {
    INFO(text(answers.at(id).get()));
    REQUIRE(answers.at(id).get().isError());
    CHECK(answers.at(id).get().getError().getCode() == ErrorCode::REQUEST_KEY_REUSED);
  }
  auto ada = client.call("", [](auto r) { r.initGet().setNumber(1); });
  REQUIRE(ada.get().isCustomer());
  CHECK(ada.get().getCustomer().getStatus() == protocol::Status::ACTIVE);
  CHECK(ada.get().getCustomer().getRevision() == 1);
  auto stats = client.call("", [](auto r) { r.setStats(); });
  CHECK(stats.get().getStats().getActive() == 1);
  CHECK(stats.get().getStats().getNextSeq() == 2);
  CHECK(server.stop() == 0);
}
