// The confirmation questions as a person meets them: ledgerctl delete and cleanup on a real
// terminal (a tmux pane), answered with n and then with y.
#include <chrono>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/ledgerd_process.h"
#include "support/temp_dir.h"
#include "support/run_tool.h"

using ledger::testing::LedgerdProcess;
using ledger::testing::run_tool;
using ledger::testing::TempDir;
namespace json = boost::json;

namespace {

// `text` as one word for sh.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// tmux on a server of its own (a socket in the test's directory), whatever session the tests
// themselves may run in.
std::string tmux(const std::string& socket, const std::string& args) {
  return "-u TMUX TERM=xterm tmux -S " + quoted(socket) + " " + args;
}

bool tmux_runs() { return run_tool("/usr/bin/env", "tmux -V").status == 0; }

// One command in a tmux pane; it reports its exit status and then waits, so that the pane
// stays readable. Each pane has a tmux server and socket of its own: a new server on the socket
// of one being killed could find the old one still there and fail to start.
class Pane {
 public:
  Pane(const std::string& socket, const std::string& command) : socket_(socket + "." + std::to_string(++count_)) {
    const std::string shell = command + "; echo \"exit status $?\"; read never";
    started_ = run_tool("/usr/bin/env", tmux(socket_, "new-session -d -x 300 -y 40 -s prompt " + quoted(shell)))
                   .status == 0;
  }
  ~Pane() { run_tool("/usr/bin/env", tmux(socket_, "kill-server")); }
  Pane(const Pane&) = delete;
  Pane& operator=(const Pane&) = delete;

  bool started() const { return started_; }

  // The pane's text, wrapped lines joined.
  std::string text() const { return run_tool("/usr/bin/env", tmux(socket_, "capture-pane -p -J -t prompt")).output; }

  // Polls the pane until `wanted` shows, for up to 60 s; returns whether it did.
  bool wait_for(const std::string& wanted) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (text().find(wanted) != std::string::npos) return true;
    }
    return false;
  }

  // Types `keys` and Enter.
  void answer(const std::string& keys) const {
    run_tool("/usr/bin/env", tmux(socket_, "send-keys -t prompt " + quoted(keys) + " Enter"));
  }

 private:
  static inline int count_ = 0;
  std::string socket_;
  bool started_ = false;
};

// ledgerctl --json from the test (no terminal); its output parsed.
json::value ledgerctl_json(const LedgerdProcess& server, const std::string& args) {
  auto run = run_tool(LEDGERCTL_PATH, "--server " + server.address() + " --json " + args);
  INFO(run.output);
  REQUIRE(run.status == 0);
  return json::parse(run.output);
}

std::size_t deleted_count(const LedgerdProcess& server) {
  return ledgerctl_json(server, "list --deleted").at("customers").as_array().size();
}

}  // namespace

TEST_CASE("delete and cleanup ask on a terminal and do nothing unless the answer is y", "[ledgerctl][terminal]") {
  if (!tmux_runs()) {
    WARN("skipped: tmux cannot be run here (tools/dev installs it); the terminal prompts were not tested");
    return;
  }
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  for (int i = 1; i <= 14; ++i) ledgerctl_json(server, "create --name Customer" + std::to_string(i));
  const auto socket = (dir.path() / "tmux.sock").string();
  const std::string ledgerctl = quoted(LEDGERCTL_PATH) + " --server " + server.address();

  {
    Pane pane(socket, ledgerctl + " delete 12 13 14");
    if (!pane.started()) {
      WARN("skipped: tmux cannot open a terminal here; the terminal prompts were not tested");
      return;
    }
    REQUIRE(pane.wait_for("Delete 3 customers (12, 13, 14)? [y/N]"));
    pane.answer("n");
    REQUIRE(pane.wait_for("exit status"));
    INFO(pane.text());
    CHECK_THAT(pane.text(), Catch::Contains("cancelled; nothing was deleted") && Catch::Contains("exit status 1"));
  }
  CHECK(deleted_count(server) == 0);
  {
    Pane pane(socket, ledgerctl + " delete 12 13 14");
    REQUIRE(pane.started());
    REQUIRE(pane.wait_for("Delete 3 customers (12, 13, 14)? [y/N]"));
    pane.answer("y");
    REQUIRE(pane.wait_for("exit status"));
    INFO(pane.text());
    CHECK_THAT(pane.text(), Catch::Contains("deleted 12, 13, 14") && Catch::Contains("exit status 0"));
  }
  CHECK(deleted_count(server) == 3);

  const std::string warning =
      "Cleanup will erase 3 deleted customers for good. This cannot be undone: they can no longer be undeleted or "
      "edited, their data is erased, and their numbers become free for new customers.";
  {
    Pane pane(socket, ledgerctl + " cleanup");
    REQUIRE(pane.started());
    REQUIRE(pane.wait_for("Erase them now? [y/N]"));
    CHECK_THAT(pane.text(), Catch::Contains(warning));
    pane.answer("n");
    REQUIRE(pane.wait_for("exit status"));
    INFO(pane.text());
    CHECK_THAT(pane.text(), Catch::Contains("cancelled; nothing was erased") && Catch::Contains("exit status 1"));
  }
  CHECK(deleted_count(server) == 3);
  {
    Pane pane(socket, ledgerctl + " cleanup");
    REQUIRE(pane.started());
    REQUIRE(pane.wait_for("Erase them now? [y/N]"));
    CHECK_THAT(pane.text(), Catch::Contains(warning));
    pane.answer("y");
    REQUIRE(pane.wait_for("exit status"));
    INFO(pane.text());
    CHECK_THAT(pane.text(), Catch::Contains("erased 3 customers; numbers free again: 12, 13, 14") &&
                                Catch::Contains("exit status 0"));
  }
  CHECK(deleted_count(server) == 0);
  CHECK(ledgerctl_json(server, "create --name Newcomer").at("number") == 12);
  CHECK(server.stop() == 0);
}
