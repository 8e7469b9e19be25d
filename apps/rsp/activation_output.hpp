#pragma once
// What `rsp smdpp order` and `rsp smdpp es2 order` print for a confirmed
// order: the activation code as text (SGP.22 §4.1), optionally as a QR PNG,
// and as a terminal QR code; and how both read a confirmation code without
// putting it on the command line (where the process list would show it).

#include <fmt/core.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "rsp/messages/activation_code.hpp"
#include "rsp/smdpp/qr.hpp"

namespace rsp::cli {

/// The first line of `file` ("-": standard input) without its line end;
/// nullopt with `error` set when it cannot be read or is empty.
inline std::optional<std::string> read_secret_line(const std::string& file, std::string& error) {
  std::string line;
  if (file == "-") {
    if (!std::getline(std::cin, line)) line.clear();
  } else {
    std::ifstream in(file);
    if (!in) {
      error = "cannot read " + file;
      return std::nullopt;
    }
    std::getline(in, line);
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.empty()) {
    error = "no confirmation code in " + (file == "-" ? std::string("standard input") : file);
    return std::nullopt;
  }
  return line;
}

/// Prints ICCID, EID, matching ID, the activation code and its QR code;
/// writes the PNG when `qr_png` is set. Returns the activation code, or an
/// empty string with `error` set.
inline std::string print_activation_code(const std::string& address, const std::string& iccid,
                                         const std::optional<std::string>& eid, const std::string& matching_id,
                                         bool cc_required, const std::string& qr_png, std::string& error) {
  const std::string code = messages::format_activation_code(
      messages::ActivationCode{address, matching_id, std::nullopt, cc_required});
  fmt::print("ICCID:           {}\n", iccid);
  if (eid) fmt::print("EID:             {}\n", *eid);
  fmt::print("Matching ID:     {}\n", matching_id);
  fmt::print("Activation code: {}\n", code);
  auto qr = smdpp::qr_encode(code);
  if (!qr) {
    error = "QR: " + qr.error().message;
    return {};
  }
  if (!qr_png.empty()) {
    if (auto w = smdpp::write_qr_png(*qr, qr_png); !w) {
      error = "QR PNG: " + w.error().message;
      return {};
    }
    fmt::print("QR code PNG:     {}\n", qr_png);
  }
  fmt::print("\n{}", smdpp::qr_terminal(*qr, ::isatty(STDOUT_FILENO) == 1));
  return code;
}

}  // namespace rsp::cli
