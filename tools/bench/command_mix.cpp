#include "tools/bench/command_mix.h"

#include <charconv>
#include <random>
#include <sstream>

#include <fmt/format.h>

namespace ledger::bench {

std::optional<CommandMix> parse_mix(const std::string& text) {
  CommandMix mix{0, 0, 0, 0};
  std::istringstream parts(text);
  std::string part;
  while (std::getline(parts, part, ',')) {
    const auto eq = part.find('=');
    if (eq == std::string::npos) return std::nullopt;
    const auto name = part.substr(0, eq);
    unsigned weight = 0;
    const auto* first = part.data() + eq + 1;
    const auto* last = part.data() + part.size();
    auto [end, error] = std::from_chars(first, last, weight);
    if (error != std::errc() || end != last || first == last) return std::nullopt;
    if (name == "create") {
      mix.create = weight;
    } else if (name == "edit") {
      mix.edit = weight;
    } else if (name == "delete") {
      mix.del = weight;
    } else if (name == "undelete") {
      mix.undelete = weight;
    } else {
      return std::nullopt;
    }
  }
  if (mix.total() == 0) return std::nullopt;
  return mix;
}

std::string to_string(const CommandMix& mix) {
  return fmt::format("create={},edit={},delete={},undelete={}", mix.create, mix.edit, mix.del, mix.undelete);
}

const char* kind_name(CommandKind kind) {
  switch (kind) {
    case CommandKind::kCreate: return "create";
    case CommandKind::kEdit: return "edit";
    case CommandKind::kDelete: return "delete";
    case CommandKind::kUndelete: return "undelete";
  }
  return "?";
}

MixedWorkload::MixedWorkload(const CommandMix& mix, std::uint32_t writer, std::uint64_t seed)
    : mix_(mix), writer_(writer), random_(seed ^ (std::uint64_t{writer} * 0x9e3779b97f4a7c15ULL)) {}

domain::CustomerNumber MixedWorkload::take(std::vector<domain::CustomerNumber>& from) {
  std::uniform_int_distribution<std::size_t> pick(0, from.size() - 1);
  const auto i = pick(random_);
  const auto number = from[i];
  from[i] = from.back();
  from.pop_back();
  return number;
}

namespace {

// Drawn once per process: request keys of one run never meet those of an earlier run against the
// same ledgerd, which would answer them from their first outcomes without writing anything.
std::uint64_t run_tag() {
  static const std::uint64_t tag = (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  return tag;
}

}  // namespace

std::string MixedWorkload::next_request_key() { return fmt::format("bench-{:016x}-{}-{}", run_tag(), writer_, sent_); }

MixedWorkload::Next MixedWorkload::next() {
  ++sent_;
  std::uniform_int_distribution<unsigned> roll(0, mix_.total() - 1);
  auto r = roll(random_);
  auto kind = CommandKind::kCreate;
  if (r < mix_.create) {
    kind = CommandKind::kCreate;
  } else if ((r -= mix_.create) < mix_.edit) {
    kind = CommandKind::kEdit;
  } else if ((r -= mix_.edit) < mix_.del) {
    kind = CommandKind::kDelete;
  } else {
    kind = CommandKind::kUndelete;
  }
  if ((kind == CommandKind::kEdit || kind == CommandKind::kDelete) && active_.empty()) kind = CommandKind::kCreate;
  if (kind == CommandKind::kUndelete && deleted_.empty()) kind = CommandKind::kCreate;

  // Field sizes of an ordinary office record: about 150 bytes in all.
  const auto tag = fmt::format("{}-{}", writer_, sent_);
  switch (kind) {
    case CommandKind::kCreate: {
      domain::CustomerFields f;
      f.name = "Customer " + tag;
      f.company = "Company " + tag + " Ltd";
      f.email = "customer." + tag + "@example.org";
      f.phone = fmt::format("+44 20 {:04} {:04}", writer_ % 10'000, sent_ % 10'000);
      f.address = tag + " High Street, London";
      f.notes = "prefers e-mail";
      return {kind, domain::CreateCustomer{std::move(f), std::nullopt}, 0};
    }
    case CommandKind::kEdit: {
      const auto number = take(active_);
      domain::EditCustomer edit;
      edit.number = number;
      edit.changes = {{domain::Field::kNotes, "called on " + tag},
                      {domain::Field::kPhone, fmt::format("+44 20 {:04} {:04}", sent_ % 10'000, writer_ % 10'000)}};
      return {kind, std::move(edit), number};
    }
    case CommandKind::kDelete: {
      const auto number = take(active_);
      return {kind, domain::DeleteCustomers{{number}}, number};
    }
    case CommandKind::kUndelete: {
      const auto number = take(deleted_);
      return {kind, domain::UndeleteCustomers{{number}}, number};
    }
  }
  return {kind, domain::CreateCustomer{}, 0};
}

void MixedWorkload::accepted(const Next& sent, bool accepted, domain::CustomerNumber created) {
  switch (sent.kind) {
    case CommandKind::kCreate:
      if (accepted) active_.push_back(created);
      break;
    case CommandKind::kEdit:
      active_.push_back(sent.number);
      break;
    case CommandKind::kDelete:
      (accepted ? deleted_ : active_).push_back(sent.number);
      break;
    case CommandKind::kUndelete:
      (accepted ? active_ : deleted_).push_back(sent.number);
      break;
  }
}

}  // namespace ledger::bench
