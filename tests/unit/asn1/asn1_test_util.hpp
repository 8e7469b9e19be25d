#pragma once
// Round-trip checks shared by the asn1 tests.

#include <gtest/gtest.h>

#include <string>

#include "rsp/asn1/registry.hpp"
#include "rsp/asn1/runtime.hpp"
#include "rsp/common/bytes.hpp"

namespace rsp::asn1::test {

inline Bytes hex(std::string_view h) {
  auto b = from_hex(h);
  EXPECT_TRUE(b.has_value()) << h;
  return b.value_or(Bytes{});
}

/// value -> DER -> value is the identity, DER -> value -> DER gives the same
/// bytes, and the type table reaches the type by name. Returns the DER.
template <class T>
Bytes roundtrip(const T& value, const char* unit = "sgp22") {
  Bytes der = encode(value);
  auto back = decode<T>(der);
  EXPECT_TRUE(back.has_value()) << Codec<T>::kName << ": " << (back ? "" : back.error().to_string());
  if (!back) return der;
  EXPECT_TRUE(*back == value) << Codec<T>::kName << "\n  " << to_json(value).dump() << "\n  "
                              << to_json(*back).dump();
  EXPECT_EQ(to_hex(encode(*back)), to_hex(der));
  const TypeEntry* entry = find_type(std::string(unit) + "." + Codec<T>::kName);
  EXPECT_NE(entry, nullptr) << Codec<T>::kName;
  if (entry) {
    auto again = entry->reencode(der, {});
    EXPECT_TRUE(again.has_value());
    if (again) {
      EXPECT_EQ(to_hex(*again), to_hex(der));
    }
    auto json = entry->to_json(der, {}, nullptr);
    EXPECT_TRUE(json.has_value());
  }
  return der;
}

/// Bytes from a trace -> value -> the same bytes.
template <class T>
T reencodes(const Bytes& der) {
  auto v = decode<T>(der);
  EXPECT_TRUE(v.has_value()) << Codec<T>::kName << ": " << (v ? "" : v.error().to_string());
  if (!v) return T{};
  EXPECT_EQ(to_hex(encode(*v)), to_hex(der));
  return *v;
}

inline RawElement fake_certificate() {
  // Opaque: only the outer SEQUENCE tag matters to the SGP.22 codecs.
  return RawElement{hex("3006020101020102")};
}

}  // namespace rsp::asn1::test
