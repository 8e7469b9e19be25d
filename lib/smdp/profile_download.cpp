#include "rsp/smdp/profile_download.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

#include "rsp/m2m/eis_json.hpp"
#include "rsp/m2m/es_status.hpp"
#include "rsp/ota/ram.hpp"

namespace rsp::smdp {

using nlohmann::json;
namespace es3 = m2m::es3;

namespace {

bool succeeded(const es3::Result& r) {
  const auto s = m2m::parse_status(r.status);
  return s == m2m::ExecutionStatus::ExecutedSuccess || s == m2m::ExecutionStatus::ExecutedWithWarning;
}

std::string refusal(const es3::Request& request, const es3::Result& r) {
  std::string why = std::string(es3::function(es3::function_of(request)).name) + ": " + r.status;
  if (!r.subject_code.empty()) why += " " + r.subject_code + "/" + r.reason_code;
  return why;
}

bool is_code(const es3::Result& r, m2m::Code c) { return r.subject_code == c.subject && r.reason_code == c.reason; }

/// A failure of the download itself (no SM-SR code): an execution error,
/// 1.2/4.2.
ProfileDownload::Failure failure(std::string why) {
  return {std::move(why), m2m::codes::kExecutionError.subject, m2m::codes::kExecutionError.reason};
}

/// A key establishment that failed on our side: an ECASD certificate that
/// does not chain to a trusted EUM and CI or names another EID is
/// 8.1.3/6.1 (m2m::codes::kEcasdCertificateInvalid); a receipt that does
/// not verify 8.1/6.1 (kKeysetReceiptInvalid, our choice, not yet checked
/// against the SGP.02 text); anything else an execution error.
ProfileDownload::Failure key_failure(const Es8Failure& e) {
  ProfileDownload::Failure f = failure("key establishment: " + e.message);
  const m2m::Code* c = e.code == Es8Failure::Code::EcasdCertificate  ? &m2m::codes::kEcasdCertificateInvalid
                       : e.code == Es8Failure::Code::ReceiptMismatch ? &m2m::codes::kKeysetReceiptInvalid
                       : e.code == Es8Failure::Code::Malformed       ? &m2m::codes::kKeysetReceiptInvalid
                                                                     : nullptr;
  if (c) {
    f.subject_code = c->subject;
    f.reason_code = c->reason;
  }
  return f;
}

/// The C-APDUs as one command script ('AA', ETSI TS 102 226 §5.2.1).
expected<Bytes, std::string> script_of(std::span<const apdu::Command> commands) {
  std::vector<Bytes> c_apdus;
  for (const auto& c : commands) {
    auto bytes = apdu::encode_command(c);
    if (!bytes) return unexpected(std::string("a command cannot be coded"));
    c_apdus.push_back(std::move(*bytes));
  }
  auto script = ota::encode(ota::command_script(c_apdus));
  if (!script) return unexpected("command script: " + script.error().to_string());
  return std::move(*script);
}

}  // namespace

ProfileDownload::ProfileDownload(DownloadConfig config, Es3Port& es3, DownloadTable& table)
    : config_(std::move(config)), es3_(&es3), table_(table) {
  if (!config_.now)
    config_.now = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  if (config_.commands_per_segment == 0) config_.commands_per_segment = 1;
}

expected<void, std::string> ProfileDownload::step(Download& d, DownloadState state) {
  d.state = state;
  d.updated_at = config_.now();
  return table_.update(d);
}

expected<Download, std::string> ProfileDownload::run(const DownloadRequest& request) {
  Download d;
  d.eid = request.eid;
  d.iccid = request.iccid;
  d.updated_at = config_.now();
  es3::ProfileDownloadCompleted completed{request.eid, request.iccid, request.profile_type,
                                          request.subscription_address, request.pol2};
  d.request = json{{"completed", json::parse(es3::encode_request(completed))}, {"enable", request.enable}}.dump();
  RSP_TRY(d.id, table_.create(d));

  // The call's successful result, or why not: the SM-SR's status and codes
  // when it refused (or the operation expired), no answer at all as an
  // execution error (1.2/4.2; SGP.02's transport reasons for an SM-SR that
  // cannot be reached are not yet checked against its text).
  const auto call = [&](const es3::Request& r, bool* answered = nullptr) -> expected<es3::Result, Failure> {
    auto result = es3_->call(r);
    if (answered) *answered = result.has_value();
    if (!result)
      return unexpected(failure(std::string(es3::function(es3::function_of(r)).name) + ": " + result.error()));
    if (!succeeded(*result)) {
      Failure f{refusal(r, *result), result->subject_code, result->reason_code};
      if (f.subject_code.empty()) {
        const bool expired = m2m::parse_status(result->status) == m2m::ExecutionStatus::Expired;
        f = failure(f.why);
        if (expired) {
          f.subject_code = m2m::codes::kExpired.subject;
          f.reason_code = m2m::codes::kExpired.reason;
        }
      }
      return unexpected(std::move(f));
    }
    return std::move(*result);
  };
  // SendData of `commands` to the new ISD-P: the card's response script.
  const auto send = [&](std::span<const apdu::Command> commands, bool more) -> expected<ota::ResponseScript, Failure> {
    auto script = script_of(commands);
    if (!script) return unexpected(failure(script.error()));
    RSP_TRY(auto result, call(es3::SendData{d.eid, d.isdp_aid, std::move(*script), more, std::nullopt}));
    auto answer = ota::decode_response_script(result.euicc_response_data);
    if (!answer) return unexpected(failure("ES3.SendData: the eUICC's response script is malformed"));
    if (answer->r_apdus.size() != commands.size())
      return unexpected(failure("ES3.SendData: the eUICC answered fewer commands than were sent"));
    return std::move(*answer);
  };

  // 1. The ECASD certificate, from the EIS.
  auto eis = call(es3::GetEis{d.eid});
  if (!eis) return roll_back(std::move(d), eis.error());
  Bytes ecasd;
  if (eis->eis && eis->eis->contains("ecasd") && (*eis->eis)["ecasd"].value("certificate", json()).is_string())
    ecasd = from_hex((*eis->eis)["ecasd"]["certificate"].get<std::string>()).value_or(Bytes{});
  if (ecasd.empty()) return roll_back(std::move(d), "ES3.GetEIS: the EIS has no ECASD certificate");
  // The ISD-R's SIN and SDIN, when the EIS holds them (m2m/es8.hpp).
  m2m::es8::CardIdentifiers ids;
  if (const auto& isd_r = (*eis->eis).value("isdR", json()); isd_r.is_object()) {
    if (isd_r.value("sin", json()).is_string()) ids.sin = from_hex(isd_r["sin"].get<std::string>()).value_or(Bytes{});
    if (isd_r.value("sdin", json()).is_string()) ids.sdin = from_hex(isd_r["sdin"].get<std::string>()).value_or(Bytes{});
  }

  // 2. The ISD-P.
  const es3::Request create = es3::CreateIsdp{d.eid, d.iccid, request.mno_id, request.required_memory, true, std::nullopt};
  bool answered = true;
  auto created = call(create, &answered);
  if (!created) {
    // Refused: nothing was made. Not answered: the SM-SR may have made it.
    return roll_back(std::move(d), created.error(), !answered);
  }
  if (created->isdp_aid.empty()) return roll_back(std::move(d), "ES3.CreateISDP: no ISD-P AID in the result", true);
  d.isdp_aid = created->isdp_aid;
  RSP_TRY_VOID(step(d, DownloadState::IsdpCreated));

  // 3. Key establishment (ECKA scenario #3) with the ISD-P, in two round
  // trips: CERT.DP.ECDSA, answered with the card's random challenge; then
  // the key agreement signed over it, answered with DR and receipt.
  auto ke = KeyEstablishment::start(config_.dp, ecasd, config_.trust, d.eid, m2m::es8::kDefaultKeyVersion, ids);
  if (!ke) return roll_back(std::move(d), key_failure(ke.error()));
  auto challenged = send(ke->commands(), true);
  if (!challenged) return roll_back(std::move(d), challenged.error());
  RSP_TRY_VOID(step(d, DownloadState::CertificateSent));
  if (auto agreed = ke->agree(challenged->r_apdus.back().data); !agreed)
    return roll_back(std::move(d), key_failure(agreed.error()));
  auto answer = send(ke->key_agreement_commands(), true);
  if (!answer) return roll_back(std::move(d), answer.error());
  auto keys = ke->finish(answer->r_apdus.back().data);
  if (!keys) return roll_back(std::move(d), key_failure(keys.error()));
  RSP_TRY_VOID(step(d, DownloadState::KeysEstablished));

  // 4. The profile under SCP03t, in segments.
  auto commands = protect_profile(*keys, request.upp);
  if (!commands) return roll_back(std::move(d), "profile protection: " + commands.error().message);
  const std::span<const apdu::Command> all(*commands);
  for (std::size_t i = 0; i < all.size(); i += config_.commands_per_segment) {
    const auto part = all.subspan(i, std::min(config_.commands_per_segment, all.size() - i));
    auto loaded = send(part, i + part.size() < all.size());
    if (!loaded) return roll_back(std::move(d), loaded.error());
  }
  // 4b. The connectivity parameters, under the ISD-P's new SCP03 key set
  // (its first secured command: sequence counter 1). A refusal rolls back
  // as any failure before ProfileDownloadCompleted does.
  std::uint32_t counter = 0;
  if (!request.connectivity_parameters.empty()) {
    auto script = secure_connectivity(*keys, d.isdp_aid, ++counter, request.connectivity_parameters);
    if (!script) return roll_back(std::move(d), "connectivity parameters: " + script.error().message);
    auto updated = call(es3::UpdateConnectivityParameters{d.eid, d.iccid, std::move(*script), std::nullopt});
    if (!updated) return roll_back(std::move(d), updated.error());
  }
  if (keep_keys_) {
    auto kept = keep_keys_(d, *keys, counter);
    if (!kept) return roll_back(std::move(d), "the ISD-P key set could not be kept: " + kept.error());
  }
  RSP_TRY_VOID(step(d, DownloadState::Loaded));
  return finish(std::move(d));
}

expected<Download, std::string> ProfileDownload::finish(Download d) {
  const json request = json::parse(d.request, nullptr, false);
  if (request.is_discarded() || !request.contains("completed"))
    return roll_back(std::move(d), "the download's stored request is unreadable");
  auto completed = es3::decode_request(es3::Function::ProfileDownloadCompleted, request["completed"].dump());
  if (!completed) return roll_back(std::move(d), "the download's stored request: " + completed.error().message);
  // 5. The SM-SR records the profile in the EIS.
  auto done = es3_->call(*completed);
  if ((!done || !succeeded(*done)) && !completed_at_smsr(d)) {
    return roll_back(std::move(d), done ? refusal(*completed, *done) : "ES3.ProfileDownloadCompleted: " + done.error());
  }
  RSP_TRY_VOID(step(d, DownloadState::Completed));
  if (!request.value("enable", false)) return d;
  // 6. The enable; its failure leaves the profile downloaded.
  const es3::Request enable = es3::EnableProfile{d.eid, d.iccid, std::nullopt};
  auto enabled = es3_->call(enable);
  if (!enabled || !succeeded(*enabled)) {
    d.error = enabled ? refusal(enable, *enabled) : "ES3.EnableProfile: " + enabled.error();
    RSP_TRY_VOID(step(d, DownloadState::Completed));
    return d;
  }
  RSP_TRY_VOID(step(d, DownloadState::Enabled));
  return d;
}

bool ProfileDownload::completed_at_smsr(const Download& d) {
  // The SM-SR may have recorded the completion while its answer was lost, or
  // before a restart made us repeat the call (which it then refuses: the
  // profile is no longer Created). Its EIS says which: a loaded profile is
  // never rolled back for a lost answer.
  auto eis = es3_->call(es3::GetEis{d.eid});
  if (!eis || !succeeded(*eis) || !eis->eis || !eis->eis->contains("profiles") || !(*eis->eis)["profiles"].is_array())
    return false;
  for (const auto& p : (*eis->eis)["profiles"]) {
    if (!p.is_object() || p.value("iccid", std::string()) != d.iccid) continue;
    return p.value("isdpAid", std::string()) == to_hex(d.isdp_aid) &&
           p.value("state", std::string()) != m2m::state_name(m2m::ProfileState::Created);
  }
  return false;
}

expected<Download, std::string> ProfileDownload::roll_back(Download d, const std::string& why, bool create_unknown) {
  return roll_back(std::move(d), failure(why), create_unknown);
}

expected<Download, std::string> ProfileDownload::roll_back(Download d, const Failure& why, bool create_unknown) {
  d.error = why.why;
  d.subject_code = why.subject_code;
  d.reason_code = why.reason_code;
  if (!d.isdp_aid.empty() || create_unknown) {
    // SGP.02 §3.1: the ISD-P made for a download that failed is deleted.
    // DeleteISDP names the profile by ICCID, so it also finds an ISD-P whose
    // CreateISDP was not answered.
    const es3::Request del = es3::DeleteIsdp{d.eid, d.iccid, std::nullopt};
    auto deleted = es3_->call(del);
    const bool none = create_unknown && d.isdp_aid.empty() && deleted && is_code(*deleted, m2m::codes::kIccidUnknown);
    if (!none && (!deleted || !succeeded(*deleted)))
      d.error += "; " + std::string(kIsdpNotDeleted) + " (" +
                 (deleted ? refusal(del, *deleted) : std::string("ES3.DeleteISDP: ") + deleted.error()) + ")";
  }
  RSP_TRY_VOID(step(d, DownloadState::Failed));
  return d;
}

expected<std::vector<Download>, std::string> ProfileDownload::recover(const PortFor& port_for) {
  RSP_TRY(auto left, table_.unfinished());
  std::vector<Download> out;
  Es3Port* const own = es3_;
  for (auto& d : left) {
    es3_ = own;
    if (port_for) {
      RSP_TRY(Es3Port * port, port_for(d));
      if (port) es3_ = port;
    }
    // Stopped before its CreateISDP was answered: the SM-SR may have made
    // the ISD-P all the same.
    const bool create_unknown = d.state == DownloadState::Started;
    expected<Download, std::string> ended =
        d.state == DownloadState::Loaded
            ? finish(std::move(d))
            : roll_back(std::move(d), "interrupted before the profile was loaded", create_unknown);
    es3_ = own;
    if (!ended) return unexpected(ended.error());
    out.push_back(std::move(*ended));
  }
  return out;
}

}  // namespace rsp::smdp
