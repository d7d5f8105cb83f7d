// The networked minimal log that ledger-bench write --raw measures the ledger against: it
// answers ledgerd's protocol as the bench's clients expect, and what it answered is durable.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>
#include <rocksdb/iterator.h>
#include <unistd.h>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "tools/bench/minimal_log_server.h"
#include "ledger/client/connection.h"

namespace fs = std::filesystem;
using ledger::bench::MinimalLogServer;
using ledger::client::Connection;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("minimal-log-test-" + std::to_string(getpid()));
  TempDir() { fs::remove_all(path); }
  ~TempDir() { fs::remove_all(path); }
};

Connection connect(const MinimalLogServer& server) {
  ledger::client::ConnectOptions options;
  options.server = server.address();
  return Connection(options);
}

std::string bytes_of(capnp::MessageBuilder& message) {
  const auto words = capnp::messageToFlatArray(message);
  const auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

}  // namespace

TEST_CASE("the minimal log answers pipelined creates and keeps each one after it stops", "[bench]") {
  constexpr unsigned kCreates = 300;
  TempDir dir;
  std::vector<std::string> sent(kCreates);
  {
    MinimalLogServer server(dir.path, 2);
    auto client = connect(server);
    {
      capnp::MallocMessageBuilder hello;
      ledger::client::new_request(hello, 1).initHello().setToken("bench");
      CHECK(client.call(hello).get().isWelcome());
    }
    for (unsigned i = 0; i < kCreates; ++i) {
      capnp::MallocMessageBuilder message;
      auto request = ledger::client::new_request(message, 100 + i);
      request.initCreate().initFields().setName("Customer " + std::to_string(i));
      sent[i] = bytes_of(message);
      client.send(message);
    }
    std::set<std::uint64_t> ids, numbers;
    for (unsigned i = 0; i < kCreates; ++i) {
      auto reply = client.receive();
      auto response = reply.get();
      REQUIRE(response.isWritten());
      ids.insert(response.getId());
      numbers.insert(response.getWritten().getNumber());
    }
    CHECK(ids.size() == kCreates);
    CHECK(*ids.begin() == 100);
    CHECK(*ids.rbegin() == 100 + kCreates - 1);
    CHECK(numbers.size() == kCreates);
    CHECK(*numbers.begin() > 0);
    server.stop();
    CHECK(server.appended() == kCreates);
  }

  auto db = ledger::eventstore::Database::open(dir.path, {});
  std::unique_ptr<rocksdb::Iterator> it(
      db->db().NewIterator({}, db->family(ledger::eventstore::Family::kLog)));
  std::vector<std::string> values;
  std::uint64_t expected_key = 1;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    CHECK(it->key().ToString() == ledger::eventstore::u64_key(expected_key++));
    values.push_back(it->value().ToString());
  }
  REQUIRE(it->status().ok());
  REQUIRE(values.size() == kCreates);
  // One connection's commands are appended in the order they were sent, each as its bytes.
  CHECK(values.front() == sent.front());
  CHECK(values.back() == sent.back());
}

TEST_CASE("the minimal log answers edits, deletes and undeletes as ledgerd answers their success", "[bench]") {
  TempDir dir;
  MinimalLogServer server(dir.path, 2);
  auto client = connect(server);
  {
    capnp::MallocMessageBuilder hello;
    ledger::client::new_request(hello, 1).initHello().setToken("bench");
    REQUIRE(client.call(hello).get().isWelcome());
  }
  {
    capnp::MallocMessageBuilder message;
    auto edit = ledger::client::new_request(message, 2).initEdit();
    edit.setNumber(7);
    edit.initChanges(1)[0].setValue("new name");
    auto reply = client.call(message);
    REQUIRE(reply.get().isWritten());
    CHECK(reply.get().getWritten().getNumber() == 7);
  }
  {
    capnp::MallocMessageBuilder message;
    auto numbers = ledger::client::new_request(message, 3).initDelete().initNumbers(2);
    numbers.set(0, 7);
    numbers.set(1, 9);
    auto reply = client.call(message);
    REQUIRE(reply.get().isChanged());
    CHECK(reply.get().getChanged().getNumbers().size() == 2);
    CHECK(reply.get().getChanged().getNumbers()[1] == 9);
  }
  {
    capnp::MallocMessageBuilder message;
    ledger::client::new_request(message, 4).initUndelete().initNumbers(1).set(0, 7);
    auto reply = client.call(message);
    REQUIRE(reply.get().isChanged());
    CHECK(reply.get().getChanged().getNumbers()[0] == 7);
  }
  {
    capnp::MallocMessageBuilder message;
    ledger::client::new_request(message, 5).initGet().setNumber(7);
    auto reply = client.call(message);
    REQUIRE(reply.get().isError());
    CHECK(reply.get().getError().getCode() == ledger::protocol::ErrorCode::BAD_REQUEST);
  }
  server.stop();
  CHECK(server.appended() == 3);
}
