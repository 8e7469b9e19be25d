#pragma once
/// SGP.22 §6.5.1 JSON common data: the request header
/// {functionRequesterIdentifier, functionCallIdentifier} and the response
/// header {functionExecutionStatus {status, statusCodeData?}}, with builders
/// and strict parsers over nlohmann::json. Nothing here throws.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/messages/error.hpp"

namespace rsp::messages {

/// The HTTP content type of every SGP.22 JSON message (§6.1.1).
inline constexpr std::string_view kJsonContentType = "application/json;charset=UTF-8";
/// The X-Admin-Protocol header value of SGP.22 v2.2.2 (§6.1.1).
inline constexpr std::string_view kAdminProtocol = "gsma/rsp/v2.2.2";

/// Whether a request's Content-Type is SGP.22's JSON (§6.5.1): the media type
/// application/json, with no parameter but charset=UTF-8 (case and blanks as
/// RFC 9110 allows). Clients that leave the charset out are accepted.
bool is_json_content_type(std::string_view value);
/// Whether an X-Admin-Protocol value names a version of this protocol that we
/// speak: "gsma/rsp/v2.<minor>.<patch>" (SGP.22 v2.x, §6.5.1).
bool is_supported_admin_protocol(std::string_view value);

/// A neutral text for a reason code of SGP.22 §5.2.6.2 ("Refused", "Unknown",
/// "Execution Error" ...), for the message of a failure sent to a peer:
/// what the server knows beyond the code (its storage, other orders) stays in
/// its log. "Failed" for a code not in the table.
std::string_view reason_text(std::string_view reason_code);

struct RequestHeader {
  std::string function_requester_identifier;
  std::string function_call_identifier;
  bool operator==(const RequestHeader&) const = default;
};

enum class ExecutionStatus { ExecutedSuccess, ExecutedWithWarning, Failed, Expired };

/// "Executed-Success", "Executed-WithWarning", "Failed", "Expired".
std::string_view to_string(ExecutionStatus s);
std::optional<ExecutionStatus> execution_status_from_string(std::string_view s);

struct StatusCodeData {
  std::string subject_code;
  std::string reason_code;
  std::optional<std::string> subject_identifier;
  std::optional<std::string> message;
  bool operator==(const StatusCodeData&) const = default;
};

struct FunctionExecutionStatus {
  ExecutionStatus status = ExecutionStatus::ExecutedSuccess;
  /// Present for Failed, Expired and Executed-WithWarning.
  std::optional<StatusCodeData> status_code_data;
  bool operator==(const FunctionExecutionStatus&) const = default;
};

struct ResponseHeader {
  FunctionExecutionStatus function_execution_status;
  bool operator==(const ResponseHeader&) const = default;

  bool succeeded() const {
    return function_execution_status.status == ExecutionStatus::ExecutedSuccess ||
           function_execution_status.status == ExecutionStatus::ExecutedWithWarning;
  }
  static ResponseHeader success();
  static ResponseHeader failed(std::string subject_code, std::string reason_code,
                               std::optional<std::string> message = std::nullopt);
};

nlohmann::json to_json(const RequestHeader& h);
nlohmann::json to_json(const StatusCodeData& d);
nlohmann::json to_json(const ResponseHeader& h);

/// Strict: objects with exactly the defined members, strings where strings
/// are defined; statusCodeData required for Failed and Expired.
Result<RequestHeader> parse_request_header(const nlohmann::json& j);
Result<StatusCodeData> parse_status_code_data(const nlohmann::json& j);
Result<ResponseHeader> parse_response_header(const nlohmann::json& j);

/// Parses text into a JSON value (MalformedJson on any syntax problem, on
/// trailing garbage, or past `max_depth` nesting).
Result<nlohmann::json> parse_json(std::string_view text, std::size_t max_depth = 32);
/// Parses text that must be a JSON object.
Result<nlohmann::json> parse_json_object(std::string_view text, std::size_t max_depth = 32);

/// Serialises without throwing: invalid UTF-8 in strings is replaced.
std::string dump(const nlohmann::json& j);

/// Strict reader of one JSON object's members: every member must be taken
/// (required or optional) and `finish()` reports any member left over.
class ObjectReader {
 public:
  /// `where` names the object in errors ("" for the top level).
  ObjectReader(const nlohmann::json& object, std::string where = {});

  Result<std::string> string(std::string_view name);
  Result<std::optional<std::string>> optional_string(std::string_view name);
  Result<const nlohmann::json*> object(std::string_view name);
  Result<const nlohmann::json*> optional_object(std::string_view name);
  /// UnknownField naming the first member not taken.
  Result<void> finish() const;

 private:
  std::string path(std::string_view name) const;
  const nlohmann::json* find(std::string_view name);

  const nlohmann::json& object_;
  std::string where_;
  std::vector<std::string> taken_;
};

}  // namespace rsp::messages
