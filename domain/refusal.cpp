#include "domain/refusal.h"

namespace ledger::domain {

std::string_view refusal_code_name(RefusalCode code) {
  switch (code) {
    case RefusalCode::kNumberHeldByActive: return "number_held_by_active";
    case RefusalCode::kNumberHeldByDeleted: return "number_held_by_deleted";
    case RefusalCode::kNotFound: return "not_found";
    case RefusalCode::kAlreadyDeleted: return "already_deleted";
    case RefusalCode::kNotDeleted: return "not_deleted";
    case RefusalCode::kRevisionConflict: return "revision_conflict";
    case RefusalCode::kInvalidField: return "invalid_field";
    case RefusalCode::kNothingToDo: return "nothing_to_do";
    case RefusalCode::kNotConfirmed: return "not_confirmed";
    case RefusalCode::kCountMismatch: return "count_mismatch";
    case RefusalCode::kRequestKeyReused: return "request_key_reused";
  }
  // Only a code received from a newer peer, or a cast from an unchecked integer, lands here.
  return "unknown_refusal";
}

}  // namespace ledger::domain
