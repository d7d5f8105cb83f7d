#include "tools/bench/minimal_log_server.h"

#include <array>
#include <deque>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <rocksdb/write_batch.h>

#include "eventstore/encoding.h"
#include "server/frame_parser.h"
#include "server/protocol.capnp.h"

namespace ledger::bench {
namespace asio = boost::asio;
using asio::ip::tcp;
using Frame = kj::Array<capnp::word>;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

Frame error_frame(std::uint64_t id, protocol::ErrorCode code, const std::string& message) {
  capnp::MallocMessageBuilder message_builder(64);
  auto response = message_builder.initRoot<protocol::Response>();
  response.setId(id);
  auto error = response.initError();
  error.setCode(code);
  error.setMessage(message);
  return capnp::messageToFlatArray(message_builder);
}

Frame welcome_frame(std::uint64_t id) {
  capnp::MallocMessageBuilder message(32);
  auto response = message.initRoot<protocol::Response>();
  response.setId(id);
  auto welcome = response.initWelcome();
  welcome.setPrincipal("minimal log");
  welcome.setRole(protocol::Role::CLERK);
  return capnp::messageToFlatArray(message);
}

// The answer ledgerd gives when the command succeeds; `seq` is the key it was written under.
// `request_frame` was checked when it was received.
Frame success_frame(const Frame& request_frame, std::uint64_t seq) {
  capnp::FlatArrayMessageReader reader(request_frame, server::frame_reader_options(request_frame.size()));
  const auto request = reader.getRoot<protocol::Request>();
  capnp::MallocMessageBuilder message(64);
  auto response = message.initRoot<protocol::Response>();
  response.setId(request.getId());
  switch (request.which()) {
    case protocol::Request::CREATE: {
      auto written = response.initWritten();
      written.setNumber(seq);
      written.setId(seq);
      written.setRevision(1);
      break;
    }
    case protocol::Request::EDIT: {
      response.initWritten().setNumber(request.getEdit().getNumber());
      break;
    }
    case protocol::Request::DELETE:
      response.initChanged().setNumbers(request.getDelete().getNumbers());
      break;
    case protocol::Request::UNDELETE:
      response.initChanged().setNumbers(request.getUndelete().getNumbers());
      break;
    default:
      return error_frame(request.getId(), protocol::ErrorCode::INTERNAL, "not a command");
  }
  return capnp::messageToFlatArray(message);
}

Frame failure_frame(const Frame& request_frame, protocol::ErrorCode code, const std::string& message) {
  capnp::FlatArrayMessageReader reader(request_frame, server::frame_reader_options(request_frame.size()));
  return error_frame(reader.getRoot<protocol::Request>().getId(), code, message);
}

}  // namespace

// One client's socket, on its own strand: reads frames, answers hello at once, hands commands
// to the writer, and writes answers in the order they come, one async_write at a time.
class MinimalLogServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  // The socket's executor must be a strand; `server` must outlive the connection's work.
  Connection(tcp::socket socket, MinimalLogServer& server) : socket_(std::move(socket)), server_(server) {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
  }

  void start() {
    asio::co_spawn(socket_.get_executor(), [self = shared_from_this()] { return self->read_loop(); },
                   asio::detached);
  }

  // Sends `frame` after the answers given before it. Callable from any thread.
  void answer(Frame frame) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
      if (self->closed_) return;
      self->outbox_.push_back(std::move(frame));
      if (!self->writing_) self->write_outbox();
    });
  }

  // Closes the socket, which ends the reader and any write. Callable from any thread.
  void close() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
  }

 private:
  asio::awaitable<void> read_loop() {
    for (;;) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer_), kAwait);
      if (ec) break;
      for (std::size_t pos = 0; pos < n;) {
        std::size_t consumed = 0;
        const auto result = parser_.parse(buffer_.data() + pos, n - pos, consumed);
        pos += consumed;
        if (result == server::FrameParser::Result::kBad) {
          answer(error_frame(0, protocol::ErrorCode::BAD_REQUEST, parser_.error()));
          co_return;  // the socket closes once the answer is written and nothing holds it
        }
        if (result == server::FrameParser::Result::kGood) handle(parser_.take_frame());
      }
    }
  }

  void handle(Frame frame) {
    std::uint64_t id = 0;
    protocol::Request::Which kind;
    try {
      capnp::FlatArrayMessageReader reader(frame, server::frame_reader_options(frame.size()));
      const auto request = reader.getRoot<protocol::Request>();
      (void)request.totalSize();  // walks every pointer: the limits hold here, not in the writer
      id = request.getId();
      kind = request.which();
    } catch (const kj::Exception&) {
      answer(error_frame(0, protocol::ErrorCode::BAD_REQUEST, "the frame is not a valid Request message"));
      return;
    }
    switch (kind) {
      case protocol::Request::HELLO:
        answer(welcome_frame(id));
        return;
      case protocol::Request::CREATE:
      case protocol::Request::EDIT:
      case protocol::Request::DELETE:
      case protocol::Request::UNDELETE:
        server_.append({shared_from_this(), std::move(frame)});
        return;
      default:
        answer(error_frame(id, protocol::ErrorCode::BAD_REQUEST, "the minimal log takes hello and commands only"));
    }
  }

  void write_outbox() {
    writing_ = true;
    sending_.clear();
    buffers_.clear();
    while (!outbox_.empty()) {
      sending_.push_back(std::move(outbox_.front()));
      outbox_.pop_front();
      const auto bytes = sending_.back().asBytes();
      buffers_.emplace_back(bytes.begin(), bytes.size());
    }
    asio::async_write(socket_, buffers_, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      self->sending_.clear();
      self->writing_ = false;
      if (ec) {
        self->close_now();  // the client is gone: nothing left to deliver
        return;
      }
      if (!self->outbox_.empty()) self->write_outbox();
    });
  }

  void close_now() {
    closed_ = true;
    outbox_.clear();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  MinimalLogServer& server_;
  server::FrameParser parser_;
  std::array<std::uint8_t, 16 * 1024> buffer_{};
  std::deque<Frame> outbox_;
  std::vector<Frame> sending_;  // the frames the write in progress sends
  std::vector<asio::const_buffer> buffers_;
  bool writing_ = false;
  bool closed_ = false;
};

MinimalLogServer::MinimalLogServer(const std::filesystem::path& dir, unsigned network_threads)
    : db_(eventstore::Database::open(dir, {})),
      pool_(network_threads),
      acceptor_(asio::make_strand(pool_.main()), tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
      address_("127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port())) {
  accept();
  writer_ = std::thread([this] { write_loop(); });
  network_ = std::thread([this] { pool_.run(); });
}

MinimalLogServer::~MinimalLogServer() { stop(); }

std::uint64_t MinimalLogServer::appended() const {
  std::lock_guard lock(mutex_);
  return appended_;
}

void MinimalLogServer::accept() {
  acceptor_.async_accept(asio::make_strand(pool_.next()), [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) return;  // closed by stop(), or out of descriptors: a baseline accepts no more
    auto connection = std::make_shared<Connection>(std::move(socket), *this);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;  // stop() has gathered the connections to close: this one closes now
      std::erase_if(connections_, [](const auto& c) { return c.expired(); });
      connections_.push_back(connection);
    }
    connection->start();
    accept();
  });
}

void MinimalLogServer::append(Queued queued) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(queued));
      queued_signal_.notify_one();
      return;
    }
  }
  queued.connection->answer(
      failure_frame(queued.request, protocol::ErrorCode::SHUTTING_DOWN, "the minimal log is stopping"));
}

void MinimalLogServer::write_loop() {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  auto* log = db_->family(eventstore::Family::kLog);
  std::uint64_t next_seq = 1;
  std::vector<Queued> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      queued_signal_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;
      batch.swap(queue_);
    }
    rocksdb::WriteBatch write;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto bytes = batch[i].request.asBytes();
      write.Put(log, eventstore::u64_key(next_seq + i),
                rocksdb::Slice(reinterpret_cast<const char*>(bytes.begin()), bytes.size()));
    }
    const auto status = db_->db().Write(sync, &write);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch[i].connection->answer(status.ok() ? success_frame(batch[i].request, next_seq + i)
                                              : failure_frame(batch[i].request, protocol::ErrorCode::INTERNAL,
                                                              "the write failed: " + status.ToString()));
    }
    if (status.ok()) {
      next_seq += batch.size();
      std::lock_guard lock(mutex_);
      appended_ += batch.size();
    }
    batch.clear();
  }
}

void MinimalLogServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_signal_.notify_one();
  writer_.join();  // it empties the queue first
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mutex_);
    for (const auto& weak : connections_) {
      if (auto connection = weak.lock()) open.push_back(std::move(connection));
    }
    connections_.clear();
  }
  for (const auto& connection : open) connection->close();
  open.clear();
  network_.join();  // the pool's threads return once every socket is closed
  db_->close();
}

}  // namespace ledger::bench
