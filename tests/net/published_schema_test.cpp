// The published schemas as a third party meets them: compiled by the capnp tool alone, with no
// import path but a directory holding nothing else, and their comments' promises checked
// against what a real ledgerd sends.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <capnp/schema.capnp.h>
#include <capnp/serialize.h>
#include <catch2/catch.hpp>

#include "domain/events.capnp.h"
#include "support/ledgerd_client.h"
#include "support/ledgerd_process.h"
#include "support/temp_dir.h"

using namespace ledger;
using ledger::testing::LedgerdClient;
using ledger::testing::LedgerdProcess;
using ledger::testing::TempDir;

namespace {

// What a client gets with the schemas alone.
const std::vector<std::string> kPublished = {"server/protocol.capnp", "domain/events.capnp"};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `capnp compile -o-` of `schema` (one of kPublished) in a directory holding only copies of the
// published schemas, with that directory as the only import path (no /usr/include): the
// CodeGeneratorRequest it writes, as bytes; the compiler's complaints in `*errors`.
std::string compile_alone(const std::string& schema, std::string* errors) {
  TempDir dir;
  for (const auto& published : kPublished) {
    std::filesystem::create_directories((dir.path() / published).parent_path());
    std::filesystem::copy_file(std::string(LEDGER_SOURCE_DIR) + "/" + published, dir.path() / published);
  }
  const auto out = dir.path() / "request.bin", err = dir.path() / "errors.txt";
  const std::string command = "cd '" + dir.path().string() + "' && capnp compile --no-standard-import -I . -o- '" +
                              schema + "' > '" + out.string() + "' 2> '" + err.string() + "'";
  const int status = std::system(command.c_str());
  *errors = read_file(err);
  return status == 0 ? read_file(out) : std::string();
}

// A compiled CodeGeneratorRequest, kept with its bytes.
class Compiled {
 public:
  explicit Compiled(const std::string& bytes) : words_(kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word))) {
    REQUIRE(bytes.size() % sizeof(capnp::word) == 0);
    std::memcpy(words_.begin(), bytes.data(), bytes.size());
    reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_.asPtr());
  }
  capnp::schema::CodeGeneratorRequest::Reader get() { return reader_->getRoot<capnp::schema::CodeGeneratorRequest>(); }

  // The names of enum `name`'s enumerants, in ordinal order.
  std::vector<std::string> enumerants(const std::string& name) {
    std::vector<std::string> out;
    for (auto node : get().getNodes()) {
      std::string display = node.getDisplayName().cStr();
      if (!node.isEnum() || display.substr(display.rfind(':') + 1) != name) continue;
      for (auto e : node.getEnum().getEnumerants()) out.emplace_back(e.getName().cStr());
    }
    return out;
  }

  // The doc comment of every field of every struct, by "Struct.field".
  std::map<std::string, std::string> field_comments() {
    std::map<std::uint64_t, capnp::schema::Node::SourceInfo::Reader> info;
    for (auto i : get().getSourceInfo()) info.emplace(i.getId(), i);
    std::map<std::string, std::string> out;
    for (auto node : get().getNodes()) {
      if (!node.isStruct() || !info.contains(node.getId())) continue;
      std::string name = node.getDisplayName().cStr();
      name = name.substr(name.rfind(':') + 1);
      auto members = info.at(node.getId()).getMembers();
      auto fields = node.getStruct().getFields();
      for (unsigned i = 0; i < fields.size() && i < members.size(); ++i) {
        out[name + "." + fields[i].getName().cStr()] = members[i].getDocComment().cStr();
      }
    }
    return out;
  }

 private:
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
};

// Every "double-quoted" text in `text`, without the quotes.
std::set<std::string> quoted_values(const std::string& text) {
  std::set<std::string> out;
  for (auto open = text.find('"'); open != std::string::npos;) {
    const auto close = text.find('"', open + 1);
    if (close == std::string::npos) break;
    out.insert(text.substr(open + 1, close - open - 1));
    open = text.find('"', close + 1);
  }
  return out;
}

// Every number followed by a space and a lowercase word ("1 created"), the number alone.
std::set<std::string> numbered_names(const std::string& text) {
  std::set<std::string> out;
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!digit(text[i]) || (i > 0 && digit(text[i - 1]))) continue;
    auto end = i;
    while (end < text.size() && digit(text[end])) ++end;
    if (end + 1 < text.size() && text[end] == ' ' && text[end + 1] >= 'a' && text[end + 1] <= 'z') {
      out.insert(text.substr(i, end - i));
    }
  }
  return out;
}

// The number written right after `words` in `text` ("at most 1000": 1000); stops the test when
// the comment no longer says it so.
std::uint64_t number_after(const std::string& text, const std::string& words) {
  const auto at = text.find(words);
  INFO(text << " has no number after '" << words << "'");
  REQUIRE(at != std::string::npos);
  const auto begin = at + words.size();
  auto end = begin;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  REQUIRE(end > begin);
  return std::stoull(text.substr(begin, end - begin));
}

// What a subscription entry's payload holds, read as the schema says: one domain/events.capnp
// Event in the standard stream framing. The ordinal of its union member + 1; stops the test when
// the bytes are not exactly one framed message.
unsigned framed_event_kind(capnp::Data::Reader payload) {
  const auto u32_at = [&](std::size_t offset) {
    std::uint32_t value = 0;
    for (int i = 3; i >= 0; --i) value = (value << 8) | payload[offset + static_cast<std::size_t>(i)];
    return value;
  };
  REQUIRE(payload.size() >= 8);
  const std::size_t segments = u32_at(0) + 1;
  std::size_t table = 4 + 4 * segments;
  table += table % 8;  // the padding after an even number of segment sizes
  REQUIRE(payload.size() >= table);
  std::size_t words = 0;
  for (std::size_t i = 0; i < segments; ++i) words += u32_at(4 + 4 * i);
  CHECK(payload.size() == table + words * sizeof(capnp::word));
  auto aligned = kj::heapArray<capnp::word>(payload.size() / sizeof(capnp::word));
  std::memcpy(aligned.begin(), payload.begin(), aligned.size() * sizeof(capnp::word));
  capnp::FlatArrayMessageReader reader(aligned.asPtr());
  return static_cast<unsigned>(reader.getRoot<domain::schema::Event>().which()) + 1;
}

}  // namespace

TEST_CASE("the published schemas compile with the capnp tool alone, importing nothing", "[schema]") {
  for (const auto& schema : kPublished) {
    CAPTURE(schema);
    std::string errors;
    const auto bytes = compile_alone(schema, &errors);
    INFO(errors);
    REQUIRE_FALSE(bytes.empty());
    CHECK(errors.empty());
    Compiled compiled(bytes);
    REQUIRE(compiled.get().getRequestedFiles().size() == 1);
    CHECK(compiled.get().getRequestedFiles()[0].getImports().size() == 0);
  }
}

TEST_CASE("every value the protocol schema's comments promise is what a real ledgerd sends, and nothing else",
          "[schema][ledgerd]") {
  std::string errors;
  const auto bytes = compile_alone("server/protocol.capnp", &errors);
  INFO(errors);
  REQUIRE_FALSE(bytes.empty());
  Compiled compiled(bytes);
  const auto comments = compiled.field_comments();

  // Every quoted value in a field's comment is a promise; these are the fields that make any.
  std::map<std::string, std::set<std::string>> promised;
  for (const auto& [field, comment] : comments) {
    auto quoted = quoted_values(comment);
    if (!quoted.empty()) promised[field] = quoted;
  }
  std::set<std::string> promising;
  for (const auto& [field, values] : promised) promising.insert(field);
  CHECK(promising == std::set<std::string>{"Erasure.report", "Erasure.state", "HistoryEvent.kind"});
  // Entry.kind's comment gives numbers with their names.
  REQUIRE(comments.contains("Entry.kind"));
  const auto promised_kinds = numbered_names(comments.at("Entry.kind"));

  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  LedgerdClient client(server);
  std::map<std::string, std::set<std::string>> sent;

  // Ada's history holds every kind of change.
  create_customer(client, "Ada", "ada@example.org");
  REQUIRE(client.call([](auto r) {
                  auto edit = r.initEdit();
                  edit.setNumber(1);
                  auto change = edit.initChanges(1)[0];
                  change.setField(protocol::Field::NOTES);
                  change.setValue("owes 12.50");
                }).get().isWritten());
  delete_customer(client, 1);
  REQUIRE(client.call([](auto r) { r.initUndelete().initNumbers(1).set(0, 1); }).get().isChanged());
  auto history = client.call([](auto r) { r.initHistory().setNumber(1); });
  REQUIRE(history.get().isHistory());
  const std::map<protocol::EventKind, std::string> kind_names = {{protocol::EventKind::CREATED, "CustomerCreated"},
                                                                 {protocol::EventKind::EDITED, "CustomerEdited"},
                                                                 {protocol::EventKind::DELETED, "CustomerDeleted"},
                                                                 {protocol::EventKind::UNDELETED, "CustomerUndeleted"}};
  for (auto event : history.get().getHistory().getEvents()) {
    sent["HistoryEvent.kind"].insert(event.getKind().cStr());
    REQUIRE(kind_names.contains(event.getEventKind()));
    CHECK(kind_names.at(event.getEventKind()) == event.getKind().cStr());
  }

  // Erasure.erasureState is state, typed: each enumerant stands for one documented text.
  const std::map<protocol::ErasureState, std::string> state_texts = {{protocol::ErasureState::PENDING, "pending"},
                                                                     {protocol::ErasureState::VERIFIED, "done"},
                                                                     {protocol::ErasureState::NOT_VERIFIED, "failed"}};
  std::set<protocol::ErasureState> typed_states;
  const auto typed_state = [&](protocol::Erasure::Reader erasure) {
    typed_states.insert(erasure.getErasureState());
    REQUIRE(state_texts.contains(erasure.getErasureState()));
    CHECK(state_texts.at(erasure.getErasureState()) == erasure.getState().cStr());
    // The typed report is there exactly when the text one is not "{}".
    CHECK(erasure.hasErasureReport() == (std::string(erasure.getReport().cStr()) != "{}"));
  };
  auto purge = [&](bool wait) {
    auto reply = purge_deleted(client, wait);
    auto erasure = reply.get().getPurged().getErasure();
    sent["Erasure.state"].insert(erasure.getState().cStr());
    sent["Erasure.report"].insert(erasure.getReport().cStr());
    typed_state(erasure);
    return reply.get().getPurged().getSeq();
  };
  // An erasure that verifies.
  create_customer(client, "Bo", "bo.erased@example.org");
  delete_customer(client, 2);
  const auto verified_purge = purge(true);
  // One that does not: a copy of the purged customer's e-mail address left in the directory.
  create_customer(client, "Cy", "cy.left-behind@example.org");
  delete_customer(client, 2);
  std::ofstream(dir.path() / "data" / "notes.txt") << "copied by hand: cy.left-behind@example.org\n";
  purge(true);
  // One not waited for.
  create_customer(client, "Di", "di@example.org");
  delete_customer(client, 2);
  purge(false);
  auto report = client.call([&](auto r) { r.setErasureReport(verified_purge); });
  REQUIRE(report.get().isErasure());
  sent["Erasure.state"].insert(report.get().getErasure().getState().cStr());
  typed_state(report.get().getErasure());
  // Every enumerant of the typed state was sent, and the schema has no other.
  CHECK(typed_states.size() == state_texts.size());
  CHECK(compiled.enumerants("ErasureState") == std::vector<std::string>{"pending", "verified", "notVerified"});

  for (const auto& [field, values] : promised) {
    CAPTURE(field);
    if (field == "Erasure.report") {
      // The rest of what it sends is the pass's JSON report, which the comment names as such.
      CHECK(sent[field].contains("{}"));
      for (const auto& value : sent[field]) CHECK((value == "{}" || value.starts_with("{\"purge_seqs\":")));
    } else {
      CHECK(sent[field] == values);
    }
  }

  // Every entry of the log, by kind.
  auto stats = client.call([](auto r) { r.setStats(); });
  const auto last_seq = stats.get().getStats().getNextSeq() - 1;
  capnp::MallocMessageBuilder subscribe;
  client::new_request(subscribe, 1000).initSubscribe().setFromSeq(1);
  client.connection().send(subscribe);
  REQUIRE(client.connection().receive().get().isSubscribed());
  std::set<std::string> kinds, typed_kinds;
  for (std::uint64_t seq = 1; seq <= last_seq; ++seq) {
    auto reply = client.connection().receive();
    REQUIRE(reply.get().isEntry());
    auto entry = reply.get().getEntry();
    CAPTURE(seq);
    kinds.insert(std::to_string(entry.getKind()));
    // eventKind's ordinal is the deprecated number, for every kind a client sees.
    CHECK(entry.getEventKind() != protocol::EventKind::UNKNOWN);
    CHECK(static_cast<std::uint16_t>(entry.getEventKind()) == entry.getKind());
    typed_kinds.insert(std::to_string(static_cast<std::uint16_t>(entry.getEventKind())));
    // A payload is an Event in stream framing, of the kind the entry says; a stub has none.
    if (entry.getRedactedBy() == 0) CHECK(framed_event_kind(entry.getPayload()) == entry.getKind());
    else CHECK(entry.getPayload().size() == 0);
  }
  CHECK(kinds == promised_kinds);
  CHECK(typed_kinds == kinds);
  CHECK(server.stop() == 0);
}

TEST_CASE("the number range and the list's limits the schema's comments give are what ledgerd enforces",
          "[schema][ledgerd]") {
  std::string errors;
  const auto bytes = compile_alone("server/protocol.capnp", &errors);
  INFO(errors);
  REQUIRE_FALSE(bytes.empty());
  Compiled compiled(bytes);
  const auto comments = compiled.field_comments();
  const auto lowest = number_after(comments.at("Create.number"), "else from ");
  const auto highest = number_after(comments.at("Create.number"), " to ");
  const auto default_limit = number_after(comments.at("ListCustomers.limit"), "0: ");
  const auto cap = number_after(comments.at("ListCustomers.limit"), "at most ");

  TempDir dir;
  LedgerdProcess server(dir.path() / "data");
  LedgerdClient client(server);
  const auto create_numbered = [&](std::uint64_t number) {
    return client.call([&](auto r) {
      auto c = r.initCreate();
      c.initFields().setName("Numbered");
      c.setNumber(number);
    });
  };
  for (auto number : {lowest, highest}) {
    CAPTURE(number);
    auto reply = create_numbered(number);
    REQUIRE(reply.get().isWritten());
    CHECK(reply.get().getWritten().getNumber() == number);
  }
  auto beyond = create_numbered(highest + 1);
  REQUIRE(beyond.get().isError());
  CHECK(beyond.get().getError().getCode() == protocol::ErrorCode::INVALID_FIELD);
  CHECK(std::string(beyond.get().getError().getField().cStr()) == "number");

  // More customers than one page may hold: pipelined, answered by id.
  std::vector<std::uint8_t> creates;
  for (std::uint64_t i = 0; i < cap; ++i) {
    capnp::MallocMessageBuilder message;
    client::new_request(message, 10'000 + i).initCreate().initFields().setName("Paged " + std::to_string(i));
    auto frame = capnp::messageToFlatArray(message);
    creates.insert(creates.end(), frame.asBytes().begin(), frame.asBytes().end());
  }
  std::thread writer([&] { client.connection().send_bytes(creates.data(), creates.size()); });
  for (std::uint64_t i = 0; i < cap; ++i) REQUIRE(client.connection().receive().get().isWritten());
  writer.join();
  const auto page_size = [&](std::uint32_t limit) {
    auto reply = client.call([&](auto r) { r.initList().setLimit(limit); });
    REQUIRE(reply.get().isPage());
    CHECK(reply.get().getPage().getNext() != 0);  // cap + 2 customers: never the last page
    return reply.get().getPage().getCustomers().size();
  };
  CHECK(page_size(0) == default_limit);
  CHECK(page_size(static_cast<std::uint32_t>(cap)) == cap);
  CHECK(page_size(static_cast<std::uint32_t>(cap + 1)) == cap);
  CHECK(page_size(std::numeric_limits<std::uint32_t>::max()) == cap);
  CHECK(server.stop() == 0);
}
