// Fuzzes request handling without sockets: bytes are cut into frames by FrameParser, each frame
// is read as a Request the way a connection reads it, and RequestHandler answers it against an
// in-process CommandService on a temporary data directory.
//
// Input: one byte choosing the session (no hello yet, or signed in as clerk, auditor or admin),
// then a stream of at most kMaxFrames request frames. Properties: no crash; every response is
// a readable Response carrying the request's id; every command is answered.
//
// One service serves every input (opening RocksDB per input would leave nothing else to
// measure), so the database grows across inputs and a crash may depend on earlier ones; the
// service is reopened on a fresh directory every kInputsPerDirectory inputs to bound it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <optional>

#include <capnp/serialize.h>
#include <kj/exception.h>
#include <spdlog/spdlog.h>

#include "eventstore/database.h"
#include "eventstore/event_log.h"
#include "eventstore/reader.h"
#include "fuzz/fuzz_check.h"
#include "server/command_service.h"
#include "server/frame_parser.h"
#include "server/open_ledger.h"
#include "server/request_handler.h"
#include "server/tokens.h"
#include "support/temp_dir.h"

namespace {

using namespace ledger;
using server::Frame;

constexpr int kMaxFrames = 8;
constexpr std::uint64_t kInputsPerDirectory = 20'000;
constexpr std::uint64_t kEntriesPerSubscription = 4;
// Beyond the inputs libFuzzer makes (4 KiB by default), but not ledgerd's 1 MiB: the parser
// allocates and zeroes what a segment table claims, which under ASan costs ~8 ms per MiB.
constexpr server::FrameLimits kFrameLimits{64 * 1024, 512};

// Tokens that hello can name: "clerk-token", "auditor-token", "admin-token".
server::TokenTable fuzz_tokens(const std::filesystem::path& dir) {
  const auto file = dir / "tokens";
  std::ofstream(file) << "clerk1 clerk " << server::token_hash_hex("clerk-token") << "\n"
                      << "auditor1 auditor " << server::token_hash_hex("auditor-token") << "\n"
                      << "admin1 admin " << server::token_hash_hex("admin-token") << "\n";
  std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto tokens = server::TokenTable::load(file);
  FUZZ_CHECK(tokens.ok());
  return std::move(*tokens);
}

// A data directory, its service and a handler; torn down in reverse order.
class Ledger {
 public:
  Ledger()
      : tokens_(fuzz_tokens(dir_.path())),
        database_(eventstore::Database::open(dir_.path() / "data", {})),
        service_(server::open_ledger(*database_)),
        handler_(std::make_unique<server::RequestHandler>(*service_, tokens_, server::erasure_not_awaited(),
                                                          [] { return 1u; })) {}
  ~Ledger() {
    handler_.reset();
    service_.reset();
    database_.reset();
  }
  server::RequestHandler& handler() { return *handler_; }
  eventstore::Database& database() { return *database_; }

 private:
  testing::TempDir dir_;
  server::TokenTable tokens_;
  std::unique_ptr<eventstore::Database> database_;
  std::unique_ptr<server::CommandService> service_;
  std::unique_ptr<server::RequestHandler> handler_;
};

// libFuzzer calls a plain function per input, so the ledger has to outlive the calls.
std::unique_ptr<Ledger> shared_ledger;

Ledger& current_ledger() {
  static std::uint64_t inputs = 0;
  if (!shared_ledger) {
    shared_ledger = std::make_unique<Ledger>();
    // Close it at exit before the libraries' own statics go, which exit destroys in reverse
    // order of creation: RocksDB's were created by the open above, and spdlog's registry is
    // created here, before the erasure worker's first log line could create it later.
    (void)spdlog::default_logger_raw();
    static const int registered = std::atexit([] { shared_ledger.reset(); });
    (void)registered;
  } else if (++inputs % kInputsPerDirectory == 0) {
    shared_ledger.reset();
    shared_ledger = std::make_unique<Ledger>();
  }
  return *shared_ledger;
}

// The response must be a readable Response for request `id`.
void check_response(const Frame& frame, std::uint64_t id) {
  FUZZ_CHECK(frame.size() > 0);
  try {
    capnp::FlatArrayMessageReader reader(frame, server::frame_reader_options(frame.size()));
    auto response = reader.getRoot<protocol::Response>();
    (void)response.totalSize();
    FUZZ_CHECK(response.getId() == id);
  } catch (const kj::Exception& e) {
    std::fprintf(stderr, "unreadable response: %s\n", e.getDescription().cStr());
    FUZZ_CHECK(false);
  }
}

std::optional<server::Principal> session_principal(std::uint8_t choice) {
  switch (choice % 4) {
    case 1: return server::Principal{"clerk1", server::Role::kClerk};
    case 2: return server::Principal{"auditor1", server::Role::kAuditor};
    case 3: return server::Principal{"admin1", server::Role::kAdmin};
    default: return std::nullopt;
  }
}

// Handles one frame as a connection does. Returns false when the connection would close.
bool handle_frame(Ledger& ledger, server::Session& session, Frame frame) {
  capnp::FlatArrayMessageReader reader(frame, server::frame_reader_options(frame.size()));
  protocol::Request::Reader request;
  try {
    request = reader.getRoot<protocol::Request>();
    (void)request.totalSize();
  } catch (const kj::Exception&) {
    return false;  // answered "badRequest" and closed
  }
  const auto id = request.getId();
  std::promise<Frame> answer;
  auto answered = answer.get_future();
  bool sent = false;
  // The writer thread runs the task itself: here nothing else needs the connection's strand.
  server::RequestHandler::Dispatch dispatch = [](std::function<void()> task) { task(); };
  server::RequestHandler::Send send = [&answer, &sent](Frame response) {
    FUZZ_CHECK(!sent);
    sent = true;
    answer.set_value(std::move(response));
  };
  auto handled = ledger.handler().handle(request, session, dispatch, send);
  if (handled.response.size() == 0) {
    // A command: answered later, exactly once, through send.
    check_response(answered.get(), id);
    return true;
  }
  check_response(handled.response, id);
  if (handled.close) return false;
  if (handled.subscribe_from) {
    eventstore::DatabaseReader db(ledger.database());
    for (auto seq = *handled.subscribe_from; seq < *handled.subscribe_from + kEntriesPerSubscription; ++seq) {
      auto entry = eventstore::read_entry(db, seq);
      if (!entry) break;
      check_response(server::RequestHandler::entry_frame(id, *entry), id);
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto& ledger = current_ledger();
  server::Session session;
  session.principal = session_principal(data[0]);
  server::FrameParser parser(kFrameLimits);
  std::size_t pos = 1;
  for (int frames = 0; frames < kMaxFrames && pos < size; ++frames) {
    std::size_t consumed = 0;
    const auto result = parser.parse(data + pos, size - pos, consumed);
    pos += consumed;
    if (result != server::FrameParser::Result::kGood) break;
    if (!handle_frame(ledger, session, parser.take_frame())) break;
  }
  return 0;
}
