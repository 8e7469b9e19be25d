// `rsp asn1`: decode SGP.22, SAIP and PKIX structures, list the known types.

#include <fmt/core.h>

#include <iostream>
#include <iterator>
#include <memory>

#include "command.hpp"
#include "rsp/asn1/inspect.hpp"
#include "rsp/asn1/registry.hpp"
#include "rsp/asn1/text.hpp"
#include "rsp/common/file.hpp"

namespace {

constexpr const char* kDecodeHelp = R"(Without --type the input is recognised:
  - a concatenation of SAIP ProfileElements (an unprotected profile package,
    e.g. a TS.48 test profile) decodes into its profile elements;
  - a known SGP.22 tag (BF20, BF22, BF2D, BF36, BF38, A2, ...) selects the
    matching message type (the one that decodes with the fewest unknown
    elements when a request and a response share the tag);
  - anything else prints as a generic TLV tree.
OCTET STRINGs (ICCID, EID, AIDs, keys ...) print as upper-case hex.)";

struct DecodeArgs {
  std::string type, file;
  bool ber = false, json = false, hex = false;
};

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "rsp asn1: {}\n", message);
  rsp::cli::exit_with(1);
}

rsp::Bytes read_input(const DecodeArgs& a) {
  rsp::Bytes data;
  if (a.file == "-") {
    std::cin >> std::noskipws;
    data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto r = rsp::read_file(a.file);
    if (!r) fail(r.error().message);
    data = std::move(*r);
  }
  if (a.hex) {
    auto decoded = rsp::from_hex(rsp::to_string(data));
    if (!decoded) fail("input is not hex");
    data = std::move(*decoded);
  }
  return data;
}

void run_decode(const DecodeArgs& a) {
  rsp::Bytes data = read_input(a);
  rsp::asn1::DecodeOptions options;
  if (a.ber) options.mode = rsp::tlv::Mode::Ber;
  std::string type;
  rsp::asn1::Json value;
  if (!a.type.empty()) {
    if (!rsp::asn1::find_type(a.type)) fail("unknown type '" + a.type + "' (see `rsp asn1 types`)");
    auto r = rsp::asn1::decode_named(a.type, data, options);
    if (!r) fail("cannot decode as " + a.type + ": " + r.error().to_string());
    type = a.type;
    value = std::move(*r);
  } else {
    auto r = rsp::asn1::inspect(data, options);
    if (!r) fail("not a valid " + std::string(a.ber ? "BER" : "DER") + " structure: " + r.error().to_string());
    type = r->type;
    value = std::move(r->value);
  }
  if (a.json) {
    fmt::print("{}\n", rsp::asn1::to_json_text(value));
  } else {
    fmt::print("{}:\n", type);
    std::string text = rsp::asn1::to_text(value);
    // Indent the tree under the type name.
    std::string indented = "  ";
    for (std::size_t i = 0; i < text.size(); ++i) {
      indented += text[i];
      if (text[i] == '\n' && i + 1 < text.size()) indented += "  ";
    }
    fmt::print("{}", indented);
  }
}

void run_types(const std::string& unit) {
  for (const auto& t : rsp::asn1::all_types()) {
    if (!unit.empty() && unit != t.unit) continue;
    std::string tag = t.tag ? fmt::format("{:X}", t.tag->raw()) : "-";
    fmt::print("{:<6} {:<8} {}\n", t.unit, tag, t.name);
  }
}

}  // namespace

RSP_COMMAND_GROUP(asn1) {
  auto* grp = app.add_subcommand("asn1", "Decode SGP.22, SAIP (eUICC profile package) and PKIX ASN.1 data");
  grp->require_subcommand(1);

  auto args = std::make_shared<DecodeArgs>();
  auto* dec = grp->add_subcommand("decode", "Print a DER/BER structure as an indented named tree or JSON");
  dec->footer(kDecodeHelp);
  dec->add_option("--type", args->type, "ASN.1 type name, e.g. EUICCInfo2 or saip.ProfileElement");
  dec->add_flag("--ber", args->ber, "Accept BER (non-minimal and indefinite lengths); default strict DER");
  dec->add_flag("--json", args->json, "Print JSON instead of the tree");
  dec->add_flag("--hex", args->hex, "The input is hex text (whitespace ignored)");
  dec->add_option("FILE", args->file, "Input file, or - for standard input")->required();
  dec->callback([args] { run_decode(*args); });

  auto unit = std::make_shared<std::string>();
  auto* types = grp->add_subcommand("types", "List the known type names: unit, outer tag, name");
  types->add_option("--unit", *unit, "Only this unit: sgp22, saip or pkix");
  types->callback([unit] { run_types(*unit); });
}
