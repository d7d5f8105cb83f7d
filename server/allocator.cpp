#include "server/allocator.h"

#ifdef LEDGER_JEMALLOC
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <jemalloc/jemalloc.h>
#else
#include <malloc.h>
#endif

namespace ledger::server {

#ifdef LEDGER_JEMALLOC

namespace {

constexpr std::size_t kProbeBytes = 4096;

// What this thread has allocated through jemalloc so far; 0 when it cannot say.
std::uint64_t allocated_here() {
  std::uint64_t bytes = 0;
  std::size_t size = sizeof(bytes);
  return mallctl("thread.allocated", &bytes, &size, nullptr, 0) == 0 ? bytes : 0;
}

}  // namespace

std::string allocator_name() {
  // Linked is not enough: were libc's malloc found first, jemalloc would serve only its own
  // functions. A block from malloc must show in jemalloc's count.
  const auto before = allocated_here();
  // volatile: a block nobody reads could be elided with its malloc and free.
  char* volatile block = static_cast<char*>(std::malloc(kProbeBytes));
  const auto after = allocated_here();
  std::free(block);
  if (after < before + kProbeBytes) return "default malloc (jemalloc is linked but does not serve malloc)";
  const char* version = nullptr;
  std::size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) return "jemalloc";
  return std::string("jemalloc ") + version;
}

void release_free_memory() {
  char purge[64];
  std::snprintf(purge, sizeof(purge), "arena.%u.purge", static_cast<unsigned>(MALLCTL_ARENAS_ALL));
  // This thread's cache goes back to the arenas first, so that its free pages are purged too.
  mallctl("thread.tcache.flush", nullptr, nullptr, nullptr, 0);
  mallctl(purge, nullptr, nullptr, nullptr, 0);
}

#else

std::string allocator_name() { return "default malloc"; }

void release_free_memory() { malloc_trim(0); }

#endif

}  // namespace ledger::server
