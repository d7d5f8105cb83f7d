#include "ledger/client/async_client.h"

#include <array>
#include <cstring>
#include <deque>
#include <unordered_map>

#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace ledger::client {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// One operation waiting for its answer: the reader (or a failure) fills it and cancels the
// timer the operation waits on.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor, asio::steady_timer::time_point::max()) {}
  void finish() {
    done = true;
    timer.cancel();
  }
  asio::steady_timer timer;
  Reply reply;
  std::string failure;  // when there is no reply
  bool done = false;
};

asio::awaitable<void> wait_for(Waiter& waiter) {
  while (!waiter.done) {
    boost::system::error_code ignored;
    co_await waiter.timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

// One connection: a read loop that hands each answer to its waiter, and a write queue with one
// write at a time.
struct Link {
  Link(const asio::any_io_executor& executor, bool tls)
      : context(asio::ssl::context::tls_client), stream(executor, context), tls(tls) {}

  // Every waiter fails with `why`; the socket closes, which ends both loops.
  void fail(const std::string& why) {
    if (closed) return;
    closed = true;
    for (auto& [id, waiter] : waiting) {
      waiter->failure = why;
      waiter->finish();
    }
    waiting.clear();
    outbox.clear();
    boost::system::error_code ignored;
    stream.next_layer().close(ignored);
  }

  asio::ssl::context context;
  asio::ssl::stream<tcp::socket> stream;
  bool tls;
  FrameReader frames;
  std::array<std::uint8_t, 64 * 1024> buffer{};
  std::deque<kj::Array<capnp::word>> outbox;
  bool writing = false;
  std::unordered_map<std::uint64_t, std::shared_ptr<Waiter>> waiting;
  bool closed = false;
};

asio::awaitable<void> read_loop(std::shared_ptr<Link> link) {
  try {
    for (;;) {
      boost::system::error_code ec;
      const auto n = link->tls
                         ? co_await link->stream.async_read_some(asio::buffer(link->buffer),
                                                                 asio::redirect_error(asio::use_awaitable, ec))
                         : co_await link->stream.next_layer().async_read_some(
                               asio::buffer(link->buffer), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      std::size_t at = 0;
      while (at < n && !link->closed) {
        std::size_t used = 0;
        const auto result = link->frames.parse(link->buffer.data() + at, n - at, used);
        at += used;
        if (result == FrameReader::Result::kBad) {
          link->fail("bad frame from the server: " + link->frames.error());
          co_return;
        }
        if (result != FrameReader::Result::kGood) continue;
        Reply reply(link->frames.take_frame());
        const auto id = reply.get().getId();
        // An error about the connection itself: every operation in flight hears it.
        if (id == 0 && reply.get().isError()) {
          capnp::MallocMessageBuilder copy;
          copy.setRoot(reply.get());
          const auto frame = capnp::messageToFlatArray(copy);
          for (auto& [waiting_id, waiter] : link->waiting) {
            // Words are not copyable (capnp::word): each waiter gets the frame's bytes copied.
            auto words = kj::heapArray<capnp::word>(frame.size());
            std::memcpy(words.begin(), frame.begin(), frame.size() * sizeof(capnp::word));
            waiter->reply = Reply(std::move(words));
            waiter->finish();
          }
          link->waiting.clear();
          continue;
        }
        const auto it = link->waiting.find(id);
        if (it == link->waiting.end()) continue;  // not awaited (a subscription's entries)
        it->second->reply = std::move(reply);
        it->second->finish();
        link->waiting.erase(it);
      }
    }
  } catch (const ConnectionError& e) {
    link->fail(e.what());
    co_return;
  }
  link->fail("the server closed the connection");
}

asio::awaitable<void> write_loop(std::shared_ptr<Link> link) {
  link->writing = true;
  while (!link->outbox.empty() && !link->closed) {
    boost::system::error_code ec;
    // Taken out of the queue first: a failure clears the queue while this write may still run.
    const auto frame = std::move(link->outbox.front());
    link->outbox.pop_front();
    const auto bytes = frame.asBytes();
    if (link->tls) {
      co_await asio::async_write(link->stream, asio::buffer(bytes.begin(), bytes.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(link->stream.next_layer(), asio::buffer(bytes.begin(), bytes.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      link->fail("the connection to the server broke: " + ec.message());
      break;
    }
  }
  link->writing = false;
}

bool retryable(const Reply& reply) {
  return reply.get().isError() && is_retryable(reply.get().getError().getCode());
}

}  // namespace

struct AsyncClient::State {
  State(asio::any_io_executor executor, Options options) : executor(std::move(executor)), options(std::move(options)) {}
  asio::any_io_executor executor;
  Options options;
  std::shared_ptr<Link> link;         // null before connecting and after a failure
  std::shared_ptr<Waiter> connecting;  // while a connection is being made
  std::uint64_t next_id = 1;
  std::string principal;
  bool closed = false;  // by close(): nothing connects again
};

namespace {

// Sends `message` on `link` with the next id and waits for its answer.
asio::awaitable<Reply> exchange(AsyncClient::State& state, std::shared_ptr<Link> link,
                                capnp::MallocMessageBuilder& message) {
  if (link->closed) throw ConnectionError("the connection to the server is closed");
  const auto id = state.next_id++;
  message.getRoot<protocol::Request>().setId(id);
  auto waiter = std::make_shared<Waiter>(state.executor);
  link->waiting.emplace(id, waiter);
  link->outbox.push_back(capnp::messageToFlatArray(message));
  if (!link->writing) asio::co_spawn(state.executor, write_loop(link), asio::detached);
  co_await wait_for(*waiter);
  if (waiter->reply.empty()) throw ConnectionError(waiter->failure);
  co_return std::move(waiter->reply);
}

// A new connection and its hello. The link becomes the state's on a welcome.
asio::awaitable<Reply> open_link(std::shared_ptr<AsyncClient::State> state) {
  const auto& options = state->options.connect;
  const auto [host, port] = split_host_port(options.server);
  auto link = std::make_shared<Link>(state->executor, options.tls);
  boost::system::error_code ec;
  tcp::resolver resolver(state->executor);
  const auto endpoints = co_await resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) throw CannotConnect("cannot resolve " + options.server + ": " + ec.message());
  co_await asio::async_connect(link->stream.next_layer(), endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) throw CannotConnect("cannot connect to " + options.server + ": " + ec.message());
  link->stream.next_layer().set_option(tcp::no_delay(true), ec);
  if (options.tls) {
    if (!options.tls_ca.empty()) {
      link->context.load_verify_file(options.tls_ca, ec);
      if (ec) throw CannotConnect("cannot read " + options.tls_ca + ": " + ec.message());
      link->stream.set_verify_mode(asio::ssl::verify_peer);
    } else {
      link->stream.set_verify_mode(asio::ssl::verify_none);
    }
    co_await link->stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw CannotConnect("TLS handshake with " + options.server + " failed: " + ec.message());
  }
  asio::co_spawn(state->executor, read_loop(link), asio::detached);
  capnp::MallocMessageBuilder message;
  new_request(message).initHello().setToken(state->options.token);
  auto reply = co_await exchange(*state, link, message);
  if (state->closed) {
    link->fail("the client was closed");
    throw ConnectionError("the client was closed");
  }
  if (reply.get().isWelcome()) {
    auto principal = reply.get().getWelcome().getPrincipal();
    state->principal.assign(principal.cStr(), principal.size());
    state->link = link;
  } else {
    link->fail("the server refused the hello");
  }
  co_return reply;
}

// The state's connection, made (and said hello on) when there is none; one at a time. Returns
// the hello's refusal when the server refused it.
asio::awaitable<std::optional<Reply>> ensure_link(std::shared_ptr<AsyncClient::State> state) {
  if (state->closed) throw ConnectionError("the client was closed");
  while (state->connecting) {
    auto other = state->connecting;
    co_await wait_for(*other);
  }
  if (state->closed) throw ConnectionError("the client was closed");
  if (state->link && !state->link->closed) co_return std::nullopt;
  state->link.reset();
  auto mine = std::make_shared<Waiter>(state->executor);
  state->connecting = mine;
  std::optional<Reply> refused;
  try {
    auto reply = co_await open_link(state);
    if (reply.get().isError()) refused = std::move(reply);
  } catch (...) {
    state->connecting.reset();
    mine->finish();
    throw;
  }
  state->connecting.reset();
  mine->finish();
  co_return refused;
}

}  // namespace

AsyncClient::AsyncClient(asio::any_io_executor executor, Options options)
    : executor_(executor), state_(std::make_shared<State>(std::move(executor), std::move(options))) {}

AsyncClient::~AsyncClient() { close(); }

void AsyncClient::close() {
  state_->closed = true;
  if (state_->link) state_->link->fail("the client closed the connection");
  state_->link.reset();
}

const std::string& AsyncClient::principal() const { return state_->principal; }

std::shared_ptr<capnp::MallocMessageBuilder> AsyncClient::build(const RequestFill& fill) const {
  auto message = std::make_shared<capnp::MallocMessageBuilder>();
  fill(new_request(*message, 0));
  return message;
}

asio::awaitable<Reply> AsyncClient::connect_op(std::shared_ptr<State> state) {
  if (state->closed) throw ConnectionError("the client was closed");
  if (state->link && !state->link->closed) throw ConnectionError("already connected");
  co_return co_await open_link(state);
}

asio::awaitable<Reply> AsyncClient::call_op(std::shared_ptr<State> state,
                                            std::shared_ptr<capnp::MallocMessageBuilder> message) {
  if (!state->link) throw ConnectionError("not connected to the server");
  co_return co_await exchange(*state, state->link, *message);
}

asio::awaitable<Reply> AsyncClient::command_op(std::shared_ptr<State> state, std::string request_key,
                                               RequestFill fill) {
  const int attempts = std::max(1, state->options.retry.attempts);
  capnp::MallocMessageBuilder message;
  auto request = new_request(message, 0);
  request.setRequestKey(kj::arrayPtr(reinterpret_cast<const kj::byte*>(request_key.data()), request_key.size()));
  fill(request);
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt == attempts;
    std::optional<RetryNotice> notice;
    try {
      if (auto refused = co_await ensure_link(state)) {
        if (last || !retryable(*refused)) co_return std::move(*refused);
        notice = RetryNotice{RetryNotice::Why::kHelloRefused, attempt + 1, refused->get().getError().getMessage().cStr()};
      } else {
        auto link = state->link;
        auto reply = co_await exchange(*state, link, message);
        if (last || !retryable(reply)) co_return reply;
        if (reply.get().getId() == 0 || reply.get().getError().getCode() == protocol::ErrorCode::SHUTTING_DOWN) {
          link->fail("the server is closing the connection");
        }
        notice = RetryNotice{RetryNotice::Why::kRefused, attempt + 1, reply.get().getError().getMessage().cStr()};
      }
    } catch (const ConnectionError& e) {
      if (state->closed) throw ConnectionError(e.what());
      if (last) throw RetriesExhausted(e.what(), attempts);
      notice = RetryNotice{RetryNotice::Why::kConnectionBroke, attempt + 1, e.what()};
    }
    if (state->options.on_retry) state->options.on_retry(*notice);
    asio::steady_timer pause(state->executor, state->options.retry.pause_before(attempt + 1));
    boost::system::error_code ignored;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

}  // namespace ledger::client
