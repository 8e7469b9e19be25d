#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "rsp/soap/envelope.hpp"
#include "rsp/soap/schema.hpp"

namespace rsp::soap {
namespace {

constexpr std::string_view kNs = "urn:test";

std::string request(std::string_view headers, std::string_view body,
                    std::string_view env_ns = kSoap12Ns) {
  return "<?xml version=\"1.0\"?><e:Envelope xmlns:e=\"" + std::string(env_ns) +
         "\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><e:Header>" + std::string(headers) +
         "</e:Header><e:Body>" + std::string(body) + "</e:Body></e:Envelope>";
}

constexpr std::string_view kHeaders =
    "<wsa:To>https://sr.example/soap</wsa:To><wsa:Action>urn:act</wsa:Action>"
    "<wsa:MessageID>urn:uuid:7</wsa:MessageID><wsa:ReplyTo><wsa:Address>https://mno.example/cb</wsa:Address>"
    "</wsa:ReplyTo><wsa:From><wsa:Address>https://mno.example</wsa:Address></wsa:From>";

TEST(SoapEnvelope, ReadsAddressingAndBody) {
  auto env = parse_envelope(request(kHeaders, "<t:Req xmlns:t=\"urn:test\"><t:A> 1 </t:A><t:B>x&amp;y</t:B></t:Req>"));
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(env->version, Version::Soap12);
  EXPECT_EQ(env->addressing.to, "https://sr.example/soap");
  EXPECT_EQ(env->addressing.action, "urn:act");
  EXPECT_EQ(env->addressing.message_id, "urn:uuid:7");
  EXPECT_EQ(env->addressing.reply_to, "https://mno.example/cb");
  EXPECT_EQ(env->addressing.from, "https://mno.example");
  EXPECT_EQ(env->body.ns, kNs);
  EXPECT_EQ(env->body.name, "Req");
  ASSERT_EQ(env->body.children.size(), 2u);
  EXPECT_EQ(env->body.child(kNs, "A")->text, "1");
  EXPECT_EQ(env->body.child(kNs, "B")->text, "x&y");
  EXPECT_EQ(env->body.child("", "A"), nullptr);
}

TEST(SoapEnvelope, Soap11AndTheMetadataNamespace) {
  const std::string xml =
      "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
      "xmlns:m=\"http://www.w3.org/2007/05/addressing/metadata\"><s:Header><m:Action>a</m:Action>"
      "<m:MessageID>m</m:MessageID><m:From>urn:eum</m:From></s:Header><s:Body><r/></s:Body></s:Envelope>";
  auto env = parse_envelope(xml);
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(env->version, Version::Soap11);
  EXPECT_EQ(env->addressing.from, "urn:eum");
  EXPECT_EQ(env->body.name, "r");
}

void expect_error(std::string_view xml, ErrorKind kind, ParseOptions o = {}) {
  auto env = parse_envelope(xml, o);
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().kind, kind) << kind_name(env.error().kind) << ": " << env.error().message;
}

TEST(SoapEnvelope, RefusesWhatIsNotAnEnvelope) {
  expect_error("", ErrorKind::NotXml);
  expect_error("not xml at all", ErrorKind::NotXml);
  expect_error("<a><b></a>", ErrorKind::NotXml);
  expect_error("<Envelope/>", ErrorKind::NotEnvelope);
  expect_error(request(kHeaders, "<r/>", "urn:not-soap"), ErrorKind::NotEnvelope);
  expect_error(request(kHeaders, ""), ErrorKind::BadStructure);
  expect_error(request(kHeaders, "<a/><b/>"), ErrorKind::BadStructure);
  expect_error("<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"/>", ErrorKind::BadStructure);
  expect_error(request(std::string(kHeaders) + "<wsa:Action>b</wsa:Action>", "<r/>"), ErrorKind::BadStructure);
}

// Found by the soap_envelope fuzz target: an undeclared prefix left the body
// named "rps:Req" in no namespace, which did not survive a round trip.
TEST(SoapEnvelope, RefusesAnUndeclaredPrefix) {
  expect_error(request(kHeaders, "<rps:Req><rps:A>1</rps:A></rps:Req>"), ErrorKind::NotXml);
  expect_error(request(kHeaders, "<t:Req xmlns:t=\"urn:test\"><u:A>1</u:A></t:Req>"), ErrorKind::NotXml);
}

TEST(SoapEnvelope, AddressingHeadersRequired) {
  expect_error(request("<wsa:Action>a</wsa:Action>", "<r/>"), ErrorKind::MissingHeader);
  expect_error(request("<wsa:MessageID>m</wsa:MessageID>", "<r/>"), ErrorKind::MissingHeader);
  ParseOptions lax;
  lax.require_action = lax.require_message_id = false;
  EXPECT_TRUE(parse_envelope(request("", "<r/>"), lax));
}

TEST(SoapEnvelope, RefusesDtdsAndEntities) {
  // The billion laughs and an external entity (XXE): refused before expansion.
  const std::string laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>"
      "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body><r>&b;</r></e:Body></e:Envelope>";
  expect_error(laughs, ErrorKind::Dtd);
  const std::string xxe =
      "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body><r>&x;</r></e:Body></e:Envelope>";
  expect_error(xxe, ErrorKind::Dtd);
  // An undeclared entity is not well-formed.
  expect_error(request(kHeaders, "<r>&x;</r>"), ErrorKind::NotXml);
}

TEST(SoapEnvelope, Limits) {
  ParseOptions o;
  o.max_bytes = 100;
  expect_error(request(kHeaders, "<r/>"), ErrorKind::TooLarge, o);
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<d>";
  for (int i = 0; i < 40; ++i) deep += "</d>";
  expect_error(request(kHeaders, deep), ErrorKind::TooDeep);
  std::string wide = "<r>";
  for (int i = 0; i < 200; ++i) wide += "<c/>";
  wide += "</r>";
  o = ParseOptions{};
  o.max_elements = 100;
  expect_error(request(kHeaders, wide), ErrorKind::TooDeep, o);
}

TEST(SoapEnvelope, BuildEscapesAndRoundTrips) {
  Element body{std::string(kNs), "Resp", {}, {}};
  body.add("Message", "a <b> & \"c\" \x01 end");
  Element other{"urn:other", "X", "1", {}};
  body.children.push_back(other);
  Addressing a{"https://mno.example/cb", "urn:act", "urn:uuid:9", "urn:uuid:7", "", "https://sr.example"};
  const std::string xml = build_envelope(Version::Soap12, a, body);
  EXPECT_EQ(xml.find("<b>"), std::string::npos);
  auto back = parse_envelope(xml);
  ASSERT_TRUE(back) << back.error().message << "\n" << xml;
  EXPECT_EQ(back->addressing.relates_to, "urn:uuid:7");
  EXPECT_EQ(back->addressing.from, "https://sr.example");
  EXPECT_EQ(back->addressing.to, "https://mno.example/cb");
  EXPECT_EQ(back->body.child(kNs, "Message")->text, "a <b> & \"c\" ? end");
  EXPECT_EQ(back->body.child("urn:other", "X")->text, "1");
}

// Found by the soap_envelope fuzz target: a namespace first needed deep in
// the body was declared on that element, and its siblings used it out of scope.
TEST(SoapEnvelope, ANamespaceNeededDeepInTheBodyIsInScopeForItsSiblings) {
  Element body{std::string(kNs), "Resp", {}, {}};
  Element group{std::string(kNs), "G", {}, {}};
  group.children.push_back(Element{"urn:other", "X", "1", {}});
  group.children.push_back(Element{"urn:other", "Y", "2", {}});
  body.children.push_back(group);
  body.children.push_back(Element{"urn:other", "Z", "3", {}});
  Addressing a{"https://mno.example/cb", "urn:act", "urn:uuid:9", "", "", ""};
  const std::string xml = build_envelope(Version::Soap12, a, body);
  auto back = parse_envelope(xml);
  ASSERT_TRUE(back) << back.error().message << "\n" << xml;
  ASSERT_EQ(back->body.children.size(), 2u);
  const auto& g = back->body.children[0];
  ASSERT_EQ(g.children.size(), 2u);
  EXPECT_EQ(g.children[1].ns, "urn:other");
  EXPECT_EQ(g.children[1].text, "2");
  EXPECT_EQ(back->body.children[1].ns, "urn:other");
}

TEST(SoapEnvelope, Faults) {
  Addressing a;
  a.relates_to = "urn:uuid:1";
  const std::string f12 = build_fault(Version::Soap12, a, Fault{true, "no <such> action"});
  ParseOptions lax;
  lax.require_action = lax.require_message_id = false;
  auto e12 = parse_envelope(f12, lax);
  ASSERT_TRUE(e12) << e12.error().message;
  EXPECT_EQ(e12->body.name, "Fault");
  EXPECT_EQ(e12->body.child(kSoap12Ns, "Code")->child(kSoap12Ns, "Value")->text, "env:Sender");
  EXPECT_EQ(e12->body.child(kSoap12Ns, "Reason")->child(kSoap12Ns, "Text")->text, "no <such> action");
  const std::string f11 = build_fault(Version::Soap11, a, Fault{false, "storage"});
  auto e11 = parse_envelope(f11, lax);
  ASSERT_TRUE(e11);
  EXPECT_EQ(e11->body.child("", "faultcode")->text, "env:Server");
  EXPECT_EQ(content_type(Version::Soap11).rfind("text/xml", 0), 0u);
  EXPECT_EQ(content_type(Version::Soap12).rfind("application/soap+xml", 0), 0u);
}

TEST(SoapSchema, ValidatesTheBodyElement) {
  const auto dir = std::filesystem::temp_directory_path() / ("soap_schema_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto xsd = (dir / "t.xsd").string();
  std::ofstream(xsd) << "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"urn:test\" "
                        "elementFormDefault=\"qualified\"><xs:element name=\"Resp\"><xs:complexType><xs:sequence>"
                        "<xs:element name=\"N\" type=\"xs:int\"/></xs:sequence></xs:complexType></xs:element>"
                        "</xs:schema>";
  Element good{std::string(kNs), "Resp", {}, {}};
  good.add("N", "5");
  EXPECT_TRUE(validate_body(build_envelope(Version::Soap12, {}, good), xsd));
  Element bad{std::string(kNs), "Resp", {}, {}};
  bad.add("N", "five");
  auto r = validate_body(build_envelope(Version::Soap12, {}, bad), xsd);
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error().empty());
  EXPECT_FALSE(validate_body(build_envelope(Version::Soap12, {}, good), (dir / "missing.xsd").string()));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rsp::soap
