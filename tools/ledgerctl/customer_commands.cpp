// create, edit, get and list: one customer's fields, and the lists of customers.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tools/ledgerctl/command.h"
#include "tools/ledgerctl/replies.h"

namespace ledger::ledgerctl {

namespace json = boost::json;

namespace {

// The customer fields' flags of create and edit.
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

class CreateCommand : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    auto* create = app.add_subcommand("create", "create a customer");
    fields_.add_to(create);
    create->get_option("--name")->required();
    create->add_option("--number", number_, "the number to give (default: the lowest free)");
    return create;
  }
  bool changes_ledger() const override { return true; }

  int run(const Globals& g, client::Client& session, const std::string& key) override {
    auto reply = session.command(key, [&](auto r) {
      auto c = r.initCreate();
      auto f = c.initFields();
      for (auto& [field, value] : fields_.given()) {
        switch (field) {
          case protocol::Field::NAME: f.setName(value); break;
          case protocol::Field::COMPANY: f.setCompany(value); break;
          case protocol::Field::EMAIL: f.setEmail(value); break;
          case protocol::Field::PHONE: f.setPhone(value); break;
          case protocol::Field::ADDRESS: f.setAddress(value); break;
          case protocol::Field::NOTES: f.setNotes(value); break;
        }
      }
      c.setNumber(number_.value_or(0));
    });
    return show_written(g, reply, "created");
  }

 private:
  FieldFlags fields_;
  std::optional<std::uint64_t> number_;
};

class EditCommand : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    auto* edit = app.add_subcommand("edit", "edit a customer, active or deleted");
    edit->add_option("NUMBER", number_, "customer number")->required();
    fields_.add_to(edit);
    edit->add_option("--expect-revision", expect_revision_, "refuse unless the customer is at this revision");
    return edit;
  }
  bool changes_ledger() const override { return true; }

  int run(const Globals& g, client::Client& session, const std::string& key) override {
    auto changes = fields_.given();
    if (changes.empty()) {
      std::cerr << "ledgerctl: edit needs at least one field flag (--name, --company, ...)\n";
      return kUsage;
    }
    auto reply = session.command(key, [&](auto r) {
      auto e = r.initEdit();
      e.setNumber(number_);
      auto list = e.initChanges(static_cast<unsigned>(changes.size()));
      for (unsigned i = 0; i < changes.size(); ++i) {
        list[i].setField(changes[i].first);
        list[i].setValue(changes[i].second);
      }
      e.setExpectRevision(expect_revision_.value_or(0));
    });
    return show_written(g, reply, "edited");
  }

 private:
  FieldFlags fields_;
  std::uint64_t number_ = 0;
  std::optional<std::uint64_t> expect_revision_;
};

class GetCommand : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    auto* get = app.add_subcommand("get", "show one customer");
    get->add_option("NUMBER", number_, "customer number")->required();
    return get;
  }

  int run(const Globals& g, client::Client& session, const std::string&) override {
    auto reply = session.call([&](auto r) { r.initGet().setNumber(number_); });
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

 private:
  std::uint64_t number_ = 0;
};

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

class ListCommand : public Command {
 public:
  CLI::App* add_to(CLI::App& app) override {
    auto* list = app.add_subcommand("list", "list customers (active, or deleted with --deleted)");
    list->add_flag("--deleted", deleted_, "the deleted customers (Manage Deleted Customers)");
    list->add_option("--search", search_, "only customers matching this text");
    list->add_option("--after", after_, "numbers after this one");
    list->add_option("--limit", limit_, "at most this many (1-1000)")->check(CLI::Range(1u, 1000u));
    return list;
  }

  int run(const Globals& g, client::Client& session, const std::string&) override {
    auto reply = session.call([&](auto r) {
      auto l = r.initList();
      l.setDeleted(deleted_);
      l.setAfter(after_);
      l.setLimit(limit_);
      l.setSearch(search_);
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

 private:
  bool deleted_ = false;
  std::string search_;
  std::uint64_t after_ = 0;
  std::uint32_t limit_ = 100;
};

}  // namespace

std::unique_ptr<Command> make_create_command() { return std::make_unique<CreateCommand>(); }
std::unique_ptr<Command> make_edit_command() { return std::make_unique<EditCommand>(); }
std::unique_ptr<Command> make_get_command() { return std::make_unique<GetCommand>(); }
std::unique_ptr<Command> make_list_command() { return std::make_unique<ListCommand>(); }

}  // namespace ledger::ledgerctl
