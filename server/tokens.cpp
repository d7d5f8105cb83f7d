#include "server/tokens.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "eventstore/crypto.h"

namespace ledger::server {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kClerk: return "clerk";
    case Role::kAuditor: return "auditor";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "clerk") return Role::kClerk;
  if (name == "auditor") return Role::kAuditor;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool role_allows(Role role, protocol::Request::Which request) {
  using W = protocol::Request::Which;
  if (request == W::HELLO || role == Role::kAdmin) return true;
  switch (request) {
    case W::CREATE:
    case W::EDIT:
    case W::DELETE:
    case W::UNDELETE:
      return role == Role::kClerk;
    case W::GET:
    case W::LIST:
    case W::HISTORY:
      return true;
    case W::STATS:
    case W::SUBSCRIBE:
    case W::ERASURE_REPORT:
      return role == Role::kAuditor;
    default:
      return false;  // purge, and kinds this server does not know
  }
}

TokenTable TokenTable::open_access() {
  TokenTable table;
  table.open_ = true;
  return table;
}

namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

domain::Result<TokenTable> TokenTable::load(const std::filesystem::path& file, std::vector<std::string>* warnings) {
  const auto name_of_file = file.string();
  // The mode is checked on the descriptor that is read, so the file cannot be swapped between.
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return domain::Error{"cannot read tokens file " + name_of_file + ": " + std::strerror(errno)};
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    const int error = errno;
    ::close(fd);
    return domain::Error{"cannot read tokens file " + name_of_file + ": " + std::strerror(error)};
  }
  if ((status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    ::close(fd);
    return domain::Error{"tokens file " + name_of_file + " is writable by " +
                         ((status.st_mode & S_IWOTH) != 0 ? "everyone" : "its group") + " (mode " +
                         octal_mode(status.st_mode) + "), so anyone who can write it can add an admin; run chmod go-w " +
                         name_of_file + " and check its lines"};
  }
  if ((status.st_mode & S_IROTH) != 0 && warnings != nullptr) {
    warnings->push_back("tokens file " + name_of_file + " is readable by everyone (mode " + octal_mode(status.st_mode) +
                        "), who can then try to guess tokens from their hashes; run chmod o-r " + name_of_file);
  }
  std::string text;
  std::array<char, 4096> chunk;
  for (;;) {
    const auto n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return domain::Error{"cannot read tokens file " + name_of_file + ": " + std::strerror(error)};
    }
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);

  const auto empty_token_hash = token_hash_hex("");
  TokenTable table;
  std::vector<int> line_of_entry;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string name, role, hash, extra;
    if (!(words >> name) || name.front() == '#') continue;
    const auto where = name_of_file + ":" + std::to_string(number);
    if (!(words >> role >> hash) || (words >> extra)) {
      return domain::Error{where + ": expected NAME ROLE SHA256HEX"};
    }
    auto parsed = parse_role(role);
    if (!parsed) return domain::Error{where + ": role must be clerk, auditor or admin"};
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      return domain::Error{where + ": the hash must be 64 hex digits (ledgerctl hash-token prints it)"};
    }
    for (auto& c : hash) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (hash == empty_token_hash) {
      return domain::Error{where + ": " + name + " has the hash of the empty token, which would let in a client " +
                           "that gives no token; give " + name + " a token of its own (ledgerctl hash-token prints its hash)"};
    }
    for (std::size_t i = 0; i < table.entries_.size(); ++i) {
      if (table.entries_[i].hash_hex != hash) continue;
      const auto& first = table.entries_[i].principal;
      return domain::Error{where + ": " + name + " (" + std::string(role_name(*parsed)) + ") has the same hash as line " +
                           std::to_string(line_of_entry[i]) + ", " + first.name + " (" +
                           std::string(role_name(first.role)) + "); one token cannot be two principals: give each " +
                           "line a token of its own"};
    }
    table.entries_.push_back({{name, *parsed}, hash});
    line_of_entry.push_back(number);
  }
  if (table.entries_.empty()) return domain::Error{"tokens file " + name_of_file + " names no principal"};
  return table;
}

std::optional<Principal> TokenTable::authenticate(std::string_view token) const {
  if (open_) return Principal{"local", Role::kAdmin};
  const auto hash = token_hash_hex(token);
  std::optional<Principal> found;
  for (const auto& entry : entries_) {
    if (CRYPTO_memcmp(entry.hash_hex.data(), hash.data(), hash.size()) == 0) found = entry.principal;
  }
  return found;
}

}  // namespace ledger::server
