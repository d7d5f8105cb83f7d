// ledgerctl: the office's command line for the ledger, talking to ledgerd over TCP. Follows the
// product's help page: list customers, delete (with confirmation), manage deleted customers
// (undelete, edit), cleanup old customers (with confirmation; cannot be undone).
//
// Commands that change the ledger carry a request key and are sent again, with the same key,
// when the connection breaks before the answer: the ledger answers a key it has seen with the
// first outcome, so a retry never does a command twice.
//
// Exit codes: 0 done; 1 refused by the ledger; 2 usage; 3 cannot connect or not allowed.
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <capnp/schema.h>
#include <boost/json.hpp>
#include <fmt/format.h>

#include "domain/events.h"
#include "eventstore/crypto.h"
#include "server/tokens.h"
#include "tools/common/history_format.h"
#include "tools/common/log_json.h"
#include "ledger/client/client.h"

using namespace ledger;
namespace json = boost::json;
using protocol::ErrorCode;

namespace {

constexpr int kDone = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;
constexpr int kNoAccess = 3;

struct Globals {
  client::ConnectOptions client;
  std::string token;
  bool json = false;
};

struct FieldFlags {
  std::optional<std::string> name, company, email, phone, address, notes;
  void add_to(CLI::App* command) {
    command->add_option("--name", name, "name (1-200 characters)");
    command->add_option("--company", company, "company");
    command->add_option("--email", email, "email address");
    command->add_option("--phone", phone, "phone number");
    command->add_option("--address", address, "postal address");
    command->add_option("--notes", notes, "notes");
  }
  std::vector<std::pair<protocol::Field, std::string>> given() const {
    std::vector<std::pair<protocol::Field, std::string>> out;
    if (name) out.emplace_back(protocol::Field::NAME, *name);
    if (company) out.emplace_back(protocol::Field::COMPANY, *company);
    if (email) out.emplace_back(protocol::Field::EMAIL, *email);
    if (phone) out.emplace_back(protocol::Field::PHONE, *phone);
    if (address) out.emplace_back(protocol::Field::ADDRESS, *address);
    if (notes) out.emplace_back(protocol::Field::NOTES, *notes);
    return out;
  }
};

std::string_view field_key(protocol::Field field) {
  switch (field) {
    case protocol::Field::NAME: return "name";
    case protocol::Field::COMPANY: return "company";
    case protocol::Field::EMAIL: return "email";
    case protocol::Field::PHONE: return "phone";
    case protocol::Field::ADDRESS: return "address";
    case protocol::Field::NOTES: return "notes";
  }
  return "unknown";
}

std::string error_code_name(ErrorCode code) {
  auto enumerants = capnp::Schema::from<ErrorCode>().getEnumerants();
  for (auto e : enumerants) {
    if (e.getOrdinal() == static_cast<std::uint16_t>(code)) return e.getProto().getName();
  }
  return "unknown";
}

// A refusal or connection-level error from the server: message on stderr, JSON on stdout.
int report_error(const Globals& g, protocol::Error::Reader error) {
  const auto code = error.getCode();
  std::string line = error.getMessage().cStr();
  if (error.getField().size() > 0) line += fmt::format(" (field: {})", error.getField().cStr());
  for (auto problem : error.getNumbers()) {
    line += fmt::format("; {}: {}", problem.getNumber(), error_code_name(problem.getCode()));
  }
  std::cerr << "ledgerctl: " << line << "\n";
  if (g.json) {
    json::object out{{"code", error_code_name(code)}, {"message", error.getMessage().cStr()}};
    if (error.getField().size() > 0) out["field"] = error.getField().cStr();
    json::array numbers;
    for (auto problem : error.getNumbers()) {
      numbers.push_back(json::object{{"number", problem.getNumber()}, {"code", error_code_name(problem.getCode())}});
    }
    if (!numbers.empty()) out["numbers"] = std::move(numbers);
    std::cout << json::serialize(json::object{{"error", std::move(out)}}) << "\n";
  }
  switch (code) {
    case ErrorCode::FORBIDDEN:
    case ErrorCode::UNAUTHENTICATED:
      return kNoAccess;
    default:
      return kRefused;
  }
}

json::object customer_object(protocol::Customer::Reader c) {
  auto f = c.getFields();
  return json::object{{"number", c.getNumber()},
                      {"id", c.getId()},
                      {"status", c.getStatus() == protocol::Status::ACTIVE ? "active" : "deleted"},
                      {"revision", c.getRevision()},
                      {"name", f.getName().cStr()},
                      {"company", f.getCompany().cStr()},
                      {"email", f.getEmail().cStr()},
                      {"phone", f.getPhone().cStr()},
                      {"address", f.getAddress().cStr()},
                      {"notes", f.getNotes().cStr()}};
}

void print_json(const json::value& value) { std::cout << json::serialize(value) << "\n"; }

std::string join_numbers(capnp::List<std::uint64_t>::Reader numbers) {
  std::string out;
  for (auto n : numbers) out += (out.empty() ? "" : ", ") + std::to_string(n);
  return out;
}

std::string join_numbers(const std::vector<std::uint64_t>& numbers) {
  std::string out;
  for (auto n : numbers) out += (out.empty() ? "" : ", ") + std::to_string(n);
  return out;
}

// Asks on the terminal; false unless the answer is y or yes.
bool confirm(const std::string& question) {
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES" || answer == "Yes";
}

constexpr std::size_t kMaxRequestKeyBytes = 64;

// What a retry looks like to the person at the terminal.
void tell_retry(const client::RetryNotice& notice) {
  switch (notice.why) {
    case client::RetryNotice::Why::kHelloRefused:
      std::cerr << "ledgerctl: the server is busy or stopping; sending the command again\n";
      break;
    case client::RetryNotice::Why::kRefused:
      std::cerr << "ledgerctl: " << notice.message << "; sending the command again\n";
      break;
    case client::RetryNotice::Why::kConnectionBroke:
      std::cerr << "ledgerctl: " << notice.message << "; sending the command again with the same request key\n";
      break;
  }
}

// Printed after the outcome of a command whose key the ledger had seen before.
constexpr std::string_view kReplayedNote = " (already done earlier with this request key)";

int show_written(const Globals& g, client::Reply& reply, const char* verb) {
  auto r = reply.get();
  if (r.isError()) return report_error(g, r.getError());
  auto w = r.getWritten();
  if (g.json) {
    json::object out{{"number", w.getNumber()}, {"id", w.getId()}, {"revision", w.getRevision()}};
    if (w.getReplayed()) out["replayed"] = true;
    print_json(out);
  } else {
    std::cout << fmt::format("{} customer {} (revision {}){}\n", verb, w.getNumber(), w.getRevision(),
                             w.getReplayed() ? kReplayedNote : "");
  }
  return kDone;
}

void print_table(const std::vector<protocol::Customer::Reader>& customers) {
  std::size_t name_width = 4, company_width = 7;
  for (auto c : customers) {
    name_width = std::max<std::size_t>(name_width, std::min<std::size_t>(40, c.getFields().getName().size()));
    company_width = std::max<std::size_t>(company_width, std::min<std::size_t>(30, c.getFields().getCompany().size()));
  }
  std::cout << fmt::format("{:>8}  {:<{}}  {:<{}}  {:<8}  {}\n", "NUMBER", "NAME", name_width, "COMPANY",
                           company_width, "STATUS", "EMAIL");
  for (auto c : customers) {
    auto f = c.getFields();
    std::cout << fmt::format("{:>8}  {:<{}}  {:<{}}  {:<8}  {}\n", c.getNumber(),
                             std::string(f.getName().cStr()).substr(0, 40), name_width,
                             std::string(f.getCompany().cStr()).substr(0, 30), company_width,
                             c.getStatus() == protocol::Status::ACTIVE ? "active" : "deleted", f.getEmail().cStr());
  }
}

// Counts the deleted customers, page by page.
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledgerctl: customers in the ledger, from the command line"};
  app.require_subcommand(1);
  Globals g;
  if (const char* env = std::getenv("LEDGER_SERVER")) g.client.server = env;
  if (const char* env = std::getenv("LEDGER_TOKEN")) g.token = env;
  app.add_option("--server", g.client.server, "HOST:PORT of ledgerd (LEDGER_SERVER)")->capture_default_str();
  app.add_option("--token", g.token, "token (LEDGER_TOKEN)");
  app.add_flag("--json", g.json, "print JSON");
  app.add_flag("--tls", g.client.tls, "connect with TLS");
  app.add_option("--tls-ca", g.client.tls_ca, "CA certificate (PEM) to verify the server; implies --tls");

  FieldFlags create_fields;
  std::optional<std::uint64_t> create_number;
  auto* create = app.add_subcommand("create", "create a customer");
  create_fields.add_to(create);
  create->get_option("--name")->required();
  create->add_option("--number", create_number, "the number to give (default: the lowest free)");

  FieldFlags edit_fields;
  std::uint64_t edit_number = 0;
  std::optional<std::uint64_t> expect_revision;
  auto* edit = app.add_subcommand("edit", "edit a customer, active or deleted");
  edit->add_option("NUMBER", edit_number, "customer number")->required();
  edit_fields.add_to(edit);
  edit->add_option("--expect-revision", expect_revision, "refuse unless the customer is at this revision");

  std::uint64_t get_number = 0;
  auto* get = app.add_subcommand("get", "show one customer");
  get->add_option("NUMBER", get_number, "customer number")->required();

  bool list_deleted = false;
  std::string search;
  std::uint64_t after = 0;
  std::uint32_t limit = 100;
  auto* list = app.add_subcommand("list", "list customers (active, or deleted with --deleted)");
  list->add_flag("--deleted", list_deleted, "the deleted customers (Manage Deleted Customers)");
  list->add_option("--search", search, "only customers matching this text");
  list->add_option("--after", after, "numbers after this one");
  list->add_option("--limit", limit, "at most this many (1-1000)")->check(CLI::Range(1u, 1000u));

  std::vector<std::uint64_t> delete_numbers;
  bool yes = false;
  auto* del = app.add_subcommand("delete", "delete customers (they can be undeleted until cleanup)");
  del->add_option("NUMBER", delete_numbers, "customer numbers")->required();
  del->add_flag("--yes,-y", yes, "do not ask for confirmation");

  std::vector<std::uint64_t> undelete_numbers;
  auto* undelete = app.add_subcommand("undelete", "undelete deleted customers");
  undelete->add_option("NUMBER", undelete_numbers, "customer numbers")->required();

  std::optional<std::uint64_t> expect_count;
  bool no_wait = false;
  auto* cleanup = app.add_subcommand("cleanup", "erase every deleted customer for good (cannot be undone)");
  cleanup->add_flag("--yes,-y", yes, "do not ask for confirmation");
  cleanup->add_option("--expect-count", expect_count, "refuse unless exactly this many customers are deleted");
  cleanup->add_flag("--no-wait", no_wait, "do not wait for the erasure report");

  std::uint64_t history_number = 0;
  auto* history = app.add_subcommand("history", "every event of one customer");
  history->add_option("NUMBER", history_number, "customer number")->required();

  auto* stats = app.add_subcommand("stats", "server statistics");

  std::uint64_t from_seq = 1;
  auto* watch = app.add_subcommand("watch", "print log entries as they are written (Ctrl-C to stop)");
  watch->add_option("--from", from_seq, "first seq to print")->capture_default_str();

  // Every command that changes the ledger carries a request key; a script that passes its own
  // can run the same ledgerctl command again without doing it twice.
  std::optional<std::string> request_key;
  for (auto* command : {create, edit, del, undelete, cleanup}) {
    command->add_option("--request-key", request_key,
                        "idempotency key (1-64 bytes): the same command again with the same key gets the first "
                        "outcome instead of being done twice (default: a random key, kept across retries)");
  }

  auto* hash_token = app.add_subcommand("hash-token", "read a token on stdin, print its SHA-256 for a tokens file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  if (!g.client.tls_ca.empty()) g.client.tls = true;

  if (*hash_token) {
    std::string token;
    std::getline(std::cin, token);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    if (token.empty()) {
      std::cerr << "ledgerctl: no token on stdin\n";
      return kUsage;
    }
    std::cout << server::token_hash_hex(token) << "\n";
    return kDone;
  }

  if (request_key && (request_key->empty() || request_key->size() > kMaxRequestKeyBytes)) {
    std::cerr << "ledgerctl: --request-key must be 1 to " << kMaxRequestKeyBytes << " bytes, got "
              << request_key->size() << "\n";
    return kUsage;
  }
  if (!request_key) {
    try {
      request_key = client::new_request_key();
    } catch (const std::runtime_error&) {
    }
  }
  if (!request_key) {
    std::cerr << "ledgerctl: the random generator failed to make a request key; pass --request-key KEY\n";
    return kUsage;
  }

  // Confirmation needs a person: decide before connecting.
  const bool terminal = isatty(STDIN_FILENO) != 0;
  if ((*del || *cleanup) && !yes && !terminal) {
    std::cerr << "ledgerctl: " << (*del ? "delete" : "cleanup")
              << " asks for confirmation, and there is no terminal to ask on; pass --yes to confirm\n";
    return kUsage;
  }

  try {
    // Commands are sent again, with the same key, up to 5 tries, 0.25 s before the second and
    // doubling (the library's default RetryPolicy).
    client::Options options;
    options.connect = g.client;
    options.token = g.token;
    options.on_retry = tell_retry;
    client::Client session(options);
    if (session.refused()) return report_error(g, session.refused()->get().getError());
    const std::string& key = *request_key;

    if (*create) {
      auto reply = session.command(key, [&](auto r) {
        auto c = r.initCreate();
        auto f = c.initFields();
        for (auto& [field, value] : create_fields.given()) {
          switch (field) {
            case protocol::Field::NAME: f.setName(value); break;
            case protocol::Field::COMPANY: f.setCompany(value); break;
            case protocol::Field::EMAIL: f.setEmail(value); break;
            case protocol::Field::PHONE: f.setPhone(value); break;
            case protocol::Field::ADDRESS: f.setAddress(value); break;
            case protocol::Field::NOTES: f.setNotes(value); break;
          }
        }
        c.setNumber(create_number.value_or(0));
      });
      return show_written(g, reply, "created");
    }
    if (*edit) {
      auto changes = edit_fields.given();
      if (changes.empty()) {
        std::cerr << "ledgerctl: edit needs at least one field flag (--name, --company, ...)\n";
        return kUsage;
      }
      auto reply = session.command(key, [&](auto r) {
        auto e = r.initEdit();
        e.setNumber(edit_number);
        auto list = e.initChanges(static_cast<unsigned>(changes.size()));
        for (unsigned i = 0; i < changes.size(); ++i) {
          list[i].setField(changes[i].first);
          list[i].setValue(changes[i].second);
        }
        e.setExpectRevision(expect_revision.value_or(0));
      });
      return show_written(g, reply, "edited");
    }
    if (*get) {
      auto reply = session.call([&](auto r) { r.initGet().setNumber(get_number); });
      if (reply.get().isError()) return report_error(g, reply.get().getError());
      auto c = reply.get().getCustomer();
      if (g.json) {
        print_json(customer_object(c));
      } else {
        auto o = customer_object(c);
        for (auto& [key, value] : o) {
          std::cout << fmt::format("{:<9} {}\n", std::string(key) + ":",
                                   value.is_string() ? std::string(value.as_string()) : json::serialize(value));
        }
      }
      return kDone;
    }
    if (*list) {
      auto reply = session.call([&](auto r) {
        auto l = r.initList();
        l.setDeleted(list_deleted);
        l.setAfter(after);
        l.setLimit(limit);
        l.setSearch(search);
      });
      if (reply.get().isError()) return report_error(g, reply.get().getError());
      auto page = reply.get().getPage();
      if (g.json) {
        json::array customers;
        for (auto c : page.getCustomers()) customers.push_back(customer_object(c));
        json::value next = nullptr;
        if (page.getNext() != 0) next = page.getNext();
        print_json(json::object{{"customers", std::move(customers)}, {"next", next}});
      } else {
        std::vector<protocol::Customer::Reader> rows;
        for (auto c : page.getCustomers()) rows.push_back(c);
        print_table(rows);
        if (page.getNext() != 0) std::cout << fmt::format("(more: --after {})\n", page.getNext());
      }
      return kDone;
    }
    if (*del || *undelete) {
      auto& numbers = *del ? delete_numbers : undelete_numbers;
      if (*del && !yes) {
        auto question = fmt::format("Delete {} customer{} ({})?", numbers.size(), numbers.size() == 1 ? "" : "s",
                                    join_numbers(numbers));
        if (!confirm(question)) {
          std::cerr << "ledgerctl: cancelled; nothing was deleted\n";
          return kRefused;
        }
      }
      auto reply = session.command(key, [&](auto r) {
        auto list = *del ? r.initDelete().initNumbers(static_cast<unsigned>(numbers.size()))
                         : r.initUndelete().initNumbers(static_cast<unsigned>(numbers.size()));
        for (unsigned i = 0; i < numbers.size(); ++i) list.set(i, numbers[i]);
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
        std::cout << fmt::format("{} {}{}\n", *del ? "deleted" : "undeleted", join_numbers(changed.getNumbers()),
                                 changed.getReplayed() ? kReplayedNote : "");
      }
      return kDone;
    }
    if (*cleanup) {
      std::optional<std::uint64_t> guard = expect_count;
      if (!yes) {
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
        p.setWait(!no_wait);
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
    if (*history) {
      auto reply = session.call([&](auto r) { r.initHistory().setNumber(history_number); });
      if (reply.get().isError()) return report_error(g, reply.get().getError());
      std::vector<tools::HistoryStep> steps;
      json::array events;
      for (auto e : reply.get().getHistory().getEvents()) {
        tools::HistoryStep step{e.getSeq(), e.getAt(), e.getActor().cStr(), e.getKind().cStr(), 0, {}};
        for (auto changed : e.getChangedFields()) {
          step.changes.push_back({std::string(field_key(changed.getField())), changed.getOldValue().cStr(),
                                  changed.getNewValue().cStr()});
        }
        json::object o{{"seq", step.seq}, {"at", step.at_us}, {"actor", step.actor}, {"kind", step.kind}};
        // Each changed field's new value under its own name, as before old values were sent.
        for (auto change : e.getChanges()) o[field_key(change.getField())] = change.getValue().cStr();
        json::array changes;
        for (const auto& delta : step.changes) changes.push_back(tools::delta_json(delta));
        o["changes"] = std::move(changes);
        events.push_back(std::move(o));
        steps.push_back(std::move(step));
      }
      if (g.json) {
        print_json(json::object{{"events", events}});
      } else {
        std::cout << tools::history_text(steps);
      }
      return kDone;
    }
    if (*stats) {
      auto reply = session.call([&](auto r) { r.setStats(); });
      if (reply.get().isError()) return report_error(g, reply.get().getError());
      auto s = reply.get().getStats();
      json::object o{{"next_seq", s.getNextSeq()}, {"batches", s.getBatches()},      {"commands", s.getCommands()},
                     {"connections", s.getConnections()}, {"active", s.getActive()}, {"deleted", s.getDeleted()}};
      if (g.json) {
        print_json(o);
      } else {
        for (auto& [key, value] : o) std::cout << fmt::format("{:<12} {}\n", std::string(key) + ":", json::serialize(value));
      }
      return kDone;
    }
    if (*watch) {
      capnp::MallocMessageBuilder message;
      auto request = client::new_request(message, 1000);
      request.initSubscribe().setFromSeq(from_seq);
      session.connection().send(message);
      for (;;) {
        auto reply = session.connection().receive();
        auto r = reply.get();
        if (r.isError()) return report_error(g, r.getError());
        if (!r.isEntry()) continue;
        auto e = r.getEntry();
        eventstore::Envelope envelope;
        envelope.seq = e.getSeq();
        envelope.at_us = e.getAt();
        envelope.actor = e.getActor().cStr();
        envelope.customer = e.getCustomer();
        envelope.kind = e.getKind();
        envelope.payload.assign(reinterpret_cast<const char*>(e.getPayload().begin()), e.getPayload().size());
        eventstore::digest_from(std::string_view(reinterpret_cast<const char*>(e.getDigest().begin()),
                                                 e.getDigest().size()),
                                envelope.digest);
        eventstore::digest_from(std::string_view(reinterpret_cast<const char*>(e.getChain().begin()),
                                                 e.getChain().size()),
                                envelope.chain);
        envelope.redacted_by = e.getRedactedBy();
        envelope.number = e.getNumber();
        json::object o;
        try {
          o = tools::envelope_json(envelope);
        } catch (const std::exception&) {
          o = json::object{{"seq", envelope.seq}, {"error", "payload not readable"}};
        }
        if (g.json) {
          print_json(o);
        } else {
          std::cout << fmt::format("{:>8}  {}  {:<18} customer {}{}\n", envelope.seq,
                                   tools::format_time(envelope.at_us),
                                   domain::kind_name(static_cast<domain::EventKind>(envelope.kind)), envelope.customer,
                                   envelope.redacted() ? fmt::format(" (erased by {})", envelope.redacted_by) : "");
        }
        std::cout.flush();
      }
    }
  } catch (const client::RetriesExhausted& e) {
    std::cerr << "ledgerctl: " << e.what() << ". The command may or may not have been done: run it again with "
              << "--request-key " << *request_key << " to find out without doing it twice\n";
    return kNoAccess;
  } catch (const client::ConnectionError& e) {
    std::cerr << "ledgerctl: " << e.what() << "\n";
    return kNoAccess;
  }
  return kUsage;
}
