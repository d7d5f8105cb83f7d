// A purge and a slow subscriber: a real ledgerd, a subscriber that does not read while entries
// pile up in its outbox, and a purge by another client. What the subscriber then reads of the
// purged customers must be stubs, byte for byte what a fresh read of the log gives.
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "support/ledgerd_process.h"
#include "net/raw_connection.h"
#include "server/connection.h"
#include "support/temp_dir.h"
#include "ledger/client/connection.h"

using namespace ledger;
using ledger::testing::LedgerdProcess;
using ledger::testing::RawConnection;
using ledger::testing::TempDir;

namespace {

constexpr std::uint64_t kSubscribeId = 9;
const std::string kMarker = "zqx-purged";

template <typename Fill>
std::vector<std::uint8_t> request_bytes(std::uint64_t id, Fill fill) {
  capnp::MallocMessageBuilder message;
  auto r = message.initRoot<protocol::Request>();
  r.setId(id);
  fill(r);
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return {bytes.begin(), bytes.end()};
}

client::Reply call(client::Connection& client, const std::vector<std::uint8_t>& bytes) {
  client.send_bytes(bytes.data(), bytes.size());
  return client.receive();
}

// Sends every request at once (pipelined: they share group commits) and returns the numbers.
std::vector<std::uint64_t> create_all(client::Connection& writer, const std::vector<std::vector<std::uint8_t>>& creates) {
  std::vector<std::uint8_t> all;
  for (const auto& c : creates) all.insert(all.end(), c.begin(), c.end());
  std::thread sender([&] { writer.send_bytes(all.data(), all.size()); });
  std::vector<std::uint64_t> numbers;
  for (std::size_t i = 0; i < creates.size(); ++i) {
    auto reply = writer.receive();
    if (reply.get().isWritten()) numbers.push_back(reply.get().getWritten().getNumber());
  }
  sender.join();
  REQUIRE(numbers.size() == creates.size());
  return numbers;
}

std::uint64_t next_seq(client::Connection& writer) {
  auto reply = call(writer, request_bytes(1'000'000, [](auto r) { r.setStats(); }));
  REQUIRE(reply.get().isStats());
  return reply.get().getStats().getNextSeq();
}

void subscribe(RawConnection& client) {
  client.send(request_bytes(1, [](auto r) { r.initHello(); }));
  client.send(request_bytes(kSubscribeId, [](auto r) { r.initSubscribe().setFromSeq(1); }));
  auto welcome = client.response();
  REQUIRE(welcome);
  REQUIRE(welcome->get().isWelcome());
  auto subscribed = client.response();
  REQUIRE(subscribed);
  REQUIRE(subscribed->get().isSubscribed());
}

// Reads entries through `last` and returns their frames by seq.
std::map<std::uint64_t, std::string> read_entries(RawConnection& client, std::uint64_t last) {
  std::map<std::uint64_t, std::string> frames;
  for (;;) {
    auto response = client.response();
    REQUIRE(response);
    REQUIRE(response->get().isEntry());
    const auto seq = response->get().getEntry().getSeq();
    auto bytes = response->frame.asChars();
    frames.emplace(seq, std::string(bytes.begin(), bytes.end()));
    if (seq == last) return frames;
  }
}

std::size_t total_bytes(const std::map<std::uint64_t, std::string>& frames) {
  std::size_t total = 0;
  for (const auto& [seq, frame] : frames) total += frame.size();
  return total;
}

// The most of what ledgerd writes to one socket that the kernel can hold while the client does
// not read: the server socket's send buffer, which Linux sizes by itself up to tcp_wmem's
// maximum (ledgerd does not set SO_SNDBUF), and the client's receive buffer, small here.
std::size_t kernel_bytes_at_most(int client_receive_buffer) {
  std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
  std::size_t min = 0, initial = 0, max = 0;
  in >> min >> initial >> max;
  REQUIRE(max > 0);
  // The kernel doubles SO_RCVBUF; a send may overshoot the send buffer by one 64 KiB segment.
  return max + 2 * static_cast<std::size_t>(client_receive_buffer) + (64 << 10);
}

}  // namespace

TEST_CASE("a purge turns the entries queued for a slow subscriber into stubs, as a fresh read gives them",
          "[ledgerd][subscribe][erasure]") {
  constexpr int kReceiveBuffer = 4096;
  constexpr int kPurged = 50;
  // Survivors' entries come first in the log, enough of them to fill whatever the kernel and the
  // write in progress can take (with room for the first frames the subscriber reads), so every
  // entry of a purged customer is still in the server's outbox when the purge commits.
  const std::size_t ahead =
      kernel_bytes_at_most(kReceiveBuffer) + 2 * server::Connection::kMaxWriteBatchBytes + (256 << 10);
  // Room for every entry up to the purged customers' last (`ahead` and less than 2 MiB more),
  // which the subscription's first read thus takes; the filler after them is more than it holds.
  const std::size_t max_outbox = ahead + (2 << 20);

  TempDir dir;
  LedgerdProcess server(dir.path() / "data", {"--max-outbox-bytes", std::to_string(max_outbox)});
  client::Connection writer({server.address(), false, {}});
  REQUIRE(call(writer, request_bytes(1, [](auto r) { r.initHello(); })).get().isWelcome());
  // A subscriber that reads everything: it measures how many bytes each entry's frame takes.
  RawConnection meter(server.port());
  subscribe(meter);
  std::map<std::uint64_t, std::string> before;  // every entry's frame before the purge

  std::uint64_t id = 10;
  const std::string notes(4000, 'n');
  auto add_survivors = [&](std::size_t until_bytes) {
    while (total_bytes(before) < until_bytes) {
      std::vector<std::vector<std::uint8_t>> creates;
      for (int i = 0; i < 100; ++i, ++id) {
        creates.push_back(request_bytes(id, [&](auto r) {
          auto fields = r.initCreate().initFields();
          fields.setName("Survivor " + std::to_string(id));
          fields.setNotes(notes);
        }));
      }
      create_all(writer, creates);
      before.merge(read_entries(meter, next_seq(writer) - 1));
    }
  };
  add_survivors(ahead);
  const auto first_marked_seq = next_seq(writer);

  std::vector<std::vector<std::uint8_t>> creates;
  for (int i = 0; i < kPurged; ++i, ++id) {
    creates.push_back(request_bytes(id, [&](auto r) {
      auto fields = r.initCreate().initFields();
      fields.setName(kMarker + " customer " + std::to_string(i));
      fields.setEmail(kMarker + "-" + std::to_string(i) + "@example.org");
      fields.setNotes(kMarker + " notes");
    }));
  }
  const auto marked = create_all(writer, creates);
  auto deleted = call(writer, request_bytes(++id, [&](auto r) {
    auto numbers = r.initDelete().initNumbers(kPurged);
    for (int i = 0; i < kPurged; ++i) numbers.set(i, marked[i]);
  }));
  REQUIRE(deleted.get().isChanged());
  const auto last_marked_seq = next_seq(writer) - 1;
  before.merge(read_entries(meter, last_marked_seq));
  REQUIRE(total_bytes(before) + (64 << 10) < max_outbox);
  // Filler: more than the outbox and the kernel take together, so that the slow subscriber's
  // outbox stays full.
  add_survivors(max_outbox + ahead);

  // The slow subscriber reads its first two frames, then nothing. Its subscription is handled
  // on the server in one go with the request: the log is read into its outbox until the outbox
  // holds max_outbox bytes, before any of it is written, so `subscribed` arriving means every
  // entry of the purged customers (all within the first max_outbox bytes) was read with its data
  // and queued. The kernel and the write in progress take at most `ahead` bytes of it, all
  // survivors'; the server refills the outbox from the log behind them until it holds
  // max_outbox bytes again, and then reads neither the log nor this client's requests.
  RawConnection slow(server.port(), kReceiveBuffer);
  subscribe(slow);

  auto purge = call(writer, request_bytes(++id, [](auto r) {
    auto p = r.initPurge();
    p.setConfirm(true);
    p.setWait(false);
  }));
  REQUIRE(purge.get().isPurged());
  CHECK(purge.get().getPurged().getPurged() == kPurged);
  const auto purge_seq = purge.get().getPurged().getSeq();

  const auto received = read_entries(slow, purge_seq);
  RawConnection fresh(server.port());
  subscribe(fresh);
  const auto after = read_entries(fresh, purge_seq);
  REQUIRE(received.size() == after.size());

  // Seqs, so that a failure names them rather than printing frames.
  std::vector<std::uint64_t> with_marker, unlike_fresh_read, not_stubbed, not_intact;
  for (const auto& [seq, frame] : received) {
    if (frame.find(kMarker) != std::string::npos) with_marker.push_back(seq);
    if (frame != after.at(seq)) unlike_fresh_read.push_back(seq);
    auto words = kj::heapArray<capnp::word>(frame.size() / sizeof(capnp::word));
    std::memcpy(words.begin(), frame.data(), frame.size());
    capnp::FlatArrayMessageReader reader(words);
    auto entry = reader.getRoot<protocol::Response>().getEntry();
    if (seq >= first_marked_seq && seq <= last_marked_seq) {
      if (entry.getRedactedBy() != purge_seq || entry.getPayload().size() != 0) not_stubbed.push_back(seq);
    } else if (seq < purge_seq) {
      if (frame != before.at(seq) || entry.getRedactedBy() != 0) not_intact.push_back(seq);
    }
  }
  CHECK(last_marked_seq - first_marked_seq + 1 == 2 * kPurged);  // created, deleted
  CHECK(with_marker == std::vector<std::uint64_t>{});
  CHECK(not_stubbed == std::vector<std::uint64_t>{});
  CHECK(unlike_fresh_read == std::vector<std::uint64_t>{});
  CHECK(not_intact == std::vector<std::uint64_t>{});
  CHECK(server.stop() == 0);
}
