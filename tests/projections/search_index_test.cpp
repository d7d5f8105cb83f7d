// The in-memory search index: Unicode folding, what a query finds in which list and order,
// pages, changes applied before and after the load, and numbers beyond the bitmaps' range.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "eventstore/key_store.h"
#include "projections/search_index.h"
#include "support/ledger_fixture.h"

using namespace ledger;
using domain::CustomerStatus;
using projections::SearchIndex;
using ledger::testing::person;

namespace {

constexpr std::chrono::milliseconds kNoWait{0};

domain::Customer customer(domain::CustomerId id, domain::CustomerNumber number, std::string name,
                          std::string email = {}, std::string phone = {},
                          CustomerStatus status = CustomerStatus::kActive) {
  domain::Customer c;
  c.id = id;
  c.number = number;
  c.status = status;
  c.revision = 1;
  c.fields = person(std::move(name), std::move(email), std::move(phone));
  return c;
}

// An index loaded from an empty ledger, ready for apply().
struct LoadedIndex {
  testing::Ledger ledger;
  SearchIndex index;
  LoadedIndex() { index.load(ledger.database()); }
};

std::vector<domain::CustomerNumber> found(const SearchIndex& index, std::string_view query,
                                          CustomerStatus status = CustomerStatus::kActive,
                                          domain::CustomerNumber after = 0, std::uint32_t limit = 100) {
  std::vector<domain::CustomerNumber> numbers;
  for (const auto& m : index.find(status, after, limit, query, kNoWait).matches) numbers.push_back(m.number);
  return numbers;
}

using Numbers = std::vector<domain::CustomerNumber>;

}  // namespace

TEST_CASE("search folds case for all of Unicode, not only ASCII", "[search]") {
  using projections::matches;
  CHECK(matches(person("Ångström"), "ångström"));
  CHECK(matches(person("ΣΟΦΊΑ"), "σοφία"));
  CHECK(matches(person("σοφία"), "ΣΟΦΊΑ"));
  CHECK(matches(person("Straße"), "STRASSE"));
  CHECK(matches(person("STRASSE"), "straße"));
  CHECK(matches(person("İstanbul Ltd"), "i̇stanbul"));
  // The Ångström sign (U+212B) and Å written as A + combining ring are the same letter.
  CHECK(matches(person("\u212Bngstr\u00F6m"), "ångström"));
  CHECK(matches(person("A\u030Angstr\u00F6m"), "ÅNGSTRÖM"));
  // Full-width letters are the letters.
  CHECK(matches(person("ＡＢＣ Trading"), "abc"));
  CHECK_FALSE(matches(person("Straße"), "strasze"));
  CHECK_FALSE(matches(person("Ada"), "σοφ"));
}

TEST_CASE("ASCII is folded without ICU exactly as ICU folds it", "[search]") {
  // A non-ASCII letter in front sends the text through ICU's NFKC_Casefold.
  for (int c = 1; c < 128; ++c) {
    const std::string ascii(1, static_cast<char>(c));
    INFO("byte " << c);
    CHECK(projections::fold_for_search("é" + ascii) == "é" + projections::fold_for_search(ascii));
  }
}

TEST_CASE("a query finds the customers whose name, email or phone holds it, in number order", "[search]") {
  LoadedIndex t;
  t.index.apply({{std::nullopt, customer(1, 7, "Ada Lovelace", "ada@analytical.org", "+44 20 7946 0018")},
                 {std::nullopt, customer(2, 3, "Brook Taylor", "brook@series.net", "555-0101")},
                 {std::nullopt, customer(3, 5, "Lovell Ada", "", "")},
                 {std::nullopt, customer(4, 9, "Old Love", "", "", CustomerStatus::kDeleted)}});
  CHECK(found(t.index, "LOVE") == Numbers{5, 7});
  CHECK(found(t.index, "love", CustomerStatus::kDeleted) == Numbers{9});
  CHECK(found(t.index, "series") == Numbers{3});
  CHECK(found(t.index, "5550101") == Numbers{3});  // the phone's digits
  CHECK(found(t.index, "7946 00") == Numbers{7});
  CHECK(found(t.index, "ad") == Numbers{5, 7});     // shorter than a trigram: checked one by one
  CHECK(found(t.index, "ada lovelace") == Numbers{7});
  CHECK(found(t.index, "lace ada").empty());        // trigrams all there, the text is not
  CHECK(found(t.index, "abc").empty());
  // A query spanning two fields matches neither.
  CHECK(found(t.index, "taylorbrook").empty());
  // A NUL byte is in no field: such a query finds nothing, however its pieces are cut.
  using namespace std::string_view_literals;
  CHECK(found(t.index, "ad\0lo"sv).empty());
  CHECK(found(t.index, "a\0\0"sv).empty());
  CHECK(found(t.index, "love\0ada"sv).empty());
}

TEST_CASE("pages: after and limit, with more set only when another match follows", "[search]") {
  LoadedIndex t;
  std::vector<SearchIndex::Change> changes;
  for (domain::CustomerId id = 1; id <= 25; ++id) {
    changes.push_back({std::nullopt, customer(id, id, id % 2 ? "Smith " + std::to_string(id) : "Jones")});
  }
  t.index.apply(changes);
  auto first = t.index.find(CustomerStatus::kActive, 0, 5, "smith", kNoWait);
  REQUIRE(first.matches.size() == 5);
  CHECK(first.matches.back().number == 9);
  CHECK(first.more);
  CHECK(found(t.index, "smith", CustomerStatus::kActive, 9, 5) == Numbers{11, 13, 15, 17, 19});
  auto last = t.index.find(CustomerStatus::kActive, 19, 3, "smith", kNoWait);
  CHECK(last.matches.size() == 3);
  CHECK_FALSE(last.more);
}

TEST_CASE("edits, deletes, undeletes and purges move a customer in the index", "[search]") {
  LoadedIndex t;
  const auto ada = customer(1, 1, "Ada Lovelace");
  t.index.apply({{std::nullopt, ada}});
  auto renamed = ada;
  renamed.fields.name = "Grace Hopper";
  t.index.apply({{ada, renamed}});
  CHECK(found(t.index, "love").empty());
  CHECK(found(t.index, "hopper") == Numbers{1});
  auto deleted = renamed;
  deleted.status = CustomerStatus::kDeleted;
  t.index.apply({{renamed, deleted}});
  CHECK(found(t.index, "hopper").empty());
  CHECK(found(t.index, "hopper", CustomerStatus::kDeleted) == Numbers{1});
  t.index.apply({{deleted, std::nullopt}});
  CHECK(found(t.index, "hopper", CustomerStatus::kDeleted).empty());
  CHECK(found(t.index, "ho", CustomerStatus::kDeleted).empty());
  CHECK(t.index.stats().customers == 0);
  // The number is free again; its next holder is found, the purged one never.
  t.index.apply({{std::nullopt, customer(2, 1, "Ed Newcomer")}});
  CHECK(found(t.index, "hopper").empty());
  CHECK(found(t.index, "newcomer") == Numbers{1});
}

TEST_CASE("one group's changes to the same customers apply in their order", "[search]") {
  LoadedIndex t;
  const auto ada = customer(1, 4, "Ada Lovelace");
  auto renamed = ada;
  renamed.fields.name = "Grace Hopper";
  const auto bo = customer(2, 2, "Bo Lovelace");
  auto purged_bo = bo;
  purged_bo.status = CustomerStatus::kDeleted;
  // Created, renamed, another created, deleted and purged, its number taken again: one group.
  t.index.apply({{std::nullopt, ada},
                 {ada, renamed},
                 {std::nullopt, bo},
                 {bo, purged_bo},
                 {purged_bo, std::nullopt},
                 {std::nullopt, customer(3, 2, "Cy Hopperton")},
                 {std::nullopt, customer(4, 9, "Di Lovelace")}});
  CHECK(found(t.index, "lovelace") == Numbers{9});
  CHECK(found(t.index, "hopper") == Numbers{2, 4});
  CHECK(found(t.index, "lovelace", CustomerStatus::kDeleted).empty());
  CHECK(t.index.stats().customers == 3);
  // Nothing of the replaced texts stays behind: the same postings as the survivors alone give.
  LoadedIndex survivors;
  survivors.index.apply({{std::nullopt, renamed},
                         {std::nullopt, customer(3, 2, "Cy Hopperton")},
                         {std::nullopt, customer(4, 9, "Di Lovelace")}});
  CHECK(t.index.stats().postings == survivors.index.stats().postings);
  CHECK(t.index.stats().trigrams == survivors.index.stats().trigrams);
}

TEST_CASE("a large group finds exactly what a customer-by-customer check finds", "[search]") {
  // Names over a few letters, one of them beyond ASCII, share most of their trigrams: the
  // postings a group of 3,000 adds at once must give what checking each customer gives.
  const std::vector<std::string> letters = {"a", "b", "c", "x", "y", "z", "\u00e9"};  // é: bytes above 0x7f
  auto name_of = [&](std::uint64_t i) {
    std::string name;
    for (std::uint64_t v = i * 2654435761u, n = 0; n < 6; ++n, v /= 7) name += letters[v % 7];
    return name;
  };
  LoadedIndex t;
  std::vector<SearchIndex::Change> group;
  std::vector<domain::Customer> all;
  for (std::uint64_t i = 1; i <= 3000; ++i) {
    // Numbers out of id order, some of the customers deleted.
    all.push_back(customer(i, (i * 7919) % 3001, name_of(i), {}, {},
                           i % 5 == 0 ? CustomerStatus::kDeleted : CustomerStatus::kActive));
    group.push_back({std::nullopt, all.back()});
  }
  t.index.apply(group);
  for (const std::string query : {"abc", "xyz", "cxy", "zab", "bcx", "aaa", "\u00e9a", "z\u00e9", "cba"}) {
    for (auto status : {CustomerStatus::kActive, CustomerStatus::kDeleted}) {
      Numbers expected;
      for (const auto& c : all) {
        if (c.status == status && projections::matches(c.fields, query)) expected.push_back(c.number);
      }
      std::sort(expected.begin(), expected.end());
      INFO(query);
      CHECK(found(t.index, query, status, 0, 10'000) == expected);
    }
  }
}

TEST_CASE("a group's removals of earlier customers and its additions apply in their order", "[search]") {
  LoadedIndex t;
  const auto ada = customer(1, 1, "Ada Lovelace");
  const auto bo = customer(2, 2, "Bo Lovelace");
  t.index.apply({{std::nullopt, ada}, {std::nullopt, bo}});
  // One later group: Ada renamed twice (the second name shares trigrams with the first), Bo
  // purged and his number taken by a namesake, a newcomer created and renamed.
  auto ada2 = ada;
  ada2.fields.name = "Ada Hopper";
  auto ada3 = ada;
  ada3.fields.name = "Ada Hopperton";
  auto bo_deleted = bo;
  bo_deleted.status = CustomerStatus::kDeleted;
  const auto namesake = customer(3, 2, "Bo Lovelace");
  const auto cy = customer(4, 3, "Cy Lovelace");
  auto cy2 = cy;
  cy2.fields.name = "Cy Turing";
  t.index.apply({{ada, ada2},
                 {std::nullopt, cy},
                 {ada2, ada3},
                 {bo, bo_deleted},
                 {bo_deleted, std::nullopt},
                 {std::nullopt, namesake},
                 {cy, cy2}});
  CHECK(found(t.index, "lovelace") == Numbers{2});
  CHECK(found(t.index, "hopperton") == Numbers{1});
  CHECK(found(t.index, "ada") == Numbers{1});
  CHECK(found(t.index, "turing") == Numbers{3});
  CHECK(found(t.index, "lovelace", CustomerStatus::kDeleted).empty());
  // Nothing of the replaced texts stays behind: the same postings as the survivors alone give.
  LoadedIndex survivors;
  survivors.index.apply({{std::nullopt, ada3}, {std::nullopt, namesake}, {std::nullopt, cy2}});
  CHECK(t.index.stats().postings == survivors.index.stats().postings);
  CHECK(t.index.stats().trigrams == survivors.index.stats().trigrams);
}

TEST_CASE("an edit moves only the trigrams its text gained or lost, also within one group", "[search]") {
  LoadedIndex t;
  const auto ada = customer(1, 1, "Ada Lovelace", "ada@example.org", "+44 20 7946 0001");
  const auto bo = customer(2, 2, "Bo Lovelace", "bo@example.org", "+44 20 7946 0002");
  t.index.apply({{std::nullopt, ada}, {std::nullopt, bo}});
  const auto postings = t.index.stats().postings;

  // Notes and address are not searched: such an edit leaves every posting as it was.
  auto noted = ada;
  noted.fields.notes = "prefers e-mail";
  noted.fields.address = "12 High Street";
  noted.revision = 2;
  t.index.apply({{ada, noted}});
  CHECK(t.index.stats().postings == postings);
  CHECK(found(t.index, "lovelace") == Numbers{1, 2});

  // A new phone: the old one's digits find nobody, the new one's find Ada, her name still does.
  auto rephoned = noted;
  rephoned.fields.phone = "+44 20 7946 0555";
  t.index.apply({{noted, rephoned}});
  CHECK(found(t.index, "0001").empty());
  CHECK(found(t.index, "0555") == Numbers{1});
  CHECK(found(t.index, "ada lov") == Numbers{1});

  // In one group: Ada edited three times, the last edit sharing trigrams with the first; Bo
  // edited and then deleted and purged; a newcomer created and edited.
  auto ada2 = rephoned;
  ada2.fields.email = "ada.king@example.org";
  auto ada3 = ada2;
  ada3.fields.name = "Ada King";
  auto ada4 = ada3;
  ada4.fields.email = "ada@example.org";
  auto bo2 = bo;
  bo2.fields.phone = "+44 20 7946 0777";
  auto bo_deleted = bo2;
  bo_deleted.status = CustomerStatus::kDeleted;
  const auto cy = customer(3, 3, "Cy Turing", "cy@example.org", "+44 20 7946 0003");
  auto cy2 = cy;
  cy2.fields.phone = "+44 20 7946 0888";
  t.index.apply({{rephoned, ada2},
                 {bo, bo2},
                 {std::nullopt, cy},
                 {ada2, ada3},
                 {bo2, bo_deleted},
                 {cy, cy2},
                 {ada3, ada4},
                 {bo_deleted, std::nullopt}});
  CHECK(found(t.index, "lovelace").empty());
  CHECK(found(t.index, "lovelace", CustomerStatus::kDeleted).empty());
  CHECK(found(t.index, "king") == Numbers{1});
  CHECK(found(t.index, "ada@") == Numbers{1});
  CHECK(found(t.index, "0777", CustomerStatus::kDeleted).empty());
  CHECK(found(t.index, "0888") == Numbers{3});
  CHECK(found(t.index, "0003").empty());
  // Nothing of the replaced texts stays behind: the same postings as the survivors alone give.
  LoadedIndex survivors;
  survivors.index.apply({{std::nullopt, ada4}, {std::nullopt, cy2}});
  CHECK(t.index.stats().postings == survivors.index.stats().postings);
  CHECK(t.index.stats().trigrams == survivors.index.stats().trigrams);
}

TEST_CASE("numbers beyond 2^32 - 1 are found after every smaller one", "[search]") {
  LoadedIndex t;
  const domain::CustomerNumber big = 999'999'999'999;
  t.index.apply({{std::nullopt, customer(1, big, "Zed Smith")},
                 {std::nullopt, customer(2, 4'294'967'295, "Ann Smith")},
                 {std::nullopt, customer(3, 2, "Bob Smith")}});
  CHECK(found(t.index, "smith") == Numbers{2, 4'294'967'295, big});
  CHECK(found(t.index, "smith", CustomerStatus::kActive, 4'294'967'295) == Numbers{big});
  CHECK(found(t.index, "zed") == Numbers{big});
  t.index.apply({{customer(1, big, "Zed Smith"), std::nullopt}});
  CHECK(found(t.index, "smith") == Numbers{2, 4'294'967'295});
}

TEST_CASE("changes committed while the index loads are applied over what the load read", "[search]") {
  testing::Ledger ledger;
  ledger.create("Ada Lovelace");   // number 1, id 1
  ledger.create("Bo Lovelace");    // number 2, id 2
  SearchIndex index;
  // Seen by the load too: applying them again sets the same.
  auto ada = *ledger.service().customer(1);
  auto bo = *ledger.service().customer(2);
  auto renamed = ada;
  renamed.fields.name = "Ada King";
  index.apply({{std::nullopt, ada}, {std::nullopt, bo}, {ada, renamed}});
  CHECK_FALSE(index.loaded());
  CHECK_THROWS_AS(index.find(CustomerStatus::kActive, 0, 10, "ada", kNoWait), projections::SearchNotReady);
  index.load(ledger.database());
  CHECK(found(index, "lovelace") == Numbers{2});
  CHECK(found(index, "king") == Numbers{1});
}

TEST_CASE("a customer whose keys are destroyed while the index loads is left out, and the load goes on",
          "[search][sealing]") {
  testing::Ledger ledger;
  ledger.create("Ada Lovelace");
  ledger.create("Bob Lovelace");
  // Bob's keys go after the load took its snapshot, as when a cleanup runs during start-up:
  // his state in the snapshot no longer opens.
  SearchIndex::Hooks hooks;
  hooks.after_snapshot = [&] { ledger.database().key_store().shred({2}); };
  SearchIndex index(hooks);
  index.load(ledger.database());
  CHECK(index.loaded());
  CHECK(found(index, "lovelace") == Numbers{1});
}
