// Helpers for tests that drive the command service in process: open a data directory, run
// commands and unpack their outcomes with a clear failure message.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include <catch2/catch.hpp>

#include "eventstore/database.h"
#include "server/command_service.h"
#include "server/open_ledger.h"
#include "support/temp_dir.h"

namespace ledger::testing {

inline domain::CustomerFields person(std::string name, std::string email = {}, std::string phone = {}) {
  domain::CustomerFields f;
  f.name = std::move(name);
  f.email = std::move(email);
  f.phone = std::move(phone);
  return f;
}

inline std::string describe(const server::Outcome& outcome) {
  if (auto* r = std::get_if<domain::Refusal>(&outcome)) return "refused: " + r->message;
  if (auto* f = std::get_if<server::Failure>(&outcome)) return "failed: " + f->message;
  return "accepted";
}

inline server::Accepted accepted(const server::Outcome& outcome) {
  INFO(describe(outcome));
  REQUIRE(std::holds_alternative<server::Accepted>(outcome));
  return std::get<server::Accepted>(outcome);
}

inline domain::Refusal refused(const server::Outcome& outcome) {
  INFO(describe(outcome));
  REQUIRE(std::holds_alternative<domain::Refusal>(outcome));
  return std::get<domain::Refusal>(outcome);
}

// A data directory with a running service; reopen() closes and opens it again.
class Ledger {
 public:
  explicit Ledger(server::CommandServiceOptions options = {}) : options_(std::move(options)) { open(); }
  ~Ledger() { close(); }
  void open() {
    database_ = eventstore::Database::open(dir_.path() / "data", {});
    service_ = server::open_ledger(*database_, options_);
  }
  void close() {
    service_.reset();
    database_.reset();
  }
  void reopen() {
    close();
    open();
  }
  server::CommandService& service() { return *service_; }
  eventstore::Database& database() { return *database_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

  server::Accepted create(std::string name, std::optional<domain::CustomerNumber> number = {}) {
    return accepted(service_->execute(domain::CreateCustomer{person(std::move(name)), number}));
  }

 private:
  const server::CommandServiceOptions options_;
  TempDir dir_;
  std::unique_ptr<eventstore::Database> database_;
  std::unique_ptr<server::CommandService> service_;
};

// A small ledger with history and one purge. Seqs: 1-4 created Ada, Bo, Cy, Di (ids 1-4);
// 5 Bo's email; 6-7 Cy and Di deleted; 8 the purge; 9 Ed created, taking number 3.
inline void fill_with_purge(Ledger& ledger) {
  for (auto name : {"Ada", "Bo", "Cy", "Di"}) ledger.create(name);
  accepted(ledger.service().execute(domain::EditCustomer{2, {{domain::Field::kEmail, "bo@example.org"}}, {}}));
  accepted(ledger.service().execute(domain::DeleteCustomers{{3, 4}}));
  accepted(ledger.service().execute(domain::PurgeDeletedCustomers{true, 2}));
  ledger.create("Ed");
}

// Writes a row behind the ledger's back, as tampering would.
inline void put_raw(eventstore::Database& db, eventstore::Family family, const std::string& key,
                    const std::string& value) {
  REQUIRE(db.db().Put(rocksdb::WriteOptions(), db.family(family), key, value).ok());
}

}  // namespace ledger::testing
