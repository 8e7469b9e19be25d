#include "rsp/service/caller.hpp"

namespace rsp::service {

const char* proof_name(CallerProof proof) {
  switch (proof) {
    case CallerProof::ApiKey:
      return "api-key";
    case CallerProof::ClientCertificate:
      return "client-certificate";
  }
  return "?";
}

}  // namespace rsp::service
