#pragma once
/// Arithmetic modulo a 256-bit odd modulus m > 2^255 in Montgomery form
/// (R = 2^256), four 64-bit limbs, least significant first. Internal to the
/// crypto component.
///
/// Every function runs in time independent of the values it is given (no
/// branch or memory index depends on them), so secret scalars and points may
/// pass through. Exponents given to pow() are public.

#include <array>
#include <cstddef>
#include <cstdint>

namespace rsp::crypto::detail {

__extension__ typedef unsigned __int128 U128;
using Limbs = std::array<std::uint64_t, 4>;

/// A modulus with its Montgomery constants, all computed at compile time.
struct Modulus {
  Limbs m;
  std::uint64_t m0inv;  ///< -m^-1 mod 2^64
  Limbs one;            ///< R mod m: 1 in Montgomery form
  Limbs r2;             ///< R^2 mod m: converts into Montgomery form
  Limbs m_minus_2;      ///< the exponent of an inverse (Fermat; m is prime)
};

/// All ones when `a` is zero, else zero.
constexpr std::uint64_t mask_if_zero(std::uint64_t a) { return ((a | (0 - a)) >> 63) - 1; }

/// out = a + b over four limbs; the carry out (0 or 1).
constexpr std::uint64_t add_limbs(const Limbs& a, const Limbs& b, Limbs& out) {
  U128 c = 0;
  for (std::size_t j = 0; j < 4; ++j) {
    c += static_cast<U128>(a[j]) + b[j];
    out[j] = static_cast<std::uint64_t>(c);
    c >>= 64;
  }
  return static_cast<std::uint64_t>(c);
}

/// out = a - b over four limbs; the borrow out (0 or 1).
constexpr std::uint64_t sub_limbs(const Limbs& a, const Limbs& b, Limbs& out) {
  std::uint64_t borrow = 0;
  for (std::size_t j = 0; j < 4; ++j) {
    const U128 d = static_cast<U128>(a[j]) - b[j] - borrow;
    out[j] = static_cast<std::uint64_t>(d);
    borrow = static_cast<std::uint64_t>(d >> 64) & 1;
  }
  return borrow;
}

/// t + top·2^256 (below 2m, so top is 0 or 1) reduced to [0, m).
constexpr Limbs reduce_once(const Limbs& t, std::uint64_t top, const Limbs& m) {
  Limbs s{};
  const std::uint64_t borrow = sub_limbs(t, m, s);
  const std::uint64_t keep_t = 0 - (static_cast<std::uint64_t>((static_cast<U128>(top) - borrow) >> 64) & 1);  // t < m
  Limbs r{};
  for (std::size_t j = 0; j < 4; ++j) r[j] = (t[j] & keep_t) | (s[j] & ~keep_t);
  return r;
}

/// (a + b) mod m, for a, b < m.
constexpr Limbs add(const Limbs& a, const Limbs& b, const Limbs& m) {
  Limbs t{};
  const std::uint64_t carry = add_limbs(a, b, t);
  return reduce_once(t, carry, m);
}

/// (a - b) mod m, for a, b < m.
constexpr Limbs sub(const Limbs& a, const Limbs& b, const Limbs& m) {
  Limbs d{};
  const std::uint64_t add_m = 0 - sub_limbs(a, b, d);
  const Limbs masked{m[0] & add_m, m[1] & add_m, m[2] & add_m, m[3] & add_m};
  add_limbs(d, masked, d);  // the carry out cancels the borrow
  return d;
}

/// a * b * R^-1 mod m (coarsely integrated operand scanning).
constexpr Limbs mul(const Limbs& a, const Limbs& b, const Modulus& M) {
  std::uint64_t t[6]{};
  for (std::size_t i = 0; i < 4; ++i) {
    U128 c = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      c += static_cast<U128>(a[j]) * b[i] + t[j];
      t[j] = static_cast<std::uint64_t>(c);
      c >>= 64;
    }
    c += t[4];
    t[4] = static_cast<std::uint64_t>(c);
    t[5] = static_cast<std::uint64_t>(c >> 64);
    const std::uint64_t q = t[0] * M.m0inv;
    c = static_cast<U128>(q) * M.m[0] + t[0];
    c >>= 64;
    for (std::size_t j = 1; j < 4; ++j) {
      c += static_cast<U128>(q) * M.m[j] + t[j];
      t[j - 1] = static_cast<std::uint64_t>(c);
      c >>= 64;
    }
    c += t[4];
    t[3] = static_cast<std::uint64_t>(c);
    t[4] = t[5] + static_cast<std::uint64_t>(c >> 64);
  }
  return reduce_once(Limbs{t[0], t[1], t[2], t[3]}, t[4], M.m);
}

constexpr Limbs to_mont(const Limbs& a, const Modulus& M) { return mul(a, M.r2, M); }
constexpr Limbs from_mont(const Limbs& a, const Modulus& M) { return mul(a, Limbs{1, 0, 0, 0}, M); }

/// a^e in Montgomery form (a in Montgomery form); `e` is public.
constexpr Limbs pow(const Limbs& a, const Limbs& e, const Modulus& M) {
  Limbs r = M.one;
  for (int bit = 255; bit >= 0; --bit) {
    r = mul(r, r, M);
    if ((e[static_cast<std::size_t>(bit) / 64] >> (bit % 64)) & 1) r = mul(r, a, M);
  }
  return r;
}

/// a^-1 in Montgomery form; 0 for 0.
constexpr Limbs inverse(const Limbs& a, const Modulus& M) { return pow(a, M.m_minus_2, M); }

constexpr std::uint64_t is_zero_mask(const Limbs& a) { return mask_if_zero(a[0] | a[1] | a[2] | a[3]); }
constexpr bool is_zero(const Limbs& a) { return is_zero_mask(a) != 0; }
constexpr bool equal(const Limbs& a, const Limbs& b) {
  return mask_if_zero((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) != 0;
}

/// a < b as integers.
constexpr bool less(const Limbs& a, const Limbs& b) {
  Limbs ignored{};
  return sub_limbs(a, b, ignored) != 0;
}

/// `mask` all ones selects `a`, zero selects `b`.
constexpr Limbs select(std::uint64_t mask, const Limbs& a, const Limbs& b) {
  return {(a[0] & mask) | (b[0] & ~mask), (a[1] & mask) | (b[1] & ~mask), (a[2] & mask) | (b[2] & ~mask),
          (a[3] & mask) | (b[3] & ~mask)};
}

/// 32 big-endian bytes -> limbs (any value below 2^256).
constexpr Limbs from_be(const std::uint8_t* be) {
  Limbs r{};
  for (std::size_t i = 0; i < 32; ++i) r[3 - i / 8] = (r[3 - i / 8] << 8) | be[i];
  return r;
}

constexpr void to_be(const Limbs& a, std::uint8_t* be) {
  for (std::size_t i = 0; i < 32; ++i) be[i] = static_cast<std::uint8_t>(a[3 - i / 8] >> (8 * (7 - i % 8)));
}

/// The Montgomery constants of `m` (odd, above 2^255).
constexpr Modulus make_modulus(const Limbs& m) {
  Modulus M{};
  M.m = m;
  std::uint64_t inv = 1;  // Newton: each step doubles the correct low bits of m^-1
  for (int i = 0; i < 6; ++i) inv *= 2 - m[0] * inv;
  M.m0inv = 0 - inv;
  // 2^256 - m is already below m, since m > 2^255.
  sub_limbs(Limbs{}, m, M.one);
  Limbs r2 = M.one;
  for (int i = 0; i < 256; ++i) r2 = add(r2, r2, m);  // R * 2^256 = R^2 mod m
  M.r2 = r2;
  sub_limbs(m, Limbs{2, 0, 0, 0}, M.m_minus_2);
  return M;
}

}  // namespace rsp::crypto::detail
