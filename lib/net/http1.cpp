#include "rsp/net/http1.hpp"

#include <limits>

namespace rsp::net {
namespace {

/// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

/// RFC 9110 §5.5 field-value characters: visible, space, tab and obs-text.
bool is_field_value_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || u >= 0x20 ? u != 0x7f : false;
}

/// Calls f(token) for each element of a comma-separated list (RFC 9110 §5.6.1),
/// empty elements skipped.
template <class F>
void for_each_element(std::string_view list, F f) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto element = trim_ows(list.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

HeadParse fail(int status, std::string reason) {
  HeadParse p;
  p.status = HeadParse::Status::Error;
  p.error = HttpError{status, std::move(reason)};
  return p;
}

/// The end of the line starting at `from` (the index of its LF), or npos.
/// Lines end in CRLF; a bare LF is accepted (RFC 9112 §2.2), a bare CR is not.
std::size_t line_end(std::string_view in, std::size_t from) { return in.find('\n', from); }

std::string_view line_at(std::string_view in, std::size_t from, std::size_t lf) {
  auto line = in.substr(from, lf - from);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool parse_decimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

/// What a head's field lines say of its framing and its connection.
struct FieldFraming {
  std::optional<std::uint64_t> content_length;
  std::optional<std::string> transfer_encoding;  ///< every Transfer-Encoding line, joined by ","
  bool close = false, keep_alive = false;         ///< Connection: close / keep-alive seen
};

/// Reads the field lines (RFC 9112 §5) from `at` to `end` (past the head's
/// blank line) into `headers` and `framing`, both message kinds' rules;
/// `other(name, value)` sees every other field and may refuse it. A refusal
/// carries the status a server answers it with.
template <class Other>
std::optional<HttpError> read_fields(std::string_view in, std::size_t at, std::size_t end, std::size_t max_headers,
                                     Headers& headers, FieldFraming& framing, Other&& other) {
  while (at < end) {
    const std::size_t next = line_end(in, at);
    const std::string_view field = line_at(in, at, next);
    at = next + 1;
    if (field.empty()) break;  // the blank line ending the head
    if (field.find('\r') != std::string_view::npos) return HttpError{400, "bare CR"};
    if (field.front() == ' ' || field.front() == '\t') return HttpError{400, "obsolete line folding"};
    const auto colon = field.find(':');
    if (colon == std::string_view::npos) return HttpError{400, "header line without a colon"};
    const auto name = field.substr(0, colon);
    if (!is_token(name)) return HttpError{400, "malformed header name"};
    const auto value = trim_ows(field.substr(colon + 1));
    for (char c : value)
      if (!is_field_value_char(c)) return HttpError{400, "malformed header value"};
    if (headers.size() == max_headers) return HttpError{431, "too many header fields"};
    headers.emplace_back(std::string(name), std::string(value));

    if (iequals(name, "Content-Length")) {
      // A list of identical values is one length (RFC 9110 §8.6); differing ones are refused.
      bool ok = true;
      for_each_element(value, [&](std::string_view v) {
        std::uint64_t n = 0;
        if (!parse_decimal(v, n) || (framing.content_length && *framing.content_length != n)) ok = false;
        framing.content_length = n;
      });
      if (!ok || !framing.content_length) return HttpError{400, "malformed Content-Length"};
    } else if (iequals(name, "Transfer-Encoding")) {
      framing.transfer_encoding = framing.transfer_encoding ? *framing.transfer_encoding + "," + std::string(value)
                                                            : std::string(value);
    } else if (iequals(name, "Connection")) {
      for_each_element(value, [&](std::string_view t) {
        framing.close = framing.close || iequals(t, "close");
        framing.keep_alive = framing.keep_alive || iequals(t, "keep-alive");
      });
    } else if (auto refused = other(name, value)) {
      return refused;
    }
  }
  return std::nullopt;
}

/// True when a Transfer-Encoding list is the one coding both parsers take:
/// chunked alone.
bool only_chunked(std::string_view transfer_encoding) {
  std::size_t codings = 0;
  bool chunked = false;
  for_each_element(transfer_encoding, [&](std::string_view c) {
    ++codings;
    chunked = iequals(c, "chunked");
  });
  return codings == 1 && chunked;
}

}  // namespace

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

HeadParse parse_request_head(std::string_view in, const HeadLimits& limits) {
  // RFC 9112 §2.2: empty lines before the request line are ignored.
  std::size_t pos = 0;
  while (pos < in.size() && (in[pos] == '\r' || in[pos] == '\n')) {
    if (in[pos] == '\r' && pos + 1 < in.size() && in[pos + 1] != '\n') return fail(400, "bare CR");
    ++pos;
    if (pos > 64) return fail(400, "empty lines before the request line");
  }
  // The whole head must fit the limit; until its blank line arrives it is incomplete.
  const auto visible = in.substr(0, std::min(in.size(), pos + limits.max_head_bytes + 4));
  std::size_t end = std::string_view::npos;
  for (std::size_t lf = visible.find('\n', pos); lf != std::string_view::npos; lf = visible.find('\n', lf + 1)) {
    if (lf + 1 < visible.size() && visible[lf + 1] == '\n') {
      end = lf + 2;
      break;
    }
    if (lf + 2 < visible.size() && visible[lf + 1] == '\r' && visible[lf + 2] == '\n') {
      end = lf + 3;
      break;
    }
  }
  if (end == std::string_view::npos) {
    if (in.size() - pos > limits.max_head_bytes) {
      const auto first_lf = in.find('\n', pos);
      if (first_lf == std::string_view::npos || first_lf - pos > limits.max_target_bytes + 32)
        return fail(414, "request line too long");
      return fail(431, "request header section too large");
    }
    return {};
  }
  if (end - pos > limits.max_head_bytes) return fail(431, "request header section too large");

  HeadParse out;
  RequestHead& h = out.head;
  // Request line: method SP request-target SP HTTP-version (RFC 9112 §3).
  const std::size_t lf = line_end(in, pos);
  const std::string_view line = line_at(in, pos, lf);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(400, "malformed request line");
  const auto method = line.substr(0, sp1);
  const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(400, "malformed method");
  if (target.size() > limits.max_target_bytes) return fail(414, "request target too long");
  if (target.empty()) return fail(400, "empty request target");
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return fail(400, "malformed request target");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return fail(400, "malformed HTTP version");
  if (version[5] != '1') return fail(505, "HTTP version not supported");
  h.method = std::string(method);
  h.target = std::string(target);
  h.path = h.target.substr(0, h.target.find('?'));
  h.minor_version = version[7] - '0';
  h.keep_alive = h.minor_version >= 1;

  // Field lines (RFC 9112 §5).
  bool has_host = false;
  FieldFraming framing;
  const auto refused = read_fields(
      in, lf + 1, end, limits.max_headers, h.headers, framing,
      [&](std::string_view name, std::string_view value) -> std::optional<HttpError> {
        if (iequals(name, "Expect")) {
          if (!iequals(value, "100-continue")) return HttpError{417, "unsupported expectation"};
          h.expect_continue = true;
        } else if (iequals(name, "Host")) {
          if (has_host) return HttpError{400, "more than one Host"};
          has_host = true;
        }
        return std::nullopt;
      });
  if (refused) return fail(refused->status, std::move(refused->reason));
  h.content_length = framing.content_length;
  if (h.minor_version >= 1 && !has_host) return fail(400, "no Host header");  // RFC 9112 §3.2
  if (framing.transfer_encoding) {
    // Both framings at once is how requests are smuggled (RFC 9112 §6.3): refused.
    if (h.content_length) return fail(400, "both Content-Length and Transfer-Encoding");
    if (!only_chunked(*framing.transfer_encoding)) return fail(501, "unsupported transfer coding");
    if (h.minor_version == 0) return fail(400, "chunked coding in HTTP/1.0");
    h.chunked = true;
  }
  if (h.content_length && *h.content_length > limits.max_body_bytes) {
    HeadParse too_big = fail(413, "request body too large");
    too_big.head = std::move(h);
    too_big.consumed = end;
    return too_big;
  }
  if (framing.close) h.keep_alive = false;
  else if (framing.keep_alive) h.keep_alive = true;
  out.status = HeadParse::Status::Complete;
  out.consumed = end;
  return out;
}

ChunkedDecoder::Step ChunkedDecoder::feed(std::string_view in, std::string& body) {
  constexpr std::size_t kMaxLine = 4096;      // a chunk extension or trailer line
  constexpr std::size_t kMaxTrailer = 16384;  // all trailer fields
  Step step;
  auto error = [&](int status, const char* reason) {
    step.status = Status::Error;
    step.error = HttpError{status, reason};
    return step;
  };
  std::size_t i = 0;
  while (i < in.size() && state_ != State::Done) {
    const char c = in[i];
    switch (state_) {
      case State::Size: {
        int digit = -1;
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        if (digit >= 0) {
          if (++size_digits_ > 15) return error(413, "chunk size too large");
          chunk_left_ = chunk_left_ * 16 + static_cast<std::uint64_t>(digit);
          ++i;
          break;
        }
        if (size_digits_ == 0) return error(400, "malformed chunk size");
        if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::Extension;
          line_bytes_ = 0;
        } else if (c == '\r') {
          state_ = State::SizeLf;
          ++i;
        } else if (c == '\n') {
          state_ = State::SizeLf;
        } else {
          return error(400, "malformed chunk size");
        }
        break;
      }
      case State::Extension:
        if (c == '\r' || c == '\n') {
          state_ = State::SizeLf;
          if (c == '\r') ++i;
          break;
        }
        if (!is_field_value_char(c)) return error(400, "malformed chunk extension");
        if (++line_bytes_ > kMaxLine) return error(400, "chunk extension too long");
        ++i;
        break;
      case State::SizeLf:
        if (c != '\n') return error(400, "bare CR in chunk size line");
        ++i;
        size_digits_ = 0;
        if (chunk_left_ == 0) {
          state_ = State::Trailer;
          line_bytes_ = 0;
          trailer_line_empty_ = true;
          break;
        }
        if (chunk_left_ > max_body_ - std::min<std::uint64_t>(max_body_, body.size()))
          return error(413, "request body too large");
        state_ = State::Data;
        break;
      case State::Data: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, in.size() - i));
        body.append(in.data() + i, n);
        i += n;
        chunk_left_ -= n;
        if (chunk_left_ == 0) state_ = State::DataCr;
        break;
      }
      case State::DataCr:
        if (c == '\r') {
          state_ = State::DataLf;
          ++i;
        } else if (c == '\n') {
          state_ = State::DataLf;
        } else {
          return error(400, "chunk data longer than its size");
        }
        break;
      case State::DataLf:
        if (c != '\n') return error(400, "bare CR after chunk data");
        ++i;
        state_ = State::Size;
        break;
      case State::Trailer:
        // Trailer field lines up to an empty line; their content is ignored.
        if (c == '\r' || c == '\n') {
          state_ = State::TrailerLf;
          if (c == '\r') ++i;
          break;
        }
        if (!is_field_value_char(c)) return error(400, "malformed trailer field");
        if (++line_bytes_ > kMaxLine || ++trailer_bytes_ > kMaxTrailer) return error(431, "trailer section too large");
        trailer_line_empty_ = false;
        ++i;
        break;
      case State::TrailerLf:
        if (c != '\n') return error(400, "bare CR in trailer section");
        ++i;
        if (trailer_line_empty_) {
          state_ = State::Done;
        } else {
          state_ = State::Trailer;
          line_bytes_ = 0;
          trailer_line_empty_ = true;
        }
        break;
      case State::Done:
        break;
    }
  }
  step.consumed = i;
  step.status = state_ == State::Done ? Status::Done : Status::NeedMore;
  return step;
}

ResponseHeadParse parse_response_head(std::string_view in, const HeadLimits& limits) {
  ResponseHeadParse out;
  auto error = [&](std::string why) {
    out.status = ResponseHeadParse::Status::Error;
    out.error = std::move(why);
    out.head = {};
    return out;
  };
  // The head ends at its first empty line (CRLF CRLF, or bare LFs).
  std::size_t end = std::string_view::npos;
  const std::size_t window = std::min(in.size(), limits.max_head_bytes);
  for (std::size_t lf = in.find('\n'); lf != std::string_view::npos && lf < window; lf = in.find('\n', lf + 1)) {
    const std::size_t next = lf + 1;
    if (next < in.size() && in[next] == '\n') {
      end = next + 1;
      break;
    }
    if (next + 1 < in.size() && in[next] == '\r' && in[next + 1] == '\n') {
      end = next + 2;
      break;
    }
  }
  if (end == std::string_view::npos) {
    if (in.size() >= limits.max_head_bytes) return error("response header section too large");
    return out;
  }
  ResponseHead& h = out.head;
  // Status line: HTTP-version SP 3DIGIT SP [reason-phrase] (RFC 9112 §4).
  const std::size_t first_lf = line_end(in, 0);
  const std::string_view status_line = line_at(in, 0, first_lf);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[7] < '0' ||
      status_line[7] > '9' || status_line[8] != ' ' || (status_line.size() > 12 && status_line[12] != ' '))
    return error("malformed status line");
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (status_line[i] < '0' || status_line[i] > '9') return error("malformed status code");
    code = code * 10 + (status_line[i] - '0');
  }
  if (code < 100) return error("malformed status code");
  for (char c : status_line.substr(12))
    if (!is_field_value_char(c)) return error("malformed reason phrase");
  h.status = code;
  h.minor_version = status_line[7] - '0';
  h.keep_alive = h.minor_version >= 1;
  FieldFraming framing;
  if (auto refused = read_fields(in, first_lf + 1, end, limits.max_headers, h.headers, framing,
                                 [](std::string_view, std::string_view) { return std::optional<HttpError>{}; }))
    return error(std::move(refused->reason));
  h.content_length = framing.content_length;
  if (framing.transfer_encoding) {
    if (h.content_length) return error("both Content-Length and Transfer-Encoding");
    if (!only_chunked(*framing.transfer_encoding)) return error("unsupported transfer coding");
    h.chunked = true;
  }
  if (h.content_length && *h.content_length > limits.max_body_bytes) return error("response body too large");
  if (framing.close) h.keep_alive = false;
  else if (framing.keep_alive) h.keep_alive = true;
  out.status = ResponseHeadParse::Status::Complete;
  out.consumed = end;
  return out;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : "Error";
  }
}

}  // namespace rsp::net
