#pragma once
/// The order of an eUICC's notifications (SGP.02 §4.1.1.11: the sequence
/// number the eUICC gives each, one counter per card).
///
/// The counter is a uint32 that wraps (euicc_m2m's next_seq_number), so two
/// numbers are compared as serial numbers (RFC 1982 §3.2, SERIAL_BITS 32):
/// `a` comes after `b` when it is ahead by less than half the space. A card
/// never has that many notifications between two the SM-SR sees: the
/// ones it keeps are re-sent, in order, until the SM-SR confirms them. Two
/// numbers exactly half the space apart (which RFC 1982 leaves undefined)
/// count as not after each other either way: the later one is taken as a
/// repeat, the guard's safe side is never an applied notification that is
/// older.

#include <cstdint>
#include <optional>
#include <string>

namespace rsp::smsr {

/// True when sequence number `a` comes after `b` (not equal).
constexpr bool sequence_after(std::uint32_t a, std::uint32_t b) {
  return a != b && static_cast<std::uint32_t>(a - b) < 0x8000'0000u;
}

/// The later of `a` and `b` (either when equal or none is; `b` when `a`
/// is nullopt).
constexpr std::optional<std::uint32_t> later_sequence(std::optional<std::uint32_t> a, std::uint32_t b) {
  return a && !sequence_after(b, *a) ? a : std::optional<std::uint32_t>(b);
}

/// The same test in SQL for a stored sequence number: `candidate` (an SQL
/// expression, e.g. "$2") comes after the column `column`, or the column is
/// NULL (none applied). Integer arithmetic on 64-bit values that SQLite and
/// PostgreSQL both evaluate alike.
inline std::string sql_sequence_after(const std::string& candidate, const std::string& column) {
  return "(" + column + " IS NULL OR ((" + candidate + " - " + column +
         ") % 4294967296 + 4294967296) % 4294967296 BETWEEN 1 AND 2147483647)";
}

}  // namespace rsp::smsr
