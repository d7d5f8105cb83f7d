#include "tools/admin/customer_import.h"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <unordered_map>
#include <mutex>

#include <fmt/format.h>

#include "domain/validation.h"
#include "eventstore/event_log.h"
#include "projections/queries.h"
#include "tools/admin/csv.h"

namespace ledger::tools {
namespace {

constexpr std::array<std::string_view, 7> kHeader = {"number", "name", "company", "email", "phone", "address", "notes"};

std::string lower_trimmed(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  s.erase(0, std::min(s.find_first_not_of(" \t"), s.size()));
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The answers to the rows submitted so far. The writer thread records them (the service's
// callbacks); the importing thread waits for room in its window and, at the end, for the rest.
// Waits, when it goes away, for every row it counts as unanswered, whose callback still holds it.
class ImportAnswers {
 public:
  ImportAnswers() = default;
  ~ImportAnswers() {
    std::unique_lock lock(mutex_);
    wait_until_answered(lock);
  }
  ImportAnswers(const ImportAnswers&) = delete;
  ImportAnswers& operator=(const ImportAnswers&) = delete;

  // Waits until fewer than `window` rows are unanswered, counts one more as submitted, and
  // returns the rows answered so far.
  std::uint64_t wait_for_room(std::size_t window) {
    std::unique_lock lock(mutex_);
    answered_.wait(lock, [&] { return unanswered_ < window; });
    ++unanswered_;
    return result_.created + result_.already_imported + result_.refused.size();
  }
  // On the writer thread; does not block beyond the lock.
  void record(std::size_t line, const server::Outcome& outcome) {
    std::lock_guard lock(mutex_);
    if (auto* ok = std::get_if<server::Accepted>(&outcome)) {
      ++(ok->replayed ? result_.already_imported : result_.created);
    } else if (auto* refusal = std::get_if<domain::Refusal>(&outcome)) {
      result_.refused.push_back({line, refusal->message});
    } else {
      result_.refused.push_back({line, "failed: " + std::get<server::Failure>(outcome).message});
    }
    --unanswered_;
    answered_.notify_one();
  }
  // Waits for every answer and hands over what they said; call it once.
  ImportResult wait_for_all() {
    std::unique_lock lock(mutex_);
    wait_until_answered(lock);
    return std::move(result_);
  }

 private:
  void wait_until_answered(std::unique_lock<std::mutex>& lock) {
    answered_.wait(lock, [&] { return unanswered_ == 0; });
  }

  std::mutex mutex_;
  std::condition_variable answered_;
  ImportResult result_;          // guarded by mutex_
  std::size_t unanswered_ = 0;   // guarded by mutex_
};

// `reader` null: no ledger to check held numbers against.
ImportPlan plan(const eventstore::Reader* reader, std::string_view csv, std::string_view actor) {
  ImportPlan plan;
  auto parsed = parse_csv(csv);
  if (!parsed.error.empty()) {
    plan.problems.push_back({0, parsed.error});
    return plan;
  }
  if (parsed.records.empty()) {
    plan.problems.push_back({0, "the file is empty; it needs the header number,name,company,email,phone,address,notes"});
    return plan;
  }
  auto& header = parsed.records.front();
  bool header_ok = header.fields.size() == kHeader.size();
  for (std::size_t i = 0; header_ok && i < kHeader.size(); ++i) header_ok = lower_trimmed(header.fields[i]) == kHeader[i];
  if (!header_ok) {
    plan.problems.push_back({header.line, "the header must be number,name,company,email,phone,address,notes"});
    return plan;
  }

  // Every row's key starts the same: made once, not hex-encoded again per row.
  const auto key_prefix = import_request_key(eventstore::sha256(csv), 0);
  const auto key_stem = std::string_view(key_prefix).substr(0, key_prefix.size() - 1);
  std::unordered_map<domain::CustomerNumber, std::size_t> numbers_seen;
  plan.rows.reserve(parsed.records.size() - 1);
  for (std::size_t r = 1; r < parsed.records.size(); ++r) {
    auto& record = parsed.records[r];
    auto bad = [&](std::string reason) { plan.problems.push_back({record.line, std::move(reason)}); };
    if (record.fields.size() != kHeader.size()) {
      bad(fmt::format("{} fields, expected {}", record.fields.size(), kHeader.size()));
      continue;
    }
    ImportRow row;
    row.line = record.line;
    row.request_key = fmt::format("{}{}", key_stem, record.line);
    // The parsed fields are not needed again: moved, not copied.
    for (std::size_t f = 0; f < domain::kAllFields.size(); ++f) {
      row.command.fields.get(domain::kAllFields[f]) = std::move(record.fields[f + 1]);
    }
    if (auto refusal = domain::validate_fields(row.command.fields)) {
      bad(refusal->message);
      continue;
    }
    const auto& number_text = record.fields[0];
    if (!number_text.empty()) {
      domain::CustomerNumber number = 0;
      auto [end, ec] = std::from_chars(number_text.data(), number_text.data() + number_text.size(), number);
      if (ec != std::errc() || end != number_text.data() + number_text.size()) {
        bad("number: not a whole number: \"" + number_text + "\"");
        continue;
      }
      if (auto refusal = domain::validate_number(number)) {
        bad(refusal->message);
        continue;
      }
      if (auto [it, fresh] = numbers_seen.emplace(number, record.line); !fresh) {
        bad(fmt::format("number {} is also on line {}", number, it->second));
        continue;
      }
      const bool imported_before =
          !reader || reader->get(eventstore::Family::kRequests, eventstore::request_row_key(actor, row.request_key)).has_value();
      if (!imported_before) {
        if (auto holder = projections::customer_by_number(*reader, number)) {
          bad(fmt::format("number {} is held by a{} customer", number,
                          holder->status == domain::CustomerStatus::kActive ? "n active" : " deleted"));
          continue;
        }
      }
      row.command.number = number;
    }
    plan.rows.push_back(std::move(row));
  }
  return plan;
}

}  // namespace

std::string import_request_key(const eventstore::Digest& file_sha256, std::size_t line) {
  return fmt::format("import:{}:{}", eventstore::to_hex(file_sha256).substr(0, 40), line);
}

ImportPlan plan_import(const eventstore::Reader& reader, std::string_view csv, std::string_view actor) {
  return plan(&reader, csv, actor);
}

ImportPlan plan_import(std::string_view csv) { return plan(nullptr, csv, {}); }

ImportResult run_import(server::CommandService& service, std::vector<ImportRow> rows, const std::string& actor,
                        std::size_t window, const std::function<void(std::uint64_t)>& progress) {
  window = std::max<std::size_t>(window, 1);
  ImportAnswers answers;
  std::uint64_t reported = 0;
  for (auto& row : rows) {
    const auto answered = answers.wait_for_room(window);
    if (answered != reported) progress(reported = answered);
    // Moved: a copy of each row's fields on this thread costs CPU the writer thread needs.
    service.submit(std::move(row.command), server::RequestContext{actor, std::move(row.request_key)},
                   [&answers, line = row.line](server::Outcome outcome) { answers.record(line, outcome); });
  }
  auto result = answers.wait_for_all();
  if (reported != rows.size()) progress(rows.size());
  std::stable_sort(result.refused.begin(), result.refused.end(),
                   [](const RowProblem& a, const RowProblem& b) { return a.line < b.line; });
  return result;
}

}  // namespace ledger::tools
