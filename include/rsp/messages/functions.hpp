#pragma once
/// The HTTP paths of the SGP.22 functions bound to HTTPS (§6.5.2), with each
/// function's name as the spec writes it (used as metric label and in the
/// access log). One table per interface; every client and server reads it.

#include <string_view>

namespace rsp::messages {

struct FunctionPath {
  std::string_view path;  ///< "/gsma/rsp2/es9plus/initiateAuthentication"
  std::string_view name;  ///< "ES9+.InitiateAuthentication"
};

/// ES9+ (SGP.22 §6.5.2.6 - §6.5.2.10), in the order of es9::Function.
inline constexpr FunctionPath kEs9Functions[] = {
    {"/gsma/rsp2/es9plus/initiateAuthentication", "ES9+.InitiateAuthentication"},
    {"/gsma/rsp2/es9plus/authenticateClient", "ES9+.AuthenticateClient"},
    {"/gsma/rsp2/es9plus/getBoundProfilePackage", "ES9+.GetBoundProfilePackage"},
    {"/gsma/rsp2/es9plus/handleNotification", "ES9+.HandleNotification"},
    {"/gsma/rsp2/es9plus/cancelSession", "ES9+.CancelSession"},
};
inline constexpr std::string_view kEs9Prefix = "/gsma/rsp2/es9plus/";

/// ES2+ (SGP.22 §6.5.2.1 - §6.5.2.5): the operator calls the first four, the
/// SM-DP+ calls the operator's HandleDownloadProgressInfo.
inline constexpr FunctionPath kEs2Functions[] = {
    {"/gsma/rsp2/es2plus/downloadOrder", "ES2+.DownloadOrder"},
    {"/gsma/rsp2/es2plus/confirmOrder", "ES2+.ConfirmOrder"},
    {"/gsma/rsp2/es2plus/cancelOrder", "ES2+.CancelOrder"},
    {"/gsma/rsp2/es2plus/releaseProfile", "ES2+.ReleaseProfile"},
};
inline constexpr FunctionPath kEs2HandleDownloadProgressInfo{"/gsma/rsp2/es2plus/handleDownloadProgressInfo",
                                                             "ES2+.HandleDownloadProgressInfo"};
inline constexpr std::string_view kEs2Prefix = "/gsma/rsp2/es2plus/";

}  // namespace rsp::messages
