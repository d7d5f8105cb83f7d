// ledger-audit: read-only views of a ledger for auditors. Opens a data directory as a RocksDB
// secondary instance, so it works while ledgerd writes to it, and never changes it; or, with
// --server, copies the log through a subscription into a temporary local database and audits
// the copy (tools/audit/log_mirror.h).
// Exit status: 0 when the check holds, 1 when it does not (verify, prove-purge), 2 on errors,
// 3 when the server cannot be reached or refuses the token.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include "domain/decide.h"
#include "domain/events.h"
#include "eventstore/erasure_pass.h"
#include "eventstore/event_log.h"
#include "eventstore/pending_erasure.h"
#include "projections/queries.h"
#include "projections/verify.h"
#include "server/outcome.h"
#include "tools/audit/as_of.h"
#include "tools/audit/history.h"
#include "tools/audit/log_mirror.h"
#include "tools/audit/purge_proof.h"
#include "tools/audit/witness.h"
#include "tools/audit/witness_key.h"
#include "tools/common/data_dir.h"
#include "tools/common/log_json.h"
#include "tools/common/progress.h"
#include "tools/common/server_session.h"
#include "tools/common/stderr_log.h"

using namespace ledger;
using namespace ledger::tools;

namespace {

constexpr int kNoAccess = 3;
constexpr const char* kRoleNeeded = "reading the ledger through --server needs an auditor or admin token";
constexpr const char* kDigestsNote = "digests: not checkable through the server; run verify with --data";

// Where the ledger is read from: a data directory, or a server and a token.
struct Source {
  std::string data;
  ClientOptions server{.server = "", .tls = false, .tls_ca = ""};
  std::string token;
  bool remote() const { return !server.server.empty(); }
};

// The heads an auditor recorded (`verify --witness FILE`), and the key their lines must be
// signed with (`--witness-key`), if any.
struct Witness {
  std::string file;
  std::vector<WitnessLine> lines;
  std::optional<WitnessKey> key;
};

std::optional<WitnessCheck> check_witness_of(const std::optional<Witness>& witness, eventstore::Database& database) {
  if (!witness) return std::nullopt;
  try {
    return check_witness(eventstore::DatabaseReader(database), witness->lines, witness->key ? &*witness->key : nullptr);
  } catch (const eventstore::CorruptionError& error) {
    return WitnessCheck{.ok = false, .problem = error.what()};
  }
}

std::string describe_witness(const WitnessCheck& check, const Witness& witness) {
  if (!check.ok) {
    return check.bad_line == 0 ? fmt::format("WITNESS FAILED: {}", check.problem)
                               : fmt::format("WITNESS FAILED at {} line {}: {}", witness.file, check.bad_line, check.problem);
  }
  std::string signatures;
  if (check.signatures_checked) {
    signatures = fmt::format(", each signed by keyid {}", witness.key->id());
  } else if (check.signed_heads > 0) {
    signatures = fmt::format(", {} of them signed (signatures not checked: give --witness-key)", check.signed_heads);
  }
  return fmt::format("witness: the log extends all {} heads recorded in {} (up to seq {}){}", check.heads, witness.file,
                     check.highest_seq, signatures);
}

// How a log is verified: a data directory holds the customers' keys and the `requests` rows; a
// copy received from a server holds neither.
projections::VerifyOptions verify_options(bool remote) {
  if (remote) return {.digests = false, .read_remembered = {}};
  return {.digests = true, .read_remembered = server::remembered_write};
}

// `changing`: through the server, customers left out of the comparison because they changed
// while the lists were read. `witness`: the recorded heads checked, when verify was given them.
int print_verify(const projections::VerifyReport& report, bool json, std::size_t changing = 0,
                 const std::optional<WitnessCheck>& witness_check = std::nullopt, const std::optional<Witness>& witness = std::nullopt) {
  const bool ok = report.ok && (!witness_check || witness_check->ok);
  if (json) {
    boost::json::object out{{"ok", ok},
                            {"log_ok", report.ok},
                            {"entries", report.entries},
                            {"stubs", report.stubs},
                            {"purges", report.purges},
                            {"customers", report.customers},
                            {"digests_checked", report.digests_checked},
                            {"first_bad_seq", report.first_bad_seq},
                            {"problem", report.problem}};
    if (!report.digests_checked) out["customers_not_compared"] = changing;
    if (witness_check) {
      out["witness"] = boost::json::object{{"ok", witness_check->ok},
                                           {"heads", witness_check->heads},
                                           {"signed", witness_check->signed_heads},
                                           {"signatures_checked", witness_check->signatures_checked},
                                           {"highest_seq", witness_check->highest_seq},
                                           {"bad_line", witness_check->bad_line},
                                           {"problem", witness_check->problem}};
    }
    std::cout << to_line(out) << "\n";
  } else if (report.ok) {
    std::cout << fmt::format(
        "ok: {} entries ({} stubs) chain{} verified, {} purge receipts match their stubs, {} customers in the {}projections "
        "match the log\n",
        report.entries, report.stubs, report.digests_checked ? " and digests" : "", report.purges, report.customers,
        report.digests_checked ? "" : "server's ");
  } else {
    std::cout << fmt::format("FAILED at seq {}: {}\n", report.first_bad_seq, report.problem);
  }
  if (!json && changing > 0) {
    std::cout << fmt::format("{} customers changed while the lists were read and were not compared\n", changing);
  }
  if (!json && !report.digests_checked) std::cout << kDigestsNote << "\n";
  if (!json && witness_check) std::cout << describe_witness(*witness_check, *witness) << "\n";
  return ok ? 0 : 1;
}

int verify_data(const std::string& data, bool json, const std::optional<Witness>& witness) {
  if (isatty(STDERR_FILENO) == 1) std::cerr << "verifying the log, receipts and projections...\r" << std::flush;
  AuditView view(data);
  const auto report = projections::verify_ledger(eventstore::DatabaseReader(view.database()), verify_options(false));
  return print_verify(report, json, 0, check_witness_of(witness, view.database()), witness);
}

std::string describe_customer(const domain::Customer& c) {
  return fmt::format("number {} (id {}, revision {}, {})", c.number, c.id, c.revision, domain::status_name(c.status));
}

// The first difference between a list as the server shows it and as the log says; empty when
// they are equal.
std::string compare_list(const char* name, const std::vector<domain::Customer>& served,
                         const std::vector<domain::Customer>& replayed) {
  for (std::size_t i = 0; i < std::max(served.size(), replayed.size()); ++i) {
    if (i >= served.size()) return fmt::format("the {} list lacks customer {}", name, describe_customer(replayed[i]));
    if (i >= replayed.size()) return fmt::format("the {} list shows customer {}, which the log does not have", name, describe_customer(served[i]));
    const auto& s = served[i];
    const auto& r = replayed[i];
    if (s.number != r.number) {
      return s.number < r.number ? fmt::format("the {} list shows customer {}, which the log does not have", name, describe_customer(s))
                                 : fmt::format("the {} list lacks customer {}", name, describe_customer(r));
    }
    if (s.id != r.id || s.revision != r.revision || s.status != r.status) {
      return fmt::format("the {} list shows {} where the log says {}", name, describe_customer(s), describe_customer(r));
    }
    for (auto field : domain::kAllFields) {
      if (s.fields.get(field) != r.fields.get(field)) {
        return fmt::format("the {} list shows another {} for number {} than the log", name, domain::field_name(field), s.number);
      }
    }
  }
  return {};
}

std::vector<domain::Customer> replayed_list(eventstore::Database& database, projections::CustomerList list) {
  eventstore::DatabaseReader reader(database);
  std::vector<domain::Customer> customers;
  domain::CustomerNumber after = 0;
  for (;;) {
    auto page = projections::list_customers(reader, list, after, projections::kMaxPageSize);
    customers.insert(customers.end(), page.customers.begin(), page.customers.end());
    if (!page.next) return customers;
    after = *page.next;
  }
}

// The customers that entries from `from_seq` on created, changed or purged.
std::set<domain::CustomerId> touched_since(eventstore::Database& database, std::uint64_t from_seq) {
  std::set<domain::CustomerId> touched;
  eventstore::scan_entries(eventstore::DatabaseReader(database), from_seq, [&](const eventstore::Envelope& e) {
    if (e.customer != 0) touched.insert(e.customer);
    if (e.kind == static_cast<std::uint16_t>(domain::EventKind::kPurged) && !e.redacted()) {
      const auto event = projections::decode_payload(e);
      for (auto id : std::get<domain::CustomersPurged>(event).ids) touched.insert(id);
    }
    return true;
  });
  return touched;
}

std::vector<domain::Customer> without(std::vector<domain::Customer> customers, const std::set<domain::CustomerId>& ids) {
  std::erase_if(customers, [&](const domain::Customer& c) { return ids.contains(c.id); });
  return customers;
}

// Through the server: the copy of the log verifies (chain, receipts; no keys for the digests),
// and the server's active and deleted lists equal the lists replayed from that copy. A customer
// that an entry written while the lists were read touched may show either state, so it is left
// out of the comparison; every other customer was the same throughout and must match exactly.
int verify_server(const Source& source, bool json, const std::optional<Witness>& witness) {
  ServerSession session(source.server, source.token, kRoleNeeded);
  LogMirror mirror(source.server, source.token, kRoleNeeded);
  mirror.follow_to(session.next_seq() - 1);
  const auto lists_from = mirror.next_seq();
  const auto active = session.list_all(false);
  const auto deleted = session.list_all(true);
  mirror.follow_to(session.next_seq() - 1);
  mirror.rebuild();
  auto report = projections::verify_ledger(eventstore::DatabaseReader(mirror.database()), verify_options(true));
  std::size_t changing = 0;
  if (report.ok) {
    const auto touched = touched_since(mirror.database(), lists_from);
    auto served_active = without(active, touched), served_deleted = without(deleted, touched);
    auto replayed_active = without(replayed_list(mirror.database(), projections::CustomerList::kActive), touched);
    auto replayed_deleted = without(replayed_list(mirror.database(), projections::CustomerList::kDeleted), touched);
    auto difference = compare_list("active", served_active, replayed_active);
    if (difference.empty()) difference = compare_list("deleted", served_deleted, replayed_deleted);
    if (!difference.empty()) {
      report.ok = false;
      report.first_bad_seq = 0;
      report.problem = "the server's projection differs from its log: " + difference;
    }
    report.customers = replayed_active.size() + replayed_deleted.size();
    changing = touched.size();
  }
  return print_verify(report, json, changing, check_witness_of(witness, mirror.database()), witness);
}

std::optional<Witness> read_witness_file(const std::string& file, const std::string& key_file) {
  if (file.empty()) return std::nullopt;
  std::ifstream in(file);
  if (!in) throw ToolError("cannot read the witness file " + file);
  Witness witness{.file = file, .lines = read_witness(in, file), .key = std::nullopt};
  if (!key_file.empty()) witness.key = WitnessKey::load_public(key_file);
  return witness;
}

// Appends the log's head to `file`, signed with the private key in `key_file` when given.
int record_witness(const Source& source, const std::string& file, const std::string& key_file, bool json) {
  std::optional<WitnessKey> key;
  if (!key_file.empty()) key = WitnessKey::load_private(key_file);
  WitnessHead head;
  if (source.remote()) {
    ServerSession session(source.server, source.token, kRoleNeeded);
    head = head_of(session);
  } else {
    AuditView view(source.data);
    head = head_of(eventstore::DatabaseReader(view.database()));
  }
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  const auto line = witness_line(head, now.count(), key ? &*key : nullptr);
  append_witness(file, line);
  if (json) {
    boost::json::object out{{"seq", head.seq}, {"chain", eventstore::to_hex(head.chain)}, {"line", line}, {"file", file}};
    if (key) out["keyid"] = key->id();
    std::cout << to_line(out) << "\n";
  } else {
    std::cout << line << "\n";
  }
  return 0;
}

// Each edit is exported with its old values: the state of every customer met is kept while the
// export runs (one customer's fields each), read from its stream the first time.
int export_log(eventstore::Database& database, std::uint64_t from, std::uint64_t until) {
  eventstore::DatabaseReader reader(database);
  const auto last = eventstore::load_head(reader).next_seq - 1;
  const auto end = until == 0 ? last : std::min(until, last);
  Progress progress("exporting", end >= from ? end - from + 1 : 0);
  std::uint64_t done = 0;
  std::unordered_map<domain::CustomerId, std::optional<domain::Customer>> states;
  eventstore::scan_entries(reader, std::max<std::uint64_t>(from, 1), [&](const eventstore::Envelope& e) {
    if (e.seq > end) return false;
    if (e.redacted()) {
      std::cout << to_line(envelope_json(e)) << "\n";
    } else if (e.kind == static_cast<std::uint16_t>(domain::EventKind::kPurged)) {
      std::cout << to_line(envelope_json(e)) << "\n";
      const auto purge = projections::decode_payload(e);
      for (auto id : std::get<domain::CustomersPurged>(purge).ids) states.erase(id);
    } else {
      auto state = states.find(e.customer);
      if (state == states.end()) {
        state = states.emplace(e.customer, projections::customer_before(reader, e.customer, e.seq)).first;
      }
      std::cout << to_line(envelope_json(e, state->second ? &*state->second : nullptr)) << "\n";
      state->second = domain::evolve(std::move(state->second), projections::decode_payload(e));
    }
    progress.update(++done);
    return true;
  });
  std::cout.flush();
  return 0;
}

// What is known of a purge's erasure pass: its stored report (none yet: nullopt), and whether
// the erasure is still pending (not verified).
struct ErasureState {
  std::optional<std::string> report;
  bool pending = true;
};
using ErasureLookup = std::function<ErasureState(std::uint64_t purge_seq)>;

ErasureLookup erasure_in(eventstore::Database& database) {
  return [&database](std::uint64_t purge_seq) {
    eventstore::DatabaseReader reader(database);
    const auto pending = eventstore::pending_erasures(reader);
    const auto report = eventstore::erasure_report(reader, purge_seq);
    return ErasureState{report ? std::optional(eventstore::to_json(*report)) : std::nullopt,
                        std::find(pending.begin(), pending.end(), purge_seq) != pending.end()};
  };
}

// The server keeps a purge pending until a pass verifies it, so "done" is the only state that
// is not pending (docs/protocol.md, erasureReport).
ErasureLookup erasure_from(ServerSession& session) {
  return [&session](std::uint64_t purge_seq) {
    auto reply = session.call([&](protocol::Request::Builder r) { r.setErasureReport(purge_seq); });
    if (reply.get().isError()) throw ToolError("erasureReport " + std::to_string(purge_seq) + ": " + describe_error(reply.get().getError()));
    auto erasure = reply.get().getErasure();
    const std::string state = erasure.getState().cStr();
    ErasureState out;
    if (state != "pending") out.report = erasure.getReport().cStr();
    out.pending = state != "done";
    return out;
  };
}

int list_purges(eventstore::Database& database, bool json, const ErasureLookup& erasure_of) {
  eventstore::DatabaseReader reader(database);
  boost::json::array all;
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (e.kind != static_cast<std::uint16_t>(domain::EventKind::kPurged) || e.redacted()) return true;
    const auto event = projections::decode_payload(e);
    const auto& receipt = std::get<domain::CustomersPurged>(event);
    std::uint64_t entries = 0;
    for (auto n : receipt.entries_redacted) entries += n;
    boost::json::object o;
    o["seq"] = e.seq;
    o["at"] = e.at_us;
    o["time"] = format_time(e.at_us);
    o["actor"] = e.actor;
    o["customers"] = receipt.ids.size();
    o["entries_redacted"] = entries;
    boost::json::array numbers;
    for (auto n : receipt.numbers) numbers.emplace_back(n);
    o["numbers_freed"] = std::move(numbers);
    o["merkle_root"] = eventstore::to_hex(receipt.merkle_root);
    const auto erasure = erasure_of(e.seq);
    o["erasure_pending"] = erasure.pending;
    if (erasure.report) {
      o["erasure"] = boost::json::parse(*erasure.report);
    } else {
      o["erasure"] = "pending";
    }
    all.push_back(std::move(o));
    return true;
  });
  if (json) {
    std::cout << to_line(all) << "\n";
    return 0;
  }
  if (all.empty()) std::cout << "no purges\n";
  for (const auto& value : all) {
    const auto& o = value.as_object();
    std::string numbers;
    for (const auto& n : o.at("numbers_freed").as_array()) numbers += (numbers.empty() ? "" : ", ") + boost::json::serialize(n);
    std::string erasure = "pending (no erasure pass has reported yet)";
    if (o.at("erasure").is_object()) {
      const auto& r = o.at("erasure").as_object();
      const auto* verified = r.if_contains("verified");
      const auto* residue = r.if_contains("residue");
      erasure = fmt::format("{} (residue {}){}", verified && verified->is_bool() && verified->as_bool() ? "verified" : "NOT verified",
                            residue ? boost::json::serialize(*residue) : "?",
                            o.at("erasure_pending").as_bool() ? ", still pending" : "");
    }
    std::cout << fmt::format("purge seq {}  {}  by {}\n  customers {}, entries redacted {}, numbers freed: {}\n"
                             "  receipt root {}\n  erasure: {}\n",
                             o.at("seq").as_uint64(), o.at("time").as_string().c_str(), o.at("actor").as_string().c_str(),
                             o.at("customers").to_number<std::uint64_t>(), o.at("entries_redacted").as_uint64(),
                             numbers.empty() ? "none" : numbers, o.at("merkle_root").as_string().c_str(), erasure);
  }
  return 0;
}

int prove(eventstore::Database& database, const std::string& file, std::optional<std::uint64_t> purge_seq, bool json,
          const projections::VerifyOptions& verify) {
  std::ifstream in(file);
  if (!in) throw ToolError("cannot read " + file);
  const auto exported = read_export(in);
  const auto proof = prove_purge(eventstore::DatabaseReader(database), exported, purge_seq, verify);
  if (json) {
    boost::json::array findings, differences;
    for (const auto& f : proof.findings) findings.emplace_back(f);
    for (const auto& d : proof.differences) differences.emplace_back(d);
    std::cout << to_line(boost::json::object{{"ok", proof.ok}, {"findings", findings}, {"differences", differences}}) << "\n";
  } else {
    for (const auto& f : proof.findings) std::cout << "ok: " << f << "\n";
    for (const auto& d : proof.differences) std::cout << "DIFFERENCE: " << d << "\n";
    std::cout << (proof.ok ? "proven\n" : "NOT proven\n");
  }
  return proof.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledger-audit: verify a Customer Ledger and read its history, without changing it"};
  app.require_subcommand(1);
  Source source;
  if (const char* env = std::getenv("LEDGER_TOKEN")) source.token = env;
  bool json = false;
  auto* data_opt = app.add_option("--data", source.data, "data directory (opened read-only, also while ledgerd runs)");
  app.add_option("--server", source.server.server, "HOST:PORT of ledgerd: read the log through a subscription")->excludes(data_opt);
  app.add_option("--token", source.token, "an auditor's or admin's token for --server (LEDGER_TOKEN)");
  app.add_flag("--tls", source.server.tls, "connect to --server with TLS");
  app.add_option("--tls-ca", source.server.tls_ca, "CA certificate (PEM) to verify the server; implies --tls");
  app.add_flag("--json", json, "data as JSON");

  auto* verify_cmd = app.add_subcommand("verify", "check the chain, digests, purge receipts and projections; exit 1 on the first problem");
  std::string witness_file, witness_key;
  auto* witness_opt = verify_cmd->add_option("--witness", witness_file,
                                             "also check that the log extends every head recorded in this file by `witness`");
  verify_cmd->add_option("--witness-key", witness_key, "Ed25519 public key (PEM): every witness line must be signed by it")
      ->needs(witness_opt);

  auto* witness_cmd = app.add_subcommand("witness", "append the log's head (seq, chain, time) to a file kept away from the ledger");
  std::string witness_out, sign_key;
  witness_cmd->add_option("--out", witness_out, "the witness file: created when missing, only ever appended to")->required();
  witness_cmd->add_option("--sign-key", sign_key, "Ed25519 private key (PEM) to sign the line with");

  auto* history_cmd = app.add_subcommand("history", "every event of one customer: who, when, fields old -> new");
  std::optional<std::uint64_t> number, id;
  history_cmd->add_option("number", number, "customer number (its current holder)");
  history_cmd->add_option("--id", id, "internal customer id (purged customers included)");

  auto* replay_cmd = app.add_subcommand("replay", "the active and deleted lists as they were at a point of the log");
  std::optional<std::uint64_t> until_seq;
  std::string at_time;
  auto* until_opt = replay_cmd->add_option("--until", until_seq, "after this log seq");
  replay_cmd->add_option("--at", at_time, "at this time (2024-05-01T12:00:00Z, a date, or µs since the epoch)")->excludes(until_opt);

  auto* export_cmd = app.add_subcommand("export", "the log as JSON lines, stubs as stubs");
  std::uint64_t from = 1, until = 0;
  export_cmd->add_option("--from", from, "first seq");
  export_cmd->add_option("--until", until, "last seq (default: the last entry)");

  auto* purges_cmd = app.add_subcommand("purges", "every purge with its receipt and erasure report");

  auto* prove_cmd = app.add_subcommand("prove-purge", "prove from an export taken before a purge what the purge removed");
  std::string export_file;
  std::optional<std::uint64_t> purge_seq;
  prove_cmd->add_option("export", export_file, "file written by `ledger-audit export` before the purge")->required();
  prove_cmd->add_option("--purge", purge_seq, "the purge's seq (default: every purge after the export)");

  CLI11_PARSE(app, argc, argv);
  tools::log_to_stderr("ledger-audit");

  try {
    if (source.data.empty() && !source.remote()) throw ToolError("give --data DIR, or --server HOST:PORT --token T");
    if (source.remote() && source.token.empty()) throw ToolError("--server needs --token (or LEDGER_TOKEN)");
    if (!source.remote() && (source.server.tls || !source.server.tls_ca.empty())) throw ToolError("--tls and --tls-ca go with --server");
    if (!source.server.tls_ca.empty()) source.server.tls = true;
    if (verify_cmd->parsed()) {
      const auto witness = read_witness_file(witness_file, witness_key);
      return source.remote() ? verify_server(source, json, witness) : verify_data(source.data, json, witness);
    }
    if (witness_cmd->parsed()) return record_witness(source, witness_out, sign_key, json);
    std::unique_ptr<AuditView> view;
    std::unique_ptr<ServerSession> session;
    std::unique_ptr<LogMirror> mirror;
    eventstore::Database* opened = nullptr;
    if (source.remote()) {
      session = std::make_unique<ServerSession>(source.server, source.token, kRoleNeeded);
      mirror = std::make_unique<LogMirror>(source.server, source.token, kRoleNeeded);
      mirror->follow_to(session->next_seq() - 1);
      // History by number reads the projections and prove-purge verifies them; the other
      // commands read only the log.
      if ((history_cmd->parsed() && number) || prove_cmd->parsed()) mirror->rebuild();
      opened = &mirror->database();
    } else {
      view = std::make_unique<AuditView>(source.data);
      opened = &view->database();
    }
    auto& database = *opened;
    eventstore::DatabaseReader reader(database);
    if (history_cmd->parsed()) {
      if (number.has_value() == id.has_value()) throw ToolError("history: give a customer number or --id, not both");
      const auto steps = number ? history_by_number(reader, *number) : history_by_id(reader, *id);
      if (steps.empty()) {
        std::cerr << (number ? fmt::format("no customer holds number {}\n", *number) : fmt::format("no entries for customer id {}\n", *id));
        return 1;
      }
      std::cout << (json ? to_line(history_json(steps)) + "\n" : history_text(steps));
      return 0;
    }
    if (replay_cmd->parsed()) {
      LedgerAsOf ledger;
      if (until_seq) {
        ledger = ledger_as_of_seq(reader, *until_seq);
      } else if (!at_time.empty()) {
        auto at = parse_time(at_time);
        if (!at) throw ToolError("--at: not a time: " + at_time);
        ledger = ledger_as_of_time(reader, *at);
      } else {
        throw ToolError("replay: give --until SEQ or --at TIME");
      }
      std::cout << (json ? to_line(as_of_json(ledger)) + "\n" : as_of_text(ledger));
      return 0;
    }
    if (export_cmd->parsed()) return export_log(database, from, until);
    if (purges_cmd->parsed()) return list_purges(database, json, session ? erasure_from(*session) : erasure_in(database));
    if (prove_cmd->parsed()) {
      return prove(database, export_file, purge_seq, json, verify_options(source.remote()));
    }
  } catch (const AccessError& error) {
    std::cerr << "ledger-audit: " << error.what() << "\n";
    return kNoAccess;
  } catch (const ToolError& error) {
    std::cerr << "ledger-audit: " << error.what() << "\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "ledger-audit: " << error.what() << "\n";
    return 2;
  }
  return 2;
}
