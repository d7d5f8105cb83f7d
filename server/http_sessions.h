// HttpSessions: the console's logins. A login with a good token opens a session, named by a
// random id (32 bytes from OpenSSL's RAND_bytes, hex) that the browser holds in an HttpOnly
// cookie; the session holds the principal and expires a fixed time after the login. Held in
// memory only: a restart logs everyone out.
//
// Bounded: at most `max_sessions`; when full, expired sessions go first, then the oldest.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "server/tokens.h"

namespace ledger::server {

class HttpSessions {
 public:
  using Clock = std::chrono::steady_clock;

  HttpSessions(std::chrono::seconds lifetime, std::size_t max_sessions)
      : lifetime_(lifetime), max_sessions_(max_sessions) {}

  // Opens a session for `principal`; returns its id.
  std::string open(Principal principal);
  // The principal of a session that is open and not expired; nullopt otherwise.
  std::optional<Principal> find(const std::string& id);
  // Ends a session (logout); unknown ids are ignored.
  void close(const std::string& id);
  std::chrono::seconds lifetime() const { return lifetime_; }

 private:
  struct Entry {
    Principal principal;
    Clock::time_point expires;
  };
  const std::chrono::seconds lifetime_;
  const std::size_t max_sessions_;
  std::mutex mutex_;
  std::map<std::string, Entry> sessions_;  // guarded by mutex_
};

}  // namespace ledger::server
