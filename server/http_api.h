// HttpApi: answers one HTTP request of the console's server — the JSON API, the login, /healthz
// and /metrics — and knows no sockets: HttpServer reads a request, awaits the answer, writes it.
// GET and HEAD of "/" and "/console/..." serve the web console's embedded files (console_assets.h).
// A JSON request is decoded into a protocol Request (http_json.h) and handed to the same
// RequestHandler as the TCP protocol, with a Session whose principal is the bearer token's or
// the session cookie's; so every rule, role check included, is the TCP protocol's.
//
// Checks before anything else, on every request: Host must be one the server answers for (DNS
// rebinding: a page on another name that resolves to this address reads nothing). On every
// request that is not GET or HEAD: the custom header X-Ledger-Request: 1 (a cross-site page cannot
// send it without a CORS preflight, which this server never grants), and Origin, when given,
// must be this server's own; Sec-Fetch-Site, when given, must be same-origin or none.
//
// Thread-safe: const after allow_hosts(); answer() runs on the calling connection's strand.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/api_metrics.h"
#include "server/console_assets.h"
#include "server/frame_parser.h"
#include "server/http_sessions.h"
#include "server/metrics_text.h"
#include "server/request_handler.h"
#include "server/tokens.h"

namespace ledger::server {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Writes the ledger's own metrics (the writer's, connections', RocksDB's) into /metrics.
using MetricsSource = std::function<void(PrometheusText&)>;

// The name of the session cookie.
inline constexpr std::string_view kSessionCookie = "ledger_session";
// The header every state-changing request carries, with the value "1".
inline constexpr std::string_view kRequestHeader = "X-Ledger-Request";

class HttpApi {
 public:
  // The references must outlive the API.
  HttpApi(const RequestHandler& handler, const TokenTable& tokens, HttpSessions& sessions, ApiMetrics& metrics,
          MetricsSource ledger_metrics, FrameLimits frame_limits);

  // The Host values (host[:port]) the server answers for; call once, before serving. `tls`: the
  // server speaks HTTPS (origins are https://, the session cookie is Secure).
  void allow_hosts(std::vector<std::string> hosts, bool tls = false);
  // /healthz answers 503 from now on.
  void set_stopping() { stopping_ = true; }

  // The answer to `request`; never throws for bad input. Sets keep-alive from the request.
  // Runs on the connection's strand: the handler's answers are dispatched to it.
  boost::asio::awaitable<HttpResponse> answer(const HttpRequest& request) const;

  // Whether `request`, a WebSocket upgrade to the feed, may be accepted: Host as always; Origin
  // must be present and this server's own, or Sec-Fetch-Site same-origin (a browser cannot add
  // a custom header to a WebSocket); and the bearer token or session cookie must name a live
  // principal. Returns the principal, or the refusal to answer instead of the upgrade (421, 403,
  // 401).
  std::variant<Principal, HttpResponse> authorize_feed(const HttpRequest& request) const;

  // A response with a JSON error body ({"error":{"code","message"}}).
  static HttpResponse error(unsigned status, std::string_view code, std::string_view message, unsigned version = 11);

 private:
  boost::asio::awaitable<HttpResponse> api_request(const HttpRequest& request, const Principal& principal) const;
  HttpResponse login(const HttpRequest& request) const;
  HttpResponse logout(const HttpRequest& request) const;
  HttpResponse metrics(const HttpRequest& request) const;
  // A console file (GET or HEAD): 200, or 304 when If-None-Match names its ETag.
  HttpResponse console_file(const HttpRequest& request, const ConsoleAsset& asset) const;
  // Who sent the request: the bearer token's principal, else the session cookie's.
  std::optional<Principal> principal_of(const HttpRequest& request) const;
  // A refusal when Host, Origin or the custom header is wrong; nullopt when they pass.
  std::optional<HttpResponse> check_origin(const HttpRequest& request) const;

  const RequestHandler& handler_;
  const TokenTable& tokens_;
  HttpSessions& sessions_;
  ApiMetrics& metrics_;
  const MetricsSource ledger_metrics_;
  const FrameLimits frame_limits_;
  const ConsoleAssets console_;
  std::set<std::string> hosts_;    // lower case
  std::set<std::string> origins_;  // "http://" (or "https://") + each host
  bool tls_ = false;
  std::atomic<bool> stopping_{false};
};

}  // namespace ledger::server
