// A self-signed certificate for localhost, for tests of ledgerd with TLS. For tests only.
#pragma once

#include <cstdlib>
#include <string>

namespace ledger::testing {

// Writes a certificate for CN=localhost and its key, made by the openssl tool; false when the
// tool fails.
inline bool make_certificate(const std::string& cert, const std::string& key) {
  const std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                              "-subj /CN=localhost -days 1 -keyout '" + key + "' -out '" + cert +
                              "' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

}  // namespace ledger::testing
