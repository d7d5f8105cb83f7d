#include "server/http_sessions.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/rand.h>

namespace ledger::server {

std::string HttpSessions::open(Principal principal) {
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("no random bytes for a session id");
  }
  std::string id;
  for (auto b : random) id += fmt::format("{:02x}", b);
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= max_sessions_) {
    std::erase_if(sessions_, [&](const auto& s) { return s.second.expires <= now; });
  }
  if (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                   [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
    sessions_.erase(oldest);
  }
  sessions_[id] = Entry{std::move(principal), now + lifetime_};
  return id;
}

std::optional<Principal> HttpSessions::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= Clock::now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second.principal;
}

void HttpSessions::close(const std::string& id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

}  // namespace ledger::server
