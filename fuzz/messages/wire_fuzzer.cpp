// Untrusted ES9+ JSON bodies and activation codes through the strict
// decoders: nothing may crash, throw or assert. The first byte picks the
// decoder, the rest is the input. What decodes must re-encode and decode to
// the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rsp/messages/activation_code.hpp"
#include "rsp/messages/es9_json.hpp"

namespace {

namespace es9 = rsp::messages::es9;

template <class T, class Decode>
void roundtrip(const rsp::messages::Result<T>& v, Decode decode, std::string (*encode)(const T&)) {
  if (!v) return;
  auto again = decode(encode(*v));
  if (!again || !(*again == *v)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 11) {
    case 0: {
      auto v = es9::decode_initiate_authentication_request(in);
      roundtrip(v, es9::decode_initiate_authentication_request,
                static_cast<std::string (*)(const es9::sgp::InitiateAuthenticationRequest&)>(es9::encode_request));
      break;
    }
    case 1: {
      auto v = es9::decode_authenticate_client_request(in);
      roundtrip(v, es9::decode_authenticate_client_request,
                static_cast<std::string (*)(const es9::sgp::AuthenticateClientRequest&)>(es9::encode_request));
      break;
    }
    case 2: {
      auto v = es9::decode_get_bound_profile_package_request(in);
      roundtrip(v, es9::decode_get_bound_profile_package_request,
                static_cast<std::string (*)(const es9::sgp::GetBoundProfilePackageRequest&)>(es9::encode_request));
      break;
    }
    case 3: {
      auto v = es9::decode_handle_notification_request(in);
      roundtrip(v, es9::decode_handle_notification_request,
                static_cast<std::string (*)(const es9::sgp::HandleNotification&)>(es9::encode_request));
      break;
    }
    case 4: {
      auto v = es9::decode_cancel_session_request(in);
      roundtrip(v, es9::decode_cancel_session_request,
                static_cast<std::string (*)(const es9::sgp::CancelSessionRequestEs9&)>(es9::encode_request));
      break;
    }
    case 5: {
      auto v = es9::decode_initiate_authentication_response(in);
      roundtrip(v, es9::decode_initiate_authentication_response,
                static_cast<std::string (*)(const es9::sgp::InitiateAuthenticationOkEs9&)>(es9::encode_response));
      break;
    }
    case 6: {
      auto v = es9::decode_authenticate_client_response(in);
      roundtrip(v, es9::decode_authenticate_client_response,
                static_cast<std::string (*)(const es9::sgp::AuthenticateClientOk&)>(es9::encode_response));
      break;
    }
    case 7: {
      auto v = es9::decode_get_bound_profile_package_response(in);
      roundtrip(v, es9::decode_get_bound_profile_package_response,
                static_cast<std::string (*)(const es9::sgp::GetBoundProfilePackageOk&)>(es9::encode_response));
      break;
    }
    case 8: {
      (void)es9::decode_cancel_session_response(in);
      if (auto h = es9::decode_response_header(in)) {
        auto again = es9::decode_response_header(es9::encode_header_only_response(*h));
        if (!again || !(*again == *h)) std::abort();
      }
      break;
    }
    case 9: {
      if (auto ac = rsp::messages::parse_activation_code(in)) {
        auto again = rsp::messages::parse_activation_code(rsp::messages::format_activation_code(*ac));
        if (!again || !(*again == *ac)) std::abort();
      }
      break;
    }
    default: {
      if (auto j = rsp::messages::parse_json(in)) {
        (void)rsp::messages::parse_request_header(*j);
        (void)rsp::messages::parse_response_header(*j);
        (void)rsp::messages::dump(*j);
      }
      break;
    }
  }
  return 0;
}
