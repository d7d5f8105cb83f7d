// The console's live feed (WebSocket, GET /api/v1/feed), HTTPS on the HTTP port, and the HTTP
// server's deadlines and connection load, against a real ledgerd. The clients are Beast's.
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <capnp/serialize.h>
#include <catch2/catch.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "ledger/client/connection.h"
#include "net/certificate.h"
#include "support/http_exchange.h"
#include "support/ledgerd_process.h"
#include "server/protocol.capnp.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Headers = ledger::testing::HttpHeaders;

namespace {

// Reads fail after `seconds` instead of hanging.
void read_timeout(tcp::socket& socket, int seconds) {
  timeval timeout{seconds, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

std::string own_origin(std::uint16_t port, const char* scheme = "http") {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port);
}

http::response<http::string_body> exchange(std::uint16_t port, http::verb method, const std::string& target,
                                           const std::string& body, const Headers& headers) {
  return ledger::testing::http_exchange(port, method, target, body, headers);
}

unsigned create(std::uint16_t port, const std::string& name) {
  return exchange(port, http::verb::post, "/api/v1/requests", R"({"id":1,"create":{"fields":{"name":")" + name + "\"}}}",
                  {{"X-Ledger-Request", "1"}, {"Content-Type", "application/json"}, {"Authorization", "Bearer any"}})
      .result_int();
}

// A WebSocket client of the feed. `receive_buffer` (bytes, 0: the default) makes the kernel hold
// little of what the server sends while the test does not read.
struct FeedClient {
  FeedClient(std::uint16_t port, const Headers& headers, int receive_buffer = 0) : ws(io) {
    auto& socket = ws.next_layer();
    socket.open(tcp::v4());
    if (receive_buffer > 0) setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    socket.connect({asio::ip::address_v4::loopback(), port});
    read_timeout(socket, 30);
    ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
      for (const auto& [name, value] : headers) request.set(name, value);
    }));
    ws.handshake(response, "127.0.0.1:" + std::to_string(port), "/api/v1/feed", error);
  }
  void send(const std::string& text) { ws.write(asio::buffer(text)); }
  // The next message as JSON, or nullopt when the feed ended (close, reset).
  std::optional<boost::json::value> next() {
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    ws.read(buffer, ec);
    if (ec) {
      ended = ec;
      return std::nullopt;
    }
    return boost::json::parse(beast::buffers_to_string(buffer.data()));
  }
  asio::io_context io;
  websocket::stream<tcp::socket> ws;
  websocket::response_type response;
  boost::system::error_code error;  // of the handshake
  boost::system::error_code ended;  // why next() found no message
};

Headers bearer(std::uint16_t port) { return {{"Origin", own_origin(port)}, {"Authorization", "Bearer any"}}; }

std::uint64_t seq_of(const boost::json::value& message) {
  return std::stoull(std::string(message.at("entry").at("seq").as_string()));
}

std::string read_log(const LedgerdProcess& ledgerd) {
  std::ifstream log(ledgerd.log_path());
  return {std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
}

double metric(const std::string& text, const std::string& name) { return ledger::testing::metric_sample(text, name); }

}  // namespace

TEST_CASE("feed: a subscriber reads the existing entries, then new ones", "[http][feed]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();
  REQUIRE(create(port, "Ada") == 200);
  REQUIRE(create(port, "Bob") == 200);

  FeedClient feed(port, bearer(port));
  REQUIRE_FALSE(feed.error);
  feed.send(R"({"id":"1","subscribe":{"fromSeq":"0"}})");
  auto subscribed = feed.next();
  REQUIRE(subscribed);
  CHECK(subscribed->at("id").as_string() == "1");
  CHECK(subscribed->at("subscribed").as_string() == "1");
  for (std::uint64_t seq : {1, 2}) {
    auto entry = feed.next();
    REQUIRE(entry);
    CHECK(entry->at("id").as_string() == "1");
    CHECK(seq_of(*entry) == seq);
  }
  REQUIRE(create(port, "Cy") == 200);
  auto live = feed.next();
  REQUIRE(live);
  CHECK(seq_of(*live) == 3);

  auto metrics = exchange(port, http::verb::get, "/metrics", "", {}).body();
  CHECK(metric(metrics, "ledger_websocket_subscribers") == 1);
}

TEST_CASE("feed: a message that is not one subscribe gets an error Response, then the close", "[http][feed]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();
  std::string sent, code;
  SECTION("malformed JSON") {
    sent = R"({"id":"1","subscribe":)";
    code = "badRequest";
  }
  SECTION("another request") {
    sent = R"({"id":"4","list":{}})";
    code = "badRequest";
  }
  FeedClient feed(port, bearer(port));
  REQUIRE_FALSE(feed.error);
  feed.send(sent);
  auto answer = feed.next();
  REQUIRE(answer);
  CHECK(answer->at("error").at("code").as_string() == code);
  CHECK_FALSE(feed.next());
  CHECK(feed.ended == websocket::error::closed);
  CHECK(create(port, "Ada") == 200);  // the server goes on
}

TEST_CASE("feed: an oversized message closes the feed with 1009", "[http][feed]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();
  FeedClient feed(port, bearer(port));
  REQUIRE_FALSE(feed.error);
  feed.send(std::string((64 << 10) + 1, ' '));
  CHECK_FALSE(feed.next());
  CHECK(feed.ended == websocket::error::closed);
  CHECK(feed.ws.reason().code == websocket::close_code::too_big);
}

TEST_CASE("feed: the upgrade needs a session and this server's Origin", "[http][feed]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();

  SECTION("no cookie, no token: 401, no upgrade") {
    FeedClient feed(port, {{"Origin", own_origin(port)}});
    CHECK(feed.error == websocket::error::upgrade_declined);
    CHECK(feed.response.result_int() == 401);
    CHECK(boost::json::parse(feed.response.body()).at("error").at("code").as_string() == "unauthenticated");
  }
  SECTION("another Origin: 403") {
    FeedClient feed(port, {{"Origin", "http://evil.example"}, {"Authorization", "Bearer any"}});
    CHECK(feed.error == websocket::error::upgrade_declined);
    CHECK(feed.response.result_int() == 403);
  }
  SECTION("no Origin and no Sec-Fetch-Site: 403") {
    FeedClient feed(port, {{"Authorization", "Bearer any"}});
    CHECK(feed.response.result_int() == 403);
  }
  SECTION("the session cookie of a login, and Sec-Fetch-Site instead of Origin") {
    auto login = exchange(port, http::verb::post, "/api/v1/session", R"({"token":"any"})",
                          {{"X-Ledger-Request", "1"}, {"Content-Type", "application/json"}});
    REQUIRE(login.result_int() == 200);
    const std::string set_cookie(login[http::field::set_cookie]);
    const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
    FeedClient feed(port, {{"Sec-Fetch-Site", "same-origin"}, {"Cookie", cookie}});
    REQUIRE_FALSE(feed.error);
    feed.send(R"({"id":"9","subscribe":{"fromSeq":"1"}})");
    auto subscribed = feed.next();
    REQUIRE(subscribed);
    CHECK(subscribed->at("subscribed").as_string() == "1");
  }
}

TEST_CASE("feed: a WebSocket reader that stops reading is cut off, another goes on", "[http][feed]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0", "--max-subscriber-lag", "1000",
                                               "--max-outbox-bytes", "65536"});
  const auto port = ledgerd.http_port();
  FeedClient slow(port, bearer(port), 4096);
  REQUIRE_FALSE(slow.error);
  slow.send(R"({"id":"1","subscribe":{"fromSeq":"1"}})");
  REQUIRE(slow.next());  // subscribed; from here it reads nothing until the server gave up on it

  FeedClient fast(port, bearer(port));
  REQUIRE_FALSE(fast.error);
  fast.send(R"({"id":"2","subscribe":{"fromSeq":"1"}})");
  REQUIRE(fast.next());
  std::atomic<std::uint64_t> fast_seen{0};
  std::atomic<std::uint64_t> target{~std::uint64_t{0}};  // the last seq written, once known
  std::thread reader([&] {
    while (fast_seen < target) {
      auto message = fast.next();
      if (!message || !message->as_object().contains("entry")) break;
      const auto seq = seq_of(*message);
      if (seq != fast_seen + 1) break;  // out of order: the check below fails
      fast_seen = seq;
    }
  });

  // On a failed REQUIRE too: the reader ends before the test does.
  struct StopReader {
    ~StopReader() {
      if (!reader.joinable()) return;
      target = 0;
      boost::system::error_code ignored;
      fast.ws.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
      reader.join();
    }
    std::atomic<std::uint64_t>& target;
    FeedClient& fast;
    std::thread& reader;
  } stop_reader{target, fast, reader};

  // The writer pipelines creates over the TCP protocol.
  client::Connection writer({ledgerd.address(), false, {}});
  {
    capnp::MallocMessageBuilder hello;
    client::new_request(hello).initHello();
    REQUIRE(writer.call(hello).get().isWelcome());
  }
  auto cut_off = [&] { return read_log(ledgerd).find("subscriber cut off") != std::string::npos; };
  constexpr int kChunk = 500;
  std::uint64_t written = 0;
  for (int chunk = 0; chunk < 400 && !cut_off(); ++chunk) {
    std::vector<std::uint8_t> all;
    for (int i = 0; i < kChunk; ++i) {
      capnp::MallocMessageBuilder message;
      client::new_request(message, written + i + 2).initCreate().initFields().setName("Busy " + std::to_string(i));
      const auto words = capnp::messageToFlatArray(message);
      const auto bytes = words.asBytes();
      all.insert(all.end(), bytes.begin(), bytes.end());
    }
    std::thread sender([&] { writer.send_bytes(all.data(), all.size()); });
    int ok = 0;
    try {
      for (int i = 0; i < kChunk; ++i) ok += writer.receive().get().isWritten() ? 1 : 0;
    } catch (const std::exception& e) {
      UNSCOPED_INFO("the writer's connection failed: " << e.what() << "; ledgerd's log:\n" << read_log(ledgerd));
    }
    sender.join();
    REQUIRE(ok == kChunk);
    written += kChunk;
    // The other feed keeps up between bursts, so only the one that does not read falls behind.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (fast_seen < written && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling the reader thread, bounded
    }
    REQUIRE(fast_seen == written);
  }
  REQUIRE(cut_off());

  // The other feed got every entry, in order (its reader ends with the test).
  CHECK(fast_seen == written);

  // The slow one reads what it was sent, in order, then tooSlow (when the server could still
  // send it) and the end.
  std::uint64_t next_seq = 1;
  std::optional<boost::json::value> last;
  while ((last = slow.next()) && last->as_object().contains("entry")) {
    CHECK(seq_of(*last) == next_seq);
    next_seq = seq_of(*last) + 1;
  }
  if (last) {
    CHECK(last->at("error").at("code").as_string() == "tooSlow");
    CHECK_FALSE(slow.next());
  }
  CHECK(next_seq <= written);
  auto metrics = exchange(port, http::verb::get, "/metrics", "", {}).body();
  CHECK(metric(metrics, "ledger_websocket_cut_off_total") == 1);
}

TEST_CASE("feed: when ledgerd stops, a subscriber gets shuttingDown and the close", "[http][feed]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();
  REQUIRE(create(port, "Ada") == 200);
  FeedClient feed(port, bearer(port));
  REQUIRE_FALSE(feed.error);
  feed.send(R"({"id":"5","subscribe":{"fromSeq":"1"}})");
  REQUIRE(feed.next());  // subscribed
  REQUIRE(feed.next());  // the entry of Ada
  ledgerd.send_signal(SIGTERM);
  auto last = feed.next();
  REQUIRE(last);
  CHECK(last->at("id").as_string() == "5");
  CHECK(last->at("error").at("code").as_string() == "shuttingDown");
  CHECK_FALSE(feed.next());
  CHECK(feed.ended == websocket::error::closed);
  CHECK(ledgerd.wait_exit() == 0);
}

TEST_CASE("http: a client that sends half a header is closed at the request deadline", "[http]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0", "--http-request-timeout-ms", "300"});
  const auto port = ledgerd.http_port();
  asio::io_context io;
  tcp::socket stalled(io);
  stalled.connect({asio::ip::address_v4::loopback(), port});
  read_timeout(stalled, 30);
  const std::string half = "GET /healthz HTTP/1.1\r\nHo";
  asio::write(stalled, asio::buffer(half));
  CHECK(create(port, "Ada") == 200);  // others are served meanwhile
  // Closed at the request deadline: long before the keep-alive deadline (30 s) would.
  pollfd ready{stalled.native_handle(), POLLIN, 0};
  REQUIRE(::poll(&ready, 1, 15'000) == 1);
  std::array<char, 256> buffer;
  boost::system::error_code ec;
  std::size_t total = 0;
  while (!ec) total += stalled.read_some(asio::buffer(buffer), ec);
  CHECK(ec == asio::error::eof);
  CHECK(total == 0);
}

TEST_CASE("http: 500 connections opened at once, and another client is still served", "[http]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0", "--http-max-connections", "1000"});
  const auto port = ledgerd.http_port();
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> crowd;
  for (int i = 0; i < 500; ++i) {
    auto socket = std::make_unique<tcp::socket>(io);
    socket->connect({asio::ip::address_v4::loopback(), port});
    crowd.push_back(std::move(socket));
  }
  for (int i = 0; i < 5; ++i) CHECK(create(port, "Ada " + std::to_string(i)) == 200);
  auto metrics = exchange(port, http::verb::get, "/metrics", "", {}).body();
  CHECK(metric(metrics, R"(ledger_connections{transport="http"})") >= 500);
}

TEST_CASE("https: --http with --tls-cert serves HTTPS, a Secure cookie and a wss feed", "[http][tls]") {
  TempDir dir;
  const auto cert = (dir.path() / "cert.pem").string();
  const auto key = (dir.path() / "key.pem").string();
  REQUIRE(testing::make_certificate(cert, key));
  LedgerdProcess ledgerd(dir.path() / "data",
                         {"--tls-cert", cert, "--tls-key", key, "--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();

  asio::io_context io;
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.load_verify_file(cert);
  context.set_verify_mode(asio::ssl::verify_peer);
  auto connect = [&](beast::ssl_stream<tcp::socket>& stream) {
    beast::get_lowest_layer(stream).connect({asio::ip::address_v4::loopback(), port});
    read_timeout(beast::get_lowest_layer(stream), 30);
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    stream.handshake(asio::ssl::stream_base::client);
  };

  beast::ssl_stream<tcp::socket> https(io, context);
  connect(https);
  http::request<http::string_body> login{http::verb::post, "/api/v1/session", 11};
  login.set(http::field::host, "localhost:" + std::to_string(port));
  login.set("X-Ledger-Request", "1");
  login.set(http::field::content_type, "application/json");
  login.set(http::field::origin, "https://localhost:" + std::to_string(port));
  login.body() = R"({"token":"any"})";
  login.prepare_payload();
  http::write(https, login);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(https, buffer, response);
  CHECK(response.result_int() == 200);
  const std::string set_cookie(response[http::field::set_cookie]);
  CHECK(set_cookie.find("; Secure") != std::string::npos);
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));

  websocket::stream<beast::ssl_stream<tcp::socket>> wss(io, context);
  connect(wss.next_layer());
  wss.set_option(websocket::stream_base::decorator([&](websocket::request_type& request) {
    request.set(http::field::origin, "https://localhost:" + std::to_string(port));
    request.set(http::field::cookie, cookie);
  }));
  wss.handshake("localhost:" + std::to_string(port), "/api/v1/feed");
  wss.write(asio::buffer(std::string(R"({"id":"1","subscribe":{"fromSeq":"1"}})")));
  beast::flat_buffer message;
  wss.read(message);
  CHECK(boost::json::parse(beast::buffers_to_string(message.data())).at("subscribed").as_string() == "1");

  // A plain client on the HTTPS port reads no answer.
  asio::ip::tcp::socket plain(io);
  plain.connect({asio::ip::address_v4::loopback(), port});
  read_timeout(plain, 30);
  asio::write(plain, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")));
  std::array<char, 256> bytes;
  boost::system::error_code ec;
  const auto n = plain.read_some(asio::buffer(bytes), ec);
  CHECK(std::string(bytes.data(), n).find("HTTP/1.1 200") == std::string::npos);
}

TEST_CASE("http: --http off loopback without TLS is refused, saying why", "[http][tls]") {
  TempDir dir;
  CHECK_THROWS(LedgerdProcess(dir.path() / "data", {"--http", "0.0.0.0:0"}));
  std::ifstream log((dir.path() / "data").string() + ".log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(text.find("without TLS") != std::string::npos);
}
