#include "server/erasure_waiter.h"

#include <boost/asio/post.hpp>

namespace ledger::server {

namespace {
constexpr std::chrono::milliseconds kSlice{200};
}

ErasureReport report_from_json(std::string json) {
  ErasureReport report;
  // The report's own "verified" is its first (ErasureReport::to_json writes it right after
  // purge_seqs); the nested "unreadable" object has one of its own, later.
  const auto verified = json.find("\"verified\":");
  report.state = verified != std::string::npos && json.compare(verified, 15, "\"verified\":true") == 0 ? "done" : "failed";
  report.json = std::move(json);
  return report;
}

ErasureWaiter::ErasureWaiter(CommandService& service, std::chrono::milliseconds timeout)
    : service_(service), timeout_(timeout) {}

ErasureWaiter::~ErasureWaiter() { stop(); }

ErasureWait ErasureWaiter::callback() {
  return [this](std::uint64_t purge_seq, std::function<void(ErasureReport)> done) { wait(purge_seq, std::move(done)); };
}

void ErasureWaiter::wait(std::uint64_t purge_seq, std::function<void(ErasureReport)> done) {
  if (stopping_) {
    done(ErasureReport{});
    return;
  }
  boost::asio::post(pool_, [this, purge_seq, done = std::move(done)] {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (!stopping_ && std::chrono::steady_clock::now() < deadline) {
      if (auto json = service_.wait_for_erasure(purge_seq, kSlice)) {
        done(report_from_json(std::move(*json)));
        return;
      }
    }
    done(ErasureReport{});
  });
}

void ErasureWaiter::stop() {
  stopping_ = true;
  pool_.join();
}

}  // namespace ledger::server
