#include "server/http_api.h"

#include <algorithm>
#include <cctype>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <capnp/schema.h>

#include "server/http_json.h"

// GCC 12 takes the frame of an Asio coroutine, allocated and freed by awaitable_frame_base's own
// operator new and delete, for a mismatched pair (a false positive, also in the top CMakeLists).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace ledger::server {
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

using protocol::ErrorCode;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string code_name(ErrorCode code) {
  for (auto enumerant : capnp::Schema::from<ErrorCode>().getEnumerants()) {
    if (enumerant.getOrdinal() == static_cast<std::uint16_t>(code)) return enumerant.getProto().getName().cStr();
  }
  return "internal";
}

// The HTTP status of a Response that is an error: the class of the refusal. The body says the
// rest, as the protocol does.
unsigned status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::FORBIDDEN: return 403;
    case ErrorCode::UNAUTHENTICATED: return 401;
    case ErrorCode::BAD_REQUEST: return 400;
    case ErrorCode::TOO_LARGE: return 413;
    case ErrorCode::BUSY:
    case ErrorCode::SHUTTING_DOWN: return 503;
    case ErrorCode::INTERNAL: return 500;
    case ErrorCode::TIMEOUT: return 504;
    case ErrorCode::NOT_FOUND: return 404;
    case ErrorCode::INVALID_FIELD: return 422;
    default: return 409;  // the ledger's state refuses it: held number, stale revision, ...
  }
}

std::optional<std::string> cookie(const HttpRequest& request, std::string_view name) {
  for (auto it = request.find(http::field::cookie); it != request.end() && it->name() == http::field::cookie; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      auto end = rest.find(';');
      auto pair = rest.substr(0, end);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  return std::nullopt;
}

// Scripts, styles, images and connections from this server only; no inline script or style, no
// framing, no form posting elsewhere.
constexpr std::string_view kConsolePolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

HttpResponse json_response(unsigned status, std::string body, unsigned version) {
  HttpResponse response{static_cast<http::status>(status), version};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.set("X-Content-Type-Options", "nosniff");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

HttpApi::HttpApi(const RequestHandler& handler, const TokenTable& tokens, HttpSessions& sessions, ApiMetrics& metrics,
                 MetricsSource ledger_metrics, FrameLimits frame_limits)
    : handler_(handler),
      tokens_(tokens),
      sessions_(sessions),
      metrics_(metrics),
      ledger_metrics_(std::move(ledger_metrics)),
      frame_limits_(frame_limits) {}

void HttpApi::allow_hosts(std::vector<std::string> hosts, bool tls) {
  tls_ = tls;
  for (auto& host : hosts) {
    hosts_.insert(lower(host));
    origins_.insert((tls ? "https://" : "http://") + lower(host));
  }
}

std::variant<Principal, HttpResponse> HttpApi::authorize_feed(const HttpRequest& request) const {
  const auto v = request.version();
  if (!hosts_.contains(lower(request[http::field::host]))) {
    return error(421, "misdirected",
                 "this server does not answer for that Host; use the address it listens on (or a --http-host name)", v);
  }
  const auto origin = request.find(http::field::origin);
  const auto site = request.find("Sec-Fetch-Site");
  if (origin != request.end() ? !origins_.contains(lower(origin->value()))
                              : site == request.end() || site->value() != "same-origin") {
    return error(403, "forbidden", "the feed is open to this server's own pages only (Origin)", v);
  }
  auto principal = principal_of(request);
  if (!principal) {
    return error(401, "unauthenticated", "log in (POST /api/v1/session) or send Authorization: Bearer with a token",
                 v);
  }
  return std::move(*principal);
}

HttpResponse HttpApi::error(unsigned status, std::string_view code, std::string_view message, unsigned version) {
  return json_response(status, error_json(code, message), version);
}

std::optional<HttpResponse> HttpApi::check_origin(const HttpRequest& request) const {
  const auto v = request.version();
  if (!hosts_.contains(lower(request[http::field::host]))) {
    return error(421, "misdirected",
                 "this server does not answer for that Host; use the address it listens on (or a --http-host name)", v);
  }
  if (request.method() == http::verb::get || request.method() == http::verb::head) return std::nullopt;
  if (request[kRequestHeader] != "1") {
    return error(403, "forbidden", "a request that changes something must carry the header X-Ledger-Request: 1", v);
  }
  if (auto origin = request.find(http::field::origin); origin != request.end()) {
    if (!origins_.contains(lower(origin->value()))) {
      return error(403, "forbidden", "requests from another origin are refused", v);
    }
  }
  if (auto site = request.find("Sec-Fetch-Site"); site != request.end()) {
    if (site->value() != "same-origin" && site->value() != "none") {
      return error(403, "forbidden", "requests from another site are refused", v);
    }
  }
  return std::nullopt;
}

std::optional<Principal> HttpApi::principal_of(const HttpRequest& request) const {
  if (auto auth = request.find(http::field::authorization); auth != request.end()) {
    constexpr std::string_view kBearer = "Bearer ";
    std::string_view value = auth->value();
    if (value.substr(0, kBearer.size()) != kBearer) return std::nullopt;
    return tokens_.authenticate(value.substr(kBearer.size()));
  }
  if (auto id = cookie(request, kSessionCookie)) return sessions_.find(*id);
  return std::nullopt;
}

asio::awaitable<HttpResponse> HttpApi::answer(const HttpRequest& request) const {
  const auto v = request.version();
  auto response = co_await [&]() -> asio::awaitable<HttpResponse> {
    if (auto refused = check_origin(request)) co_return std::move(*refused);
    const std::string_view target = request.target();
    const bool get = request.method() == http::verb::get;
    const bool post = request.method() == http::verb::post;
    if (post) {
      auto type = lower(request[http::field::content_type]);
      if (type.rfind("application/json", 0) != 0) {
        co_return error(415, "badRequest", "the body must be JSON (Content-Type: application/json)", v);
      }
    }
    if (target == "/healthz") {
      if (!get) co_return error(405, "methodNotAllowed", "use GET", v);
      if (stopping_) co_return json_response(503, R"({"status":"stopping"})", v);
      co_return json_response(200, R"({"status":"serving"})", v);
    }
    if (target == "/metrics") {
      if (!get) co_return error(405, "methodNotAllowed", "use GET", v);
      co_return metrics(request);
    }
    if (target == "/api/v1/session") {
      if (post) co_return login(request);
      if (request.method() == http::verb::delete_) co_return logout(request);
      if (get) {
        auto principal = principal_of(request);
        if (!principal) co_return error(401, "unauthenticated", "not logged in", v);
        co_return json_response(200, welcome_json(*principal), v);
      }
      co_return error(405, "methodNotAllowed", "use POST to log in, DELETE to log out", v);
    }
    if (target == "/api/v1/requests") {
      if (!post) co_return error(405, "methodNotAllowed", "use POST with a Request as JSON", v);
      auto principal = principal_of(request);
      if (!principal) {
        co_return error(401, "unauthenticated",
                        "log in (POST /api/v1/session) or send Authorization: Bearer with a token", v);
      }
      co_return co_await api_request(request, *principal);
    }
    if (get || request.method() == http::verb::head) {
      if (const auto* asset = console_.find(target)) co_return console_file(request, *asset);
    }
    co_return error(404, "notFound", "no such endpoint; see docs/http.md", v);
  }();
  response.keep_alive(response.keep_alive() && request.keep_alive());
  co_return response;
}

asio::awaitable<HttpResponse> HttpApi::api_request(const HttpRequest& request, const Principal& principal) const {
  const auto v = request.version();
  const auto started = std::chrono::steady_clock::now();
  auto decoded = request_from_json(request.body(), frame_limits_);
  if (auto* problem = std::get_if<JsonProblem>(&decoded)) {
    co_return error(problem->code == ErrorCode::TOO_LARGE ? 413 : 400, code_name(problem->code), problem->message, v);
  }
  auto json_request = std::move(std::get<std::unique_ptr<JsonRequest>>(decoded));
  const auto message = json_request->request();
  const auto kind = message.which();
  if (kind == protocol::Request::Which::SUBSCRIBE) {
    co_return error(400, "badRequest",
                    "subscriptions are not served over POST; use the WebSocket feed (GET /api/v1/feed) or the TCP "
                    "protocol",
                    v);
  }

  // The handler answers a command later, through `send`, dispatched to this strand.
  auto executor = co_await asio::this_coro::executor;
  struct Pending {
    explicit Pending(asio::any_io_executor ex) : signal(ex, asio::steady_timer::time_point::max()) {}
    Frame frame = nullptr;
    bool done = false;
    asio::steady_timer signal;
  };
  auto pending = std::make_shared<Pending>(executor);
  RequestHandler::Dispatch dispatch = [executor](std::function<void()> task) {
    asio::dispatch(executor, std::move(task));
  };
  RequestHandler::Send send = [pending](Frame frame) {
    pending->frame = std::move(frame);
    pending->done = true;
    pending->signal.cancel();
  };
  Session session{principal};
  auto handled = handler_.handle(message, session, dispatch, send);
  Frame frame = nullptr;
  if (handled.response.size() > 0) {
    frame = std::move(handled.response);
  } else {
    while (!pending->done) co_await pending->signal.async_wait(asio::as_tuple(asio::use_awaitable));
    frame = std::move(pending->frame);
  }

  capnp::FlatArrayMessageReader reader(frame);
  auto answer = reader.getRoot<protocol::Response>();
  unsigned status = 200;
  std::optional<ErrorCode> refusal;
  if (answer.isError()) {
    refusal = answer.getError().getCode();
    status = status_of(*refusal);
  }
  auto response = json_response(status, response_json(frame), v);
  if (handled.close) response.keep_alive(false);
  metrics_.record(kind, refusal ? &*refusal : nullptr, std::chrono::steady_clock::now() - started);
  co_return response;
}

HttpResponse HttpApi::login(const HttpRequest& request) const {
  const auto v = request.version();
  auto token = token_from_json(request.body());
  if (!token) return error(400, "badRequest", "the body must be a Hello in JSON: {\"token\": \"...\"}", v);
  auto principal = tokens_.authenticate(*token);
  if (!principal) return error(401, "unauthenticated", "unknown token", v);
  auto body = welcome_json(*principal);
  const auto id = sessions_.open(std::move(*principal));
  auto response = json_response(200, std::move(body), v);
  // Secure only over HTTPS: a browser drops a Secure cookie set over plain http://127.0.0.1.
  response.set(http::field::set_cookie, std::string(kSessionCookie) + "=" + id +
                                            "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                            std::to_string(sessions_.lifetime().count()) + (tls_ ? "; Secure" : ""));
  return response;
}

HttpResponse HttpApi::logout(const HttpRequest& request) const {
  if (auto id = cookie(request, kSessionCookie)) sessions_.close(*id);
  HttpResponse response{http::status::no_content, request.version()};
  response.set(http::field::set_cookie,
               std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  response.set(http::field::cache_control, "no-store");
  response.prepare_payload();
  return response;
}

HttpResponse HttpApi::console_file(const HttpRequest& request, const ConsoleAsset& asset) const {
  const bool unchanged = ConsoleAssets::matches(request[http::field::if_none_match], asset.etag);
  HttpResponse response{unchanged ? http::status::not_modified : http::status::ok, request.version()};
  response.set(http::field::etag, asset.etag);
  // Revalidated on every load (a cheap 304), so a new ledgerd's console is never mixed with an
  // old one's cached modules.
  response.set(http::field::cache_control, "no-cache");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy", std::string(kConsolePolicy));
  response.set("X-Frame-Options", "DENY");
  response.set("Referrer-Policy", "no-referrer");
  if (unchanged) return response;
  response.set(http::field::content_type, asset.content_type);
  if (request.method() == http::verb::head) {
    response.content_length(asset.body.size());
  } else {
    response.body() = std::string(asset.body);
    response.prepare_payload();
  }
  return response;
}

HttpResponse HttpApi::metrics(const HttpRequest& request) const {
  PrometheusText out;
  if (ledger_metrics_) ledger_metrics_(out);
  metrics_.write(out);
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  response.body() = out.text();
  response.prepare_payload();
  return response;
}

}  // namespace ledger::server
