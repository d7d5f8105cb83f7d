// ledgerd: the ledger's TCP server. Wires the parts together: the database, the command
// service, the tokens, the request handler and the Asio server, then runs until SIGINT or
// SIGTERM, answers what is in flight, closes the database and exits 0 — also when the signal
// comes again meanwhile (server/stop_signals.h).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "eventstore/database.h"
#include "server/allocator.h"
#include "server/command_service.h"
#include "server/commit_feed.h"
#include "server/connection_manager.h"
#include "server/http_api.h"
#include "server/http_server.h"
#include "server/io_pool.h"
#include "server/ledger_metrics.h"
#include "server/open_ledger.h"
#include "server/request_handler.h"
#include "server/stop_signals.h"
#include "server/tcp_server.h"
#include "server/tokens.h"

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace ledger;

namespace {

// "HOST:PORT", "[V6]:PORT". Resolves names; nullopt when it cannot.
std::optional<tcp::endpoint> parse_listen(asio::io_context& io, const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  auto host = listen.substr(0, colon);
  auto port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) return std::nullopt;
  return results.begin()->endpoint();
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts (RocksDB's, the network's): they inherit the mask.
  server::StopSignals::block();
  CLI::App app{"ledgerd: the Customer Ledger server"};
  std::string data = "./ledger-data";
  std::string listen = "127.0.0.1:7400";
  std::string tokens_file, tls_cert, tls_key;
  std::string http_listen;
  std::vector<std::string> http_hosts;
  server::HttpOptions http_options;
  unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  server::ServerOptions options;
  std::size_t max_frame_bytes = options.limits.frame.max_bytes;
  long hello_ms = options.limits.hello_timeout.count();
  long frame_ms = options.limits.frame_timeout.count();
  long idle_ms = options.limits.idle_timeout.count();
  server::CommandServiceOptions service_options;
  std::uint64_t min_free_disk_mb = service_options.min_free_disk_bytes >> 20;
  app.add_option("--data", data, "data directory")->capture_default_str();
  app.add_option("--listen", listen, "HOST:PORT to listen on; port 0 picks a free port")->capture_default_str();
  app.add_option("--tokens", tokens_file, "tokens file: NAME ROLE SHA256HEX per line")->check(CLI::ExistingFile);
  app.add_option("--tls-cert", tls_cert, "certificate chain (PEM); with --tls-key enables TLS")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "private key (PEM)")->check(CLI::ExistingFile);
  app.add_option("--threads", threads, "network threads")->check(CLI::Range(1u, 256u))->capture_default_str();
  app.add_option("--max-connections", options.max_connections, "open connections at most")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--max-in-flight", options.limits.max_in_flight, "requests awaiting an answer per connection")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
      ->capture_default_str();
  app.add_option("--max-frame-bytes", max_frame_bytes, "largest request frame")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{64} << 20))
      ->capture_default_str();
  app.add_option("--hello-timeout-ms", hello_ms, "time for a new client to say hello")->capture_default_str();
  app.add_option("--frame-timeout-ms", frame_ms, "time to complete a frame once begun")->capture_default_str();
  app.add_option("--idle-timeout-ms", idle_ms, "an idle connection is closed after this")->capture_default_str();
  app.add_option("--max-outbox-bytes", options.limits.max_outbox_bytes,
                 "responses waiting for one client to read them; beyond this the server stops reading its requests "
                 "and its subscription waits")
      ->check(CLI::Range(std::size_t{64} << 10, std::size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-subscriber-lag", options.limits.max_subscriber_lag,
                 "a subscriber this many log entries behind is cut off with tooSlow")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}))
      ->capture_default_str();
  app.add_option("--min-free-disk-mb", min_free_disk_mb,
                 "commands are refused while the data directory's disk has less free space (MiB)")
      ->capture_default_str();
  app.add_option("--http", http_listen,
                 "HOST:PORT for the web console's server: the JSON API, the WebSocket feed, /healthz, /metrics; "
                 "HTTPS with --tls-cert/--tls-key, else loopback only; port 0 picks a free port; off when not given");
  app.add_option("--http-host", http_hosts,
                 "a further name the HTTP server answers for (Host header), besides its address; repeatable");
  app.add_option("--http-max-connections", http_options.max_connections, "open HTTP connections at most")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
      ->capture_default_str();
  long http_request_ms = http_options.request_timeout.count();
  app.add_option("--http-request-timeout-ms", http_request_ms,
                 "time to read an HTTP request (or a TLS handshake) once begun")
      ->check(CLI::Range(1L, 3'600'000L))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  http_options.request_timeout = std::chrono::milliseconds(http_request_ms);
  service_options.min_free_disk_bytes = min_free_disk_mb << 20;

  auto log = spdlog::stderr_color_mt("ledgerd");
  spdlog::set_default_logger(log);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  options.limits.frame.max_bytes = max_frame_bytes;
  options.limits.hello_timeout = std::chrono::milliseconds(hello_ms);
  options.limits.frame_timeout = std::chrono::milliseconds(frame_ms);
  options.limits.idle_timeout = std::chrono::milliseconds(idle_ms);

  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "ledgerd: --tls-cert and --tls-key go together\n";
    return 2;
  }

  std::optional<server::TokenTable> tokens;
  if (tokens_file.empty()) {
    tokens = server::TokenTable::open_access();
  } else {
    std::vector<std::string> warnings;
    auto loaded = server::TokenTable::load(tokens_file, &warnings);
    for (const auto& warning : warnings) spdlog::warn("{}", warning);
    if (!loaded) {
      std::cerr << "ledgerd: " << loaded.error() << "\n";
      return 2;
    }
    tokens = std::move(*loaded);
  }

  try {
    // Before the network threads' io_contexts (IoPool): connections and their pending handlers
    // refer to these, and the io_contexts destroy them.
    // Fed by the writer's and the erasure worker's hooks: declared before the service they outlive.
    server::WriterMetrics writer_metrics;
    server::RequestMetrics request_metrics("ledger", "the server (TCP protocol and JSON API)");
    service_options.group_written_hook = [&writer_metrics](std::size_t commands, std::chrono::nanoseconds write) {
      writer_metrics.group_written(commands, write);
    };
    service_options.erasure_report_hook = [&writer_metrics](const eventstore::ErasureReport& report) {
      writer_metrics.erasure_pass(report);
    };
    auto database = eventstore::Database::open(data, {});
    // Crash tests name a point at which the process dies (server/crash_injection.h).
    service_options.crash_at = server::crash_point_from_environment();
    auto opened = server::open_ledger(*database, service_options);
    auto& service = *opened;
    server::CommitFeed feed;
    service.on_commit([&feed](std::uint64_t next_seq, std::uint64_t purge_seq) { feed.publish(next_seq, purge_seq); });
    // The allocator keeps freed memory for reuse; after a burst of connections its free pages
    // go back to the system.
    server::ConnectionManager manager([] { server::release_free_memory(); });
    // A purge with `wait` is answered when its erasure pass reports, or pending after this long.
    const server::ErasureWait erasure_wait = [&service](std::uint64_t purge_seq, auto done) {
      service.await_erasure(purge_seq, std::chrono::minutes(30), std::move(done));
    };
    server::RequestHandler handler(service, *tokens, erasure_wait,
                                   [&manager] { return static_cast<std::uint32_t>(manager.size()); },
                                   &request_metrics);

    server::IoPool pool(threads);
    auto& io = pool.main();
    auto endpoint = parse_listen(io, listen);
    if (!endpoint) {
      std::cerr << "ledgerd: --listen must be HOST:PORT, got " << listen << "\n";
      return 2;
    }
    if (tokens->open() && !endpoint->address().is_loopback()) {
      std::cerr << "ledgerd: refusing to listen on " << listen
                << " without --tokens: without tokens every client is an admin, so only loopback is allowed\n";
      return 2;
    }

    std::optional<asio::ssl::context> tls;
    if (!tls_cert.empty()) {
      tls.emplace(asio::ssl::context::tls_server);
      tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
      tls->use_certificate_chain_file(tls_cert);
      tls->use_private_key_file(tls_key, asio::ssl::context::pem);
    }

    std::optional<tcp::endpoint> http_endpoint;
    if (!http_listen.empty()) {
      http_endpoint = parse_listen(io, http_listen);
      if (!http_endpoint) {
        std::cerr << "ledgerd: --http must be HOST:PORT, got " << http_listen << "\n";
        return 2;
      }
      if (!tls && !http_endpoint->address().is_loopback()) {
        std::cerr << "ledgerd: refusing --http " << http_listen
                  << " without TLS: plain HTTP is served on loopback only; give --tls-cert and --tls-key for HTTPS\n";
        return 2;
      }
      if (tokens->open() && !http_endpoint->address().is_loopback()) {
        std::cerr << "ledgerd: refusing --http " << http_listen
                  << " without --tokens: without tokens every client is an admin, so only loopback is allowed\n";
        return 2;
      }
    }

    server::Server server(pool, *endpoint, manager, handler, feed, tls ? &*tls : nullptr, options);
    auto bound = server.local_endpoint();
    std::string shown = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                : bound.address().to_string();
    shown += ":" + std::to_string(bound.port());
    server.start();

    // The console's server: the same handler, the same network threads.
    server::HttpSessions http_sessions(std::chrono::hours(8), 10'000);
    server::ApiMetrics api_metrics;
    std::unique_ptr<server::HttpServer> http_server;
    server::LedgerMetricsSources metric_sources{&service, database.get(), &feed,
                                                [&manager] { return manager.size(); },
                                                [&http_server] { return http_server ? http_server->size() : 0; },
                                                &writer_metrics};
    server::HttpApi http_api(handler, *tokens, http_sessions, api_metrics,
                             [&metric_sources, &request_metrics](server::PrometheusText& out) {
                               server::write_ledger_metrics(metric_sources, out);
                               request_metrics.write(out);
                             },
                             options.limits.frame);
    std::string http_shown;
    if (http_endpoint) {
      // The feed follows the TCP subscription's limits (--max-outbox-bytes, --max-subscriber-lag).
      server::FeedContext feed_context{&handler, &feed, &api_metrics, {}, options.limits.frame};
      feed_context.options.max_queue_bytes = options.limits.max_outbox_bytes;
      feed_context.options.max_lag = options.limits.max_subscriber_lag;
      feed_context.options.linger = options.limits.linger;
      http_server = std::make_unique<server::HttpServer>(pool, *http_endpoint, http_api, http_options, feed_context,
                                                         tls ? &*tls : nullptr);
      const auto http_bound = http_server->local_endpoint();
      const auto port = std::to_string(http_bound.port());
      const auto address = http_bound.address();
      http_shown = (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" + port;
      std::vector<std::string> hosts = {http_shown, "localhost:" + port};
      for (const auto& name : http_hosts) {
        hosts.push_back(name);
        hosts.push_back(name + ":" + port);
      }
      http_api.allow_hosts(std::move(hosts), tls.has_value());
      http_server->start();
    }

    // Shutdown: stop accepting, let connections answer what is in flight, and after a grace
    // period close whatever is left.
    asio::steady_timer grace(io);
    asio::steady_timer poll(io);
    std::function<void()> wait_for_connections = [&] {
      poll.expires_after(std::chrono::milliseconds(20));
      poll.async_wait([&](boost::system::error_code ec) {
        if (ec) return;
        if (manager.size() == 0 && (!http_server || http_server->size() == 0)) {
          grace.cancel();  // nothing left to wait for: let pool.run() return
          return;
        }
        wait_for_connections();
      });
    };
    const std::function<void(int)> begin_stop = [&](int signal) {
      spdlog::info("signal {}: stopping; answering requests in flight", signal);
      server.stop();
      if (http_server) http_server->stop();
      service.end_erasure_waits();  // waiting clients get "pending"; the pass goes on, or resumes at the next start
      grace.expires_after(std::chrono::seconds(10));
      grace.async_wait([&](boost::system::error_code wait_ec) {
        if (wait_ec) return;
        spdlog::warn("closing {} connections that did not finish in time", manager.size());
        manager.abort_all();
      });
      wait_for_connections();
    };
    server::StopSignals signals([&io, &begin_stop](int signal) {
      asio::post(io, [&begin_stop, signal] { begin_stop(signal); });
    });

    spdlog::info("ledgerd started: data {}, {} threads, {}{}, allocator {}", data, threads, tls ? "TLS, " : "",
                 tokens->open() ? "no tokens (loopback only, every client is admin)" : "tokens required",
                 server::allocator_name());
    std::cout << "listening on " << shown << std::endl;
    if (http_server) std::cout << "console on " << (tls ? "https://" : "http://") << http_shown << "/" << std::endl;

    pool.run();

    service.stop();
    database->close();
    spdlog::info("ledgerd stopped");
  } catch (const std::exception& e) {
    spdlog::critical("ledgerd: {}", e.what());
    return 1;
  }
  return 0;
}
