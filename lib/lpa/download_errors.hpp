#pragma once
// The download's errors (DownloadError) as the LPA's download and its SM-DS
// discovery make them: shared by download.cpp and discovery.cpp.

#include <string>
#include <string_view>
#include <utility>

#include "rsp/lpa/download.hpp"
#include "rsp/lpa/es10_channel.hpp"
#include "rsp/messages/error.hpp"

namespace rsp::lpa::detail {

/// A download error at `step` from `source`.
inline unexpected<DownloadError> error(Step step, DownloadError::Source source, std::string message) {
  DownloadError e;
  e.step = step;
  e.source = source;
  e.message = std::move(message);
  return unexpected(std::move(e));
}

/// An ES10 call's failure at `step`: a bad or missing answer is the answer's
/// format, anything else the channel's (with its status word).
inline DownloadError es10_error(Step step, const Es10Error& e) {
  using Source = DownloadError::Source;
  if (e.kind == Es10Error::Kind::Format || e.kind == Es10Error::Kind::NoAnswer)
    return error(step, Source::Es10Format, e.message).error();
  DownloadError out = error(step, Source::Es10Transport, "ES10: " + e.message).error();
  if (e.sw != 0) out.sw = e.sw;
  return out;
}

/// A server's answer the response decoder refused, at `step`: a Failed status
/// (the function's codes) or a bad body; `server` names it ("SM-DP+", "SM-DS").
inline DownloadError answer_error(Step step, const messages::MessageError& m, std::string_view server) {
  using Source = DownloadError::Source;
  DownloadError e;
  e.step = step;
  if (m.kind == messages::ErrorKind::FunctionFailed) {
    e.source = Source::Es9Function;
    e.subject_code = m.subject_code;
    e.reason_code = m.reason_code;
    e.message = std::string(server) + ": " + m.detail;
  } else {
    e.source = Source::Es9Format;
    e.message = std::string(server) + " answer: " + m.to_string();
  }
  return e;
}

}  // namespace rsp::lpa::detail
