#include "tools/bench/write_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include "eventstore/database.h"
#include "eventstore/encoding.h"
#include "server/command_service.h"
#include "server/group_batch.h"
#include "server/open_ledger.h"
#include "server/wire_fields.h"
#include "tools/bench/cpu_time.h"
#include "tools/bench/bench_ledgerd.h"
#include "tools/bench/process_memory.h"
#include "tools/bench/raw_store.h"
#include "tools/bench/minimal_log_server.h"
#include "ledger/client/client.h"

namespace ledger::bench {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void fill_request(protocol::Request::Builder request, const domain::Command& command) {
  if (const auto* create = std::get_if<domain::CreateCustomer>(&command)) {
    server::set_wire_fields(request.initCreate().initFields(), create->fields);
  } else if (const auto* edit = std::get_if<domain::EditCustomer>(&command)) {
    auto e = request.initEdit();
    e.setNumber(edit->number);
    auto changes = e.initChanges(static_cast<unsigned>(edit->changes.size()));
    for (unsigned i = 0; i < edit->changes.size(); ++i) {
      changes[i].setField(server::wire_field(edit->changes[i].field));
      changes[i].setValue(edit->changes[i].value);
    }
  } else if (const auto* del = std::get_if<domain::DeleteCustomers>(&command)) {
    auto numbers = request.initDelete().initNumbers(static_cast<unsigned>(del->numbers.size()));
    for (unsigned i = 0; i < del->numbers.size(); ++i) numbers.set(i, del->numbers[i]);
  } else if (const auto* undel = std::get_if<domain::UndeleteCustomers>(&command)) {
    auto numbers = request.initUndelete().initNumbers(static_cast<unsigned>(undel->numbers.size()));
    for (unsigned i = 0; i < undel->numbers.size(); ++i) numbers.set(i, undel->numbers[i]);
  }
}

struct ConnectionResult {
  std::uint64_t accepted = 0;  // within the measured window
  std::uint64_t refused = 0;
  std::uint64_t failed = 0;
  std::vector<std::uint32_t> latencies_us;
  std::string error;
};

// One client connection: keeps `pipeline` commands in flight until `deadline`, then collects
// the answers still outstanding. The commands that replace answers read together are sent
// together, in one write, as a pipelining client does.
void run_connection(const std::string& server, unsigned writer, const WriteBenchOptions& options,
                    std::atomic<unsigned>& ready, Clock::time_point& start_at, std::atomic<bool>& go,
                    ConnectionResult& result) {
  try {
    auto session = bench_session(server);
    auto& connection = session->connection();
    MixedWorkload workload(options.mix, writer, 42);
    struct InFlight {
      Clock::time_point sent;
      MixedWorkload::Next next;
    };
    std::unordered_map<std::uint64_t, InFlight> in_flight;
    std::uint64_t next_id = 2;
    ready.fetch_add(1);
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    const auto deadline = start_at + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));

    auto send_one = [&] {
      auto next = workload.next();
      capnp::MallocMessageBuilder message(256);
      auto request = client::new_request(message, next_id);
      const auto key = workload.next_request_key();
      request.setRequestKey(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(key.data()), key.size()));
      fill_request(request, next.command);
      in_flight.emplace(next_id, InFlight{Clock::now(), std::move(next)});
      ++next_id;
      connection.queue(message);
    };
    for (unsigned i = 0; i < options.pipeline; ++i) send_one();
    connection.flush();
    result.latencies_us.reserve(1 << 16);
    while (!in_flight.empty()) {
      auto reply = connection.receive();
      auto response = reply.get();
      auto it = in_flight.find(response.getId());
      if (it == in_flight.end()) {
        if (response.isError()) throw std::runtime_error(fmt::format("ledgerd: {}", response.getError().getMessage().cStr()));
        continue;
      }
      const auto now = Clock::now();
      const bool measured = now <= deadline;
      bool ok = false;
      domain::CustomerNumber created = 0;
      if (response.isWritten()) {
        ok = true;
        created = response.getWritten().getNumber();
      } else if (response.isChanged()) {
        ok = true;
      } else if (response.isError()) {
        const auto code = response.getError().getCode();
        const bool refusal = code != protocol::ErrorCode::INTERNAL && code != protocol::ErrorCode::BUSY &&
                             code != protocol::ErrorCode::SHUTTING_DOWN;
        if (measured) ++(refusal ? result.refused : result.failed);
      }
      if (measured && ok) {
        ++result.accepted;
        result.latencies_us.push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - it->second.sent).count()));
      }
      workload.accepted(it->second.next, ok, created);
      in_flight.erase(it);
      if (now < deadline) send_one();
      if (!connection.reply_buffered()) connection.flush();
    }
  } catch (const std::exception& e) {
    result.error = e.what();
    ready.fetch_add(1);  // harmless if already counted: the starter only waits for the count
  }
}

// The protocol path alone: `connections` connections keep `pipeline` requests in flight for
// `seconds`, each a `get` of a number nobody holds (two point reads, an error answer), against
// the same ledgerd. What its network threads, the framing and the answers manage without the
// writer: the bound of the write rate where that comes near it. Answers per second.
double run_protocol_path(const std::string& server, const WriteBenchOptions& options) {
  constexpr domain::CustomerNumber kNobody = domain::kMaxCustomerNumber;
  std::atomic<std::uint64_t> answered{0};
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point start_at;
  std::vector<std::string> errors(options.connections);
  std::vector<std::thread> clients;
  for (unsigned c = 0; c < options.connections; ++c) {
    clients.emplace_back([&, c] {
      try {
        auto session = bench_session(server);
        auto& connection = session->connection();
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        const auto deadline =
            start_at + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
        std::uint64_t next_id = 2;
        auto send_one = [&] {
          capnp::MallocMessageBuilder message(64);
          client::new_request(message, next_id++).initGet().setNumber(kNobody);
          connection.queue(message);
        };
        for (unsigned i = 0; i < options.pipeline; ++i) send_one();
        connection.flush();
        std::uint64_t in_flight = options.pipeline, count = 0;
        while (in_flight > 0) {
          connection.receive();
          --in_flight;
          const auto now = Clock::now();
          if (now <= deadline) ++count;
          if (now < deadline) {
            send_one();
            ++in_flight;
          }
          if (!connection.reply_buffered()) connection.flush();
        }
        answered.fetch_add(count);
      } catch (const std::exception& e) {
        errors[c] = e.what();
        ready.fetch_add(1);
      }
    });
  }
  while (ready.load() < options.connections) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  start_at = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : clients) t.join();
  for (const auto& error : errors) {
    if (!error.empty()) throw std::runtime_error("a protocol-path connection failed: " + error);
  }
  return static_cast<double>(answered.load()) / options.seconds;
}

// What the ledger's writer reports in `stats`: its group commits and the CPU time it spent.
struct WriterSample {
  std::uint64_t batches = 0;
  std::uint64_t commands = 0;
  std::uint64_t decide_cpu_ns = 0;
  std::uint64_t write_cpu_ns = 0;
};

WriterSample writer_sample(client::Connection& connection) {
  capnp::MallocMessageBuilder message;
  client::new_request(message, 2).setStats();
  auto reply = connection.call(message);
  if (!reply.get().isStats()) throw std::runtime_error("ledgerd did not answer stats");
  auto stats = reply.get().getStats();
  return {stats.getBatches(), stats.getCommands(), stats.getDecideCpuNs(), stats.getWriteCpuNs()};
}

// The bytes ledgerd writes for each command, in one WriteBatch per command: the same
// decisions (GroupBatch, one command per batch) made against a scratch database, so that the
// raw baseline writes exactly the keys and values the ledger writes, not an imitation.
std::vector<std::string> mirror_batches(const fs::path& dir, const CommandMix& mix, std::size_t count) {
  auto db = eventstore::Database::open(dir, {});
  auto state = server::prepare_ledger(*db);
  MixedWorkload workload(mix, 0, 42);
  std::vector<std::string> batches;
  batches.reserve(count);
  rocksdb::WriteOptions unsynced;
  while (batches.size() < count) {
    auto next = workload.next();
    server::RequestContext context{"local", workload.next_request_key()};
    server::GroupBatch batch(*db, state);
    const auto outcome = batch.add(next.command, context);
    const auto* accepted = std::get_if<server::Accepted>(&outcome);
    if (accepted && !batch.empty()) {
      auto* written = batch.finish();
      eventstore::Database::check(db->db().Write(unsynced, written), "writing the mirror");
      state = batch.state();
      batches.push_back(written->Data());
    }
    workload.accepted(next, accepted != nullptr,
                      accepted && !accepted->numbers.empty() ? accepted->numbers.front() : 0);
  }
  return batches;
}

// Joins WriteBatch representations (RocksDB's format: fixed64 sequence, fixed32 count,
// records) into one.
std::string join_batches(const std::vector<std::string>& batches, std::size_t first, std::size_t n) {
  std::string joined(12, '\0');
  std::uint32_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& rep = batches[(first + i) % batches.size()];
    rocksdb::WriteBatch b(rep);
    count += b.Count();
    joined.append(rep, 12, std::string::npos);
  }
  std::memcpy(joined.data() + 8, &count, 4);  // little-endian, as RocksDB encodes it on x86
  return joined;
}

struct RawResult {
  double per_s = 0;
  double p50 = 0, p99 = 0, p999 = 0;
};

// `threads` threads, each calling `write_one(db, sync, i)` for i = 0, 1, 2, … (shared among
// them) on a fresh database at `dir` with the ledger's options until `seconds` have passed, so
// that RocksDB groups their writes itself. `write_one` writes with `sync` (sync = true) and
// throws on failure; it is called from all threads at once. The latency is that of one call.
using SyncWrite = std::function<void(eventstore::Database&, const rocksdb::WriteOptions&, std::uint64_t)>;
RawResult run_sync_writers(const fs::path& dir, unsigned threads, double seconds, const SyncWrite& write_one) {
  auto db = eventstore::Database::open(dir, {});
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> go{false};
  std::vector<std::vector<std::uint32_t>> latencies(threads);
  std::vector<std::uint64_t> done(threads, 0);
  std::vector<std::thread> pool;
  const auto length = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Clock::time_point start;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      rocksdb::WriteOptions sync;
      sync.sync = true;
      latencies[t].reserve(1 << 16);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      const auto deadline = start + length;
      for (;;) {
        const auto i = next.fetch_add(1, std::memory_order_relaxed);
        const auto sent = Clock::now();
        write_one(*db, sync, i);
        const auto now = Clock::now();
        if (now > deadline) break;
        ++done[t];
        latencies[t].push_back(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - sent).count()));
      }
    });
  }
  start = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : pool) t.join();
  std::vector<std::uint32_t> all;
  std::uint64_t total = 0;
  for (unsigned t = 0; t < threads; ++t) {
    total += done[t];
    all.insert(all.end(), latencies[t].begin(), latencies[t].end());
  }
  RawResult r;
  r.per_s = static_cast<double>(total) / seconds;
  r.p50 = percentile(all, 0.5);
  r.p99 = percentile(all, 0.99);
  r.p999 = percentile(all, 0.999);
  return r;
}

// The same bytes: threads × one sync WriteBatch per command, the ledger's own batches.
RawResult run_raw(const fs::path& dir, const std::vector<std::string>& batches, unsigned threads, double seconds) {
  return run_sync_writers(dir, threads, seconds, [&](eventstore::Database& db, const rocksdb::WriteOptions& sync, std::uint64_t i) {
    rocksdb::WriteBatch batch(batches[i % batches.size()]);
    eventstore::Database::check(db.db().Write(sync, &batch), "raw write");
  });
}

// The event-log limit: threads × one sync Put of one value per command under a fresh
// sequential key in the log family, nothing else. The most a durable log can do at this
// concurrency on this machine, whatever else a command writes.
RawResult run_log_limit(const fs::path& dir, unsigned threads, double seconds) {
  const std::string value(kLogValueBytes, 'e');
  return run_sync_writers(dir, threads, seconds, [&](eventstore::Database& db, const rocksdb::WriteOptions& sync, std::uint64_t i) {
    eventstore::Database::check(db.db().Put(sync, db.family(eventstore::Family::kLog), eventstore::u64_key(i), value),
                                "event-log limit write");
  });
}

// One thread, 1,000 commands per sync WriteBatch: what the disk allows with perfect grouping.
double run_ceiling(const fs::path& dir, const std::vector<std::string>& batches, double seconds) {
  constexpr std::size_t kPerBatch = 1000;
  std::vector<std::string> joined;
  for (std::size_t first = 0; first < batches.size(); first += kPerBatch) {
    joined.push_back(join_batches(batches, first, kPerBatch));
  }
  auto db = eventstore::Database::open(dir, {});
  rocksdb::WriteOptions sync;
  sync.sync = true;
  std::uint64_t commands = 0;
  const auto start = Clock::now();
  const auto length = std::chrono::duration<double>(seconds);
  for (std::size_t i = 0; Clock::now() - start < length; ++i) {
    rocksdb::WriteBatch batch(joined[i % joined.size()]);
    eventstore::Database::check(db->db().Write(sync, &batch), "ceiling write");
    commands += kPerBatch;
  }
  return static_cast<double>(commands) / std::chrono::duration<double>(Clock::now() - start).count();
}

// What `connections` clients of `server` achieved, each keeping `pipeline` commands of the
// mix in flight for `seconds`.
struct LoadResult {
  std::uint64_t accepted = 0, refused = 0, failed = 0;
  std::vector<std::uint32_t> latencies_us;
  Clock::time_point started;
};

// Connects the clients, has each say hello, calls `at_start` once all have, then runs the load
// and waits for the last answer. Throws std::runtime_error when a connection fails.
LoadResult run_load(const std::string& server, const WriteBenchOptions& options, const std::function<void()>& at_start) {
  std::vector<ConnectionResult> results(options.connections);
  std::vector<std::thread> clients;
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point start_at;
  for (unsigned c = 0; c < options.connections; ++c) {
    clients.emplace_back(run_connection, std::cref(server), c, std::cref(options), std::ref(ready),
                         std::ref(start_at), std::ref(go), std::ref(results[c]));
  }
  while (ready.load() < options.connections) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  at_start();
  start_at = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : clients) t.join();
  LoadResult load;
  load.started = start_at;
  for (auto& r : results) {
    if (!r.error.empty()) throw std::runtime_error("a client connection failed: " + r.error);
    load.accepted += r.accepted;
    load.refused += r.refused;
    load.failed += r.failed;
    load.latencies_us.insert(load.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
  }
  return load;
}

// The networked minimal log (MinimalLogServer) on a fresh directory, under the same load.
// With as many network threads as ledgerd runs by default (its --threads).
LoadResult run_minimal_log(const fs::path& dir, const WriteBenchOptions& options) {
  MinimalLogServer log(dir, std::max(2u, std::thread::hardware_concurrency()));
  auto load = run_load(log.address(), options, [] {});
  log.stop();
  return load;
}

}  // namespace

BenchReport run_write_bench(const WriteBenchOptions& options) {
  BenchReport report("write");
  report.add("connections", options.connections);
  report.add("pipeline", options.pipeline);
  report.add("mix", to_string(options.mix));
  report.add("seconds", options.seconds);

  std::optional<LedgerdProcess> ledgerd;
  std::string server = options.server;
  if (server.empty()) {
    fs::create_directories(options.work_dir);
    ledgerd.emplace(bench_launch(options.ledgerd, options.work_dir / "ledgerd", options.work_dir / "ledgerd.log"));
    server = ledgerd->address();
  }

  // The writer's counters before and after the load, on a connection of their own: its CPU
  // time per command is the part of a command's cost that is the ledger's own code.
  auto stats_session = bench_session(server);
  auto& stats_client = stats_session->connection();
  // And who used the cores meanwhile: ledgerd (when this run started it), the clients (this
  // process), the machine as a whole.
  const pid_t ledgerd_pid = ledgerd ? ledgerd->pid() : 0;
  double ledgerd_cpu_before = 0, client_cpu_before = 0;
  MachineTime machine_before;
  WriterSample before;
  auto load = run_load(server, options, [&] {
    ledgerd_cpu_before = ledgerd_pid ? process_cpu_seconds(ledgerd_pid) : 0;
    client_cpu_before = process_cpu_seconds(0);
    machine_before = machine_time();
    before = writer_sample(stats_client);
  });
  const auto after = writer_sample(stats_client);
  const double phase_seconds = std::chrono::duration<double>(Clock::now() - load.started).count();
  const double ledgerd_cpu = ledgerd_pid ? process_cpu_seconds(ledgerd_pid) - ledgerd_cpu_before : 0;
  const double client_cpu = process_cpu_seconds(0) - client_cpu_before;
  const auto machine_after = machine_time();

  const double ours = static_cast<double>(load.accepted) / options.seconds;
  report.add("commands", static_cast<double>(load.accepted));
  report.add("refused", static_cast<double>(load.refused));
  report.add("failed", static_cast<double>(load.failed));
  report.add("commands_per_s", ours);
  report.add("p50_us", percentile(load.latencies_us, 0.5));
  report.add("p99_us", percentile(load.latencies_us, 0.99));
  report.add("p999_us", percentile(load.latencies_us, 0.999));
  if (const auto commands = after.commands - before.commands; commands > 0) {
    const auto per_command_us = [&](std::uint64_t ns) {
      return static_cast<double>(ns) / 1000.0 / static_cast<double>(commands);
    };
    const auto batches = std::max<std::uint64_t>(1, after.batches - before.batches);
    report.add("writer_decide_us", per_command_us(after.decide_cpu_ns - before.decide_cpu_ns));
    report.add("writer_write_us", per_command_us(after.write_cpu_ns - before.write_cpu_ns));
    report.add("commands_per_batch", static_cast<double>(commands) / static_cast<double>(batches));
    if (ledgerd_pid) report.add("ledgerd_cpu_us", ledgerd_cpu * 1e6 / static_cast<double>(commands));
    report.add("client_cpu_us", client_cpu * 1e6 / static_cast<double>(commands));
  }
  if (phase_seconds > 0 && machine_after.total > machine_before.total) {
    report.add("machine_busy_cores", (machine_after.busy - machine_before.busy) / phase_seconds);
    report.add("machine_cores", (machine_after.total - machine_before.total) / phase_seconds);
  }
  if (options.raw) {
    auto netlog = run_minimal_log(options.work_dir / "netlog", options);
    fs::remove_all(options.work_dir / "netlog");
    const double netlog_per_s = static_cast<double>(netlog.accepted) / options.seconds;
    report.add("netlog_per_s", netlog_per_s);
    report.add("netlog_p50_us", percentile(netlog.latencies_us, 0.5));
    report.add("netlog_ratio", netlog_per_s > 0 ? ours / netlog_per_s : 0);
    const double protocol = run_protocol_path(server, options);
    report.add("protocol_per_s", protocol);
    report.add("protocol_ratio", protocol > 0 ? ours / protocol : 0);
  }
  if (ledgerd) {
    report.add("rss_mb", peak_rss_mb(ledgerd->pid()));
    ledgerd->stop();
    fs::remove_all(options.work_dir / "ledgerd");
  }

  if (options.raw) {
    const auto pool = mirror_batches(options.work_dir / "mirror", options.mix, options.raw_pool);
    fs::remove_all(options.work_dir / "mirror");
    std::uint64_t bytes = 0;
    for (const auto& b : pool) bytes += b.size();
    report.add("bytes_per_command", static_cast<double>(bytes) / static_cast<double>(pool.size()));
    const unsigned threads = std::min(options.connections * options.pipeline, 1024u);
    const auto raw = run_raw(options.work_dir / "raw", pool, threads, options.seconds);
    fs::remove_all(options.work_dir / "raw");
    report.add("raw_threads", threads);
    report.add("raw_per_s", raw.per_s);
    report.add("raw_p50_us", raw.p50);
    report.add("raw_p99_us", raw.p99);
    report.add("raw_p999_us", raw.p999);
    report.add("ratio", raw.per_s > 0 ? ours / raw.per_s : 0);
    const auto limit = run_log_limit(options.work_dir / "limit", threads, options.seconds);
    fs::remove_all(options.work_dir / "limit");
    report.add("limit_per_s", limit.per_s);
    report.add("limit_p50_us", limit.p50);
    report.add("limit_ratio", limit.per_s > 0 ? ours / limit.per_s : 0);
    const double ceiling = run_ceiling(options.work_dir / "ceiling", pool, std::min(options.seconds, 3.0));
    fs::remove_all(options.work_dir / "ceiling");
    report.add("ceiling_per_s", ceiling);
  }
  return report;
}

}  // namespace ledger::bench
