#include "server/erasure_waiter.h"

#include <boost/asio/post.hpp>

namespace ledger::server {

namespace {
constexpr std::chrono::milliseconds kSlice{200};
}

ErasureReport report_from_json(std::string json) {
  ErasureReport report;
  report.state = json.find("\"verified\":true") != std::string::npos ? "done" : "failed";
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
