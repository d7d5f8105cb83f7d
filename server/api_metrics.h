// ApiMetrics: what the JSON API answered — requests by kind, refusals by error code, and how long
// each took from decoding to the encoded answer (a command's includes its group commit) — for
// GET /metrics. Counts only requests that reached the RequestHandler through HTTP; and the
// WebSocket feed's sessions.
//
// Thread-safe: lock-free counters.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "server/metrics_text.h"
#include "server/protocol.capnp.h"

namespace ledger::server {

// Requests by kind, refusals by error code, and a latency histogram, under one name prefix:
// "ledger_api" for the JSON API (HttpApi), "ledger" for every request the RequestHandler
// answers, TCP and HTTP alike.
class RequestMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 13> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1,    0.25,  0.5,    1,     2.5,   10};

  // `subject` names what is counted, in the HELP lines.
  RequestMetrics(std::string prefix, std::string subject) : prefix_(std::move(prefix)), subject_(std::move(subject)) {}

  // One answered request of kind `kind`; `refusal` is its error code, if it was one.
  void record(protocol::Request::Which kind, const protocol::ErrorCode* refusal, std::chrono::nanoseconds took);
  // The families PREFIX_requests_total, PREFIX_refusals_total and PREFIX_request_duration_seconds.
  void write(PrometheusText& out) const;

 private:
  static constexpr std::size_t kKinds = 16;  // Request's union has 12 members today
  static constexpr std::size_t kCodes = 32;  // ErrorCode has 20 today
  const std::string prefix_;
  const std::string subject_;
  std::array<std::atomic<std::uint64_t>, kKinds> requests_{};
  std::array<std::atomic<std::uint64_t>, kCodes> refusals_{};
  std::array<std::atomic<std::uint64_t>, kLatencyBounds.size()> buckets_{};  // not cumulative
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

class ApiMetrics {
 public:
  static constexpr auto kLatencyBounds = RequestMetrics::kLatencyBounds;

  // One answered request of kind `kind`; `refusal` is its error code, if it was one.
  void record(protocol::Request::Which kind, const protocol::ErrorCode* refusal, std::chrono::nanoseconds took) {
    requests_.record(kind, refusal, took);
  }
  // The WebSocket feed (server/feed_session.h): a session opened or ended, a subscriber cut off.
  void feed_opened() { feeds_.fetch_add(1, std::memory_order_relaxed); }
  void feed_closed() { feeds_.fetch_sub(1, std::memory_order_relaxed); }
  void feed_cut_off() { feeds_cut_off_.fetch_add(1, std::memory_order_relaxed); }
  // The families ledger_api_requests_total, ledger_api_refusals_total,
  // ledger_api_request_duration_seconds, ledger_websocket_subscribers and
  // ledger_websocket_cut_off_total.
  void write(PrometheusText& out) const;

 private:
  RequestMetrics requests_{"ledger_api", "the JSON API"};
  std::atomic<std::int64_t> feeds_{0};
  std::atomic<std::uint64_t> feeds_cut_off_{0};
};

}  // namespace ledger::server
