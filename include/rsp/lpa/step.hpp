#pragma once
/// The steps of the LPA's work on the eUICC and the SM-DP+ (SGP.22 §3.1.3
/// download, §3.5 notifications), as reported to progress callbacks and in errors.

namespace rsp::lpa {

enum class Step {
  ParseActivationCode,
  GetEuiccInfo1,
  GetEuiccChallenge,
  InitiateAuthentication,
  AuthenticateServer,
  AuthenticateClient,
  ConfirmDownload,  ///< the user's consent / confirmation code
  PrepareDownload,
  GetBoundProfilePackage,
  LoadBoundProfilePackage,
  RetrieveNotification,
  HandleNotification,
  RemoveNotification,
  CancelSession,
  ListNotification,  ///< the notifications pending on the eUICC (ES10b.ListNotification)
};

const char* to_string(Step s);

}  // namespace rsp::lpa
