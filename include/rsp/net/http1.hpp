#pragma once
/// HTTP/1.1 request framing (RFC 9112): the request line, the header section
/// and chunked bodies, parsed from bytes a client sent. Strict where a lax
/// reading could be exploited (request smuggling: Content-Length with
/// Transfer-Encoding, differing Content-Lengths, obsolete line folding) and
/// bounded everywhere. Every refusal carries the status code to answer with.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rsp/common/ascii.hpp"

namespace rsp::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// The first value of header `name` (case-insensitive), or nullopt.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);

/// Case-insensitive comparison of header names and tokens: rsp::iequals.
using rsp::iequals;

/// A refusal: the status to answer with and a short reason for the body.
struct HttpError {
  int status = 400;
  std::string reason;
};

struct HeadLimits {
  std::size_t max_head_bytes = 16 * 1024;   ///< request line + headers; past it: 431
  std::size_t max_target_bytes = 8 * 1024;  ///< request-target; past it: 414
  std::size_t max_headers = 100;            ///< header lines; past it: 431
  std::uint64_t max_body_bytes = 1024 * 1024;  ///< a larger Content-Length: 413
};

/// RFC 9112 §3 request line and §5 field lines, with what framing needs.
struct RequestHead {
  std::string method;
  std::string target;  ///< as sent
  std::string path;    ///< target without "?query"
  int minor_version = 1;  ///< HTTP/1.<minor>
  Headers headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;          ///< Transfer-Encoding: chunked
  bool keep_alive = true;        ///< from the version and Connection
  bool expect_continue = false;  ///< Expect: 100-continue
};

/// The outcome of parsing the start of a buffer.
struct HeadParse {
  enum class Status { Incomplete, Complete, Error };
  Status status = Status::Incomplete;
  std::size_t consumed = 0;  ///< Complete: bytes of the head, its blank line included
  RequestHead head;          ///< Complete
  HttpError error;           ///< Error
};

/// Parses a request head from the start of `in`. Incomplete until the blank
/// line arrives (or an Error once `in` is past the limits without one).
HeadParse parse_request_head(std::string_view in, const HeadLimits& limits = {});

/// RFC 9112 §7.1 chunked transfer coding, decoded incrementally: feed bytes
/// as they arrive, the chunk data is appended to the body. Chunk extensions
/// and trailer fields are read and ignored (bounded).
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(std::uint64_t max_body_bytes) : max_body_(max_body_bytes) {}

  enum class Status { NeedMore, Done, Error };
  struct Step {
    Status status = Status::NeedMore;
    std::size_t consumed = 0;  ///< bytes of `in` used (Done: the rest belongs to the next request)
    HttpError error;           ///< Error: 400, or 413 when the body grows past the limit
  };
  Step feed(std::string_view in, std::string& body);

 private:
  enum class State { Size, Extension, SizeLf, Data, DataCr, DataLf, Trailer, TrailerLf, Done };
  std::uint64_t max_body_;
  State state_ = State::Size;
  std::uint64_t chunk_left_ = 0;
  std::size_t size_digits_ = 0;
  std::size_t line_bytes_ = 0;  ///< of the current extension or trailer line
  std::size_t trailer_bytes_ = 0;
  bool trailer_line_empty_ = true;
};

/// RFC 9112 §4 status line and §5 field lines of a response, with what a
/// client needs to frame its body.
struct ResponseHead {
  int status = 0;
  int minor_version = 1;
  Headers headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;     ///< Transfer-Encoding: chunked
  bool keep_alive = true;   ///< from the version and Connection
};

struct ResponseHeadParse {
  enum class Status { Incomplete, Complete, Error };
  Status status = Status::Incomplete;
  std::size_t consumed = 0;  ///< Complete: bytes of the head, its blank line included
  ResponseHead head;         ///< Complete
  std::string error;         ///< Error: why, in a few words
};

/// Parses a response head from the start of `in` (what a server sent a
/// client): Incomplete until its blank line arrives, an Error once `in` is
/// past `limits.max_head_bytes` or `limits.max_headers` without one, or the
/// head is malformed (status line, field syntax, a Content-Length list that
/// disagrees, both Content-Length and Transfer-Encoding, a transfer coding
/// other than chunked, a Content-Length over `limits.max_body_bytes`).
ResponseHeadParse parse_response_head(std::string_view in, const HeadLimits& limits = {});

/// The reason phrase for a status code ("OK", "Not Found", ...).
std::string_view reason_phrase(int status);

}  // namespace rsp::net
