#pragma once
/// Data Grouping Identifiers (GP Card Specification v2.3 §11.11.2.2): a
/// 2-byte DGI, its length in one byte ('00'-'FE') or 'FF' and two bytes, the
/// value. The STORE DATA data fields in DGI format (P1 b5-b4 '01') share
/// these: the ISD-R platform commands and the ES8 key establishment.

#include <cstdint>
#include <optional>

#include "rsp/common/bytes.hpp"

namespace rsp::m2m {

struct DgiElement {
  std::uint16_t id = 0;
  ByteView value;
  std::size_t size = 0;  ///< of the whole element, header included
};

/// The DGI at the start of `data` (more may follow); nullopt when it does not
/// fit or uses the long length form where the short one serves.
std::optional<DgiElement> next_dgi(ByteView data);
Bytes encode_dgi(std::uint16_t id, ByteView value);

}  // namespace rsp::m2m
