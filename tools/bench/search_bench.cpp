#include "tools/bench/search_bench.h"

#include <chrono>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "eventstore/database.h"
#include "tools/bench/ledger_fill.h"
#include "tools/bench/bench_ledgerd.h"
#include "tools/bench/process_memory.h"
#include "tools/bench/raw_store.h"
#include "tools/bench/varied_customers.h"
#include "ledger/client/client.h"

namespace ledger::bench {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t kFirstPage = 100;  // the list's default page size (docs/protocol.md)
// No customer holds it: varied_customer_fields never writes "qq".
constexpr std::string_view kAbsentFragment = "qqx";
constexpr unsigned kAbsentSearches = 100;
// One fragment in this many is three random letters instead of a piece of a customer's fields:
// what a user mistypes, which may match nothing.
constexpr unsigned kRandomEvery = 10;

// The words of `text`, split at spaces and at the punctuation of e-mail addresses and phone
// numbers, each as its characters (one UTF-8 sequence each).
std::vector<std::vector<std::string_view>> words_of(std::string_view text) {
  constexpr std::string_view kSeparators = " @.-+()'";
  std::vector<std::vector<std::string_view>> words(1);
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = 1;
    while (i + length < text.size() && (static_cast<unsigned char>(text[i + length]) & 0xc0) == 0x80) ++length;
    if (kSeparators.find(text[i]) != std::string_view::npos) {
      if (!words.back().empty()) words.emplace_back();
    } else {
      words.back().push_back(text.substr(i, length));
    }
    i += length;
  }
  return words;
}

// Three consecutive characters of one word of the name, the e-mail address or the phone
// number, ASCII letters lowercased, as a user would type them; nullopt when the field chosen
// has no word that long.
std::optional<std::string> fragment_of(const domain::CustomerFields& fields, std::mt19937_64& random) {
  const std::string* field[] = {&fields.name, &fields.email, &fields.phone};
  std::vector<std::vector<std::string_view>> long_words;
  for (auto& word : words_of(*field[std::uniform_int_distribution<int>(0, 2)(random)])) {
    if (word.size() >= 3) long_words.push_back(std::move(word));
  }
  if (long_words.empty()) return std::nullopt;
  const auto& word = long_words[std::uniform_int_distribution<std::size_t>(0, long_words.size() - 1)(random)];
  const auto start = std::uniform_int_distribution<std::size_t>(0, word.size() - 3)(random);
  std::string fragment;
  for (std::size_t k = start; k < start + 3; ++k) fragment += word[k];
  for (auto& c : fragment) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return fragment;
}

// Up to `count` different fragments, most of them drawn from the fields of random customers
// among the first `customers`; fewer when their fields do not hold that many.
std::vector<std::string> draw_fragments(std::uint64_t customers, unsigned count) {
  std::mt19937_64 random(11);
  std::uniform_int_distribution<std::uint64_t> customer(0, customers - 1);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::set<std::string> seen;
  std::vector<std::string> fragments;
  for (std::uint64_t attempts = 0; fragments.size() < count && attempts < std::uint64_t{count} * 50; ++attempts) {
    std::optional<std::string> fragment;
    if (fragments.size() % kRandomEvery == kRandomEvery - 1) {
      fragment = std::string{static_cast<char>(letter(random)), static_cast<char>(letter(random)),
                             static_cast<char>(letter(random))};
    } else {
      fragment = fragment_of(varied_customer_fields(customer(random)), random);
    }
    if (fragment && *fragment != kAbsentFragment && seen.insert(*fragment).second) fragments.push_back(*fragment);
  }
  return fragments;
}

struct SearchAnswer {
  std::uint32_t latency_us = 0;  // from sending the request to having read the whole answer
  std::size_t customers = 0;     // on the first page
};

// The first page of the active list filtered by `fragment`.
SearchAnswer search(client::Connection& connection, std::uint64_t id, const std::string& fragment) {
  capnp::MallocMessageBuilder message;
  auto list = client::new_request(message, id).initList();
  list.setLimit(kFirstPage);
  list.setSearch(fragment);
  const auto sent = Clock::now();
  auto reply = connection.call(message);
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count();
  const auto response = reply.get();
  if (!response.isPage()) {
    throw std::runtime_error(fmt::format("ledgerd did not answer the search for \"{}\" with a page{}", fragment,
                                         response.isError() ? ": " + std::string(response.getError().getMessage().cStr()) : ""));
  }
  return {static_cast<std::uint32_t>(latency), response.getPage().getCustomers().size()};
}

}  // namespace

BenchReport run_search_bench(const SearchBenchOptions& options) {
  BenchReport report("search");
  const auto dir = options.work_dir / "search";
  fs::remove_all(dir);
  FillPlan plan;
  plan.customers = options.customers;
  plan.fields = varied_customer_fields;
  const auto fill = fill_ledger(dir, plan);
  report.add("customers", static_cast<double>(options.customers));
  report.add("fill_seconds", fill.seconds);
  {
    auto db = eventstore::Database::open(dir, {});
    wait_for_compactions(*db);
    db->close();
  }
  const auto fragments = draw_fragments(options.customers, options.searches);
  {
    LedgerdProcess ledgerd(bench_launch(options.ledgerd, dir, options.work_dir / "search-ledgerd.log"));
    report.add("open_ms", ledgerd.startup_seconds() * 1000);
    auto session = bench_session(ledgerd.address());
    auto& connection = session->connection();
    std::uint64_t id = 2;
    std::vector<std::uint32_t> latencies;
    std::uint64_t matched = 0, full_pages = 0;
    for (const auto& fragment : fragments) {
      const auto answer = search(connection, id++, fragment);
      latencies.push_back(answer.latency_us);
      if (answer.customers > 0) ++matched;
      if (answer.customers == kFirstPage) ++full_pages;
    }
    std::vector<std::uint32_t> absent;
    for (unsigned k = 0; k < kAbsentSearches; ++k) {
      const auto answer = search(connection, id++, std::string(kAbsentFragment));
      if (answer.customers != 0) throw std::runtime_error(fmt::format("\"{}\" found customers", kAbsentFragment));
      absent.push_back(answer.latency_us);
    }
    report.add("searches", static_cast<double>(fragments.size()));
    report.add("matched", static_cast<double>(matched));
    report.add("full_pages", static_cast<double>(full_pages));
    report.add("p50_us", percentile(latencies, 0.5));
    report.add("p99_us", percentile(latencies, 0.99));
    report.add("max_us", percentile(latencies, 1.0));
    report.add("nomatch_us", percentile(absent, 0.5));
    report.add("rss_mb", resident_mb(ledgerd.pid()));
  }
  fs::remove_all(dir);
  return report;
}

}  // namespace ledger::bench
