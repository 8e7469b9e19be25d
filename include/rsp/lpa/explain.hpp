#pragma once
/// Errors in words for the people who run the LPA: each SM-DP+ subject/reason
/// code pair (SGP.22 §5.2.6, the function tables of §5.6) and each eUICC
/// result code (the ES10 response enumerations of §5.7) becomes a sentence
/// that says what happened and, where there is one, what to do. The code is
/// always kept beside the sentence: "8.2.7 / 3.8: the confirmation code was
/// refused - check the code from your operator".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rsp/lpa/download.hpp"

namespace rsp::lpa {

/// "SUBJECT / REASON: sentence" for a function the SM-DP+ answered Failed.
/// A pair not in the table is described from the subject's and the reason's
/// names (§5.2.6) so that no code is ever shown without words.
std::string explain_es9(std::string_view subject_code, std::string_view reason_code);

/// The ES10 functions whose answer carries a result code.
enum class EuiccFunction : std::uint8_t {
  AuthenticateServer,  ///< AuthenticateErrorCode (§5.7.13)
  PrepareDownload,     ///< DownloadErrorCode (§5.7.5)
  LoadBoundProfilePackage,  ///< ErrorResult.errorReason (§5.7.6), with bppCommandId
  EnableProfile,       ///< enableResult (§5.7.16)
  DisableProfile,      ///< disableResult (§5.7.17)
  DeleteProfile,       ///< deleteResult (§5.7.18)
  SetNickname,         ///< setNicknameResult (§5.7.21)
  MemoryReset,         ///< resetResult (§5.7.19)
  SetDefaultDpAddress, ///< setDefaultDpAddressResult (§5.7.4)
  RemoveNotification,  ///< deleteNotificationStatus (§5.7.11)
};

/// "eUICC code N (name): sentence". For the load, `bpp_command_id` names the
/// command of the BPP the error came from (BppCommandId, §5.7.6).
std::string explain_euicc(EuiccFunction function, std::int64_t code,
                          std::optional<std::int64_t> bpp_command_id = std::nullopt);

/// A download failure in words: the step, the sentence for its code (SM-DP+
/// or eUICC), the status word or transport message otherwise.
std::string explain(const DownloadError& e);

}  // namespace rsp::lpa
