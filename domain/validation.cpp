#include "domain/validation.h"

#include <string>

namespace ledger::domain {
namespace {

Refusal invalid(Field field, std::string_view reason) {
  std::string name(field_name(field));
  return Refusal{RefusalCode::kInvalidField, name + ": " + std::string(reason), name, {}};
}

// Decodes the code point at value[pos] and moves pos past it; nullopt for anything that is not
// well-formed UTF-8 (RFC 3629): stray continuation bytes, overlong forms, surrogates, code points
// above U+10FFFF, and sequences cut short. The second-byte ranges below are the table in
// Unicode §3.9 (Table 3-7); they exclude overlongs and surrogates without decoding first.
std::optional<char32_t> next_code_point(std::string_view value, std::size_t& pos) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(value[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  char32_t code_point = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;   // below: overlong
    if (lead == 0xED) high = 0x9F;  // above: UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // below: overlong
    if (lead == 0xF4) high = 0x8F;  // above: beyond U+10FFFF
  } else {
    return std::nullopt;  // a continuation byte, C0/C1 (overlong), or F5..FF
  }
  if (value.size() - pos < length) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    const unsigned char min = i == 1 ? low : 0x80;
    const unsigned char max = i == 1 ? high : 0xBF;
    if (next < min || next > max) return std::nullopt;
    code_point = (code_point << 6) | (next & 0x3F);
  }
  pos += length;
  return code_point;
}

bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

// Unicode's White_Space property, less the controls that are refused before this is asked.
bool is_space(char32_t c) {
  return c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// A name made only of zero-width characters shows as blank in every list, like one of spaces.
bool is_blank(char32_t c) {
  return is_space(c) || (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF;
}

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

bool allows_newlines(Field field) { return field == Field::kAddress || field == Field::kNotes; }

std::optional<Refusal> check_email(std::string_view value) {
  constexpr std::string_view kShape = "must look like local@domain";
  const auto at = value.find('@');
  if (at == std::string_view::npos || value.find('@', at + 1) != std::string_view::npos) {
    return invalid(Field::kEmail, std::string(kShape) + " (exactly one '@')");
  }
  const auto local = value.substr(0, at);
  const auto domain = value.substr(at + 1);
  if (local.empty()) {
    return invalid(Field::kEmail, std::string(kShape) + " (nothing before the '@')");
  }
  if (domain.empty()) {
    return invalid(Field::kEmail, std::string(kShape) + " (nothing after the '@')");
  }
  if (domain.front() == '.' || domain.back() == '.') {
    return invalid(Field::kEmail,
                   std::string(kShape) + " (the domain must not start or end with '.')");
  }
  for (std::size_t pos = 0; pos < value.size();) {
    // The value was checked to be valid UTF-8 before this is called.
    if (is_space(*next_code_point(value, pos))) {
      return invalid(Field::kEmail, std::string(kShape) + " (no spaces)");
    }
  }
  return std::nullopt;
}

std::optional<Refusal> check_phone(std::string_view value) {
  constexpr std::string_view kPunctuation = "+()-. ";
  bool has_digit = false;
  for (char c : value) {
    if (is_ascii_digit(c)) {
      has_digit = true;
    } else if (kPunctuation.find(c) == std::string_view::npos) {
      return invalid(Field::kPhone, "only digits, spaces and + ( ) - . are allowed");
    }
  }
  if (!has_digit) return invalid(Field::kPhone, "needs at least one digit");
  return std::nullopt;
}

}  // namespace

std::optional<Refusal> validate_field(Field field, std::string_view value) {
  switch (field) {
    case Field::kName:
    case Field::kCompany:
    case Field::kEmail:
    case Field::kPhone:
    case Field::kAddress:
    case Field::kNotes: break;
    default: return Refusal{RefusalCode::kInvalidField, "field: unknown field", "field", {}};
  }

  constexpr std::string_view kNameRule = "required, 1-200 characters";
  if (field == Field::kName && value.empty()) return invalid(field, kNameRule);
  if (field != Field::kName) {
    const std::size_t limit = field == Field::kNotes ? kMaxNotesBytes : kMaxFieldBytes;
    if (value.size() > limit) {
      return invalid(field, "at most " + std::to_string(limit) + " bytes (got " +
                                std::to_string(value.size()) + ")");
    }
  }

  std::size_t characters = 0;
  bool blank = true;
  for (std::size_t pos = 0; pos < value.size();) {
    // Most fields are ASCII: a byte below 0x80 is its own code point.
    const auto byte = static_cast<unsigned char>(value[pos]);
    const auto c = byte < 0x80 ? std::optional<char32_t>(byte) : next_code_point(value, pos);
    if (byte < 0x80) ++pos;
    if (!c) return invalid(field, "must be valid UTF-8");
    if (is_control(*c) && !(*c == '\n' && allows_newlines(field))) {
      return invalid(field, allows_newlines(field)
                                ? "no control characters; line breaks are allowed, but tabs "
                                  "and carriage returns are not"
                                : "no control characters (line breaks, tabs and carriage "
                                  "returns included)");
    }
    ++characters;
    blank = blank && is_blank(*c);
  }

  switch (field) {
    case Field::kName:
      if (characters > kMaxNameCharacters) {
        return invalid(field, std::string(kNameRule) + " (got " + std::to_string(characters) + ")");
      }
      if (blank) return invalid(field, std::string(kNameRule) + ", not only spaces");
      return std::nullopt;
    case Field::kEmail: return value.empty() ? std::nullopt : check_email(value);
    case Field::kPhone: return value.empty() ? std::nullopt : check_phone(value);
    default: return std::nullopt;
  }
}

std::optional<Refusal> validate_fields(const CustomerFields& fields) {
  for (Field field : kAllFields) {
    if (auto refusal = validate_field(field, fields.get(field))) return refusal;
  }
  return std::nullopt;
}

std::optional<Refusal> validate_number(CustomerNumber number) {
  if (number >= kFirstCustomerNumber && number <= kMaxCustomerNumber) return std::nullopt;
  return Refusal{RefusalCode::kInvalidField,
                 "number: must be from " + std::to_string(kFirstCustomerNumber) + " to " +
                     std::to_string(kMaxCustomerNumber) + " (got " + std::to_string(number) + ")",
                 "number",
                 {}};
}

}  // namespace ledger::domain
