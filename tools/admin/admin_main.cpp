// ledger-admin: housekeeping of a data directory while ledgerd is stopped: checks, rebuild,
// stats, checkpoints, CSV import, list export, the purge and compaction. Opens the directory
// read-only for check, stats and export, read-write for the rest; when ledgerd holds it, says
// so and stops. With --server, the online subset
// (purge, stats, import, export) goes through ledgerd's protocol (tools/admin/online_admin.h).
// Exit status: 0 done, 1 a check failed or rows were refused, 2 errors and refusals to start,
// 3 the server cannot be reached or refuses the token or the role.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rocksdb/options.h>
#include <unistd.h>

#include "domain/commands.h"
#include "eventstore/event_log.h"
#include "eventstore/pending_erasure.h"
#include "projections/queries.h"
#include "projections/rebuild.h"
#include "projections/verify.h"
#include "server/command_service.h"
#include "server/open_ledger.h"
#include "server/outcome.h"
#include "tools/admin/checkpoints.h"
#include "tools/admin/customer_import.h"
#include "tools/admin/purge_confirmation.h"
#include "tools/admin/list_export.h"
#include "tools/admin/online_admin.h"
#include "tools/common/data_dir.h"
#include "tools/common/log_json.h"
#include "tools/common/progress.h"
#include "tools/common/server_session.h"
#include "tools/common/stderr_log.h"

using namespace ledger;
using namespace ledger::tools;

namespace {

constexpr auto kErasureWait = std::chrono::minutes(30);
constexpr int kNoAccess = 3;

std::uint64_t count_rows(const eventstore::Reader& reader, eventstore::Family family) {
  std::uint64_t n = 0;
  auto it = reader.iterate(family);
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  eventstore::Database::check(it->status(), "counting rows");
  return n;
}

// An admin's directory holds every family, `requests` included.
const projections::VerifyOptions kWholeLedger{.read_remembered = server::remembered_write};

int check(eventstore::Database& database, bool json) {
  const auto report = projections::verify_ledger(eventstore::DatabaseReader(database), kWholeLedger);
  const auto files = database.db().VerifyChecksum();
  if (json) {
    std::cout << to_line(boost::json::object{{"ok", report.ok && files.ok()},
                                             {"ledger_ok", report.ok},
                                             {"first_bad_seq", report.first_bad_seq},
                                             {"problem", report.problem},
                                             {"entries", report.entries},
                                             {"files_ok", files.ok()},
                                             {"files_problem", files.ok() ? "" : files.ToString()}})
              << "\n";
  } else {
    if (report.ok) {
      std::cout << fmt::format(
          "ledger ok: {} entries, {} stubs, {} purge receipts, {} customers, the stream index and {} request "
          "outcomes match the log\n",
          report.entries, report.stubs, report.purges, report.customers, report.requests);
    } else {
      std::cout << fmt::format("ledger FAILED at seq {}: {}\n", report.first_bad_seq, report.problem);
    }
    std::cout << (files.ok() ? std::string("files ok: every SST block checksum verified\n")
                             : "files FAILED: " + files.ToString() + "\n");
  }
  return report.ok && files.ok() ? 0 : 1;
}

int rebuild(eventstore::Database& database) {
  eventstore::DatabaseReader reader(database);
  const auto before = projections::verify_ledger(reader, kWholeLedger);
  std::cout << (before.ok ? std::string("before: the stored projections already matched the log\n")
                          : "before: " + before.problem + "\n");
  Progress progress("rebuilding", 0);
  progress.update(0);
  const auto entries = projections::rebuild_projections(database);
  // The stream index is the log's own, not a projection, but a purge finds a customer's entries
  // through it and refuses while it is incomplete: this is the repair its message names.
  const auto streams = eventstore::repair_stream_index(database);
  if (streams.rows_added != 0 || streams.rows_removed != 0) {
    std::cout << fmt::format("stream index repaired from the log: {} rows added, {} removed\n", streams.rows_added,
                             streams.rows_removed);
  }
  const auto after = projections::verify_ledger(reader, kWholeLedger);
  if (!after.ok) {
    std::cout << fmt::format("rebuilt from {} entries, but the result does not verify at seq {}: {}\n", entries,
                             after.first_bad_seq, after.problem);
    return 1;
  }
  std::cout << fmt::format("rebuilt from {} entries; the stored projections now equal a fresh replay ({} customers)\n",
                           entries, after.customers);
  return 0;
}

int stats(eventstore::Database& database, bool json) {
  eventstore::DatabaseReader reader(database);
  const auto head = eventstore::load_head(reader);
  std::uint64_t stubs = 0, purges = 0, last_purge = 0;
  std::int64_t last_purge_at = 0;
  Progress progress("scanning the log", head.next_seq - 1);
  eventstore::scan_entries(reader, 1, [&](const eventstore::Envelope& e) {
    if (e.redacted()) ++stubs;
    if (e.kind == static_cast<std::uint16_t>(domain::EventKind::kPurged)) {
      ++purges;
      last_purge = e.seq;
      last_purge_at = e.at_us;
    }
    progress.update(e.seq);
    return true;
  });
  boost::json::object families;
  for (std::size_t i = 0; i < eventstore::kFamilyCount; ++i) {
    const auto family = static_cast<eventstore::Family>(i);
    std::uint64_t sst = 0, mem = 0;
    database.db().GetIntProperty(database.family(family), "rocksdb.total-sst-files-size", &sst);
    database.db().GetIntProperty(database.family(family), "rocksdb.cur-size-all-mem-tables", &mem);
    families[eventstore::family_name(family)] = boost::json::object{{"sst_bytes", sst}, {"memtable_bytes", mem}};
  }
  boost::json::array pending;
  for (auto seq : eventstore::pending_erasures(reader)) pending.emplace_back(seq);
  boost::json::array checkpoints;
  for (const auto& c : list_checkpoints(reader)) {
    checkpoints.push_back(boost::json::object{{"path", c.path.string()},
                                              {"taken_at", format_time(c.taken_at_us)},
                                              {"log_next_seq", c.next_seq},
                                              {"exists", std::filesystem::exists(c.path)},
                                              {"holds_purged_data", c.holds_purged_data}});
  }
  boost::json::array key_copies;
  for (const auto& k : list_key_store_copies(reader)) {
    key_copies.push_back(boost::json::object{{"path", k.path.string()},
                                             {"taken_at", format_time(k.taken_at_us)},
                                             {"exists", k.exists},
                                             {"purged_keys", k.purged_keys}});
  }
  boost::json::object out{{"active", count_rows(reader, eventstore::Family::kActive)},
                          {"deleted", count_rows(reader, eventstore::Family::kDeleted)},
                          {"events", head.next_seq - 1},
                          {"stubs", stubs},
                          {"purges", purges},
                          {"last_purge_seq", last_purge},
                          {"last_purge_time", last_purge ? format_time(last_purge_at) : ""},
                          {"pending_erasure", pending},
                          {"families", families},
                          {"checkpoints", checkpoints},
                          {"key_store_copies", key_copies}};
  if (json) {
    std::cout << to_line(out) << "\n";
    return 0;
  }
  std::cout << fmt::format("customers: {} active, {} deleted\n", out["active"].as_uint64(), out["deleted"].as_uint64());
  std::cout << fmt::format("log: {} events, {} redacted stubs, {} purges\n", head.next_seq - 1, stubs, purges);
  std::cout << (last_purge ? fmt::format("last purge: seq {} at {}\n", last_purge, format_time(last_purge_at))
                           : std::string("last purge: none\n"));
  std::string pending_text;
  for (const auto& p : pending) pending_text += (pending_text.empty() ? "" : ", ") + boost::json::serialize(p);
  std::cout << "pending erasure: " << (pending_text.empty() ? "none" : "purges " + pending_text + " (run `compact`)") << "\n";
  std::cout << "size per column family (SST + memtable bytes):\n";
  for (const auto& [name, sizes] : families) {
    std::cout << fmt::format("  {:<13} {:>12} + {}\n", std::string(name), sizes.as_object().at("sst_bytes").as_uint64(),
                             sizes.as_object().at("memtable_bytes").as_uint64());
  }
  std::cout << "checkpoints:" << (checkpoints.empty() ? " none" : "") << "\n";
  for (const auto& c : checkpoints) {
    const auto& o = c.as_object();
    std::cout << fmt::format("  {}  taken {}  up to seq {}{}{}\n", o.at("path").as_string().c_str(),
                             o.at("taken_at").as_string().c_str(), o.at("log_next_seq").as_uint64() - 1,
                             o.at("exists").as_bool() ? "" : "  (missing)",
                             o.at("holds_purged_data").as_bool() ? "  HOLDS PURGED DATA (sealed)" : "");
  }
  std::cout << "key store copies:" << (key_copies.empty() ? " none" : "") << "\n";
  for (const auto& k : key_copies) {
    const auto& o = k.as_object();
    const auto purged = o.at("purged_keys").as_uint64();
    std::cout << fmt::format("  {}  taken {}{}{}\n", o.at("path").as_string().c_str(), o.at("taken_at").as_string().c_str(),
                             o.at("exists").as_bool() ? "" : "  (missing)",
                             purged ? fmt::format("  HOLDS KEYS OF {} PURGED CUSTOMERS", purged) : "");
  }
  return 0;
}

void print_purged_checkpoints(const eventstore::Reader& reader) {
  for (const auto& c : list_checkpoints(reader)) {
    if (c.holds_purged_data && std::filesystem::exists(c.path)) {
      std::cout << "checkpoint " << c.path.string()
                << " still holds purged customers' data; remove it with `ledger-admin checkpoint prune --purged`\n";
    }
  }
  for (const auto& k : list_key_store_copies(reader)) {
    if (k.purged_keys == 0) continue;
    std::cout << "key store copy " << k.path.string() << " still holds the keys of " << k.purged_keys
              << " purged customers; destroy them with `ledger-admin checkpoint prune --purged`\n";
  }
}

void print_erasure(server::CommandService& service, std::uint64_t purge_seq) {
  std::cout << "waiting for the erasure compaction pass of purge " << purge_seq << "...\n";
  if (auto report = service.wait_for_erasure(purge_seq, kErasureWait)) {
    std::cout << "erasure report: " << eventstore::to_json(*report) << "\n";
  } else {
    std::cout << "the erasure pass has not reported yet; it stays pending and finishes at the next start\n";
  }
}

// ledger-admin never searches: its command service keeps no search index (ledgerd loads one
// from the customers it finds when it starts).
server::CommandServiceOptions tool_service_options() {
  server::CommandServiceOptions options;
  options.crash_at = server::crash_point_from_environment();
  options.search_index = false;
  return options;
}

int purge(eventstore::Database& database, bool yes, std::optional<std::uint64_t> expect_count, const std::string& actor) {
  const auto deleted = count_rows(eventstore::DatabaseReader(database), eventstore::Family::kDeleted);
  if (!yes && !confirm_purge(deleted)) return 2;
  auto opened = server::open_ledger(database, tool_service_options());
  auto& service = *opened;
  const auto outcome = service.execute(domain::PurgeDeletedCustomers{true, expect_count.value_or(deleted)},
                                       server::RequestContext{actor, ""});
  if (auto* refusal = std::get_if<domain::Refusal>(&outcome)) throw ToolError("purge refused: " + refusal->message);
  if (auto* failure = std::get_if<server::Failure>(&outcome)) throw ToolError("purge failed: " + failure->message);
  const auto& accepted = std::get<server::Accepted>(outcome);
  const auto purge_seq = accepted.seqs.back();
  std::cout << fmt::format("purged {} customers at seq {}; numbers freed: {}\n", accepted.purged, purge_seq,
                           fmt::join(accepted.numbers, ", "));
  print_erasure(service, purge_seq);
  print_purged_checkpoints(eventstore::DatabaseReader(database));
  return 0;
}

int compact(eventstore::Database& database) {
  const auto pending = eventstore::pending_erasures(eventstore::DatabaseReader(database));
  if (!pending.empty()) {
    // The command service's erasure worker resumes every pending erasure when it starts.
    auto opened = server::open_ledger(database, tool_service_options());
    auto& service = *opened;
    for (auto seq : pending) print_erasure(service, seq);
    return 0;
  }
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (std::size_t i = 0; i < eventstore::kFamilyCount; ++i) {
    const auto family = static_cast<eventstore::Family>(i);
    std::cout << "compacting " << eventstore::family_name(family) << "\n";
    eventstore::Database::check(database.db().Flush(rocksdb::FlushOptions(), database.family(family)), "flushing");
    eventstore::Database::check(database.db().CompactRange(options, database.family(family), nullptr, nullptr), "compacting");
  }
  std::cout << "no erasure pending; compacted every column family\n";
  return 0;
}

int export_list(eventstore::Database& database, bool deleted, const std::string& format) {
  eventstore::DatabaseReader reader(database);
  const auto list = deleted ? projections::CustomerList::kDeleted : projections::CustomerList::kActive;
  write_list_header(std::cout, format);
  domain::CustomerNumber after = 0;
  for (;;) {
    const auto page = projections::list_customers(reader, list, after, projections::kMaxPageSize);
    for (const auto& c : page.customers) write_list_row(std::cout, c, format);
    if (!page.next) break;
    after = *page.next;
  }
  return 0;
}

int import(eventstore::Database& database, const std::string& file, bool skip_bad, const std::string& actor, std::size_t batch) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ToolError("cannot read " + file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto opened = server::open_ledger(database, tool_service_options());
  auto& service = *opened;
  auto plan = plan_import(eventstore::DatabaseReader(database), text, actor);
  for (const auto& p : plan.problems) {
    std::cerr << (p.line ? fmt::format("{}:{}: {}\n", file, p.line, p.reason) : fmt::format("{}: {}\n", file, p.reason));
  }
  const bool whole_file_bad = !plan.problems.empty() && plan.problems.front().line <= 1;
  if (whole_file_bad || (!plan.problems.empty() && !skip_bad)) {
    std::cout << fmt::format("imported nothing: {} bad rows (fix them, or pass --skip-bad to import the {} good ones)\n",
                             plan.problems.size(), plan.rows.size());
    return 1;
  }
  Progress progress("importing", plan.rows.size());
  const auto result =
      run_import(service, std::move(plan.rows), actor, batch, [&](std::uint64_t done) { progress.update(done); });
  for (const auto& r : result.refused) std::cerr << fmt::format("{}:{}: {}\n", file, r.line, r.reason);
  std::cout << fmt::format("imported {} customers, {} already imported by an earlier run, {} refused, {} bad rows skipped\n",
                           result.created, result.already_imported, result.refused.size(), plan.problems.size());
  return result.refused.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledger-admin: housekeeping of a Customer Ledger (--data with ledgerd stopped, or --server)"};
  app.require_subcommand(1);
  std::string data, token;
  ClientOptions server{.server = "", .tls = false, .tls_ca = ""};
  if (const char* env = std::getenv("LEDGER_TOKEN")) token = env;
  bool json = false;
  std::string actor = "ledger-admin";
  auto* data_opt = app.add_option("--data", data, "data directory (ledgerd stopped)");
  app.add_option("--server", server.server, "HOST:PORT of a running ledgerd: purge, stats, import, export only")->excludes(data_opt);
  app.add_option("--token", token, "token for --server (LEDGER_TOKEN)");
  app.add_flag("--tls", server.tls, "connect to --server with TLS");
  app.add_option("--tls-ca", server.tls_ca, "CA certificate (PEM) to verify the server; implies --tls");
  app.add_flag("--json", json, "data as JSON (check, stats)");
  auto* actor_opt = app.add_option("--actor", actor, "who the log records for purge and import (--data)")->capture_default_str();

  auto* check_cmd = app.add_subcommand("check", "verify the ledger and RocksDB's block checksums; exit 1 on a problem");
  auto* rebuild_cmd = app.add_subcommand("rebuild", "rebuild every projection from the log");
  auto* stats_cmd = app.add_subcommand("stats", "counts, sizes, last purge, pending erasure, checkpoints");
  auto* compact_cmd = app.add_subcommand("compact", "finish pending erasure passes, or compact every column family fully");

  auto* checkpoint_cmd = app.add_subcommand("checkpoint", "a consistent copy of the data directory (RocksDB Checkpoint)");
  std::string checkpoint_dir;
  checkpoint_cmd->add_option("dir", checkpoint_dir, "where to create it (must not exist)");
  std::string key_copy_dir;
  checkpoint_cmd->add_option("--keys", key_copy_dir,
                             "also copy the key store here, apart from the data (must not exist; the checkpoint holds no keys)");
  auto* prune_cmd = checkpoint_cmd->add_subcommand("prune", "remove recorded checkpoints");
  bool prune_purged = false;
  prune_cmd->add_flag("--purged", prune_purged,
                      "those that still hold purged customers' data; destroy purged customers' keys in key store copies")
      ->required();

  auto* import_cmd = app.add_subcommand("import", "create customers from CSV: number,name,company,email,phone,address,notes");
  std::string csv_file;
  bool skip_bad = false;
  // Enough rows queued ahead of the writer to fill several of its groups (1,024 commands each).
  std::size_t batch = 4096;
  import_cmd->add_option("file", csv_file, "the CSV file")->required();
  import_cmd->add_flag("--skip-bad", skip_bad, "import the good rows even when some are bad");
  import_cmd->add_option("--batch", batch, "rows submitted ahead of their answers")->check(CLI::Range(1, 100000))->capture_default_str();

  auto* export_cmd = app.add_subcommand("export", "the active or deleted list as CSV or JSON lines");
  bool active = false, deleted = false;
  std::string format = "csv";
  auto* active_opt = export_cmd->add_flag("--active", active, "active customers");
  export_cmd->add_flag("--deleted", deleted, "deleted customers")->excludes(active_opt);
  export_cmd->add_option("--format", format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}))->capture_default_str();

  auto* purge_cmd = app.add_subcommand("purge", "Cleanup old customers: erase every deleted customer; cannot be undone");
  bool yes = false;
  std::optional<std::uint64_t> expect_count;
  purge_cmd->add_flag("--yes", yes, "do not ask (needed without a terminal)");
  purge_cmd->add_option("--expect-count", expect_count, "refuse unless exactly this many customers are deleted");

  CLI11_PARSE(app, argc, argv);
  tools::log_to_stderr("ledger-admin");

  try {
    if (export_cmd->parsed() && !active && !deleted) throw ToolError("export: give --active or --deleted");
    if (checkpoint_cmd->parsed() && !prune_cmd->parsed() && checkpoint_dir.empty()) {
      throw ToolError("checkpoint: give a directory, or `prune --purged`");
    }
    if (data.empty() && server.server.empty()) throw ToolError("give --data DIR (ledgerd stopped), or --server HOST:PORT --token T");
    if (server.server.empty() && (server.tls || !server.tls_ca.empty())) throw ToolError("--tls and --tls-ca go with --server");
    if (!server.tls_ca.empty()) server.tls = true;
    if (!server.server.empty()) {
      for (auto* offline : {check_cmd, rebuild_cmd, compact_cmd, checkpoint_cmd}) {
        if (offline->parsed()) {
          throw ToolError(offline->get_name() + " needs the data files: run it with --data DIR while ledgerd is stopped; "
                          "--server offers purge, stats, import and export");
        }
      }
      if (token.empty()) throw ToolError("--server needs --token (or LEDGER_TOKEN)");
      if (actor_opt->count() > 0) {
        throw ToolError("--actor applies to --data; through --server the log records the token's principal");
      }
      if (purge_cmd->parsed() && !yes && isatty(STDIN_FILENO) != 1) {
        throw ToolError("purge cannot be undone; without a terminal to confirm on, pass --yes");
      }
      const char* needs = purge_cmd->parsed()    ? kPurgeNeeds
                          : import_cmd->parsed() ? kImportNeeds
                          : stats_cmd->parsed()  ? kStatsNeeds
                                                 : kExportNeeds;
      ServerSession session(server, token, needs);
      if (purge_cmd->parsed()) return online_purge(session, yes, expect_count);
      if (stats_cmd->parsed()) return online_stats(session, json);
      if (import_cmd->parsed()) return online_import(session, csv_file, skip_bad, batch);
      if (export_cmd->parsed()) return online_export(session, deleted, format);
      return 2;
    }
    // The commands that only read open read-only: a read-write open would flush the WAL into
    // new SST files and leave a new, empty WAL behind.
    const bool reads_only = check_cmd->parsed() || stats_cmd->parsed() || export_cmd->parsed();
    auto database = reads_only ? open_for_reading(data) : open_for_admin(data, import_cmd->parsed());
    if (check_cmd->parsed()) return check(*database, json);
    if (rebuild_cmd->parsed()) return rebuild(*database);
    if (stats_cmd->parsed()) return stats(*database, json);
    if (compact_cmd->parsed()) return compact(*database);
    if (prune_cmd->parsed()) {
      std::size_t removed = 0;
      for (const auto& c : list_checkpoints(eventstore::DatabaseReader(*database))) {
        if (!c.holds_purged_data) continue;
        remove_checkpoint(*database, c);
        std::cout << "removed checkpoint " << c.path.string() << "\n";
        ++removed;
      }
      std::cout << fmt::format("{} checkpoints held purged data and were removed\n", removed);
      const eventstore::DatabaseReader reader(*database);
      for (const auto& copy : list_key_store_copies(reader)) {
        if (copy.purged_keys == 0) continue;
        const auto shred = destroy_purged_keys(reader, copy);
        std::cout << fmt::format("key store copy {}: keys of {} purged customers destroyed, {}\n", copy.path.string(),
                                 shred.keys_deleted,
                                 shred.verified() ? "no byte of them left in its files"
                                                  : "KEY BYTES LEFT in " + fmt::format("{}", fmt::join(shred.residue_files, ", ")));
        if (!shred.verified()) return 1;
      }
      return 0;
    }
    if (checkpoint_cmd->parsed()) {
      if (std::filesystem::exists(checkpoint_dir)) throw ToolError(checkpoint_dir + " already exists");
      if (!key_copy_dir.empty()) {
        if (std::filesystem::exists(key_copy_dir)) throw ToolError(key_copy_dir + " already exists");
        check_key_store_copy_path(*database, key_copy_dir);
      }
      const auto record = create_checkpoint(*database, checkpoint_dir);
      std::cout << fmt::format("checkpoint {} holds the log up to seq {} (sealed values; no keys)\n", record.path.string(),
                               record.next_seq - 1);
      if (!key_copy_dir.empty()) {
        const auto copy = create_key_store_copy(*database, key_copy_dir);
        std::cout << fmt::format("key store copied to {}: keep it apart from the data copies\n", copy.path.string());
      }
      return 0;
    }
    if (import_cmd->parsed()) return import(*database, csv_file, skip_bad, actor, batch);
    if (export_cmd->parsed()) return export_list(*database, deleted, format);
    if (purge_cmd->parsed()) return purge(*database, yes, expect_count, actor);
  } catch (const AccessError& error) {
    std::cerr << "ledger-admin: " << error.what() << "\n";
    return kNoAccess;
  } catch (const std::exception& error) {
    std::cerr << "ledger-admin: " << error.what() << "\n";
    return 2;
  }
  return 2;
}
