// ledgerd as clients meet it: a real server process on a loopback port, spoken to over TCP by
// the ledger's own client, by raw sockets sending bad bytes, and by the capnp tool.
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "server/tokens.h"
#include "support/temp_dir.h"
#include "support/frame_bytes.h"
#include "support/ledger_calls.h"
#include "support/ledgerd_process.h"
#include "net/raw_connection.h"
#include "ledger/client/connection.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::bytes_of;
using ledger::testing::RawConnection;
using ledger::testing::request_message;
using ledger::testing::u32s;
using ledger::testing::TempDir;
using protocol::ErrorCode;

namespace {

client::ConnectOptions at(const LedgerdProcess& server) { return {server.address(), false, {}}; }

client::Reply call(client::Connection& client, std::uint64_t id, auto fill) {
  auto message = request_message(id, fill);
  return client.call(*message);
}

void say_hello(client::Connection& client, const std::string& token = "") {
  auto reply = call(client, 1, [&](auto r) { r.initHello().setToken(token); });
  INFO((reply.get().isError() ? reply.get().getError().getMessage().cStr() : "welcome"));
  REQUIRE(reply.get().isWelcome());
}

std::uint64_t create(client::Connection& client, const std::string& name, std::uint64_t id = 2) {
  auto reply = call(client, id, [&](auto r) { r.initCreate().initFields().setName(name); });
  REQUIRE(reply.get().isWritten());
  return reply.get().getWritten().getNumber();
}

ErrorCode connection_error(RawConnection& raw) {
  auto response = raw.response();
  REQUIRE(response);
  REQUIRE(response->get().isError());
  return response->get().getError().getCode();
}

// A client that keeps working while others misbehave.
void check_still_served(client::Connection& bystander, std::uint64_t& id) {
  auto reply = call(bystander, ++id, [](auto r) { r.initList().setLimit(1); });
  CHECK(reply.get().isPage());
}

}  // namespace

TEST_CASE("hello, create and get over TCP, with responses carrying the request id", "[ledgerd]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  client::Connection client(at(server));
  say_hello(client);
  CHECK(create(client, "Ada", 41) == 1);
  auto reply = call(client, 42, [](auto r) { r.initGet().setNumber(1); });
  REQUIRE(reply.get().isCustomer());
  CHECK(reply.get().getId() == 42);
  CHECK(std::string(reply.get().getCustomer().getFields().getName().cStr()) == "Ada");
  auto missing = call(client, 43, [](auto r) { r.initGet().setNumber(99); });
  REQUIRE(missing.get().isError());
  CHECK(missing.get().getError().getCode() == ErrorCode::NOT_FOUND);
  CHECK(server.stop() == 0);
}

TEST_CASE("search over TCP: each answer's change is in the next search, case folded for all of Unicode",
          "[ledgerd][search]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  client::Connection client(at(server));
  say_hello(client);
  std::uint64_t id = 10;
  auto search = [&](const std::string& fragment) {
    auto reply = call(client, ++id, [&](auto r) { r.initList().setSearch(fragment); });
    REQUIRE(reply.get().isPage());
    std::vector<std::string> names;
    for (auto c : reply.get().getPage().getCustomers()) names.emplace_back(c.getFields().getName().cStr());
    return names;
  };
  for (const std::string name : {"Ångström AB", "ΣΟΦΊΑ Παπαδοπούλου", "Straße & Söhne"}) {
    create(client, name, ++id);
    CHECK(search(name) == std::vector<std::string>{name});
  }
  CHECK(search("ångström") == std::vector<std::string>{"Ångström AB"});
  CHECK(search("σοφία") == std::vector<std::string>{"ΣΟΦΊΑ Παπαδοπούλου"});
  CHECK(search("STRASSE") == std::vector<std::string>{"Straße & Söhne"});
  CHECK(search("qqx").empty());
  CHECK(server.stop() == 0);
}

TEST_CASE("auth: each role may send exactly its commands", "[ledgerd][auth]") {
  TempDir dir;
  const auto tokens = dir.path() / "tokens";
  {
    std::ofstream out(tokens);
    out << "# name role sha256(token)\n";
    out << "till clerk " << server::token_hash_hex("clerk-secret") << "\n";
    out << "ida auditor " << server::token_hash_hex("auditor-secret") << "\n";
    out << "root admin " << server::token_hash_hex("admin-secret") << "\n";
  }
  std::filesystem::permissions(tokens, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  LedgerdProcess server(dir.path() / "data", {"--tokens", tokens.string()});

  using W = protocol::Request::Which;
  const std::vector<W> kinds = {W::CREATE, W::EDIT, W::DELETE, W::UNDELETE, W::PURGE,
                                W::GET,    W::LIST, W::HISTORY, W::STATS,   W::SUBSCRIBE};
  const std::map<std::string, std::set<W>> allowed = {
      {"clerk-secret", {W::CREATE, W::EDIT, W::DELETE, W::UNDELETE, W::GET, W::LIST, W::HISTORY}},
      {"auditor-secret", {W::GET, W::LIST, W::HISTORY, W::STATS, W::SUBSCRIBE}},
      {"admin-secret", {kinds.begin(), kinds.end()}}};

  for (const auto& [token, may] : allowed) {
    for (auto kind : kinds) {
      client::Connection client(at(server));
      say_hello(client, token);
      auto reply = call(client, 7, [&](protocol::Request::Builder r) {
        switch (kind) {
          case W::CREATE: r.initCreate().initFields().setName("Role Test"); break;
          case W::EDIT: {
            auto e = r.initEdit();
            e.setNumber(1);
            auto c = e.initChanges(1);
            c[0].setField(protocol::Field::NOTES);
            c[0].setValue("x");
            break;
          }
          case W::DELETE: r.initDelete().initNumbers(1).set(0, 999); break;
          case W::UNDELETE: r.initUndelete().initNumbers(1).set(0, 999); break;
          case W::PURGE: r.initPurge().setConfirm(true); break;
          case W::GET: r.initGet().setNumber(1); break;
          case W::LIST: r.initList(); break;
          case W::HISTORY: r.initHistory().setNumber(1); break;
          case W::STATS: r.setStats(); break;
          default: r.initSubscribe().setFromSeq(1); break;
        }
      });
      const bool forbidden = reply.get().isError() && reply.get().getError().getCode() == ErrorCode::FORBIDDEN;
      INFO(token << " request kind " << static_cast<int>(kind));
      CHECK(forbidden == (may.count(kind) == 0));
    }
  }

  // unauthenticated answers the request it refuses: its id comes back, not 0.
  SECTION("a wrong token is refused with the hello's id and the connection closed") {
    RawConnection raw(server.port());
    raw.send(*request_message(41, [](auto r) { r.initHello().setToken("guess"); }));
    auto refused = raw.response();
    REQUIRE(refused);
    REQUIRE(refused->get().isError());
    CHECK(refused->get().getError().getCode() == ErrorCode::UNAUTHENTICATED);
    CHECK(refused->get().getId() == 41);
    CHECK(raw.closed_by_server());
  }
  SECTION("a request before hello is refused with its id and the connection closed") {
    RawConnection raw(server.port());
    raw.send(*request_message(42, [](auto r) { r.initGet().setNumber(1); }));
    auto refused = raw.response();
    REQUIRE(refused);
    REQUIRE(refused->get().isError());
    CHECK(refused->get().getError().getCode() == ErrorCode::UNAUTHENTICATED);
    CHECK(refused->get().getId() == 42);
    CHECK(raw.closed_by_server());
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("bad bytes close only their own connection", "[ledgerd][bad-input]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--frame-timeout-ms", "300", "--hello-timeout-ms", "2000"});
  client::Connection bystander(at(server));
  say_hello(bystander);
  std::uint64_t id = 100;

  auto hello = bytes_of(*request_message(1, [](auto r) { r.initHello(); }));

  SECTION("random bytes") {
    std::mt19937 random(12345);
    for (int round = 0; round < 12; ++round) {
      RawConnection raw(server.port());
      std::vector<std::uint8_t> noise(1 + random() % 4096);
      for (auto& b : noise) b = static_cast<std::uint8_t>(random());
      raw.send(noise);
      CHECK(raw.closed_by_server(std::chrono::seconds(5)));
    }
  }
  SECTION("a header claiming 1 GiB") {
    RawConnection raw(server.port());
    raw.send(u32s({0, (1u << 30) / 8}));
    CHECK(connection_error(raw) == ErrorCode::TOO_LARGE);
    CHECK(raw.closed_by_server());
  }
  SECTION("0xFFFFFFFF segments") {
    RawConnection raw(server.port());
    raw.send(u32s({0xFFFFFFFFu}));
    CHECK(connection_error(raw) == ErrorCode::TOO_LARGE);
    CHECK(raw.closed_by_server());
  }
  SECTION("a deeply nested message") {
    // Each word points at a struct of one pointer that starts right after it: 200 levels.
    std::vector<std::uint8_t> frame = u32s({0, 200});
    for (int level = 0; level < 200; ++level) {
      const std::uint64_t pointer = level == 199 ? 0 : (std::uint64_t{1} << 48);  // offset 0, 0 data, 1 pointer
      for (int i = 0; i < 8; ++i) frame.push_back(static_cast<std::uint8_t>(pointer >> (8 * i)));
    }
    RawConnection raw(server.port());
    raw.send(frame);
    CHECK(connection_error(raw) == ErrorCode::BAD_REQUEST);
    CHECK(raw.closed_by_server());
  }
  SECTION("a truncated frame, then the client stops mid-frame") {
    RawConnection raw(server.port());
    raw.send(hello);
    REQUIRE(raw.response());
    auto create = bytes_of(*request_message(2, [](auto r) { r.initCreate().initFields().setName("Never"); }));
    create.resize(create.size() / 2);
    raw.send(create);
    CHECK(connection_error(raw) == ErrorCode::TIMEOUT);
    CHECK(raw.closed_by_server());
  }
  SECTION("no hello at all") {
    RawConnection raw(server.port());
    CHECK(connection_error(raw) == ErrorCode::TIMEOUT);
    CHECK(raw.closed_by_server());
  }
  check_still_served(bystander, id);
  CHECK(server.running());
  CHECK(server.stop() == 0);
}

TEST_CASE("1,000 pipelined requests on one connection are all answered by id", "[ledgerd][load]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--max-in-flight", "64"});
  client::Connection client(at(server));
  say_hello(client);
  std::vector<std::uint8_t> all;
  for (std::uint64_t id = 1; id <= 1000; ++id) {
    auto message = request_message(id, [&](auto r) { r.initCreate().initFields().setName("Pipelined " + std::to_string(id)); });
    auto bytes = bytes_of(*message);
    all.insert(all.end(), bytes.begin(), bytes.end());
  }
  std::thread writer([&] { client.send_bytes(all.data(), all.size()); });
  std::set<std::uint64_t> ids, numbers;
  for (int i = 0; i < 1000; ++i) {
    auto reply = client.receive();
    REQUIRE(reply.get().isWritten());
    ids.insert(reply.get().getId());
    numbers.insert(reply.get().getWritten().getNumber());
  }
  writer.join();
  CHECK(ids.size() == 1000);
  CHECK(*ids.begin() == 1);
  CHECK(*ids.rbegin() == 1000);
  CHECK(numbers.size() == 1000);
  CHECK(server.stop() == 0);
}

// One fsync per command would make an import over one connection as slow as a client that
// waits for each answer. The bound does not depend on how fast the machine is: the client sends
// all 500 at once, so while a group is written (an fsync) the connection reads the next requests
// and queues them behind it, and a command is written alone only when nothing is buffered,
// readable or queued. With at most 128 requests in flight, even groups that alternate between
// one command and all the others average 64 commands; fewer than 125 batches asks for 4.
TEST_CASE("500 creates pipelined on one connection share group commits: fewer than 125 batches",
          "[ledgerd][load][pipelined]") {
  constexpr std::uint64_t kCreates = 500;
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  client::Connection client(at(server));
  say_hello(client);
  auto before = call(client, 2, [](auto r) { r.setStats(); });
  REQUIRE(before.get().isStats());
  std::vector<std::uint8_t> all;
  for (std::uint64_t id = 100; id < 100 + kCreates; ++id) {
    auto message = request_message(id, [&](auto r) { r.initCreate().initFields().setName("Imported " + std::to_string(id)); });
    auto bytes = bytes_of(*message);
    all.insert(all.end(), bytes.begin(), bytes.end());
  }
  std::thread writer([&] { client.send_bytes(all.data(), all.size()); });
  std::set<std::uint64_t> numbers;
  for (std::uint64_t i = 0; i < kCreates; ++i) {
    auto reply = client.receive();
    REQUIRE(reply.get().isWritten());
    numbers.insert(reply.get().getWritten().getNumber());
  }
  writer.join();
  CHECK(numbers.size() == kCreates);
  auto after = call(client, 3, [](auto r) { r.setStats(); });
  REQUIRE(after.get().isStats());
  const auto commands = after.get().getStats().getCommands() - before.get().getStats().getCommands();
  const auto batches = after.get().getStats().getBatches() - before.get().getStats().getBatches();
  INFO(commands << " commands in " << batches << " batches");
  CHECK(commands == kCreates);
  CHECK(batches < kCreates / 4);
  CHECK(server.stop() == 0);
}

TEST_CASE("200 connections at once, and beyond the limit a client is told busy", "[ledgerd][load]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--max-connections", "200"});
  std::vector<std::unique_ptr<client::Connection>> clients;
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<client::Connection>(at(server)));
    say_hello(*clients.back());
  }
  RawConnection extra(server.port());
  CHECK(connection_error(extra) == ErrorCode::BUSY);
  for (std::size_t i = 0; i < clients.size(); ++i) create(*clients[i], "Client " + std::to_string(i));
  auto reply = call(*clients.front(), 9, [](auto r) { r.setStats(); });
  REQUIRE(reply.get().isStats());
  CHECK(reply.get().getStats().getActive() == 200);
  CHECK(reply.get().getStats().getConnections() == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("restart: everything acknowledged before SIGTERM is there after", "[ledgerd][restart]") {
  TempDir dir;
  std::vector<std::uint64_t> acknowledged;
  {
    LedgerdProcess server(dir.path() / "data");
    client::Connection client(at(server));
    say_hello(client);
    for (int i = 0; i < 50; ++i) acknowledged.push_back(create(client, "Kept " + std::to_string(i), 10 + i));
    auto deleted = call(client, 99, [](auto r) { r.initDelete().initNumbers(1).set(0, 7); });
    REQUIRE(deleted.get().isChanged());
    CHECK(server.stop(SIGTERM) == 0);
  }
  LedgerdProcess server(dir.path() / "data");
  client::Connection client(at(server));
  say_hello(client);
  for (auto number : acknowledged) {
    auto reply = call(client, 5, [&](auto r) { r.initGet().setNumber(number); });
    REQUIRE(reply.get().isCustomer());
    CHECK(std::string(reply.get().getCustomer().getFields().getName().cStr()) ==
          "Kept " + std::to_string(number - 1));
    CHECK((reply.get().getCustomer().getStatus() == protocol::Status::DELETED) == (number == 7));
  }
  CHECK(server.stop(SIGINT) == 0);
}

TEST_CASE("without tokens ledgerd refuses to listen beyond loopback", "[ledgerd][auth]") {
  TempDir dir;
  CHECK_THROWS(LedgerdProcess(dir.path() / "data", {}, "0.0.0.0:0"));
}

TEST_CASE("subscribe: the log from a seq, then live, and a purge delivers stubs and itself", "[ledgerd][subscribe]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  client::Connection writer(at(server));
  say_hello(writer);
  create(writer, "Ada");
  create(writer, "Brook");

  client::Connection subscriber(at(server));
  say_hello(subscriber);
  auto subscribe = request_message(77, [](auto r) { r.initSubscribe().setFromSeq(2); });
  subscriber.send(*subscribe);
  auto first = subscriber.receive();
  REQUIRE(first.get().isSubscribed());
  auto entry = subscriber.receive();
  REQUIRE(entry.get().isEntry());
  CHECK(entry.get().getId() == 77);
  CHECK(entry.get().getEntry().getSeq() == 2);

  // Live: delete and purge Brook.
  REQUIRE(call(writer, 3, [](auto r) { r.initDelete().initNumbers(1).set(0, 2); }).get().isChanged());
  auto purge = call(writer, 4, [](auto r) {
    auto p = r.initPurge();
    p.setConfirm(true);
    p.setWait(false);
  });
  REQUIRE(purge.get().isPurged());
  const auto purge_seq = purge.get().getPurged().getSeq();
  std::vector<std::uint64_t> seqs;
  bool saw_purge = false;
  for (int i = 0; i < 10 && !saw_purge; ++i) {
    auto live = subscriber.receive();
    REQUIRE(live.get().isEntry());
    seqs.push_back(live.get().getEntry().getSeq());
    saw_purge = live.get().getEntry().getSeq() == purge_seq;
    CHECK(live.get().getEntry().getKind() == (saw_purge ? 5 : 3));
  }
  CHECK(saw_purge);
  CHECK(seqs.front() == 3);

  // A new subscriber from the start sees Brook's entries as stubs.
  client::Connection auditor(at(server));
  say_hello(auditor);
  auditor.send(*request_message(5, [](auto r) { r.initSubscribe().setFromSeq(1); }));
  REQUIRE(auditor.receive().get().isSubscribed());
  for (std::uint64_t seq = 1; seq <= purge_seq; ++seq) {
    auto e = auditor.receive();
    REQUIRE(e.get().isEntry());
    auto en = e.get().getEntry();
    CHECK(en.getSeq() == seq);
    const bool brooks = seq == 2 || seq == 3;
    CHECK((en.getRedactedBy() == purge_seq) == brooks);
    CHECK((en.getPayload().size() == 0) == brooks);
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("a client no one here wrote: the capnp tool encodes the requests and decodes the reply",
          "[ledgerd][capnp-tool]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  const std::string schema = std::string(LEDGER_SOURCE_DIR) + "/server/protocol.capnp";
  const auto request_file = dir.path() / "request.bin";
  const std::string encode = "printf '%s\\n' '(id = 1, hello = (token = \"\"))' "
                             "'(id = 2, create = (fields = (name = \"Tool Client\", email = \"tool@example.org\")))' "
                             "| capnp encode '" + schema + "' Request > '" + request_file.string() + "'";
  REQUIRE(std::system(encode.c_str()) == 0);
  std::ifstream in(request_file, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(!bytes.empty());

  RawConnection raw(server.port());
  raw.send(bytes);
  const auto reply_file = dir.path() / "reply.bin";
  {
    std::ofstream out(reply_file, std::ios::binary);
    for (int i = 0; i < 2; ++i) {
      auto frame = raw.receive();
      REQUIRE(frame);
      auto b = frame->asBytes();
      out.write(reinterpret_cast<const char*>(b.begin()), static_cast<std::streamsize>(b.size()));
    }
  }
  const auto text_file = dir.path() / "reply.txt";
  const std::string decode =
      "capnp decode --short '" + schema + "' Response < '" + reply_file.string() + "' > '" + text_file.string() + "'";
  REQUIRE(std::system(decode.c_str()) == 0);
  std::ifstream text_in(text_file);
  std::string text((std::istreambuf_iterator<char>(text_in)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("(id = 1, welcome = (principal = \"local\", role = admin))"));
  CHECK_THAT(text, Catch::Contains("(id = 2, written = (number = 1, id = 1, revision = 1, replayed = false))"));
  CHECK(server.stop() == 0);
}

TEST_CASE("an idle connection is closed with a timeout error while another client goes on", "[ledgerd][deadlines]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--idle-timeout-ms", "500"});
  RawConnection idle(server.port());
  idle.send(*request_message(1, [](auto r) { r.initHello(); }));
  auto welcome = idle.response();
  REQUIRE(welcome);
  REQUIRE(welcome->get().isWelcome());

  // The bystander keeps asking while the idle client, having said hello, sends nothing.
  client::Connection bystander(at(server));
  say_hello(bystander);
  std::uint64_t id = 10;
  std::optional<RawConnection::Decoded> closing;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!closing && std::chrono::steady_clock::now() < give_up) {
    check_still_served(bystander, id);
    closing = idle.response(std::chrono::milliseconds(50));
  }
  REQUIRE(closing);
  REQUIRE(closing->get().isError());
  CHECK(closing->get().getId() == 0);
  CHECK(closing->get().getError().getCode() == ErrorCode::TIMEOUT);
  CHECK_THAT(closing->get().getError().getMessage().cStr(), Catch::Contains("idle"));
  CHECK(idle.closed_by_server());
  check_still_served(bystander, id);
  CHECK(server.stop() == 0);
}

TEST_CASE("a subscriber that stops reading is cut off with tooSlow and does not slow the writer",
          "[ledgerd][subscribe]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--max-subscriber-lag", "1000", "--max-outbox-bytes", "65536"});
  RawConnection subscriber(server.port(), 4096);
  subscriber.send(*request_message(1, [](auto r) { r.initHello(); }));
  subscriber.send(*request_message(7, [](auto r) { r.initSubscribe().setFromSeq(1); }));
  auto welcome = subscriber.response();
  REQUIRE(welcome);
  REQUIRE(welcome->get().isWelcome());
  auto subscribed = subscriber.response();
  REQUIRE(subscribed);
  REQUIRE(subscribed->get().isSubscribed());
  // From here the subscriber reads nothing until the server has given up on it.

  client::Connection writer(at(server));
  say_hello(writer);
  auto cut_off = [&] {
    std::ifstream log(server.log_path());
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    return text.find("subscriber cut off") != std::string::npos;
  };
  constexpr int kChunk = 500;
  std::uint64_t written = 0;
  for (int chunk = 0; chunk < 400 && !cut_off(); ++chunk) {
    std::vector<std::uint8_t> all;
    for (int i = 0; i < kChunk; ++i) {
      auto bytes = bytes_of(*request_message(written + i + 1, [&](auto r) {
        r.initCreate().initFields().setName("Busy " + std::to_string(written + i + 1));
      }));
      all.insert(all.end(), bytes.begin(), bytes.end());
    }
    std::thread sender([&] { writer.send_bytes(all.data(), all.size()); });
    int ok = 0;
    for (int i = 0; i < kChunk; ++i) ok += writer.receive().get().isWritten() ? 1 : 0;
    sender.join();
    REQUIRE(ok == kChunk);  // every create of the writer succeeds
    written += kChunk;
  }
  REQUIRE(cut_off());

  // Now the subscriber reads: the entries it was sent, in order, then tooSlow, then the end.
  std::uint64_t next_seq = 1;
  std::optional<RawConnection::Decoded> last;
  while ((last = subscriber.response()) && last->get().isEntry()) {
    CHECK(last->get().getEntry().getSeq() == next_seq);
    next_seq = last->get().getEntry().getSeq() + 1;
  }
  REQUIRE(last);
  REQUIRE(last->get().isError());
  CHECK(last->get().getId() == 0);
  CHECK(last->get().getError().getCode() == ErrorCode::TOO_SLOW);
  CHECK_THAT(last->get().getError().getMessage().cStr(),
             Catch::Contains("subscribe again from seq " + std::to_string(next_seq)));
  CHECK(next_seq <= written);  // it was behind
  CHECK(subscriber.closed_by_server());

  auto stats = call(writer, 1'000'000, [](auto r) { r.setStats(); });
  REQUIRE(stats.get().isStats());
  CHECK(stats.get().getStats().getActive() == written);
  CHECK(server.stop() == 0);
}

TEST_CASE("SIGTERM with creates in flight: each is answered, told shuttingDown or not read, and acknowledged ones survive",
          "[ledgerd][restart]") {
  TempDir dir;
  constexpr std::uint64_t kCreates = 5000;
  std::map<std::uint64_t, std::string> acknowledged;  // number -> name
  std::set<std::uint64_t> answered;                   // request ids
  std::uint64_t shutting_down = 0;
  {
    LedgerdProcess server(dir.path() / "data", {"--max-in-flight", "64"});
    client::Connection client(at(server));
    say_hello(client);
    std::vector<std::uint8_t> all;
    for (std::uint64_t id = 1; id <= kCreates; ++id) {
      auto bytes = bytes_of(*request_message(id, [&](auto r) { r.initCreate().initFields().setName("Flight " + std::to_string(id)); }));
      all.insert(all.end(), bytes.begin(), bytes.end());
    }
    std::thread sender([&] {
      try {
        client.send_bytes(all.data(), all.size());
      } catch (const client::ConnectionError&) {
        // The server stopped reading and closed; what it did not read it did not do.
      }
    });
    try {
      for (;;) {
        auto reply = client.receive();
        auto r = reply.get();
        CHECK(answered.insert(r.getId()).second);
        if (r.isWritten()) {
          acknowledged[r.getWritten().getNumber()] = "Flight " + std::to_string(r.getId());
        } else {
          REQUIRE(r.isError());
          CHECK(r.getError().getCode() == ErrorCode::SHUTTING_DOWN);
          ++shutting_down;
        }
        if (answered.size() == 100) server.send_signal(SIGTERM);
      }
    } catch (const client::ConnectionError&) {
      // The server closed the connection once it had answered what was in flight.
    }
    sender.join();
    CHECK(server.wait_exit() == 0);
  }
  INFO("acknowledged " << acknowledged.size() << ", shuttingDown " << shutting_down);
  REQUIRE(acknowledged.size() >= 100);
  CHECK(answered.size() < kCreates);  // the signal came while requests were in flight

  LedgerdProcess server(dir.path() / "data");
  client::Connection client(at(server));
  say_hello(client);
  for (const auto& [number, name] : acknowledged) {
    auto reply = call(client, 5, [&](auto r) { r.initGet().setNumber(number); });
    REQUIRE(reply.get().isCustomer());
    CHECK(std::string(reply.get().getCustomer().getFields().getName().cStr()) == name);
  }
  // Nothing more was done than was sent and not refused.
  auto stats = call(client, 6, [](auto r) { r.setStats(); });
  REQUIRE(stats.get().isStats());
  CHECK(stats.get().getStats().getActive() >= acknowledged.size());
  CHECK(stats.get().getStats().getActive() <= kCreates - shutting_down);
  CHECK(server.stop() == 0);
}
