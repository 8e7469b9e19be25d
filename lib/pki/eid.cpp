// EID check digits, GSMA SGP.29 §2 (ISO 7064 MOD 97-10).

#include "rsp/pki/eid.hpp"

#include <openssl/rand.h>

#include <array>

namespace rsp::pki {

bool is_decimal(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

namespace {

/// The digit string taken as a number, mod 97 (digit by digit, no overflow).
unsigned mod97(std::string_view digits) {
  unsigned r = 0;
  for (char c : digits) r = (r * 10 + static_cast<unsigned>(c - '0')) % 97;
  return r;
}

}  // namespace

bool is_valid_eid(std::string_view eid) {
  return eid.size() == kEidDigits && is_decimal(eid) && mod97(eid) == 1;
}

std::optional<std::string> eid_check_digits(std::string_view first30) {
  if (first30.size() != kEidDigits - 2 || !is_decimal(first30)) return std::nullopt;
  // Append "00", take mod 97, subtract from 98 (ISO 7064 MOD 97-10).
  const unsigned check = 98 - (mod97(first30) * 100) % 97;
  std::string out(2, '0');
  out[0] = static_cast<char>('0' + check / 10);
  out[1] = static_cast<char>('0' + check % 10);
  return out;
}

std::optional<std::string> make_eid(std::string_view prefix, std::string_view individual) {
  if (!is_decimal(prefix) || prefix.size() + individual.size() != kEidDigits - 2) return std::nullopt;
  if (!individual.empty() && !is_decimal(individual)) return std::nullopt;
  std::string first30;
  first30.reserve(kEidDigits);
  first30.append(prefix).append(individual);
  auto check = eid_check_digits(first30);
  if (!check) return std::nullopt;
  return first30 + *check;
}

std::optional<std::string> make_random_eid(std::string_view prefix) {
  if (!is_decimal(prefix) || prefix.size() > kEidDigits - 2) return std::nullopt;
  const std::size_t n = kEidDigits - 2 - prefix.size();
  std::string individual;
  individual.reserve(n);
  std::array<unsigned char, 32> rnd{};
  while (individual.size() < n) {
    if (RAND_bytes(rnd.data(), static_cast<int>(rnd.size())) != 1) return std::nullopt;
    for (unsigned char b : rnd) {
      // Rejection sampling keeps the digits uniform (250 = 25 * 10).
      if (b < 250 && individual.size() < n) individual.push_back(static_cast<char>('0' + b % 10));
    }
  }
  return make_eid(prefix, individual);
}

}  // namespace rsp::pki
