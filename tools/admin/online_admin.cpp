#include "tools/admin/online_admin.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <numeric>
#include <unordered_map>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "server/wire_fields.h"
#include "tools/admin/customer_import.h"
#include "tools/admin/list_export.h"
#include "tools/admin/purge_confirmation.h"
#include "tools/common/data_dir.h"
#include "tools/common/log_json.h"
#include "tools/common/progress.h"

namespace ledger::tools {
namespace {

// Requests in flight at once during an import. While the client is still sending, it reads no
// answers; they must fit in the server's 4 MiB of unread responses (--max-outbox-bytes), or the
// server stops reading and both sides wait for each other. A create's answer is under 256 bytes
// (a refusal's message included): 8,192 of them are 2 MiB. A get's answer holds the customer's
// fields, up to about 9 KB: 256 of them. ledgerd reads at most --max-in-flight (128 by default)
// of one connection's requests ahead; the rest wait in the socket, ready for it.
constexpr std::size_t kMaxImportWindow = 8192;
constexpr std::size_t kMaxGetWindow = 256;
// A row answered busy (the writer's queue was full) is sent again, with the same key.
constexpr int kBusyRounds = 5;

}  // namespace

int online_purge(ServerSession& session, bool yes, std::optional<std::uint64_t> expect_count) {
  const auto deleted = session.list_all(true).size();
  if (!yes && !confirm_purge(deleted)) return 2;
  const auto guard = expect_count.value_or(deleted);
  auto reply = session.call([&](protocol::Request::Builder r) {
    auto purge = r.initPurge();
    purge.setConfirm(true);
    purge.setExpectCount(static_cast<std::int64_t>(guard));
    purge.setWait(true);
  });
  if (reply.get().isError()) throw ToolError("purge refused: " + describe_error(reply.get().getError()));
  auto purged = reply.get().getPurged();
  std::vector<std::uint64_t> freed;
  for (auto n : purged.getNumbersFreed()) freed.push_back(n);
  std::cout << fmt::format("purged {} customers at seq {}; numbers freed: {}\n", purged.getPurged(), purged.getSeq(), fmt::join(freed, ", "));
  if (purged.getErasure().getErasureState() == protocol::ErasureState::PENDING) {
    std::cout << "the erasure pass has not reported yet; ledgerd goes on with it (and resumes it after a restart); "
                 "`ledger-audit --server HOST:PORT purges` shows its report\n";
  } else {
    std::cout << "erasure report: " << purged.getErasure().getReport().cStr() << "\n";
  }
  return 0;
}

int online_stats(ServerSession& session, bool json) {
  auto reply = session.call([](protocol::Request::Builder r) { r.setStats(); });
  if (reply.get().isError()) throw ToolError("stats: " + describe_error(reply.get().getError()));
  auto s = reply.get().getStats();
  if (json) {
    std::cout << to_line(boost::json::object{{"active", s.getActive()},
                                             {"deleted", s.getDeleted()},
                                             {"events", s.getNextSeq() - 1},
                                             {"batches", s.getBatches()},
                                             {"commands", s.getCommands()},
                                             {"connections", s.getConnections()}})
              << "\n";
    return 0;
  }
  std::cout << fmt::format("customers: {} active, {} deleted\n", s.getActive(), s.getDeleted());
  std::cout << fmt::format("log: {} events\n", s.getNextSeq() - 1);
  std::cout << fmt::format("since ledgerd started: {} commands in {} group commits; {} connections open\n", s.getCommands(),
                           s.getBatches(), s.getConnections());
  std::cout << "stubs, purges and sizes: `ledger-audit --server HOST:PORT purges`, or `ledger-admin --data DIR stats` "
               "with ledgerd stopped (also lists checkpoints and pending erasures)\n";
  return 0;
}

namespace {

// What the server answered to the rows submitted.
struct Submitted {
  std::uint64_t created = 0;
  std::uint64_t already = 0;                 // replayed: an earlier run created them
  std::map<std::size_t, std::string> refused;  // line -> why
};

// Sends the requests 0 .. count-1, `send(k)` sending the k-th and returning its request id, with
// at most `window` unanswered at a time, and hands each response to `answer(k, response)`, which
// returns true to have the request sent again (after those not sent yet). Responses are matched
// by id, in whatever order they come. Throws ToolError when the server answers an error that is
// no request's (it then ends the connection).
template <typename Send, typename Answer>
void pipeline(ServerSession& session, std::size_t count, std::size_t window, Send send, Answer answer) {
  std::deque<std::size_t> todo(count);
  std::iota(todo.begin(), todo.end(), std::size_t{0});
  std::unordered_map<std::uint64_t, std::size_t> in_flight;  // request id -> k
  while (!todo.empty() || !in_flight.empty()) {
    while (!todo.empty() && in_flight.size() < window) {
      in_flight.emplace(send(todo.front()), todo.front());
      todo.pop_front();
    }
    auto reply = session.receive();
    auto response = reply.get();
    auto found = in_flight.find(response.getId());
    if (found == in_flight.end()) {
      if (response.isError()) throw ToolError("the server ended the connection: " + describe_error(response.getError()));
      continue;
    }
    const auto k = found->second;
    in_flight.erase(found);
    if (answer(k, response)) todo.push_back(k);
  }
}

// Sends the rows `rows` of `plan` as create requests with their keys, `window` in flight at a
// time, and collects the answers; a row answered busy is sent again with its key, up to
// kBusyRounds times in all.
Submitted submit_rows(ServerSession& session, const ImportPlan& plan, const std::vector<std::size_t>& rows,
                      std::size_t window, Progress& progress, std::uint64_t& done) {
  Submitted result;
  std::unordered_map<std::size_t, int> busy;  // k -> busy answers so far
  pipeline(
      session, rows.size(), window,
      [&](std::size_t k) {
        const auto& row = plan.rows[rows[k]];
        return session.send([&](protocol::Request::Builder r) {
          r.setRequestKey(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(row.request_key.data()), row.request_key.size()));
          auto create = r.initCreate();
          server::set_wire_fields(create.initFields(), row.command.fields);
          create.setNumber(row.command.number.value_or(0));
        });
      },
      [&](std::size_t k, protocol::Response::Reader response) {
        if (response.isError() && response.getError().getCode() == protocol::ErrorCode::BUSY && ++busy[k] < kBusyRounds) {
          return true;
        }
        if (response.isWritten()) {
          ++(response.getWritten().getReplayed() ? result.already : result.created);
        } else if (response.isError()) {
          result.refused[plan.rows[rows[k]].line] = describe_error(response.getError());
        }
        progress.update(++done);
        return false;
      });
  return result;
}

// The rows whose number some customer holds now (get, `window` in flight at a time).
std::vector<std::size_t> rows_with_held_numbers(ServerSession& session, const ImportPlan& plan, std::size_t window) {
  std::vector<std::size_t> numbered, held;
  for (std::size_t i = 0; i < plan.rows.size(); ++i) {
    if (plan.rows[i].command.number) numbered.push_back(i);
  }
  pipeline(
      session, numbered.size(), window,
      [&](std::size_t k) {
        return session.send([&](protocol::Request::Builder r) { r.initGet().setNumber(*plan.rows[numbered[k]].command.number); });
      },
      [&](std::size_t k, protocol::Response::Reader response) {
        if (response.isCustomer()) held.push_back(numbered[k]);
        return false;
      });
  std::sort(held.begin(), held.end());
  return held;
}

}  // namespace

int online_import(ServerSession& session, const std::string& file, bool skip_bad, std::size_t batch) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ToolError("cannot read " + file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto plan = plan_import(text);
  const bool whole_file_bad = !plan.problems.empty() && plan.problems.front().line <= 1;
  const std::size_t window = std::min(batch, kMaxImportWindow);
  Progress progress("importing", plan.rows.size());
  std::uint64_t done = 0;

  // A row whose number is held is bad unless an earlier run of this file created that customer,
  // which only its request key tells: those rows go first, and a refusal makes them bad rows.
  std::map<std::size_t, std::string> problems;  // line -> why
  for (const auto& p : plan.problems) problems.emplace(p.line, p.reason);
  Submitted held;
  std::vector<std::size_t> held_rows;
  if (!whole_file_bad) {
    held_rows = rows_with_held_numbers(session, plan, std::min(window, kMaxGetWindow));
    held = submit_rows(session, plan, held_rows, window, progress, done);
    problems.insert(held.refused.begin(), held.refused.end());
  }
  for (const auto& [line, why] : problems) {
    std::cerr << (line ? fmt::format("{}:{}: {}\n", file, line, why) : fmt::format("{}: {}\n", file, why));
  }
  const auto good = plan.rows.size() - held.refused.size();
  if (whole_file_bad || (!problems.empty() && !skip_bad)) {
    std::cout << fmt::format("imported nothing: {} bad rows (fix them, or pass --skip-bad to import the {} good ones)\n",
                             problems.size(), good);
    return 1;
  }
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < plan.rows.size(); ++i) {
    if (!std::binary_search(held_rows.begin(), held_rows.end(), i)) rest.push_back(i);
  }
  const auto result = submit_rows(session, plan, rest, window, progress, done);
  for (const auto& [line, why] : result.refused) std::cerr << fmt::format("{}:{}: {}\n", file, line, why);
  std::cout << fmt::format("imported {} customers, {} already imported by an earlier run, {} refused, {} bad rows skipped\n",
                           held.created + result.created, held.already + result.already, result.refused.size(),
                           problems.size());
  return result.refused.empty() ? 0 : 1;
}

int online_export(ServerSession& session, bool deleted, const std::string& format) {
  write_list_header(std::cout, format);
  for (const auto& c : session.list_all(deleted)) write_list_row(std::cout, c, format);
  std::cout.flush();
  return 0;
}

}  // namespace ledger::tools
