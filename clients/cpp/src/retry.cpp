#include "ledger/client/retry.h"

#include <algorithm>

namespace ledger::client {

std::chrono::milliseconds RetryPolicy::pause_before(int attempt) const {
  auto pause = first_pause;
  for (int i = 2; i < attempt && pause < max_pause; ++i) pause *= 2;
  return std::min(pause, max_pause);
}

}  // namespace ledger::client
