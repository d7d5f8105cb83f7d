// The process's memory allocator. ledgerd and the tools that link the server layer run on
// jemalloc (Debian's libjemalloc2), linked in place of glibc's malloc: under 64 connections x 4
// commands in flight glibc's malloc took about a tenth of ledgerd's CPU, much of it merging freed
// chunks (`malloc_consolidate`) on every allocation of a capnp answer's first segment
// (docs/performance.md, "The allocator"). A sanitized or fuzz build keeps the default malloc,
// which the sanitizers replace with their own.
//
// Thread-safe.
#pragma once

#include <string>

namespace ledger::server {

// Which allocator serves malloc in this process: "jemalloc 5.3.0-0-g54eaed1d…" (checked: a
// block from malloc must show in jemalloc's own count), else "default malloc" (glibc's, or a
// sanitizer's).
std::string allocator_name();

// Hands the pages the allocator holds free back to the system (jemalloc: purges every arena's
// unused pages; otherwise glibc's malloc_trim). For after a burst that freed much memory at once.
void release_free_memory();

}  // namespace ledger::server
