#include "tools/bench/bench_table.h"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace ledger::bench {
namespace {

double num(const boost::json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_number() ? v->to_number<double>() : 0;
}

std::string text(const boost::json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string count(double value) {
  auto digits = fmt::format("{:.0f}", value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

std::string row(const boost::json::object& o) {
  const auto mode = text(o, "mode");
  const auto rss = num(o, "rss_mb") > 0 ? fmt::format("{:.0f}", num(o, "rss_mb")) : "–";
  if (mode == "write") {
    // Results from before the event-log limit existed, or runs without --raw, have none.
    const bool limit = num(o, "limit_per_s") > 0;
    const auto limit_rate = limit ? fmt::format("{} puts/s (p50 {} µs)", count(num(o, "limit_per_s")),
                                                count(num(o, "limit_p50_us")))
                                  : std::string("–");
    const auto limit_ratio = limit ? fmt::format("{:.3g}", num(o, "limit_ratio")) : std::string("–");
    // Likewise the networked minimal log.
    const bool netlog = num(o, "netlog_per_s") > 0;
    const auto netlog_rate = netlog ? fmt::format("{} cmd/s (p50 {} µs)", count(num(o, "netlog_per_s")),
                                                  count(num(o, "netlog_p50_us")))
                                    : std::string("–");
    const auto netlog_ratio = netlog ? fmt::format("{:.3g}", num(o, "netlog_ratio")) : std::string("–");
    return fmt::format("| write {} conn × {} in flight, {} | {} cmd/s | {} cmd/s ({} writer threads) | {:.3g} | {} | {} | "
                       "{} | {} | {} / {} / {} | {} | "
                       "ceiling {} cmd/s; raw p50/p99 {} / {} µs; {:.0f} B/command |",
                       count(num(o, "connections")), count(num(o, "pipeline")), text(o, "mix"),
                       count(num(o, "commands_per_s")), count(num(o, "raw_per_s")), count(num(o, "raw_threads")),
                       num(o, "ratio"), limit_rate, limit_ratio, netlog_rate, netlog_ratio, count(num(o, "p50_us")), count(num(o, "p99_us")), count(num(o, "p999_us")), rss,
                       count(num(o, "ceiling_per_s")), count(num(o, "raw_p50_us")), count(num(o, "raw_p99_us")),
                       num(o, "bytes_per_command"));
  }
  if (mode == "replay") {
    return fmt::format("| replay {} events | {} events/s (rebuild) | {} events/s (scan) | {:.3g} | – | – | – | – | – | {} (in process) | "
                       "rebuild {:.2f} s, scan {:.2f} s; the fold alone (no writes) {} events/s, ratio {:.3g}; "
                       "scan opening every payload {:.2f} s (rebuild {:.3g} of it) |",
                       count(num(o, "events")), count(num(o, "events_per_s")), count(num(o, "raw_per_s")),
                       num(o, "ratio"), rss, num(o, "rebuild_seconds"), num(o, "raw_seconds"),
                       count(num(o, "fold_events_per_s")), num(o, "fold_ratio"), num(o, "open_scan_seconds"),
                       num(o, "rebuild_open_ratio"));
  }
  if (mode == "purge") {
    return fmt::format("| purge {} customers, {} events, {} purged | {:.2f} s (pass) | {:.2f} s (flush + CompactRange) | "
                       "{:.2f} (pass {:.2f} × bare) | – | – | – | – | – | {} | "
                       "command to unreadable {:.3f} s, to absent {:.2f} s; "
                       "residue {}; {} MB reclaimed of {} MB; compaction {} ms, verify {} ms, probe filter {} ms (beside "
                       "the compaction) |",
                       count(num(o, "customers")), count(num(o, "events")), count(num(o, "purged")), num(o, "seconds"),
                       num(o, "raw_seconds"), num(o, "ratio"), num(o, "pass_over_bare"), rss, num(o, "unreadable_seconds"),
                       num(o, "absent_seconds"), count(num(o, "residue")),
                       fmt::format("{:.1f}", num(o, "bytes_reclaimed") / 1e6),
                       fmt::format("{:.1f}", num(o, "bytes_before") / 1e6), count(num(o, "compaction_ms")),
                       count(num(o, "verify_ms")), count(num(o, "probe_filter_ms")));
  }
  if (mode == "open") {
    return fmt::format("| open {} customers | {:.3f} s (ledgerd to listening) | {:.3f} s (RocksDB open) | {:.2f} | – | – | – | – | – | {} | "
                       "RSS after {} random reads |",
                       count(num(o, "customers")), num(o, "seconds"), num(o, "raw_seconds"), num(o, "ratio"), rss,
                       count(num(o, "reads")));
  }
  if (mode == "search") {
    const auto resident = num(o, "rss_mb") > 0 ? fmt::format("{:.0f} (resident after)", num(o, "rss_mb")) : "–";
    return fmt::format("| search {} customers, {} fragments | {} µs per first page (p50) | – | – | – | – | – | – | {} / {} / – | {} | "
                       "no match {} µs (p50); {} of the fragments matched, {} filled the page; ledgerd open {} ms |",
                       count(num(o, "customers")), count(num(o, "searches")), count(num(o, "p50_us")),
                       count(num(o, "p50_us")), count(num(o, "p99_us")), resident, count(num(o, "nomatch_us")),
                       count(num(o, "matched")), count(num(o, "full_pages")), count(num(o, "open_ms")));
  }
  if (mode == "audit") {
    const auto per_s = [&](const char* ms) { return num(o, ms) > 0 ? count(num(o, "events") / num(o, ms) * 1000) : "–"; };
    return fmt::format("| audit {} events | fold {} ms, verify {} ms | {} ms (scan) | fold {:.3g}, verify {:.3g} | – | – | – | – | – | "
                       "{} (in process) | as-of fold (`replay --at`) {} events/s, verify {} events/s, scan {} events/s; "
                       "scan opening every payload {} ms (fold {:.3g} of it) |",
                       count(num(o, "events")), count(num(o, "fold_ms")), count(num(o, "verify_ms")),
                       count(num(o, "scan_ms")), num(o, "fold_ratio"), num(o, "verify_ratio"), rss, per_s("fold_ms"),
                       per_s("verify_ms"), per_s("scan_ms"), count(num(o, "open_scan_ms")), num(o, "fold_open_ratio"));
  }
  if (mode == "import") {
    return fmt::format("| import {} customers (`ledger-admin --data`) | {} customers/s ({:.2f} s) | – | – | {} rows/s (one 300-byte "
                       "value per row, synced groups of 1,024) | {:.3g} | – | – | – | – | {:.1f} µs of CPU per row; file {:.1f} MB |",
                       count(num(o, "customers")), count(num(o, "per_s")), num(o, "seconds"), count(num(o, "limit_per_s")),
                       num(o, "limit_ratio"), num(o, "cpu_us_per_row"), num(o, "file_mb"));
  }
  return "| " + mode + " | | | | | | | | | | |";
}

}  // namespace

std::string markdown_table(const std::vector<std::string>& results) {
  std::string out =
      "| run | ledger | raw RocksDB | ratio (higher is better) | event-log limit | ours / limit | "
      "networked minimal log | ours / netlog | latency p50 / p99 / p99.9 µs | peak RSS MB | notes |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& line : results) {
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) {
      out += "| (a run failed: no result) | | | | | | | | | | |\n";
      continue;
    }
    out += row(value.as_object()) + "\n";
  }
  return out;
}

}  // namespace ledger::bench
