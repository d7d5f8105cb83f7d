#include "server/request_handler.h"

#include <variant>

#include <capnp/serialize.h>
#include <kj/exception.h>

#include "domain/changed_fields.h"
#include "domain/events.h"
#include "projections/queries.h"
#include "server/erasure_wire.h"
#include "server/wire_fields.h"

namespace ledger::server {
namespace {

using protocol::ErrorCode;

constexpr std::size_t kMaxRequestKeyBytes = 64;
constexpr std::size_t kMaxNumbersPerRequest = 10'000;
constexpr std::size_t kMaxChangesPerEdit = 64;
constexpr std::uint32_t kDefaultPageSize = 100;

// A request whose fields are wrong in a way the domain does not check (it never sees them):
// what the client is told. A value, like the domain's refusals: a mistake of the client's is
// not an exception.
struct RequestProblem {
  ErrorCode code;
  std::string message;
  // The field or argument at fault; empty when the request as a whole is.
  std::string field;
};

// What a request's fields translate to, or why they do not.
template <typename T>
using Translated = std::variant<T, RequestProblem>;

// A command request translated for the service: the command, who sent it with which key, and
// whether a purge's answer waits for its erasure report.
struct TranslatedCommand {
  domain::Command command;
  RequestContext context;
  bool wait_for_erasure = false;
};

Frame to_frame(capnp::MessageBuilder& message) { return capnp::messageToFlatArray(message); }

std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

ErrorCode code_of(domain::RefusalCode code) {
  using R = domain::RefusalCode;
  switch (code) {
    case R::kNumberHeldByActive: return ErrorCode::NUMBER_HELD_BY_ACTIVE;
    case R::kNumberHeldByDeleted: return ErrorCode::NUMBER_HELD_BY_DELETED;
    case R::kNotFound: return ErrorCode::NOT_FOUND;
    case R::kAlreadyDeleted: return ErrorCode::ALREADY_DELETED;
    case R::kNotDeleted: return ErrorCode::NOT_DELETED;
    case R::kRevisionConflict: return ErrorCode::REVISION_CONFLICT;
    case R::kInvalidField: return ErrorCode::INVALID_FIELD;
    case R::kNothingToDo: return ErrorCode::NOTHING_TO_DO;
    case R::kNotConfirmed: return ErrorCode::NOT_CONFIRMED;
    case R::kCountMismatch: return ErrorCode::COUNT_MISMATCH;
    case R::kRequestKeyReused: return ErrorCode::REQUEST_KEY_REUSED;
  }
  return ErrorCode::INTERNAL;
}

ErrorCode code_of(FailureCode code) {
  switch (code) {
    case FailureCode::kBusy: return ErrorCode::BUSY;
    case FailureCode::kShuttingDown: return ErrorCode::SHUTTING_DOWN;
    case FailureCode::kInternal: return ErrorCode::INTERNAL;
  }
  return ErrorCode::INTERNAL;
}

void set_customer(protocol::Customer::Builder out, const domain::Customer& c) {
  out.setNumber(c.number);
  out.setId(c.id);
  out.setStatus(c.status == domain::CustomerStatus::kActive ? protocol::Status::ACTIVE : protocol::Status::DELETED);
  out.setRevision(c.revision);
  set_wire_fields(out.initFields(), c.fields);
}

Translated<std::vector<domain::CustomerNumber>> copy_numbers(capnp::List<std::uint64_t>::Reader list) {
  if (list.size() > kMaxNumbersPerRequest) {
    return RequestProblem{ErrorCode::TOO_LARGE, "at most 10000 numbers per request; split the request", "numbers"};
  }
  std::vector<domain::CustomerNumber> numbers;
  numbers.reserve(list.size());
  for (auto n : list) numbers.push_back(n);
  return numbers;
}

// A delete or undelete of the request's numbers, or the problem with them.
template <typename BatchCommand>
Translated<domain::Command> batch_command(capnp::List<std::uint64_t>::Reader list) {
  auto numbers = copy_numbers(list);
  if (auto* problem = std::get_if<RequestProblem>(&numbers)) return std::move(*problem);
  return BatchCommand{std::get<std::vector<domain::CustomerNumber>>(std::move(numbers))};
}

Translated<domain::Command> to_command(const protocol::Request::Reader& request) {
  using W = protocol::Request::Which;
  switch (request.which()) {
    case W::CREATE: {
      auto create = request.getCreate();
      auto f = create.getFields();
      domain::CreateCustomer command;
      command.fields = {text(f.getName()),  text(f.getCompany()), text(f.getEmail()),
                        text(f.getPhone()), text(f.getAddress()), text(f.getNotes())};
      if (create.getNumber() != 0) command.number = create.getNumber();
      return command;
    }
    case W::EDIT: {
      auto edit = request.getEdit();
      domain::EditCustomer command;
      command.number = edit.getNumber();
      auto changes = edit.getChanges();
      if (changes.size() > kMaxChangesPerEdit) {
        return RequestProblem{ErrorCode::TOO_LARGE, "too many changes in one edit", "changes"};
      }
      for (auto change : changes) {
        auto field = domain_field(change.getField());
        if (!field) return RequestProblem{ErrorCode::INVALID_FIELD, "unknown field in an edit", "field"};
        command.changes.push_back({*field, text(change.getValue())});
      }
      if (edit.getExpectRevision() != 0) command.expected_revision = edit.getExpectRevision();
      return command;
    }
    case W::DELETE: return batch_command<domain::DeleteCustomers>(request.getDelete().getNumbers());
    case W::UNDELETE: return batch_command<domain::UndeleteCustomers>(request.getUndelete().getNumbers());
    case W::PURGE: {
      auto purge = request.getPurge();
      domain::PurgeDeletedCustomers command;
      command.confirm = purge.getConfirm();
      if (purge.getExpectCount() < -1) {
        return RequestProblem{ErrorCode::INVALID_FIELD, "expectCount must be -1 (any) or a count", "expectCount"};
      }
      if (purge.getExpectCount() >= 0) command.expected_count = static_cast<std::uint64_t>(purge.getExpectCount());
      return command;
    }
    default: break;
  }
  return RequestProblem{ErrorCode::BAD_REQUEST, "not a command", ""};
}

// The command request of `principal` translated for the service, or the problem with it.
Translated<TranslatedCommand> translate_command(const protocol::Request::Reader& request, const Principal& principal) {
  auto key = request.getRequestKey();
  if (key.size() > kMaxRequestKeyBytes) {
    return RequestProblem{ErrorCode::INVALID_FIELD, "the request key is longer than 64 bytes", "requestKey"};
  }
  RequestContext context{principal.name, std::string(reinterpret_cast<const char*>(key.begin()), key.size())};
  const bool wait = request.which() == protocol::Request::Which::PURGE && request.getPurge().getWait();
  auto command = to_command(request);
  if (auto* problem = std::get_if<RequestProblem>(&command)) return std::move(*problem);
  return TranslatedCommand{std::get<domain::Command>(std::move(command)), std::move(context), wait};
}

// A response with only an error; `field` is set when it is not empty.
Frame error_response(std::uint64_t id, ErrorCode code, std::string_view message_text, std::string_view field) {
  capnp::MallocMessageBuilder message(128);
  auto response = message.initRoot<protocol::Response>();
  response.setId(id);
  auto error = response.initError();
  error.setCode(code);
  error.setMessage(capnp::Text::Reader(message_text.data(), message_text.size()));
  if (!field.empty()) error.setField(capnp::Text::Reader(field.data(), field.size()));
  return to_frame(message);
}

// The answer to a request with a problem: the same for every kind of request.
Frame problem_frame(std::uint64_t id, const RequestProblem& problem) {
  return error_response(id, problem.code, problem.message, problem.field);
}

Frame outcome_frame(const CommandService& service, std::uint64_t id, protocol::Request::Which kind, const Outcome& outcome,
                    const eventstore::ErasureReport& erasure) {
  capnp::MallocMessageBuilder message(256);
  auto response = message.initRoot<protocol::Response>();
  response.setId(id);
  if (auto* refusal = std::get_if<domain::Refusal>(&outcome)) {
    auto error = response.initError();
    error.setCode(code_of(refusal->code));
    error.setMessage(refusal->message);
    error.setField(refusal->field);
    auto problems = error.initNumbers(static_cast<unsigned>(refusal->numbers.size()));
    for (unsigned i = 0; i < refusal->numbers.size(); ++i) {
      problems[i].setNumber(refusal->numbers[i].number);
      problems[i].setCode(code_of(refusal->numbers[i].code));
    }
    return to_frame(message);
  }
  if (auto* failure = std::get_if<Failure>(&outcome)) {
    auto error = response.initError();
    error.setCode(code_of(failure->code));
    error.setMessage(failure->message);
    return to_frame(message);
  }
  const auto& accepted = std::get<Accepted>(outcome);
  using W = protocol::Request::Which;
  switch (kind) {
    case W::CREATE:
    case W::EDIT: {
      auto written = response.initWritten();
      written.setNumber(accepted.numbers.empty() ? 0 : accepted.numbers.front());
      written.setId(accepted.id);
      written.setRevision(accepted.revision);
      written.setReplayed(accepted.replayed);
      break;
    }
    case W::DELETE:
    case W::UNDELETE: {
      auto changed = response.initChanged();
      auto numbers = changed.initNumbers(static_cast<unsigned>(accepted.numbers.size()));
      for (unsigned i = 0; i < accepted.numbers.size(); ++i) numbers.set(i, accepted.numbers[i]);
      changed.setReplayed(accepted.replayed);
      break;
    }
    default: {
      auto purged = response.initPurged();
      purged.setPurged(accepted.purged);
      auto numbers = purged.initNumbersFreed(static_cast<unsigned>(accepted.numbers.size()));
      for (unsigned i = 0; i < accepted.numbers.size(); ++i) numbers.set(i, accepted.numbers[i]);
      purged.setSeq(accepted.seqs.empty() ? 0 : accepted.seqs.back());
      auto erasure_out = purged.initErasure();
      set_erasure(erasure_out, erasure);
      if (auto receipt = service.purge_receipt(purged.getSeq())) {
        set_receipt(erasure_out.initReceipt(), *receipt);
      }
      purged.setReplayed(accepted.replayed);
      break;
    }
  }
  return to_frame(message);
}

}  // namespace

ErasureWait erasure_not_awaited() {
  return [](std::uint64_t, std::function<void(eventstore::ErasureReport)> done) { done(eventstore::ErasureReport{}); };
}

RequestHandler::RequestHandler(CommandService& service, const TokenTable& tokens, ErasureWait erasure_wait,
                               std::function<std::uint32_t()> connections, RequestMetrics* metrics)
    : service_(service),
      tokens_(tokens),
      erasure_wait_(erasure_wait ? std::move(erasure_wait) : erasure_not_awaited()),
      connections_(std::move(connections)),
      metrics_(metrics) {}

Frame RequestHandler::error_frame(std::uint64_t id, ErrorCode code, std::string_view message_text) {
  return error_response(id, code, message_text, {});
}

Frame RequestHandler::entry_frame(std::uint64_t id, const eventstore::Envelope& envelope) {
  capnp::MallocMessageBuilder message(128 + envelope.payload.size() / 8);
  auto response = message.initRoot<protocol::Response>();
  response.setId(id);
  auto entry = response.initEntry();
  entry.setSeq(envelope.seq);
  entry.setAt(envelope.at_us);
  entry.setActor(envelope.actor);
  entry.setCustomer(envelope.customer);
  entry.setKind(envelope.kind);
  entry.setEventKind(wire_event_kind(envelope.kind));
  entry.setPayload(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(envelope.payload.data()), envelope.payload.size()));
  entry.setDigest(kj::arrayPtr(envelope.digest.data(), envelope.digest.size()));
  entry.setChain(kj::arrayPtr(envelope.chain.data(), envelope.chain.size()));
  entry.setRedactedBy(envelope.redacted_by);
  entry.setNumber(envelope.number);
  entry.setRequest(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(envelope.request.data()), envelope.request.size()));
  return to_frame(message);
}

namespace {
// The error code of a response frame the handler built, if it is an error.
std::optional<ErrorCode> refusal_of(const Frame& frame) {
  capnp::FlatArrayMessageReader reader(frame);
  auto response = reader.getRoot<protocol::Response>();
  if (!response.isError()) return std::nullopt;
  return response.getError().getCode();
}
}  // namespace

Handled RequestHandler::handle(const protocol::Request::Reader& request, Session& session, const Dispatch& dispatch,
                               Send send, Arrival arrival) const {
  if (!metrics_) return answer(request, session, dispatch, std::move(send), arrival);
  const auto kind = request.which();
  const auto started = std::chrono::steady_clock::now();
  auto record = [metrics = metrics_, kind, started](const Frame& frame) {
    const auto refusal = refusal_of(frame);
    metrics->record(kind, refusal ? &*refusal : nullptr, std::chrono::steady_clock::now() - started);
  };
  Send metered = [record, send = std::move(send)](Frame frame) {
    record(frame);
    send(std::move(frame));
  };
  auto handled = answer(request, session, dispatch, std::move(metered), arrival);
  if (handled.response.size() > 0) record(handled.response);
  return handled;
}

Handled RequestHandler::answer(const protocol::Request::Reader& request, Session& session, const Dispatch& dispatch,
                               Send send, Arrival arrival) const {
  const auto id = request.getId();
  using W = protocol::Request::Which;
  try {
    if (!session.principal) {
      if (request.which() != W::HELLO) {
        return {error_frame(id, ErrorCode::UNAUTHENTICATED, "the first request must be hello with a token"), true};
      }
      return hello(id, request.getHello(), session);
    }
    if (request.which() == W::HELLO) {
      return {error_frame(id, ErrorCode::BAD_REQUEST, "this connection has already said hello")};
    }
    if (!role_allows(session.principal->role, request.which())) {
      return {error_frame(id, ErrorCode::FORBIDDEN,
                          "the role " + std::string(role_name(session.principal->role)) +
                              " may not send this request; ask an admin for a token with a role that may")};
    }
    switch (request.which()) {
      case W::CREATE:
      case W::EDIT:
      case W::DELETE:
      case W::UNDELETE:
      case W::PURGE: {
        auto translated = translate_command(request, *session.principal);
        if (auto* problem = std::get_if<RequestProblem>(&translated)) return {problem_frame(id, *problem)};
        auto& command = std::get<TranslatedCommand>(translated);
        submit(id, request.which(), std::move(command.command), std::move(command.context),
               command.wait_for_erasure, dispatch, std::move(send), arrival);
        return {};
      }
      case W::SUBSCRIBE: {
        const auto from = std::max<std::uint64_t>(1, request.getSubscribe().getFromSeq());
        capnp::MallocMessageBuilder message(64);
        auto response = message.initRoot<protocol::Response>();
        response.setId(id);
        response.setSubscribed(from);
        return {to_frame(message), false, from};
      }
      case W::GET:
      case W::LIST:
      case W::HISTORY:
      case W::STATS:
      case W::ERASURE_REPORT:
        return read(request);
      default:
        return {error_frame(id, ErrorCode::BAD_REQUEST, "unknown request kind; is the client newer than the server?")};
    }
  } catch (const kj::Exception& e) {
    return {error_frame(id, ErrorCode::BAD_REQUEST, "the request does not match the protocol schema"), true};
  } catch (const projections::SearchNotReady& e) {
    return {error_frame(id, ErrorCode::BUSY, e.what())};
  } catch (const eventstore::StorageError& e) {
    return {error_frame(id, ErrorCode::INTERNAL, "the ledger could not read its data; see the server log")};
  }
}

Handled RequestHandler::hello(std::uint64_t id, protocol::Hello::Reader hello, Session& session) const {
  auto token = hello.getToken();
  auto principal = tokens_.authenticate(std::string_view(token.cStr(), token.size()));
  if (!principal) return {error_frame(id, ErrorCode::UNAUTHENTICATED, "unknown token; check LEDGER_TOKEN"), true};
  capnp::MallocMessageBuilder message(64);
  auto response = message.initRoot<protocol::Response>();
  response.setId(id);
  auto welcome = response.initWelcome();
  welcome.setPrincipal(principal->name);
  welcome.setRole(static_cast<protocol::Role>(static_cast<std::uint16_t>(principal->role)));
  session.principal = std::move(principal);
  return {to_frame(message)};
}

Handled RequestHandler::read(const protocol::Request::Reader& request) const {
  const auto id = request.getId();
  capnp::MallocMessageBuilder message(512);
  auto response = message.initRoot<protocol::Response>();
  response.setId(id);
  using W = protocol::Request::Which;
  switch (request.which()) {
    case W::GET: {
      const auto number = request.getGet().getNumber();
      auto customer = service_.customer(number);
      if (!customer) {
        return {error_frame(id, ErrorCode::NOT_FOUND,
                            "no customer holds number " + std::to_string(number) + "; list shows who does")};
      }
      set_customer(response.initCustomer(), *customer);
      break;
    }
    case W::LIST: {
      auto list = request.getList();
      auto limit = list.getLimit() == 0 ? kDefaultPageSize : std::min(list.getLimit(), projections::kMaxPageSize);
      auto page = service_.list(list.getDeleted() ? projections::CustomerList::kDeleted
                                                  : projections::CustomerList::kActive,
                                list.getAfter(), limit, text(list.getSearch()));
      auto out = response.initPage();
      auto customers = out.initCustomers(static_cast<unsigned>(page.customers.size()));
      for (unsigned i = 0; i < page.customers.size(); ++i) set_customer(customers[i], page.customers[i]);
      out.setNext(page.next.value_or(0));
      break;
    }
    case W::HISTORY: {
      const auto number = request.getHistory().getNumber();
      auto entries = service_.history(number);
      if (entries.empty()) {
        return {error_frame(id, ErrorCode::NOT_FOUND, "no customer holds number " + std::to_string(number))};
      }
      auto events = response.initHistory().initEvents(static_cast<unsigned>(entries.size()));
      for (unsigned i = 0; i < entries.size(); ++i) {
        const auto& entry = entries[i];
        auto out = events[i];
        out.setSeq(entry.envelope.seq);
        out.setAt(entry.envelope.at_us);
        out.setActor(entry.envelope.actor);
        const auto kind = domain::kind_of(entry.event);
        out.setKind(std::string(domain::kind_name(kind)));
        out.setEventKind(wire_event_kind(static_cast<std::uint16_t>(kind)));
        const auto changed = domain::changed_fields(entry.before, entry.event);
        if (changed.empty()) continue;
        // `changes` is what clients read before old values were sent: the same fields, new values.
        auto changes = out.initChanges(static_cast<unsigned>(changed.size()));
        auto changed_out = out.initChangedFields(static_cast<unsigned>(changed.size()));
        for (unsigned j = 0; j < changed.size(); ++j) {
          changes[j].setField(wire_field(changed[j].field));
          changes[j].setValue(changed[j].new_value);
          changed_out[j].setField(wire_field(changed[j].field));
          changed_out[j].setOldValue(changed[j].old_value);
          changed_out[j].setNewValue(changed[j].new_value);
        }
      }
      break;
    }
    case W::ERASURE_REPORT: {
      const auto purge_seq = request.getErasureReport();
      if (!service_.is_purge(purge_seq)) {
        return {error_frame(id, ErrorCode::NOT_FOUND,
                            "entry " + std::to_string(purge_seq) + " is not a purge; ledger-audit purges lists them")};
      }
      auto erasure = response.initErasure();
      set_erasure(erasure, service_.erasure_report(purge_seq).value_or(eventstore::ErasureReport{}));
      if (auto receipt = service_.purge_receipt(purge_seq)) set_receipt(erasure.initReceipt(), *receipt);
      break;
    }
    default: {  // stats
      auto stats = response.initStats();
      auto writer = service_.stats();
      const auto head = service_.log_head();
      stats.setNextSeq(head.next_seq);
      stats.setChainHead(kj::arrayPtr(head.chain.data(), head.chain.size()));
      stats.setBatches(writer.batches);
      stats.setCommands(writer.commands);
      stats.setDecideCpuNs(writer.decide_cpu_ns);
      stats.setWriteCpuNs(writer.write_cpu_ns);
      stats.setConnections(connections_ ? connections_() : 0);
      const auto counts = service_.counts();
      stats.setActive(counts.active);
      stats.setDeleted(counts.deleted);
      break;
    }
  }
  return {to_frame(message)};
}

void RequestHandler::submit(std::uint64_t id, protocol::Request::Which kind, domain::Command command,
                            RequestContext context, bool wait, const Dispatch& dispatch, Send send,
                            Arrival arrival) const {
  auto erasure_wait = erasure_wait_;
  const CommandService* service = &service_;
  service_.submit(std::move(command), std::move(context),
                  [id, kind, wait, dispatch, send = std::move(send), erasure_wait, service](Outcome outcome) mutable {
                    // On the writer thread (or this one, when it wrote the command itself): hand
                    // the outcome to the connection and return. A replayed purge waits too: its
                    // answer is the first one's, report included (stored, it comes at once).
                    auto* accepted = std::get_if<Accepted>(&outcome);
                    if (wait && accepted && !accepted->seqs.empty()) {
                      const auto purge_seq = accepted->seqs.back();
                      erasure_wait(purge_seq, [id, kind, dispatch, send, service, outcome = std::move(outcome)](
                                                  eventstore::ErasureReport report) mutable {
                        dispatch([id, kind, send, service, outcome = std::move(outcome), report = std::move(report)] {
                          send(outcome_frame(*service, id, kind, outcome, report));
                        });
                      });
                      return;
                    }
                    dispatch([id, kind, send = std::move(send), service, outcome = std::move(outcome)] {
                      send(outcome_frame(*service, id, kind, outcome, eventstore::ErasureReport{}));
                    });
                  },
                  // Written alone, a command would hold up the requests behind it until its
                  // fsync is done, and each of them would then be written alone too.
                  arrival == Arrival::kAlone ? CommandService::Submit::kWriteIfAlone
                                             : CommandService::Submit::kQueue);
}

}  // namespace ledger::server
