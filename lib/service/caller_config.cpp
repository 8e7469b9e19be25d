#include "rsp/service/caller_config.hpp"

#include "rsp/net/tls.hpp"

namespace rsp::service {

namespace fs = std::filesystem;

namespace {

std::vector<ApiKey> api_keys(const std::vector<CallerCredential>& ops) {
  std::vector<ApiKey> out;
  for (const auto& o : ops)
    if (!o.key_sha256.empty()) out.push_back({o.name, o.key_sha256});
  return out;
}

std::vector<ClientCertificateRule> certificate_rules(const std::vector<CallerCredential>& ops) {
  std::vector<ClientCertificateRule> out;
  for (const auto& o : ops) {
    if (o.client_cert) out.push_back({o.name, o.client_cert, std::nullopt, {}});
    if (o.client_root) out.push_back({o.name, std::nullopt, o.client_root, o.client_subject});
  }
  return out;
}

/// The first certificate of a PEM or DER file.
expected<Bytes, std::string> load_first_certificate(const fs::path& file) {
  auto certs = net::load_certificates(file);
  if (!certs) return unexpected(certs.error().message);
  if (certs->empty()) return unexpected(std::string("holds no certificate"));
  return std::move(certs->front());
}

}  // namespace

expected<std::vector<CallerCredential>, std::string> parse_caller_config(const nlohmann::json& callers,
                                                                       const fs::path& base_dir, const std::string& what) {
  if (!callers.is_array()) return unexpected(what + " must be a JSON array");
  std::vector<CallerCredential> out;
  for (std::size_t i = 0; i < callers.size(); ++i) {
    const auto& o = callers[i];
    const std::string where = what + "[" + std::to_string(i) + "]";
    if (!o.is_object()) return unexpected(where + " must be an object");
    CallerCredential c;
    std::optional<std::string> key_file, key_hash, cert_file, root_file;
    for (const auto& item : o.items()) {
      if (!item.value().is_string()) return unexpected(where + "." + item.key() + " must be a string");
      const std::string v = item.value().get<std::string>();
      if (item.key() == "name") {
        c.name = v;
      } else if (item.key() == "api_key_file") {
        key_file = v;
      } else if (item.key() == "api_key_sha256") {
        key_hash = v;
      } else if (item.key() == "client_cert") {
        cert_file = v;
      } else if (item.key() == "client_root") {
        root_file = v;
      } else if (item.key() == "client_subject") {
        c.client_subject = v;
      } else if (item.key() == "callback_url") {
        c.callback_url = v;
      } else {
        return unexpected(where + ": unknown key '" + item.key() + "'");
      }
    }
    if (c.name.empty() || c.name.size() > 256) return unexpected(where + ".name must have 1 to 256 characters");
    for (const auto& other : out)
      if (other.name == c.name) return unexpected(where + ": '" + c.name + "' is configured twice");
    if (key_file && key_hash) return unexpected(where + ": give only one of api_key_file and api_key_sha256");
    if (cert_file && root_file) return unexpected(where + ": give only one of client_cert and client_root");
    if (root_file.has_value() != !c.client_subject.empty())
      return unexpected(where + ": client_root and client_subject go together");
    if (!key_file && !key_hash && !cert_file && !root_file)
      return unexpected(where + ": give an API key (api_key_file or api_key_sha256), a client certificate "
                                "(client_cert, or client_root with client_subject), or both");
    const auto resolve = [&base_dir](const std::string& f) {
      fs::path p(f);
      if (p.is_relative() && !base_dir.empty()) p = base_dir / p;
      return p;
    };
    if (cert_file) {
      auto der = load_first_certificate(resolve(*cert_file));
      if (!der) return unexpected(where + ".client_cert " + resolve(*cert_file).string() + ": " + der.error());
      c.client_cert = std::move(*der);
    }
    if (root_file) {
      auto der = load_first_certificate(resolve(*root_file));
      if (!der) return unexpected(where + ".client_root " + resolve(*root_file).string() + ": " + der.error());
      c.client_root = std::move(*der);
    }
    if (key_file) {
      fs::path p(*key_file);
      if (p.is_relative() && !base_dir.empty()) p = base_dir / p;
      auto h = load_api_key_hash(p);
      if (!h) return unexpected(where + ".api_key_file " + p.string() + ": " + h.error());
      c.key_sha256 = std::move(*h);
    } else if (key_hash) {
      auto h = from_hex(*key_hash);
      if (!h || h->size() != 32) return unexpected(where + ".api_key_sha256 must be 64 hex digits");
      c.key_sha256 = std::move(*h);
    }
    if (!c.callback_url.empty() && c.callback_url.rfind("https://", 0) != 0 && c.callback_url.rfind("http://", 0) != 0)
      return unexpected(where + ".callback_url must be an https:// (or, for lab use, http://) URL");
    out.push_back(std::move(c));
  }
  return out;
}

CallerAuthenticator::CallerAuthenticator(std::vector<CallerCredential> callers)
    : callers_(std::move(callers)), keys_(api_keys(callers_)), certificates_(certificate_rules(callers_)) {}

std::optional<Caller> CallerAuthenticator::authenticate(const net::Request& request) const {
  if (request.client_certificate) {
    if (auto name = certificates_.authenticate(*request.client_certificate))
      return Caller{*name, CallerProof::ClientCertificate};
  }
  if (auto name = keys_.authenticate(request.header("Authorization")))
    return Caller{*name, CallerProof::ApiKey};
  return std::nullopt;
}

}  // namespace rsp::service
