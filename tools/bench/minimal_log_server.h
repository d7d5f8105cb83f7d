// MinimalLogServer: the networked minimal log, the write benchmark's measure of the least work
// a durable log reached over the ledger's protocol must do per command (docs/performance.md).
//
// It speaks ledgerd's framing and server/protocol.capnp on 127.0.0.1: `hello` is answered with
// `welcome`; each create, edit, delete or undelete is appended as one value, the request's
// bytes, under the next 8-byte big-endian key in the log family of its own database, opened
// with the options the ledger and the raw baselines use. One writer thread takes everything
// queued meanwhile into one WriteBatch, writes it with sync = true (group commit), then answers
// each command of the batch as ledgerd answers its success: a create `written` with the key's
// sequence as its number, an edit `written`, a delete or undelete `changed`. Nothing is
// checked or decided: no token, no state, no idempotency. Any other request gets badRequest.
//
// Thread-safety: address() and appended() may be called from any thread; stop() (or the
// destructor) from any thread that is not one of the server's own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <kj/array.h>
#include <capnp/common.h>

#include "eventstore/database.h"
#include "server/io_pool.h"

namespace ledger::bench {

class MinimalLogServer {
 public:
  // Opens (creating) the database at `dir`, listens on 127.0.0.1 on a free port, and starts
  // `network_threads` threads for the sockets, each connection on one of them as in ledgerd
  // (server::IoPool), and one writer. Throws eventstore::StorageError when the database cannot
  // be opened, boost::system::system_error when it cannot listen.
  MinimalLogServer(const std::filesystem::path& dir, unsigned network_threads);
  // Calls stop().
  ~MinimalLogServer();
  MinimalLogServer(const MinimalLogServer&) = delete;
  MinimalLogServer& operator=(const MinimalLogServer&) = delete;

  // "127.0.0.1:PORT", for client::ConnectOptions::server.
  const std::string& address() const { return address_; }
  // Commands written durably so far.
  std::uint64_t appended() const;
  // Stops accepting, writes and answers every command already received, closes the
  // connections, joins the threads and closes the database. Idempotent.
  void stop();

 private:
  class Connection;  // one client socket's life, on its own strand

  // A received command, its request frame, waiting for the writer.
  struct Queued {
    std::shared_ptr<Connection> connection;
    kj::Array<capnp::word> request;
  };

  void accept();
  // Queues a command for the writer; from a connection's strand.
  void append(Queued queued);
  void write_loop();

  std::unique_ptr<eventstore::Database> db_;
  server::IoPool pool_;
  boost::asio::ip::tcp::acceptor acceptor_;  // used on its strand only
  const std::string address_;

  mutable std::mutex mutex_;
  std::condition_variable queued_signal_;
  std::vector<Queued> queue_;                          // guarded by mutex_
  std::vector<std::weak_ptr<Connection>> connections_;  // guarded by mutex_
  bool stopping_ = false;                              // guarded by mutex_
  std::uint64_t appended_ = 0;                         // guarded by mutex_

  std::thread writer_;
  std::thread network_;  // runs pool_
  bool stopped_ = false;  // stop() ran; only stop() touches it
};

}  // namespace ledger::bench
