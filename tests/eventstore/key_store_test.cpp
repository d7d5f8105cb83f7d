// KeyStore's blocks of new customers' keys: written, synced, before they are handed out, the
// next block ahead of need, and never two keys for one id, also across a restart.
#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "eventstore/key_store.h"
#include "support/temp_dir.h"

using namespace ledger::eventstore;

namespace {

bool same(const CustomerKeys& a, const CustomerKeys& b) { return a.hmac == b.hmac && a.data == b.data; }

// Every id's stored keys are the ones handed out.
void check_stored(const KeyStore& store, const std::map<std::uint64_t, CustomerKeys>& handed) {
  std::size_t wrong = 0;
  for (const auto& [id, keys] : handed) {
    const auto stored = store.get(id);
    if (!stored || !same(*stored, keys)) ++wrong;
  }
  CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("new customers' keys are stored as handed out, block after block", "[eventstore][keys]") {
  ledger::testing::TempDir dir;
  std::map<std::uint64_t, CustomerKeys> handed;
  constexpr std::uint64_t kIds = 3 * KeyStore::kReservedKeys + 100;
  {
    auto store = KeyStore::open(dir.path(), KeyStore::Mode::kWritable);
    for (std::uint64_t id = 1; id <= kIds; ++id) handed[id] = store->for_new_customer(id);
    // Asked again, an id gets the same keys.
    CHECK(same(store->for_new_customer(kIds), handed[kIds]));
    CHECK(same(store->for_new_customer(7), handed[7]));
    check_stored(*store, handed);
  }
  auto reopened = KeyStore::open(dir.path(), KeyStore::Mode::kReadOnly);
  check_stored(*reopened, handed);
  // Distinct keys for distinct ids.
  CHECK_FALSE(same(handed[1], handed[2]));
  CHECK_FALSE(same(handed[KeyStore::kReservedKeys], handed[KeyStore::kReservedKeys + 1]));
}

TEST_CASE("a restart takes the keys an earlier process wrote ahead, and overwrites none",
          "[eventstore][keys]") {
  ledger::testing::TempDir dir;
  std::map<std::uint64_t, CustomerKeys> handed;
  const auto past_half = KeyStore::kReservedKeys / 2 + 10;
  {
    // Past half of the first block: the next one is written ahead, then the process ends.
    auto store = KeyStore::open(dir.path(), KeyStore::Mode::kWritable);
    for (std::uint64_t id = 1; id <= past_half; ++id) handed[id] = store->for_new_customer(id);
  }
  std::optional<CustomerKeys> ahead;
  {
    auto store = KeyStore::open(dir.path(), KeyStore::Mode::kWritable);
    ahead = store->get(KeyStore::kReservedKeys + 5);
    REQUIRE(ahead);
    for (std::uint64_t id = past_half + 1; id <= 3 * KeyStore::kReservedKeys; ++id) {
      handed[id] = store->for_new_customer(id);
    }
    CHECK(same(handed[KeyStore::kReservedKeys + 5], *ahead));
    check_stored(*store, handed);
  }
  auto reopened = KeyStore::open(dir.path(), KeyStore::Mode::kReadOnly);
  check_stored(*reopened, handed);
}

TEST_CASE("an id beyond the block being written ahead gets that block's stored keys", "[eventstore][keys]") {
  ledger::testing::TempDir dir;
  std::map<std::uint64_t, CustomerKeys> handed;
  {
    auto store = KeyStore::open(dir.path(), KeyStore::Mode::kWritable);
    handed[1] = store->for_new_customer(1);
    handed[KeyStore::kReservedKeys - 1] = store->for_new_customer(KeyStore::kReservedKeys - 1);  // starts the next block
    // Not the next block's first id: the block is waited for and its stored keys are used.
    const auto jump = KeyStore::kReservedKeys + 200;
    handed[jump] = store->for_new_customer(jump);
    handed[jump + 1] = store->for_new_customer(jump + 1);
    // Past every block written: a new block starts there.
    const auto far = 10 * KeyStore::kReservedKeys;
    handed[far] = store->for_new_customer(far);
    check_stored(*store, handed);
  }
  auto reopened = KeyStore::open(dir.path(), KeyStore::Mode::kReadOnly);
  check_stored(*reopened, handed);
}

TEST_CASE("many customers' keys read at once are each one's own, in the order asked", "[eventstore][keys]") {
  ledger::testing::TempDir dir;
  std::map<std::uint64_t, CustomerKeys> handed;
  auto store = KeyStore::open(dir.path(), KeyStore::Mode::kWritable);
  for (std::uint64_t id = 1; id <= 300; ++id) handed[id] = store->for_new_customer(id);
  const std::vector<std::uint64_t> asked{250, 3, 10 * KeyStore::kReservedKeys, 1, 3, 299, 77};
  auto check = [&](const KeyStore& s) {
    const auto keys = s.get_many(asked);
    REQUIRE(keys.size() == asked.size());
    for (std::size_t i = 0; i < asked.size(); ++i) {
      INFO("customer " << asked[i]);
      const auto it = handed.find(asked[i]);
      if (it == handed.end()) {
        CHECK_FALSE(keys[i].has_value());
      } else {
        REQUIRE(keys[i].has_value());
        CHECK(same(*keys[i], it->second));
      }
    }
    CHECK(s.get_many({}).empty());
  };
  check(*store);
  store.reset();
  // The same from a read-only open after a restart.
  check(*KeyStore::open(dir.path(), KeyStore::Mode::kReadOnly));
}
