// delete, undelete and cleanup: the help page's Delete, Manage Deleted Customers and Cleanup old
// customers. delete and cleanup ask for confirmation on the terminal unless given --yes.
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "tools/ledgerctl/command.h"
#include "tools/ledgerctl/replies.h"

namespace ledger::ledgerctl {

namespace json = boost::json;

namespace {

// Asks on the terminal; false unless the answer is y or yes.
bool confirm(const std::string& question) {
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES" || answer == "Yes";
}

// Confirmation needs a person: the exit code when there is none to ask, decided before connecting.
std::optional<int> check_terminal(const char* command, bool yes) {
  if (yes || isatty(STDIN_FILENO) != 0) return std::nullopt;
  std::cerr << "ledgerctl: " << command
            << " asks for confirmation, and there is no terminal to ask on; pass --yes to confirm\n";
  return kUsage;
}

// delete and undelete: the same request with the other verb.
class ChangeStatusCommand : public Command {
 public:
  explicit ChangeStatusCommand(bool undelete) : undelete_(undelete) {}

  CLI::App* add_to(CLI::App& app) override {
    if (undelete_) {
      auto* undelete = app.add_subcommand("undelete", "undelete deleted customers");
      undelete->add_option("NUMBER", numbers_, "customer numbers")->required();
      return undelete;
    }
    auto* del = app.add_subcommand("delete", "delete customers (they can be undeleted until cleanup)");
    del->add_option("NUMBER", numbers_, "customer numbers")->required();
    del->add_flag("--yes,-y", yes_, "do not ask for confirmation");
    return del;
  }
  bool changes_ledger() const override { return true; }
  std::optional<int> check(const Globals&) const override {
    if (undelete_) return std::nullopt;
    return check_terminal("delete", yes_);
  }

  int run(const Globals& g, client::Client& session, const std::string& key) override {
    if (!undelete_ && !yes_) {
      auto question = fmt::format("Delete {} customer{} ({})?", numbers_.size(), numbers_.size() == 1 ? "" : "s",
                                  join_numbers(numbers_));
      if (!confirm(question)) {
        std::cerr << "ledgerctl: cancelled; nothing was deleted\n";
        return kRefused;
      }
    }
    auto reply = session.command(key, [&](auto r) {
      auto list = undelete_ ? r.initUndelete().initNumbers(static_cast<unsigned>(numbers_.size()))
                            : r.initDelete().initNumbers(static_cast<unsigned>(numbers_.size()));
      for (unsigned i = 0; i < numbers_.size(); ++i) list.set(i, numbers_[i]);
    });
    if (reply.get().isError()) return report_error(g, reply.get().getError());
    auto changed = reply.get().getChanged();
    if (g.json) {
      json::array out;
      for (auto n : changed.getNumbers()) out.push_back(n);
      json::object o{{"numbers", std::move(out)}};
      if (changed.getReplayed()) o["replayed"] = true;
      print_json(o);
    } else {
      std::cout << fmt::format("{} {}{}\n", undelete_ ? "undeleted" : "deleted", join_numbers(changed.getNumbers()),
                               changed.getReplayed() ? kReplayedNote : "");
    }
    return kDone;
  }

 private:
  bool undelete_;
  std::vector<std::uint64_t> numbers_;
  bool yes_ = false;
};

// Counts the deleted customers, page by page. On a refusal, reports it, stores the exit code in
// `code` and returns nullopt.
std::optional<std::uint64_t> count_deleted(const Globals& g, client::Client& session, int& code) {
  std::uint64_t count = 0, after = 0;
  for (int pages = 0; pages < 1'000'000; ++pages) {
    auto reply = session.call([&](auto r) {
      auto list = r.initList();
      list.setDeleted(true);
      list.setAfter(after);
      list.setLimit(1000);
    });
    if (reply.get().isError()) {
      code = report_error(g, reply.get().getError());
      return std::nullopt;
    }
    auto page = reply.get().getPage();
    count += page.getCustomers().size();
    if (page.getNext() == 0) break;
    after = page.getNext();
  }
  return count;
}

class CleanupCommand : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    auto* cleanup = app.add_subcommand("cleanup", "erase every deleted customer for good (cannot be undone)");
    cleanup->add_flag("--yes,-y", yes_, "do not ask for confirmation");
    cleanup->add_option("--expect-count", expect_count_, "refuse unless exactly this many customers are deleted");
    cleanup->add_flag("--no-wait", no_wait_, "do not wait for the erasure report");
    return cleanup;
  }
  bool changes_ledger() const override { return true; }
  std::optional<int> check(const Globals&) const override { return check_terminal("cleanup", yes_); }

  int run(const Globals& g, client::Client& session, const std::string& key) override {
    std::optional<std::uint64_t> guard = expect_count_;
    if (!yes_) {
      int code = kDone;
      auto count = count_deleted(g, session, code);
      if (!count) return code;
      if (*count == 0) {
        std::cerr << "ledgerctl: there are no deleted customers; nothing to clean up\n";
        return kRefused;
      }
      std::cerr << fmt::format(
          "Cleanup will erase {} deleted customer{} for good. This cannot be undone: they can no longer be "
          "undeleted or edited, their data is erased, and their numbers become free for new customers.\n",
          *count, *count == 1 ? "" : "s");
      if (!confirm("Erase them now?")) {
        std::cerr << "ledgerctl: cancelled; nothing was erased\n";
        return kRefused;
      }
      if (!guard) guard = *count;  // refuse if the list changed since the question
    }
    auto reply = session.command(key, [&](auto r) {
      auto p = r.initPurge();
      p.setConfirm(true);
      p.setExpectCount(guard ? static_cast<std::int64_t>(*guard) : -1);
      p.setWait(!no_wait_);
    });
    if (reply.get().isError()) return report_error(g, reply.get().getError());
    auto purged = reply.get().getPurged();
    json::value report;
    boost::system::error_code ec;
    report = json::parse(purged.getErasure().getReport().cStr(), ec);
    if (ec || !report.is_object()) report = json::object{};
    report.as_object()["state"] = purged.getErasure().getState().cStr();
    if (g.json) {
      json::array freed;
      for (auto n : purged.getNumbersFreed()) freed.push_back(n);
      json::object o{
          {"purged", purged.getPurged()}, {"numbers_freed", std::move(freed)}, {"erasure", std::move(report)}};
      if (purged.getReplayed()) o["replayed"] = true;
      print_json(o);
    } else {
      std::cout << fmt::format("erased {} customers; numbers free again: {}{}\nerasure: {}\n", purged.getPurged(),
                               join_numbers(purged.getNumbersFreed()), purged.getReplayed() ? kReplayedNote : "",
                               json::serialize(report));
    }
    return kDone;
  }

 private:
  bool yes_ = false;
  std::optional<std::uint64_t> expect_count_;
  bool no_wait_ = false;
};

}  // namespace

std::unique_ptr<Command> make_delete_command() { return std::make_unique<ChangeStatusCommand>(false); }
std::unique_ptr<Command> make_undelete_command() { return std::make_unique<ChangeStatusCommand>(true); }
std::unique_ptr<Command> make_cleanup_command() { return std::make_unique<CleanupCommand>(); }

}  // namespace ledger::ledgerctl
