#pragma once
// Library-internal: the profile columns every query of the inventory's
// profiles selects, and their one reader, so the inventory and the SQL
// catalog (which reads them joined to the order) decode a row alike.

#include <cstddef>
#include <string_view>

#include "rsp/smdpp/inventory.hpp"
#include "rsp/store/database.hpp"

namespace rsp::smdpp {

/// The columns of table `profiles` aliased p, in the order read_profile_row reads them.
inline constexpr std::string_view kProfileRowColumns =
    "p.iccid, p.profile_type, p.state, p.service_provider_name, p.profile_name, p.profile_class, p.metadata";
inline constexpr std::size_t kProfileRowWidth = 7;

/// The kProfileRowColumns starting at column `first` of `r` into `p`
/// (operator_name is not among them); an unknown state reads as Error.
void read_profile_row(const store::Row& r, std::size_t first, ProfileRecord& p);

}  // namespace rsp::smdpp
