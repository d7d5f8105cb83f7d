// The web console's static files, served by a real ledgerd started with --http 127.0.0.1:0: GET /
// is the console's HTML with a strong ETag, revalidation answers 304, every file carries the
// Content-Security-Policy, and no path reaches anything but the embedded files.
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include "support/http_exchange.h"
#include "support/ledgerd_process.h"
#include "server/console_assets.h"
#include "support/temp_dir.h"

using ledger::server::ConsoleAssets;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using Headers = ledger::testing::HttpHeaders;
using Response = http::response<http::string_body>;

namespace {

Response exchange(std::uint16_t port, http::verb method, const std::string& target, const Headers& headers = {}) {
  return ledger::testing::http_exchange(port, method, target, "", headers);
}

}  // namespace

TEST_CASE("console: GET / is the console's HTML, with a strong ETag and a strict policy", "[http][console]") {
  TempDir dir;
  LedgerdProcess ledgerd(dir.path() / "data", {"--http", "127.0.0.1:0"});
  auto page = exchange(ledgerd.http_port(), http::verb::get, "/");
  REQUIRE(page.result_int() == 200);
  CHECK(page[http::field::content_type] == "text/html; charset=utf-8");
  CHECK(page.body().find("<!doctype html>") == 0);
  const std::string etag(page[http::field::etag]);
  CHECK(etag.size() == 34);  // a quoted, strong validator: no W/
  CHECK(etag.front() == '"');
  CHECK(page[http::field::cache_control] == "no-cache");
  CHECK(page["X-Content-Type-Options"] == "nosniff");
  const std::string policy(page["Content-Security-Policy"]);
  CHECK(policy.find("default-src 'self'") != std::string::npos);
  CHECK(policy.find("script-src 'self'") != std::string::npos);
  CHECK(policy.find("unsafe-inline") == std::string::npos);
  CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);

  SECTION("the same ETag revalidates: 304 without a body") {
    auto again = exchange(ledgerd.http_port(), http::verb::get, "/", {{"If-None-Match", etag}});
    CHECK(again.result_int() == 304);
    CHECK(again.body().empty());
    CHECK(again[http::field::etag] == etag);
    auto other = exchange(ledgerd.http_port(), http::verb::get, "/", {{"If-None-Match", "\"other\""}});
    CHECK(other.result_int() == 200);
  }
  SECTION("the script is JavaScript with an ETag of its own; HEAD gives its length only") {
    auto script = exchange(ledgerd.http_port(), http::verb::get, "/console/app.js");
    REQUIRE(script.result_int() == 200);
    CHECK(script[http::field::content_type] == "text/javascript; charset=utf-8");
    CHECK(script[http::field::etag] != etag);
    CHECK(!script["Content-Security-Policy"].empty());
    auto head = exchange(ledgerd.http_port(), http::verb::head, "/console/app.js");
    CHECK(head.result_int() == 200);
    CHECK(head[http::field::content_length] == std::to_string(script.body().size()));
    CHECK(head.body().empty());
  }
  SECTION("an unknown file, a directory climb and an encoded one: 404 in JSON") {
    for (const std::string target : {"/console/nothing.js", "/console/../CMakeLists.txt", "/../console/index.html",
                                     "/console/%2e%2e/README.md", "/console//app.js", "/console/", "/index.html/",
                                     "/console/app.js/../app.js"}) {
      INFO(target);
      auto reply = exchange(ledgerd.http_port(), http::verb::get, target);
      CHECK(reply.result_int() == 404);
      CHECK(reply[http::field::content_type] == "application/json");
    }
  }
  SECTION("a POST to a console file is not served") {
    auto reply = exchange(ledgerd.http_port(), http::verb::post, "/",
                          {{"X-Ledger-Request", "1"}, {"Content-Type", "application/json"}});
    CHECK(reply.result_int() == 404);
  }
}

TEST_CASE("console: If-None-Match takes a list, weak forms and *", "[console]") {
  const std::string etag = "\"0123\"";
  CHECK(ConsoleAssets::matches(etag, etag));
  CHECK(ConsoleAssets::matches("\"x\", \"0123\"", etag));
  CHECK(ConsoleAssets::matches("W/\"0123\"", etag));
  CHECK(ConsoleAssets::matches("*", etag));
  CHECK(!ConsoleAssets::matches("", etag));
  CHECK(!ConsoleAssets::matches("\"012\"", etag));
  CHECK(ConsoleAssets::content_type_of("a/b.css") == "text/css; charset=utf-8");
  CHECK(ConsoleAssets::content_type_of("LICENSE") == "application/octet-stream");
}
