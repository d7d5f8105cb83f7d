// The request handler without a socket: requests in, response frames out, commands answered
// through the dispatch function the connection would give it.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "eventstore/event_log.h"
#include "server/request_handler.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using protocol::ErrorCode;

namespace {

// Collects what the handler sends back later, as the connection's strand would.
class Strand {
 public:
  server::RequestHandler::Dispatch dispatch() {
    return [this](std::function<void()> task) {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
      dispatched_on_ = std::this_thread::get_id();
      ready_.notify_all();
    };
  }
  // The thread that dispatched the last task: whoever wrote the command.
  std::thread::id dispatched_on() {
    std::lock_guard lock(mutex_);
    return dispatched_on_;
  }
  server::RequestHandler::Send send() {
    return [this](server::Frame frame) { sent_.push_back(std::move(frame)); };
  }
  // Runs the dispatched tasks until one response was sent; waits at most 10 s.
  server::Frame next() {
    std::unique_lock lock(mutex_);
    REQUIRE(ready_.wait_for(lock, std::chrono::seconds(10), [this] { return !tasks_.empty(); }));
    auto task = std::move(tasks_.front());
    tasks_.erase(tasks_.begin());
    lock.unlock();
    task();
    REQUIRE(sent_.size() == 1);
    auto frame = std::move(sent_.front());
    sent_.clear();
    return frame;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::function<void()>> tasks_;
  std::vector<server::Frame> sent_;
  std::thread::id dispatched_on_;
};

struct Decoded {
  server::Frame frame;
  capnp::FlatArrayMessageReader reader;
  explicit Decoded(server::Frame f) : frame(std::move(f)), reader(frame) {}
  protocol::Response::Reader get() { return reader.getRoot<protocol::Response>(); }
};

template <typename Fill>
server::Handled handle(const server::RequestHandler& handler, server::Session& session, Strand& strand,
                       std::uint64_t id, Fill fill,
                       server::RequestHandler::Arrival arrival = server::RequestHandler::Arrival::kAlone) {
  capnp::MallocMessageBuilder message;
  auto request = message.initRoot<protocol::Request>();
  request.setId(id);
  fill(request);
  return handler.handle(request.asReader(), session, strand.dispatch(), strand.send(), arrival);
}

}  // namespace

TEST_CASE("the handler needs hello first, then answers reads at once and commands later", "[handler]") {
  testing::Ledger ledger;
  auto tokens = server::TokenTable::open_access();
  server::RequestHandler handler(ledger.service(), tokens, server::erasure_not_awaited());
  server::Session session;
  Strand strand;

  auto refused = handle(handler, session, strand, 1, [](auto r) { r.initGet().setNumber(1); });
  CHECK(refused.close);
  CHECK(Decoded(std::move(refused.response)).get().getError().getCode() == ErrorCode::UNAUTHENTICATED);

  auto hello = handle(handler, session, strand, 2, [](auto r) { r.initHello(); });
  CHECK(Decoded(std::move(hello.response)).get().getWelcome().getRole() == protocol::Role::ADMIN);
  REQUIRE(session.principal);

  auto create = handle(handler, session, strand, 3, [](auto r) { r.initCreate().initFields().setName("Ada"); });
  CHECK(create.response.size() == 0);  // answered through dispatch
  Decoded written(strand.next());
  CHECK(written.get().getId() == 3);
  CHECK(written.get().getWritten().getNumber() == 1);

  auto get = handle(handler, session, strand, 4, [](auto r) { r.initGet().setNumber(1); });
  Decoded customer(std::move(get.response));
  CHECK(std::string(customer.get().getCustomer().getFields().getName().cStr()) == "Ada");

  auto invalid = handle(handler, session, strand, 5, [](auto r) { r.initCreate().initFields().setName(""); });
  Decoded refusal(strand.next());
  CHECK(refusal.get().getError().getCode() == ErrorCode::INVALID_FIELD);
  CHECK(std::string(refusal.get().getError().getField().cStr()) == "name");
}

TEST_CASE("a pipelined command, with requests behind it, is queued for the writer, a lone one is written at once",
          "[handler][pipelined]") {
  testing::Ledger ledger;
  auto tokens = server::TokenTable::open_access();
  server::RequestHandler handler(ledger.service(), tokens, server::erasure_not_awaited());
  server::Session session;
  Strand strand;
  handle(handler, session, strand, 1, [](auto r) { r.initHello(); });
  REQUIRE(session.principal);
  const auto caller = std::this_thread::get_id();

  handle(handler, session, strand, 2, [](auto r) { r.initCreate().initFields().setName("Lone"); });
  CHECK(strand.dispatched_on() == caller);
  CHECK(Decoded(strand.next()).get().getWritten().getNumber() == 1);

  // Written on the caller's thread, it would hold up the requests behind it for its fsync.
  handle(
      handler, session, strand, 3, [](auto r) { r.initCreate().initFields().setName("Followed"); },
      server::RequestHandler::Arrival::kFollowed);
  CHECK(Decoded(strand.next()).get().getWritten().getNumber() == 2);
  CHECK(strand.dispatched_on() != caller);
}

TEST_CASE("the handler refuses what a role may not do and oversized arguments", "[handler]") {
  testing::Ledger ledger;
  auto tokens = server::TokenTable::open_access();
  server::RequestHandler handler(ledger.service(), tokens, server::erasure_not_awaited());
  server::Session session{server::Principal{"desk", server::Role::kClerk}};
  Strand strand;

  auto purge = handle(handler, session, strand, 1, [](auto r) { r.initPurge().setConfirm(true); });
  CHECK(Decoded(std::move(purge.response)).get().getError().getCode() == ErrorCode::FORBIDDEN);
  CHECK_FALSE(purge.close);

  auto huge = handle(handler, session, strand, 2, [](auto r) { r.initDelete().initNumbers(20'000); });
  CHECK(Decoded(std::move(huge.response)).get().getError().getCode() == ErrorCode::TOO_LARGE);

  auto key = handle(handler, session, strand, 3, [](auto r) {
    r.initRequestKey(65);
    r.initCreate().initFields().setName("Key");
  });
  auto error = Decoded(std::move(key.response));
  CHECK(error.get().getError().getCode() == ErrorCode::INVALID_FIELD);
  CHECK(std::string(error.get().getError().getField().cStr()) == "requestKey");
}

TEST_CASE("erasureReport answers a purge's erasure report to an auditor, and not to a clerk", "[handler]") {
  testing::Ledger ledger;
  for (auto name : {"Ada", "Bo"}) ledger.create(name);
  testing::accepted(ledger.service().execute(domain::DeleteCustomers{{2}}));
  const auto purge_seq = testing::accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 1})).seqs.back();
  REQUIRE(ledger.service().wait_for_erasure(purge_seq, std::chrono::minutes(2)));
  auto tokens = server::TokenTable::open_access();
  server::RequestHandler handler(ledger.service(), tokens, server::erasure_not_awaited());
  Strand strand;

  server::Session auditor{server::Principal{"audit", server::Role::kAuditor}};
  Decoded done(handle(handler, auditor, strand, 1, [&](auto r) { r.setErasureReport(purge_seq); }).response);
  REQUIRE(done.get().isErasure());
  CHECK(std::string(done.get().getErasure().getState().cStr()) == "done");
  CHECK_THAT(std::string(done.get().getErasure().getReport().cStr()), Catch::Contains("\"verified\":true"));
  // What the scan looked for: both entries the purge redacted (created, deleted) were read;
  // "Bo" is shorter than a probe, so the one probe is the header of every value sealed for Bo.
  CHECK_THAT(std::string(done.get().getErasure().getReport().cStr()),
             Catch::Contains("\"check\":\"probed\",\"probes\":1,") && Catch::Contains("\"purged_entries\":2,") &&
                 Catch::Contains("\"entries_probed\":2,"));
  // Before that, Bo's keys were destroyed and no byte of them is left in the key store.
  CHECK_THAT(std::string(done.get().getErasure().getReport().cStr()),
             Catch::Contains("\"unreadable\":{\"verified\":true") && Catch::Contains("\"keys_deleted\":1,"));

  Decoded not_purge(handle(handler, auditor, strand, 2, [&](auto r) { r.setErasureReport(1); }).response);
  CHECK(not_purge.get().getError().getCode() == ErrorCode::NOT_FOUND);
  CHECK_THAT(std::string(not_purge.get().getError().getMessage().cStr()), Catch::Contains("not a purge"));

  server::Session clerk{server::Principal{"desk", server::Role::kClerk}};
  Decoded forbidden(handle(handler, clerk, strand, 3, [&](auto r) { r.setErasureReport(purge_seq); }).response);
  CHECK(forbidden.get().getError().getCode() == ErrorCode::FORBIDDEN);
}

TEST_CASE("a subscription entry carries the request key it was written with", "[handler]") {
  testing::Ledger ledger;
  testing::accepted(ledger.service().execute(domain::CreateCustomer{testing::person("Ada"), {}},
                                             server::RequestContext{"desk", "order-17"}));
  auto envelope = *eventstore::read_entry(eventstore::DatabaseReader(ledger.database()), 1);
  Decoded entry(server::RequestHandler::entry_frame(9, envelope));
  auto key = entry.get().getEntry().getRequest();
  CHECK(std::string(reinterpret_cast<const char*>(key.begin()), key.size()) == "order-17");
}

TEST_CASE("a request's own mistakes are answered at once with code, message and field, and nothing is written",
          "[handler]") {
  testing::Ledger ledger;
  ledger.create("Ada");
  auto tokens = server::TokenTable::open_access();
  server::RequestHandler handler(ledger.service(), tokens, server::erasure_not_awaited());
  server::Session session{server::Principal{"office", server::Role::kAdmin}};
  Strand strand;
  const auto head_before = ledger.service().log_head();

  struct Expected {
    ErrorCode code;
    std::string message;
    std::string field;
  };
  auto check = [&](server::Handled handled, const Expected& expected) {
    CHECK_FALSE(handled.close);
    REQUIRE(handled.response.size() > 0);  // answered now, not through dispatch
    Decoded decoded(std::move(handled.response));
    REQUIRE(decoded.get().isError());
    const auto error = decoded.get().getError();
    CHECK(error.getCode() == expected.code);
    CHECK(std::string(error.getMessage().cStr()) == expected.message);
    CHECK(std::string(error.getField().cStr()) == expected.field);
    CHECK_FALSE(error.hasField() == expected.field.empty());
  };

  check(handle(handler, session, strand, 1, [](auto r) { r.initUndelete().initNumbers(10'001); }),
        {ErrorCode::TOO_LARGE, "at most 10000 numbers per request; split the request", "numbers"});
  check(handle(handler, session, strand, 2,
               [](auto r) {
                 auto edit = r.initEdit();
                 edit.setNumber(1);
                 edit.initChanges(65);
               }),
        {ErrorCode::TOO_LARGE, "too many changes in one edit", "changes"});
  check(handle(handler, session, strand, 3,
               [](auto r) {
                 auto edit = r.initEdit();
                 edit.setNumber(1);
                 auto change = edit.initChanges(1)[0];
                 change.setField(static_cast<protocol::Field>(999));
                 change.setValue("x");
               }),
        {ErrorCode::INVALID_FIELD, "unknown field in an edit", "field"});
  check(handle(handler, session, strand, 4,
               [](auto r) {
                 auto purge = r.initPurge();
                 purge.setConfirm(true);
                 purge.setExpectCount(-2);
               }),
        {ErrorCode::INVALID_FIELD, "expectCount must be -1 (any) or a count", "expectCount"});
  check(handle(handler, session, strand, 5,
               [](auto r) {
                 r.initRequestKey(65);
                 r.initDelete().initNumbers(1).set(0, 1);
               }),
        {ErrorCode::INVALID_FIELD, "the request key is longer than 64 bytes", "requestKey"});

  CHECK(ledger.service().log_head() == head_before);
  CHECK(ledger.service().counts().active == 1);
  // The connection goes on: the next request is answered as usual.
  handle(handler, session, strand, 6, [](auto r) { r.initCreate().initFields().setName("Bo"); });
  CHECK(Decoded(strand.next()).get().getWritten().getNumber() == 2);
}

TEST_CASE("stats answers the lists' counts and the log's head", "[handler]") {
  testing::Ledger ledger;
  for (auto name : {"Ada", "Bo", "Cy"}) ledger.create(name);
  testing::accepted(ledger.service().execute(domain::DeleteCustomers{{3}}));
  auto tokens = server::TokenTable::open_access();
  server::RequestHandler handler(ledger.service(), tokens, server::erasure_not_awaited(), [] { return 7u; });
  server::Session session{server::Principal{"office", server::Role::kAdmin}};
  Strand strand;

  Decoded answered(handle(handler, session, strand, 1, [](auto r) { r.setStats(); }).response);
  REQUIRE(answered.get().isStats());
  const auto stats = answered.get().getStats();
  CHECK(stats.getActive() == 2);
  CHECK(stats.getDeleted() == 1);
  CHECK(stats.getNextSeq() == 5);
  CHECK(stats.getConnections() == 7);
  const auto head = ledger.service().log_head();
  const auto chain = stats.getChainHead();
  CHECK(std::vector<unsigned char>(chain.begin(), chain.end()) ==
        std::vector<unsigned char>(head.chain.begin(), head.chain.end()));
  CHECK(stats.getCommands() == ledger.service().stats().commands);
}
