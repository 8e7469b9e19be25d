#pragma once
// Recursive-descent parser for the X.680 subset of our modules: module header
// and tag default, EXPORTS/IMPORTS, type and value assignments, constructed
// types with OPTIONAL/DEFAULT/extension markers, tags, named numbers and bits,
// SIZE constraints (other constraints are skipped), 1988-style ANY.

#include <string>

#include "model.hpp"

namespace asn1gen {

/// Parses one module; throws std::runtime_error("<file>:<line>: ...") on
/// constructs outside the subset.
Module parse_module(const std::string& text, const std::string& file_name);

}  // namespace asn1gen
