// The allocator the ledger's programs run on (server/allocator.h): jemalloc serves malloc in
// every program that links the server layer (this test binary among them), except in the
// sanitized build, and release_free_memory() gives its free pages back to the system.
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "server/allocator.h"
#include "support/process_memory.h"

TEST_CASE("malloc is served by jemalloc outside the sanitized build", "[allocator]") {
  const auto name = ledger::server::allocator_name();
  INFO(name);
#ifdef LEDGER_EXPECT_JEMALLOC
  CHECK(name.rfind("jemalloc", 0) == 0);
#else
  CHECK(name == "default malloc");
#endif
}

#ifdef LEDGER_EXPECT_JEMALLOC
// Not in the sanitized build: AddressSanitizer holds freed blocks in its quarantine.
TEST_CASE("memory freed in many small blocks goes back to the system on release", "[allocator]") {
  constexpr std::size_t kBlock = 64 << 10;
  constexpr std::size_t kTotal = 128 << 20;
  std::vector<char*> blocks;
  for (std::size_t i = 0; i < kTotal / kBlock; ++i) {
    auto* block = static_cast<char*>(std::malloc(kBlock));
    REQUIRE(block != nullptr);
    for (std::size_t at = 0; at < kBlock; at += 4096) block[at] = 1;  // resident
    blocks.push_back(block);
  }
  const auto peak = ledger::testing::resident_kib(getpid()) * 1024;
  REQUIRE(peak != 0);
  for (auto* block : blocks) std::free(block);
  ledger::server::release_free_memory();
  const auto after = ledger::testing::resident_kib(getpid()) * 1024;
  INFO("resident " << (peak >> 20) << " MiB with the blocks, " << (after >> 20) << " MiB after the release");
  CHECK(after + kTotal * 3 / 4 <= peak);
}
#endif
