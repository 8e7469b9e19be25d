#include "rsp/lpa/explain.hpp"

#include <array>
#include <cstdio>

namespace rsp::lpa {
namespace {

struct PairText {
  std::string_view subject, reason, text;
};

/// Subject/reason pairs of SGP.22 §5.6 (ES9+) with advice for the user.
constexpr std::array kPairs{
    PairText{"8.2.7", "3.8", "the confirmation code was refused - check the code from your operator"},
    PairText{"8.2.7", "2.2", "the SM-DP+ wants a confirmation code - give the one from your operator"},
    // ES11 (§5.8): the SM-DS's codes, as rsp smds answers them (the 8.9.x
    // pairs are not confirmed against the spec's tables).
    PairText{"8.9.1", "3.8", "the SM-DS does not serve this address - check the SM-DS address"},
    PairText{"8.9.2", "3.1", "the SM-DS supports none of the eUICC's certificate issuers (CIs)"},
    PairText{"8.9.3", "3.1", "the SM-DS does not support the eUICC's SGP.22 version"},
    PairText{"8.9.4", "3.7", "the SM-DS has no certificate under a CI the eUICC can verify"},
    PairText{"8.9.5", "3.9", "the SM-DS holds no such event for this eUICC"},
    PairText{"8.2.7", "2.1", "the confirmation code is not valid - check the code from your operator"},
    PairText{"8.2.7", "6.4",
             "too many wrong confirmation codes - the order is blocked, ask your operator for a new one"},
    PairText{"8.2.6", "3.8",
             "the SM-DP+ refused the matching ID - the activation code is wrong, used up or for another eUICC"},
    PairText{"8.1.1", "3.8", "the order is for another eUICC (EID) - ask your operator"},
    PairText{"8.2", "1.2", "the profile is not yet released for download - ask your operator"},
    PairText{"8.8.5", "4.10", "the download order has expired - ask your operator for a new one"},
    PairText{"8.8.5", "6.4", "the profile was tried too many times - ask your operator for a new order"},
    PairText{"8.8.1", "3.8", "the SM-DP+ does not serve the address in the activation code"},
    PairText{"8.8.2", "3.1", "the SM-DP+ supports none of the eUICC's certificate issuers (CIs)"},
    PairText{"8.8.3", "3.1", "the SM-DP+ does not support the eUICC's SGP.22 version"},
    PairText{"8.8.4", "3.7", "the SM-DP+ has no certificate under a CI the eUICC can verify"},
    PairText{"8.1.2", "6.1", "the SM-DP+ could not verify the eUICC manufacturer's (EUM) certificate"},
    PairText{"8.1.2", "6.3", "the eUICC manufacturer's (EUM) certificate has expired"},
    PairText{"8.1.3", "6.1", "the SM-DP+ could not verify the eUICC's certificate"},
    PairText{"8.1.3", "6.3", "the eUICC's certificate has expired"},
    PairText{"8.1", "6.1", "the SM-DP+ could not verify the eUICC's signature"},
    PairText{"8.10.1", "3.9", "the SM-DP+ no longer knows this session (it may have timed out) - start again"},
    PairText{"8.11.1", "3.9", "the SM-DP+ does not know the CI public key the eUICC named"},
    PairText{"8.8", "3.10", "the session was cancelled with another SM-DP+'s identity"},
    PairText{"8.8", "4.2", "the SM-DP+ failed to carry out the request - try again later"},
    PairText{"1.2", "2.1", "the SM-DP+ found the request malformed"},
};

struct CodeName {
  std::string_view code, name;
};

/// Subject codes (SGP.22 §5.2.6.1) that the table above may not cover.
constexpr std::array kSubjects{
    CodeName{"8.1", "the eUICC"},          CodeName{"8.1.1", "the EID"},
    CodeName{"8.1.2", "the EUM certificate"}, CodeName{"8.1.3", "the eUICC certificate"},
    CodeName{"8.2", "the profile"},        CodeName{"8.2.1", "the profile's ICCID"},
    CodeName{"8.2.5", "the profile type"}, CodeName{"8.2.6", "the matching ID"},
    CodeName{"8.2.7", "the confirmation code"}, CodeName{"8.8", "the SM-DP+"},
    CodeName{"8.8.1", "the SM-DP+ address"}, CodeName{"8.8.2", "the security configuration"},
    CodeName{"8.8.3", "the specification version"}, CodeName{"8.8.4", "the SM-DP+ certificate"},
    CodeName{"8.8.5", "the download order"}, CodeName{"8.9", "the SM-DS"}, CodeName{"8.9.1", "the SM-DS address"},
    CodeName{"8.9.5", "the event record"},
    CodeName{"8.10.1", "the transaction ID"}, CodeName{"8.11.1", "the CI public key"},
};

/// Reason codes (SGP.22 §5.2.6.2) as the SM-DP+ uses them.
constexpr std::array kReasons{
    CodeName{"1.2", "is not allowed"},       CodeName{"2.1", "is invalid"},
    CodeName{"2.2", "is missing"},           CodeName{"3.1", "is not supported"},
    CodeName{"3.7", "is unavailable"},       CodeName{"3.8", "was refused"},
    CodeName{"3.9", "is unknown"},           CodeName{"3.10", "does not belong to this session"},
    CodeName{"4.2", "could not be processed"}, CodeName{"4.10", "has expired"},
    CodeName{"6.1", "failed verification"},  CodeName{"6.3", "has expired"},
    CodeName{"6.4", "reached its maximum number of attempts"},
};

template <std::size_t N>
std::string_view lookup(const std::array<CodeName, N>& table, std::string_view code) {
  for (const auto& e : table) {
    if (e.code == code) return e.name;
  }
  return {};
}

struct EuiccText {
  std::int64_t code;
  std::string_view name, text;
};

// AuthenticateErrorCode (§5.7.13).
constexpr std::array kAuthenticate{
    EuiccText{1, "invalidCertificate", "the eUICC did not accept the SM-DP+'s certificate"},
    EuiccText{2, "invalidSignature", "the eUICC found the SM-DP+'s signature invalid"},
    EuiccText{3, "unsupportedCurve", "the eUICC does not support the SM-DP+'s curve"},
    EuiccText{4, "noSessionContext", "the eUICC has no session for this download"},
    EuiccText{5, "invalidOid", "the SM-DP+'s certificate names a different SM-DP+ than the activation code"},
    EuiccText{6, "euiccChallengeMismatch", "the SM-DP+ answered another challenge than the eUICC's"},
    EuiccText{7, "ciPKUnknown", "the SM-DP+'s certificate is under a CI the eUICC does not trust"},
    EuiccText{127, "undefinedError", "the eUICC failed to authenticate the SM-DP+"},
};
// DownloadErrorCode (§5.7.5).
constexpr std::array kPrepare{
    EuiccText{1, "invalidCertificate", "the eUICC did not accept the SM-DP+'s binding certificate"},
    EuiccText{2, "invalidSignature", "the eUICC found the SM-DP+'s signature invalid"},
    EuiccText{3, "unsupportedCurve", "the eUICC does not support the SM-DP+'s curve"},
    EuiccText{4, "noSessionContext", "the eUICC has no session for this download"},
    EuiccText{5, "invalidTransactionId", "the eUICC does not know this transaction"},
    EuiccText{127, "undefinedError", "the eUICC failed to prepare the download"},
};
// ErrorResult errorReason of the ProfileInstallationResult (§5.7.6).
constexpr std::array kLoad{
    EuiccText{1, "incorrectInputValues", "the eUICC found incorrect values in the profile package"},
    EuiccText{2, "invalidSignature", "the eUICC found the profile package's signature invalid"},
    EuiccText{3, "invalidTransactionId", "the profile package is for another session"},
    EuiccText{4, "unsupportedCrtValues", "the eUICC does not support the package's key parameters"},
    EuiccText{5, "unsupportedRemoteOperationType", "the eUICC does not support the package's operation"},
    EuiccText{6, "unsupportedProfileClass", "the eUICC does not accept this class of profile"},
    EuiccText{7, "scp03tStructureError", "the profile package is malformed"},
    EuiccText{8, "scp03tSecurityError", "the profile package failed the eUICC's integrity check"},
    EuiccText{9, "installFailedDueToIccidAlreadyExistsOnEuicc", "a profile with this ICCID is already installed"},
    EuiccText{10, "installFailedDueToInsufficientMemoryForProfile",
              "the eUICC has not enough free memory - delete a profile and try again"},
    EuiccText{11, "installFailedDueToInterruption", "the installation was interrupted - try again"},
    EuiccText{12, "installFailedDueToPEProcessingError", "the eUICC could not install a profile element"},
    EuiccText{13, "installFailedDueToIccidMismatch", "the profile's ICCID differs from the one announced"},
    EuiccText{14, "testProfileInstallFailedDueToInvalidNaaKey", "the test profile carries an invalid network key"},
    EuiccText{15, "pprNotAllowed", "the eUICC does not allow the profile's policy rules"},
    EuiccText{127, "installFailedDueToUnknownError", "the installation failed"},
};
// enableResult (§5.7.16). catBusy(5) is in later SGP.22 v2 ASN.1 modules,
// not in the one this project generates from; listed so a card that sends it is understood.
constexpr std::array kEnable{
    EuiccText{1, "iccidOrAidNotFound", "no profile with this ICCID or AID is on the eUICC"},
    EuiccText{2, "profileNotInDisabledState", "the profile is already enabled"},
    EuiccText{3, "disallowedByPolicy", "the profile's policy rules do not allow it"},
    EuiccText{4, "wrongProfileReenabling", "the profile cannot be re-enabled this way"},
    EuiccText{5, "catBusy", "the card is busy with a proactive session - try again"},
    EuiccText{127, "undefinedError", "the eUICC could not enable the profile"},
};
// disableResult (§5.7.17).
constexpr std::array kDisable{
    EuiccText{1, "iccidOrAidNotFound", "no profile with this ICCID or AID is on the eUICC"},
    EuiccText{2, "profileNotInEnabledState", "the profile is not enabled"},
    EuiccText{3, "disallowedByPolicy", "the profile's policy rules do not allow it"},
    EuiccText{5, "catBusy", "the card is busy with a proactive session - try again"},
    EuiccText{127, "undefinedError", "the eUICC could not disable the profile"},
};
// deleteResult (§5.7.18).
constexpr std::array kDelete{
    EuiccText{1, "iccidOrAidNotFound", "no profile with this ICCID or AID is on the eUICC"},
    EuiccText{2, "profileNotInDisabledState", "the profile is enabled - disable it first"},
    EuiccText{3, "disallowedByPolicy", "the profile's policy rules do not allow deleting it"},
    EuiccText{127, "undefinedError", "the eUICC could not delete the profile"},
};
// setNicknameResult (§5.7.21).
constexpr std::array kNickname{
    EuiccText{1, "iccidNotFound", "no profile with this ICCID is on the eUICC"},
    EuiccText{127, "undefinedError", "the eUICC could not set the nickname"},
};
// resetResult (§5.7.19).
constexpr std::array kReset{
    EuiccText{1, "nothingToDelete", "there was nothing to delete"},
    EuiccText{127, "undefinedError", "the eUICC could not reset its memory"},
};
// setDefaultDpAddressResult (§5.7.4).
constexpr std::array kDefaultDp{
    EuiccText{127, "undefinedError", "the eUICC could not store the default SM-DP+ address"},
};
// deleteNotificationStatus (§5.7.11).
constexpr std::array kRemove{
    EuiccText{1, "nothingToDelete", "the eUICC holds no notification with this sequence number"},
    EuiccText{127, "undefinedError", "the eUICC could not remove the notification"},
};

template <std::size_t N>
std::string euicc_sentence(const std::array<EuiccText, N>& table, std::int64_t code) {
  for (const auto& e : table) {
    if (e.code == code) return "eUICC code " + std::to_string(code) + " (" + std::string(e.name) + "): " + std::string(e.text);
  }
  return "eUICC code " + std::to_string(code) + ": a result this LPA does not know";
}

/// BppCommandId (§5.7.6): which command of the BPP an error belongs to.
std::string_view bpp_command_name(std::int64_t id) {
  switch (id) {
    case 0: return "initialiseSecureChannel";
    case 1: return "configureISDP";
    case 2: return "storeMetadata";
    case 3: return "storeMetadata2";
    case 4: return "replaceSessionKeys";
    case 5: return "loadProfileElements";
    default: return {};
  }
}

}  // namespace

std::string explain_es9(std::string_view subject_code, std::string_view reason_code) {
  std::string out = std::string(subject_code) + " / " + std::string(reason_code) + ": ";
  for (const auto& p : kPairs) {
    if (p.subject == subject_code && p.reason == reason_code) return out + std::string(p.text);
  }
  const auto subject = lookup(kSubjects, subject_code);
  const auto reason = lookup(kReasons, reason_code);
  out += "the SM-DP+ says ";
  out += subject.empty() ? "subject " + std::string(subject_code) : std::string(subject);
  out += " ";
  out += reason.empty() ? "failed (reason " + std::string(reason_code) + ")" : std::string(reason);
  return out;
}

std::string explain_euicc(EuiccFunction function, std::int64_t code, std::optional<std::int64_t> bpp_command_id) {
  switch (function) {
    case EuiccFunction::AuthenticateServer: return euicc_sentence(kAuthenticate, code);
    case EuiccFunction::PrepareDownload: return euicc_sentence(kPrepare, code);
    case EuiccFunction::LoadBoundProfilePackage: {
      std::string s = euicc_sentence(kLoad, code);
      if (bpp_command_id) {
        const auto name = bpp_command_name(*bpp_command_id);
        s += name.empty() ? " (in BPP command " + std::to_string(*bpp_command_id) + ")"
                          : " (in " + std::string(name) + ")";
      }
      return s;
    }
    case EuiccFunction::EnableProfile: return euicc_sentence(kEnable, code);
    case EuiccFunction::DisableProfile: return euicc_sentence(kDisable, code);
    case EuiccFunction::DeleteProfile: return euicc_sentence(kDelete, code);
    case EuiccFunction::SetNickname: return euicc_sentence(kNickname, code);
    case EuiccFunction::MemoryReset: return euicc_sentence(kReset, code);
    case EuiccFunction::SetDefaultDpAddress: return euicc_sentence(kDefaultDp, code);
    case EuiccFunction::RemoveNotification: return euicc_sentence(kRemove, code);
  }
  return "eUICC code " + std::to_string(code);
}

std::string explain(const DownloadError& e) {
  std::string out = std::string(to_string(e.step)) + ": ";
  using S = DownloadError::Source;
  if (e.source == S::Es9Function && !e.subject_code.empty()) {
    out += explain_es9(e.subject_code, e.reason_code);
  } else if (e.source == S::Euicc && e.euicc_code) {
    const auto fn = e.step == Step::AuthenticateServer ? EuiccFunction::AuthenticateServer
                    : e.step == Step::PrepareDownload  ? EuiccFunction::PrepareDownload
                                                       : EuiccFunction::LoadBoundProfilePackage;
    out += explain_euicc(fn, *e.euicc_code, e.bpp_command_id);
  } else {
    out += e.message;
    if (e.sw) {
      char sw[8];
      std::snprintf(sw, sizeof sw, "%04X", static_cast<unsigned>(*e.sw));
      out += std::string(" (status word ") + sw + ")";
    }
  }
  if (e.session_cancelled) out += "; the session was cancelled on both sides";
  return out;
}

}  // namespace rsp::lpa
