// The product's help page, end to end: ledgerctl --json against a real ledgerd.
#include <array>
#include <cstdio>
#include <string>

#include <sys/wait.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/temp_dir.h"
#include "net/breaking_proxy.h"
#include "support/ledgerd_process.h"

using ledger::testing::BreakingProxy;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;
namespace json = boost::json;

namespace {

struct Run {
  int status = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  json::value value() const { return json::parse(out); }
};

// Runs ledgerctl with `args` (quoted by the caller where needed), stdin from /dev/null; with
// --json unless `json` is false.
Run ledgerctl(const std::string& address, const std::string& args, const std::string& stdin_text = "",
              bool json = true) {
  TempDir scratch;
  const auto err_file = (scratch.path() / "stderr").string();
  std::string command = "'" LEDGERCTL_PATH "' --server " + address + (json ? " --json " : " ") + args + " 2>'" +
                        err_file + "'";
  if (stdin_text.empty()) {
    command += " </dev/null";
  } else {
    command = "printf '%s\\n' '" + stdin_text + "' | " + command;
  }
  Run run;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.out.append(buffer.data(), n);
  const int raw = pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  FILE* err = std::fopen(err_file.c_str(), "r");
  if (err) {
    while ((n = fread(buffer.data(), 1, buffer.size(), err)) > 0) run.err.append(buffer.data(), n);
    std::fclose(err);
  }
  return run;
}

Run ledgerctl(const LedgerdProcess& server, const std::string& args) { return ledgerctl(server.address(), args); }

json::value ok(const Run& run) {
  INFO("stderr: " << run.err << " stdout: " << run.out);
  REQUIRE(run.status == 0);
  return run.value();
}

std::vector<std::uint64_t> numbers(const json::value& list) {
  std::vector<std::uint64_t> out;
  for (auto& c : list.at("customers").as_array()) out.push_back(c.at("number").to_number<std::uint64_t>());
  return out;
}

using Numbers = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("the help page through ledgerctl --json", "[ledgerctl]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");

  auto ada = ok(ledgerctl(server, "create --name Ada --company 'Analytical Engines' --email ada@example.org"));
  CHECK(ada.at("number") == 1);
  CHECK(ada.at("revision") == 1);
  CHECK(ada.as_object().contains("id"));
  for (auto name : {"Brook", "Cyd", "Dee", "Eve"}) ok(ledgerctl(server, std::string("create --name ") + name));

  auto got = ok(ledgerctl(server, "get 1"));
  CHECK(got.at("status") == "active");
  CHECK(got.at("company") == "Analytical Engines");
  for (auto key : {"number", "id", "status", "revision", "name", "company", "email", "phone", "address", "notes"}) {
    CHECK(got.as_object().contains(key));
  }

  // Select several rows, delete them at once.
  auto deleted = ok(ledgerctl(server, "delete 2 3 4 --yes"));
  CHECK(deleted.at("numbers") == json::array{2, 3, 4});
  CHECK(numbers(ok(ledgerctl(server, "list"))) == Numbers{1, 5});
  auto deleted_list = ok(ledgerctl(server, "list --deleted"));
  CHECK(numbers(deleted_list) == Numbers{2, 3, 4});
  CHECK(deleted_list.at("next").is_null());

  // The number stays held.
  auto held = ledgerctl(server, "create --name Intruder --number 3");
  CHECK(held.status == 1);
  CHECK_THAT(held.err, Catch::Contains("undelete") && Catch::Contains("cleanup"));
  CHECK(held.value().at("error").at("code") == "numberHeldByDeleted");

  // Manage Deleted Customers: undelete several, edit one that stays deleted.
  CHECK(ok(ledgerctl(server, "undelete 2 3")).at("numbers") == json::array{2, 3});
  auto edited = ok(ledgerctl(server, "edit 4 --notes 'owes 12.50'"));
  CHECK(edited.at("revision") == 3);
  auto four = ok(ledgerctl(server, "get 4"));
  CHECK(four.at("status") == "deleted");
  CHECK(four.at("notes") == "owes 12.50");

  auto history = ok(ledgerctl(server, "history 4"));
  auto& events = history.at("events").as_array();
  REQUIRE(events.size() == 3);
  CHECK(events[0].at("kind") == "CustomerCreated");
  CHECK(events[0].at("name") == "Dee");
  CHECK(events[2].at("kind") == "CustomerEdited");
  CHECK(events[2].at("notes") == "owes 12.50");
  for (auto key : {"seq", "at", "actor"}) CHECK(events[1].as_object().contains(key));

  // Cleanup: refuses without a terminal unless --yes; then erases every deleted customer.
  auto unconfirmed = ledgerctl(server, "cleanup");
  CHECK(unconfirmed.status == 2);
  CHECK_THAT(unconfirmed.err, Catch::Contains("--yes"));
  CHECK(ledgerctl(server, "cleanup --yes --expect-count 5").status == 1);
  auto cleanup = ok(ledgerctl(server, "cleanup --yes"));
  CHECK(cleanup.at("purged") == 1);
  CHECK(cleanup.at("numbers_freed") == json::array{4});
  CHECK(cleanup.at("erasure").as_object().contains("state"));
  CHECK(numbers(ok(ledgerctl(server, "list --deleted"))).empty());
  CHECK(ledgerctl(server, "undelete 4").status == 1);

  // Its number is free for reuse, with none of the old data.
  auto reused = ok(ledgerctl(server, "create --name Newcomer"));
  CHECK(reused.at("number") == 4);
  CHECK(reused.at("id") != four.at("id"));
  CHECK(ok(ledgerctl(server, "get 4")).at("notes") == "");
  CHECK(server.stop() == 0);
}

TEST_CASE("ledgerctl history shows each change old to new, as text and as JSON", "[ledgerctl][history]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  ok(ledgerctl(server, "create --name Ada --email ada@example.org"));
  ok(ledgerctl(server, "edit 1 --name 'Ada Lovelace' --notes 'owes 12.50'"));
  ok(ledgerctl(server, "edit 1 --name 'Ada King' --notes ''"));

  auto text = ledgerctl(server.address(), "history 1", "", false);
  INFO(text.out << text.err);
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Catch::Contains("CustomerCreated\n    name: \"\" → \"Ada\"\n"
                                       "    email: \"\" → \"ada@example.org\"\n"));
  CHECK_THAT(text.out, Catch::Contains("CustomerEdited\n    name: \"Ada\" → \"Ada Lovelace\"\n"
                                       "    notes: \"\" → \"owes 12.50\"\n"));
  CHECK_THAT(text.out, Catch::Contains("CustomerEdited\n    name: \"Ada Lovelace\" → \"Ada King\"\n"
                                       "    notes: \"owes 12.50\" → \"\"\n"));

  auto events = ok(ledgerctl(server, "history 1")).at("events").as_array();
  REQUIRE(events.size() == 3);
  const auto change = [](const std::string& field, const std::string& before, const std::string& after) {
    return json::value(json::object{{"field", field}, {"old", before}, {"new", after}});
  };
  CHECK(events[0].at("changes") == json::array{change("name", "", "Ada"), change("email", "", "ada@example.org")});
  CHECK(events[2].at("changes") ==
        json::array{change("name", "Ada Lovelace", "Ada King"), change("notes", "owes 12.50", "")});
  CHECK(events[2].at("name") == "Ada King");  // the new values, keyed by field, as before
  CHECK(server.stop() == 0);
}

TEST_CASE("ledgerctl exit codes and hash-token", "[ledgerctl]") {
  TempDir dir;
  const auto tokens = dir.path() / "tokens";
  LedgerdProcess probe(dir.path() / "probe");  // for a free, then closed, port
  const auto closed_port = probe.address();
  probe.stop();

  {
    Run run;
    FILE* pipe = popen("printf 'sesame\\n' | '" LEDGERCTL_PATH "' hash-token", "r");
    std::array<char, 256> buffer{};
    run.out.append(buffer.data(), fread(buffer.data(), 1, buffer.size(), pipe));
    CHECK(WEXITSTATUS(pclose(pipe)) == 0);
    // sha256("sesame")
    CHECK(run.out == "d0c04f4b1951e4aeaaec8223ed2039e542f3aae805a6fa7f6d794e5afff5d272\n");
    std::FILE* f = std::fopen(tokens.c_str(), "w");
    std::fprintf(f, "desk clerk %s", run.out.c_str());
    std::fclose(f);
    std::filesystem::permissions(tokens, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  LedgerdProcess server(dir.path() / "data", {"--tokens", tokens.string()});
  CHECK(ledgerctl(server, "--token sesame create --name Ada").status == 0);
  CHECK(ledgerctl(server, "--token wrong list").status == 3);
  CHECK(ledgerctl(server, "--token sesame stats").status == 3);  // clerks may not read stats
  CHECK(ledgerctl(server, "--token sesame delete 1").status == 2);  // no terminal, no --yes
  CHECK(ledgerctl(server, "--token sesame get 9").status == 1);
  CHECK(ledgerctl(server, "--token sesame frobnicate").status == 2);
  CHECK(ledgerctl(closed_port, "--token sesame list").status == 3);
  CHECK(server.stop() == 0);
}

TEST_CASE("ledgerctl --request-key: the same command run again is done once", "[ledgerctl][request-key]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");

  auto first = ok(ledgerctl(server, "create --name Ada --request-key create-ada"));
  auto again = ok(ledgerctl(server, "create --name Ada --request-key create-ada"));
  CHECK(again.at("number") == first.at("number"));
  CHECK(again.at("id") == first.at("id"));
  CHECK(!first.as_object().contains("replayed"));
  CHECK(again.at("replayed") == true);
  CHECK(numbers(ok(ledgerctl(server, "list"))) == Numbers{1});

  // Without a key of its own each run is a new command.
  ok(ledgerctl(server, "create --name Brook"));
  ok(ledgerctl(server, "create --name Brook"));
  CHECK(numbers(ok(ledgerctl(server, "list"))) == Numbers{1, 2, 3});

  // A delete run again gets its first outcome, not "already deleted".
  auto deleted = ok(ledgerctl(server, "delete 2 3 --yes --request-key delete-2-3"));
  CHECK(deleted.at("numbers") == json::array{2, 3});
  auto deleted_again = ok(ledgerctl(server, "delete 2 3 --yes --request-key delete-2-3"));
  CHECK(deleted_again.at("numbers") == json::array{2, 3});
  CHECK(deleted_again.at("replayed") == true);
  CHECK(numbers(ok(ledgerctl(server, "list --deleted"))) == Numbers{2, 3});
  // A key belongs to one command: sent with another, it is refused and nothing is done.
  auto reused = ledgerctl(server, "undelete 2 3 --request-key delete-2-3");
  CHECK(reused.status == 1);
  CHECK(reused.value().at("error").at("code") == "requestKeyReused");
  CHECK_THAT(reused.err, Catch::Contains("already used for a delete") && Catch::Contains("new request key"));
  CHECK(numbers(ok(ledgerctl(server, "list --deleted"))) == Numbers{2, 3});
  auto other_name = ledgerctl(server, "create --name Eve --request-key create-ada");
  CHECK(other_name.status == 1);
  CHECK(other_name.value().at("error").at("code") == "requestKeyReused");
  CHECK(numbers(ok(ledgerctl(server, "list"))) == Numbers{1});
  auto without_key = ledgerctl(server, "delete 2 3 --yes");
  CHECK(without_key.status == 1);
  CHECK_THAT(without_key.out, Catch::Contains("alreadyDeleted"));

  auto too_long = ledgerctl(server, "create --name Eve --request-key " + std::string(65, 'k'));
  CHECK(too_long.status == 2);
  CHECK_THAT(too_long.err, Catch::Contains("--request-key must be 1 to 64 bytes"));
  CHECK(server.stop() == 0);
}

TEST_CASE("ledgerctl sends a command again, with the same key, when the connection breaks before the answer",
          "[ledgerctl][request-key]") {
  TempDir dir;
  LedgerdProcess server(dir.path() / "data");

  SECTION("create") {
    BreakingProxy proxy(server.port(), 1);  // the welcome passes; the create's answer is lost
    auto run = ledgerctl(proxy.address(), "create --name Ada");
    CHECK(proxy.broke());
    CHECK(proxy.connections() == 2);
    CHECK_THAT(run.err, Catch::Contains("sending the command again"));
    auto created = ok(run);
    CHECK(created.at("number") == 1);
    CHECK(created.at("replayed") == true);
    CHECK(numbers(ok(ledgerctl(server, "list"))) == Numbers{1});
  }
  SECTION("delete") {
    ok(ledgerctl(server, "create --name Ada"));
    ok(ledgerctl(server, "create --name Brook"));
    BreakingProxy proxy(server.port(), 1);
    auto run = ledgerctl(proxy.address(), "delete 1 2 --yes");
    CHECK(proxy.broke());
    auto deleted = ok(run);
    CHECK(deleted.at("numbers") == json::array{1, 2});
    CHECK(deleted.at("replayed") == true);
    CHECK(numbers(ok(ledgerctl(server, "list --deleted"))) == Numbers{1, 2});
  }
  SECTION("every try breaks: it gives up, names its key, and that key finishes the job once") {
    BreakingProxy proxy(server.port(), 1, /*every_connection=*/true);
    auto run = ledgerctl(proxy.address(), "create --name Ada");
    CHECK(run.status == 3);
    CHECK(proxy.connections() == 5);
    const std::string marker = "--request-key ";
    const auto at = run.err.find(marker);
    REQUIRE(at != std::string::npos);
    CHECK_THAT(run.err, Catch::Contains("gave up after 5 tries"));
    const auto key = run.err.substr(at + marker.size(), 32);
    auto finished = ok(ledgerctl(server, "create --name Ada --request-key " + key));
    CHECK(finished.at("number") == 1);
    CHECK(finished.at("replayed") == true);
    CHECK(numbers(ok(ledgerctl(server, "list"))) == Numbers{1});
  }
  CHECK(server.stop() == 0);
}
