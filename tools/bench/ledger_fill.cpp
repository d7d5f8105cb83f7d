#include "tools/bench/ledger_fill.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "eventstore/database.h"
#include "server/command_service.h"
#include "server/open_ledger.h"

namespace ledger::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Submits commands without waiting for each (so the writer groups them) and keeps at most
// `window` outstanding.
class Submitter {
 public:
  Submitter(server::CommandService& service, std::size_t window) : service_(service), window_(window) {}
  // Waits for the outstanding callbacks, which refer to this object.
  ~Submitter() { wait(); }

  void submit(domain::Command command, std::uint64_t key) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return outstanding_ < window_; });
    ++outstanding_;
    lock.unlock();
    service_.submit(std::move(command), {"loader", fmt::format("fill-{}", key)}, [this](server::Outcome outcome) {
      std::lock_guard guard(mutex_);
      --outstanding_;
      if (const auto* accepted = std::get_if<server::Accepted>(&outcome)) {
        events_ += accepted->seqs.size();
        if (!accepted->numbers.empty()) numbers_.push_back(accepted->numbers.front());
      } else {
        ++failures_;
      }
      changed_.notify_all();
    });
  }
  void drain() {
    wait();
    std::lock_guard lock(mutex_);
    if (failures_ != 0) throw std::runtime_error(fmt::format("filling the ledger: {} commands not accepted", failures_));
  }
  std::uint64_t events() const { return events_; }
  // Numbers of created customers, in order of acceptance (valid after drain()).
  std::vector<domain::CustomerNumber>& numbers() { return numbers_; }

 private:
  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return outstanding_ == 0; });
  }

  server::CommandService& service_;
  const std::size_t window_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t outstanding_ = 0;
  std::uint64_t failures_ = 0;
  std::uint64_t events_ = 0;
  std::vector<domain::CustomerNumber> numbers_;
};

domain::CustomerFields numbered_fields(std::uint64_t i) {
  domain::CustomerFields f;
  f.name = fmt::format("Customer {}", i);
  f.company = fmt::format("Company {} Ltd", i % 5000);
  f.email = fmt::format("customer.{}@example.org", i);
  f.phone = fmt::format("+44 20 {:04} {:04}", i / 10'000 % 10'000, i % 10'000);
  f.address = fmt::format("{} High Street, London", i);
  f.notes = "prefers e-mail";
  return f;
}

}  // namespace

FillResult fill_ledger(const std::filesystem::path& dir, const FillPlan& plan) {
  const auto start = Clock::now();
  FillResult result;
  auto db = eventstore::Database::open(dir, {});
  {
    auto opened = server::open_ledger(*db);
    auto& service = *opened;
    Submitter submitter(service, 4096);
    std::uint64_t key = 0;
    for (std::uint64_t i = 0; i < plan.customers; ++i) {
      auto f = plan.fields ? plan.fields(i) : numbered_fields(i);
      submitter.submit(domain::CreateCustomer{std::move(f), std::nullopt}, ++key);
    }
    submitter.drain();
    auto numbers = submitter.numbers();
    for (unsigned round = 0; round < plan.edits_per_customer; ++round) {
      for (auto number : numbers) {
        domain::EditCustomer edit;
        edit.number = number;
        edit.changes = {{domain::Field::kNotes, fmt::format("called on day {} about {}", round, number)},
                        {domain::Field::kPhone, fmt::format("+44 20 7946 {:04}", (number + round) % 10'000)}};
        submitter.submit(std::move(edit), ++key);
      }
    }
    submitter.drain();
    if (plan.delete_percent > 0) {
      const auto every = static_cast<std::uint64_t>(100.0 / plan.delete_percent);
      domain::DeleteCustomers del;
      for (std::size_t i = 0; i < numbers.size(); i += std::max<std::uint64_t>(every, 1)) {
        del.numbers.push_back(numbers[i]);
        if (del.numbers.size() == 100) {
          result.deleted += del.numbers.size();
          submitter.submit(std::move(del), ++key);
          del = {};
        }
      }
      if (!del.numbers.empty()) {
        result.deleted += del.numbers.size();
        submitter.submit(std::move(del), ++key);
      }
      submitter.drain();
    }
    result.events = submitter.events();
  }
  db->close();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace ledger::bench
