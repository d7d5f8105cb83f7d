// The console's HTTP server against a real ledgerd started with --http 127.0.0.1:0: the JSON API
// answers as the TCP protocol does, auth (bearer tokens, the session cookie) and the CSRF and
// Host checks, the limits, /healthz and /metrics. The client is Beast's.
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <capnp/compat/json.h>
#include <capnp/message.h>
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include "ledger/client/connection.h"
#include "support/http_exchange.h"
#include "support/ledgerd_process.h"
#include "server/protocol.capnp.h"
#include "server/tokens.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using Headers = ledger::testing::HttpHeaders;

namespace {

struct HttpReply {
  unsigned status = 0;
  std::string body;
  std::string set_cookie;
  std::string content_type;
  boost::json::value json() const { return boost::json::parse(body); }
  std::string error_code() const { return std::string(json().at("error").at("code").as_string()); }
};

HttpReply exchange(std::uint16_t port, http::verb method, const std::string& target, const std::string& body,
                   const Headers& headers) {
  auto response = ledger::testing::http_exchange(port, method, target, body, headers);
  return {response.result_int(), response.body(), std::string(response[http::field::set_cookie]),
          std::string(response[http::field::content_type])};
}

Headers api_headers(const std::string& token = "any") {
  return {{"X-Ledger-Request", "1"}, {"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
}

HttpReply api(std::uint16_t port, const std::string& json, const Headers& headers = api_headers()) {
  return exchange(port, http::verb::post, "/api/v1/requests", json, headers);
}

HttpReply get(std::uint16_t port, const std::string& target) { return exchange(port, http::verb::get, target, "", {}); }

// Drops what differs between two servers doing the same: times and the erasure pass's report
// (its durations and byte counts).
void normalise(boost::json::value& value) {
  if (auto* object = value.if_object()) {
    object->erase("at");
    object->erase("report");
    object->erase("erasureReport");  // times and sizes differ between the two ledgers
    object->erase("merkleRoot");     // over digests of entries written at different times
    for (auto& [key, inner] : *object) normalise(inner);
  } else if (auto* array = value.if_array()) {
    for (auto& inner : *array) normalise(inner);
  }
}

// The same request as JSON over the TCP protocol, its answer as JSON: through the codec the HTTP
// server uses, so both sides are spelled alike.
std::string tcp_json(client::Connection& connection, const std::string& json) {
  capnp::JsonCodec codec;
  capnp::MallocMessageBuilder message;
  codec.decode(kj::ArrayPtr<const char>(json.data(), json.size()), message.initRoot<protocol::Request>());
  auto reply = connection.call(message);
  auto encoded = codec.encode(reply.get());
  return std::string(encoded.cStr(), encoded.size());
}

void write_tokens(const fs::path& file, const std::vector<std::string>& lines) {
  std::ofstream out(file);
  for (const auto& line : lines) out << line << "\n";
  out.close();
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

double metric(const std::string& text, const std::string& name) { return ledger::testing::metric_sample(text, name); }

}  // namespace

TEST_CASE("http: the help page's flow over the JSON API answers as the TCP protocol does", "[http]") {
  TempDir dir;
  LedgerdProcess over_http(dir.path() / "a", {"--http", "127.0.0.1:0"});
  LedgerdProcess over_tcp(dir.path() / "b", {"--http", "127.0.0.1:0"});
  client::ConnectOptions options;
  options.server = over_tcp.address();
  client::Connection tcp(options);
  REQUIRE(tcp_json(tcp, R"({"id":1,"hello":{"token":""}})").find("welcome") != std::string::npos);

  struct Step {
    std::string request;
    unsigned status;
  };
  const std::vector<Step> steps = {
      {R"({"id":2,"create":{"fields":{"name":"Ada","email":"ada@example.com"}}})", 200},
      {R"({"id":3,"create":{"fields":{"name":"Bob"}}})", 200},
      {R"({"id":4,"create":{"fields":{"name":"Cy"}}})", 200},
      {R"({"id":5,"create":{"fields":{"name":"Dee"}}})", 200},
      {R"({"id":6,"delete":{"numbers":["2",3,4]}})", 200},
      {R"({"id":7,"list":{"deleted":true}})", 200},
      {R"({"id":8,"undelete":{"numbers":[3,4]}})", 200},
      {R"({"id":9,"edit":{"number":2,"changes":[{"field":"name","value":"Bobby"}]}})", 200},
      {R"({"id":10,"get":{"number":2}})", 200},
      {R"({"id":11,"create":{"fields":{"name":"Eve"},"number":2}})", 409},
      {R"({"id":12,"delete":{"numbers":[1,99]}})", 404},
      {R"({"id":13,"purge":{"confirm":true,"expectCount":1,"wait":true}})", 200},
      {R"({"id":14,"create":{"fields":{"name":"Fay"}}})", 200},
      {R"({"id":15,"history":{"number":3}})", 200},
      {R"({"id":16,"list":{}})", 200},
  };
  for (const auto& step : steps) {
    INFO(step.request);
    auto reply = api(over_http.http_port(), step.request);
    CHECK(reply.status == step.status);
    CHECK(reply.content_type == "application/json");
    auto from_http = reply.json();
    auto from_tcp = boost::json::parse(tcp_json(tcp, step.request));
    normalise(from_http);
    normalise(from_tcp);
    CHECK(boost::json::serialize(from_http) == boost::json::serialize(from_tcp));
  }
  // What the flow did, read back: the purge freed 2 and Fay took it; the erasure was verified.
  auto fay = api(over_http.http_port(), R"({"id":17,"get":{"number":2}})").json();
  CHECK(fay.at("customer").at("fields").at("name").as_string() == "Fay");
  auto purge = api(over_http.http_port(), R"({"id":18,"erasureReport":3})");
  CHECK(purge.status == 404);  // seq 3 is a create; the purge's seq is in its answer
}

TEST_CASE("http: a refusal names its field, with the protocol's code", "[http]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  auto reply = api(ledgerd.http_port(), R"({"id":"7","create":{"fields":{"name":""}}})");
  CHECK(reply.status == 422);
  auto json = reply.json();
  CHECK(json.at("id").as_string() == "7");
  CHECK(json.at("error").at("code").as_string() == "invalidField");
  CHECK(json.at("error").at("field").as_string() == "name");
  CHECK_FALSE(json.at("error").at("message").as_string().empty());
}

TEST_CASE("http: bearer tokens carry the tokens file's roles, and a clerk cannot purge", "[http]") {
  TempDir dir;
  const auto tokens = dir.path() / "tokens";
  write_tokens(tokens, {"till clerk " + server::token_hash_hex("clerk-secret"),
                        "root admin " + server::token_hash_hex("admin-secret")});
  LedgerdProcess ledgerd(dir.path() / "data", {"--tokens", tokens.string(), "--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();

  auto created = api(port, R"({"id":1,"create":{"fields":{"name":"Ada"}}})", api_headers("clerk-secret"));
  CHECK(created.status == 200);
  auto history = api(port, R"({"id":2,"history":{"number":1}})", api_headers("clerk-secret")).json();
  CHECK(history.at("history").at("events").at(0).at("actor").as_string() == "till");

  auto purge = api(port, R"({"id":3,"purge":{"confirm":true}})", api_headers("clerk-secret"));
  CHECK(purge.status == 403);
  CHECK(purge.error_code() == "forbidden");
  auto stats = api(port, R"({"id":4,"stats":null})", api_headers("clerk-secret"));
  CHECK(stats.status == 403);

  auto by_admin = api(port, R"({"id":5,"purge":{"confirm":true}})", api_headers("admin-secret"));
  CHECK(by_admin.status == 409);
  CHECK(by_admin.error_code() == "nothingToDo");

  auto unknown = api(port, R"({"id":6,"list":{}})", api_headers("guess"));
  CHECK(unknown.status == 401);
  CHECK(unknown.error_code() == "unauthenticated");
  auto none = api(port, R"({"id":7,"list":{}})", {{"X-Ledger-Request", "1"}, {"Content-Type", "application/json"}});
  CHECK(none.status == 401);
}

TEST_CASE("http: the session cookie, and the Origin, custom header and Host checks", "[http]") {
  TempDir dir;
  const auto tokens = dir.path() / "tokens";
  write_tokens(tokens, {"till clerk " + server::token_hash_hex("clerk-secret")});
  LedgerdProcess ledgerd(dir.path() / "data", {"--tokens", tokens.string(), "--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();
  const std::string own_origin = "http://127.0.0.1:" + std::to_string(port);
  const Headers login_headers = {{"X-Ledger-Request", "1"}, {"Content-Type", "application/json"},
                                 {"Origin", own_origin}};

  auto refused = exchange(port, http::verb::post, "/api/v1/session", R"({"token":"guess"})", login_headers);
  CHECK(refused.status == 401);
  CHECK(refused.set_cookie.empty());

  auto login = exchange(port, http::verb::post, "/api/v1/session", R"({"token":"clerk-secret"})", login_headers);
  REQUIRE(login.status == 200);
  CHECK(login.json().at("principal").as_string() == "till");
  CHECK(login.json().at("role").as_string() == "clerk");
  CHECK(login.set_cookie.find("HttpOnly") != std::string::npos);
  CHECK(login.set_cookie.find("SameSite=Strict") != std::string::npos);
  const auto cookie = login.set_cookie.substr(0, login.set_cookie.find(';'));
  REQUIRE(cookie.rfind("ledger_session=", 0) == 0);

  const std::string create = R"({"id":1,"create":{"fields":{"name":"Ada"}}})";
  Headers browser = {{"X-Ledger-Request", "1"}, {"Content-Type", "application/json"}, {"Origin", own_origin},
                     {"Sec-Fetch-Site", "same-origin"}, {"Cookie", cookie}};
  CHECK(api(port, create, browser).status == 200);

  SECTION("without the custom header: 403") {
    Headers without = {{"Content-Type", "application/json"}, {"Origin", own_origin}, {"Cookie", cookie}};
    auto reply = api(port, create, without);
    CHECK(reply.status == 403);
    CHECK(reply.error_code() == "forbidden");
  }
  SECTION("from a foreign Origin: 403") {
    auto foreign = browser;
    foreign[2].second = "http://evil.example";
    CHECK(api(port, create, foreign).status == 403);
  }
  SECTION("from another site: 403") {
    auto cross = browser;
    cross.erase(cross.begin() + 2);  // no Origin
    cross[2].second = "cross-site";
    CHECK(api(port, create, cross).status == 403);
  }
  SECTION("to another Host name (DNS rebinding): 421, reads too") {
    auto rebound = browser;
    rebound.emplace_back("Host", "evil.example:" + std::to_string(port));
    CHECK(api(port, create, rebound).status == 421);
    CHECK(exchange(port, http::verb::get, "/metrics", "", {{"Host", "evil.example"}}).status == 421);
  }
  SECTION("after logout the cookie is no longer taken") {
    auto logout = exchange(port, http::verb::delete_, "/api/v1/session", "", browser);
    CHECK(logout.status == 204);
    CHECK(api(port, create, browser).status == 401);
  }
  // Nothing the refused requests carried was done.
  auto list = api(port, R"({"id":2,"list":{}})", api_headers("clerk-secret")).json();
  CHECK(list.at("page").at("customers").as_array().size() == 1);
}

TEST_CASE("http: oversized and malformed bodies get a 4xx with a JSON error, and others go on", "[http]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();

  auto oversized = api(port, std::string((1 << 20) + 1, ' '));
  CHECK(oversized.status == 413);
  CHECK(oversized.error_code() == "tooLarge");

  auto malformed = api(port, R"({"id":1,"create":{"fields":)");
  CHECK(malformed.status == 400);
  CHECK(malformed.error_code() == "badRequest");

  auto wrong_type = api(port, R"({"id":-1})");
  CHECK(wrong_type.status == 400);

  auto huge_header = exchange(port, http::verb::get, "/healthz", "", {{"X-Filler", std::string(20'000, 'x')}});
  CHECK(huge_header.status == 431);

  auto not_json = exchange(port, http::verb::post, "/api/v1/requests", "{}",
                           {{"X-Ledger-Request", "1"}, {"Content-Type", "text/plain"}, {"Authorization", "Bearer x"}});
  CHECK(not_json.status == 415);

  CHECK(get(port, "/nowhere").status == 404);
  CHECK(api(port, R"({"id":2,"create":{"fields":{"name":"Ada"}}})").status == 200);
}

TEST_CASE("http: /healthz says it serves, /metrics counts a create", "[http]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();

  auto health = get(port, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.json().at("status").as_string() == "serving");

  auto before = get(port, "/metrics");
  CHECK(before.status == 200);
  CHECK(before.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  for (const char* name : {"ledger_commands_total", "ledger_group_commits_total", "ledger_commands_per_group",
                           "ledger_writer_cpu_seconds_total", "ledger_connections", "ledger_subscribers",
                           "ledger_rocksdb_live_data_bytes", "ledger_api_requests_total", "ledger_api_refusals_total",
                           "ledger_api_request_duration_seconds"}) {
    INFO(name);
    CHECK(before.body.find(std::string("# TYPE ") + name + " ") != std::string::npos);
  }
  CHECK(metric(before.body, R"(ledger_api_requests_total{kind="create"})") == 0);

  CHECK(api(port, R"({"id":1,"create":{"fields":{"name":"Ada"}}})").status == 200);
  CHECK(api(port, R"({"id":2,"create":{"fields":{"name":""}}})").status == 422);

  auto after = get(port, "/metrics").body;
  CHECK(metric(after, R"(ledger_api_requests_total{kind="create"})") == 2);
  CHECK(metric(after, R"(ledger_api_refusals_total{code="invalidField"})") == 1);
  CHECK(metric(after, "ledger_commands_total") >= 1);
  CHECK(metric(after, "ledger_api_request_duration_seconds_count") == 2);
  CHECK(metric(after, R"(ledger_connections{transport="http"})") >= 1);
}

TEST_CASE("http: ledgerd refuses --http off loopback, since it speaks plain HTTP", "[http]") {
  TempDir dir;
  CHECK_THROWS(LedgerdProcess(dir.path() / "data", {"--http", "0.0.0.0:0"}));
}

TEST_CASE("http: /metrics shows requests over TCP, group sizes, write latency and an erasure pass", "[http]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  const auto port = ledgerd.http_port();
  client::ConnectOptions options;
  options.server = ledgerd.address();
  client::Connection tcp(options);
  REQUIRE(tcp_json(tcp, R"({"id":1,"hello":{"token":""}})").find("welcome") != std::string::npos);
  REQUIRE(tcp_json(tcp, R"({"id":2,"create":{"fields":{"name":"Ada"}}})").find("written") != std::string::npos);
  REQUIRE(tcp_json(tcp, R"({"id":3,"create":{"fields":{"name":""}}})").find("invalidField") != std::string::npos);
  REQUIRE(tcp_json(tcp, R"({"id":4,"delete":{"numbers":[1]}})").find("error") == std::string::npos);
  REQUIRE(api(port, R"({"id":5,"purge":{"confirm":true,"expectCount":1,"wait":true}})").status == 200);

  auto text = get(port, "/metrics").body;
  for (const char* name : {"ledger_requests_total", "ledger_refusals_total", "ledger_request_duration_seconds",
                           "ledger_group_size", "ledger_group_write_seconds", "ledger_erasure_passes_total",
                           "ledger_erasure_pass_duration_seconds", "ledger_erasure_residue_total",
                           "ledger_erasure_last_residue", "ledger_websocket_subscribers",
                           "ledger_websocket_cut_off_total"}) {
    INFO(name);
    CHECK(text.find(std::string("# TYPE ") + name + " ") != std::string::npos);
  }
  // Over both transports: two creates and a delete over TCP, a purge over HTTP.
  CHECK(metric(text, R"(ledger_requests_total{kind="create"})") == 2);
  CHECK(metric(text, R"(ledger_requests_total{kind="purge"})") == 1);
  CHECK(metric(text, R"(ledger_refusals_total{code="invalidField"})") == 1);
  CHECK(metric(text, R"(ledger_api_requests_total{kind="create"})") == 0);
  // Three durable groups at least (create, delete, purge), each of at least one command.
  CHECK(metric(text, "ledger_group_size_count") >= 3);
  CHECK(metric(text, R"(ledger_group_size_bucket{le="+Inf"})") == metric(text, "ledger_group_size_count"));
  CHECK(metric(text, "ledger_group_write_seconds_count") == metric(text, "ledger_group_size_count"));
  CHECK(metric(text, R"(ledger_erasure_passes_total{state="verified"})") == 1);
  CHECK(metric(text, "ledger_erasure_pass_duration_seconds_count") == 1);
  CHECK(metric(text, "ledger_erasure_last_residue") == 0);
}
