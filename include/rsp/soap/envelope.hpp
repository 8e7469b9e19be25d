#pragma once
/// SOAP envelopes with WS-Addressing headers, as SGP.02 binds its ES1-ES4
/// and ES7 functions to web services (SGP.02 v4.x §6 "Function binding",
/// web services binding; the text was not at hand here: the details below
/// follow the W3C recommendations and the shapes public SGP.02
/// implementations exchange, and are marked where not confirmed).
///
/// Parsing is for input from the network and strict: libxml2 with
/// XML_PARSE_NONET and without XML_PARSE_NOENT / XML_PARSE_DTDLOAD, any
/// document type declaration (internal or external subset) and any entity
/// reference refused, a size, depth and element-count limit, exactly one
/// element in the Body. Errors are typed and never quote the input.
///
/// Building goes through libxml2's tree API, which escapes every value.

#include <cstddef>
#include <string>
#include <string_view>

#include "rsp/common/expected.hpp"
#include "rsp/soap/xml.hpp"

namespace rsp::soap {

/// SOAP 1.1 (W3C Note, §4) and SOAP 1.2 (W3C Rec, Part 1 §5) envelope namespaces.
inline constexpr std::string_view kSoap11Ns = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr std::string_view kSoap12Ns = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Addressing 1.0 Core (W3C Rec 2006) namespace: what we write.
inline constexpr std::string_view kWsaNs = "http://www.w3.org/2005/08/addressing";
/// Public SGP.02 implementations put the addressing headers in the
/// WS-Addressing Metadata namespace; accepted on input (not confirmed
/// against the SGP.02 text).
inline constexpr std::string_view kWsaMetadataNs = "http://www.w3.org/2007/05/addressing/metadata";
/// WS-Addressing 1.0 Core §3.2: the anonymous address, and §3.1 the
/// RelatesTo relationship of a reply.
inline constexpr std::string_view kWsaAnonymous = "http://www.w3.org/2005/08/addressing/anonymous";

enum class Version { Soap11, Soap12 };

/// The WS-Addressing message addressing properties (WS-Addressing 1.0 Core
/// §3.1: To, Action, MessageID, RelatesTo, ReplyTo and From, the last two
/// endpoint references of which we keep the Address).
struct Addressing {
  std::string to;
  std::string action;
  std::string message_id;
  std::string relates_to;
  std::string reply_to;
  std::string from;
};

struct Envelope {
  Version version = Version::Soap12;
  Addressing addressing;
  Element body;  ///< the one element inside Body
};

enum class ErrorKind {
  TooLarge,        ///< over ParseOptions::max_bytes
  NotXml,          ///< not well-formed XML (or not UTF-8)
  Dtd,             ///< a document type declaration or an entity reference
  NotEnvelope,     ///< the root is not a SOAP 1.1 or 1.2 Envelope
  BadStructure,    ///< not Header? Body, Body not one element, a header twice ...
  TooDeep,         ///< over the depth or element-count limit
  MissingHeader,   ///< Action or MessageID absent (when required)
};

struct SoapError {
  ErrorKind kind;
  std::string message;  ///< in words, never quoting the input
};

std::string_view kind_name(ErrorKind k);

struct ParseOptions {
  std::size_t max_bytes = 256 * 1024;
  std::size_t max_depth = 32;
  std::size_t max_elements = 10000;
  /// SGP.02 requests carry wsa:Action and wsa:MessageID.
  bool require_action = true;
  bool require_message_id = true;
};

expected<Envelope, SoapError> parse_envelope(std::string_view xml, const ParseOptions& options = {});

/// An envelope with the addressing headers that are not empty and `body` in
/// the Body, UTF-8 with an XML declaration. `body`'s namespace gets the
/// prefix `prefix`; a child in another namespace gets its own.
std::string build_envelope(Version version, const Addressing& addressing, const Element& body,
                           std::string_view prefix = "rps");

/// A SOAP fault (SOAP 1.1 §4.4 faultcode/faultstring; SOAP 1.2 Part 1 §5.4
/// Code/Reason): `sender` says the message was at fault (Client / Sender),
/// otherwise the receiver (Server / Receiver).
struct Fault {
  bool sender = true;
  std::string reason;  ///< in words; never a secret
};
std::string build_fault(Version version, const Addressing& addressing, const Fault& fault);

/// The Content-Type of an envelope: text/xml for 1.1 (SOAP 1.1 §6.1.1),
/// application/soap+xml for 1.2 (RFC 3902).
std::string content_type(Version version);

}  // namespace rsp::soap
