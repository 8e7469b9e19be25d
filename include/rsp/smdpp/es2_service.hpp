#pragma once
/// ES2+ (SGP.22 §5.3): the operator's functions on its profile inventory,
/// independent of the transport. Each call names the requesting operator;
/// an operator sees and changes only its own profiles, and another
/// operator's ICCID is reported exactly like an unknown one. Each failure is
/// an ES2+ subject/reason code (es2_codes.hpp); each state change is one
/// transaction with its history record.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "rsp/crypto/random.hpp"
#include "rsp/smdpp/inventory.hpp"

namespace rsp::smdpp {

struct Es2Config {
  /// This SM-DP+'s address, returned by ConfirmOrder (smdpAddress).
  std::string smdp_address;
  /// Confirmation code attempts allowed per order.
  int cc_attempts = 3;
  /// How long a download order stays downloadable when DownloadOrder names
  /// no expiry (orderExpiry); nullopt: until cancelled. Past it, ES9+
  /// AuthenticateClient answers 8.8.5 / 4.10 (SGP.22 v2.2.2 §5.6.2).
  std::optional<std::chrono::seconds> order_validity = std::nullopt;
};

struct DownloadOrderRequest {
  std::optional<std::string> eid;
  std::optional<std::string> iccid;
  std::optional<std::string> profile_type;
  /// Seconds since the epoch after which the order cannot be downloaded;
  /// this SM-DP+'s extension (JSON orderExpiry), not an SGP.22 v2.2.2 member.
  std::optional<std::int64_t> expires_at = std::nullopt;
};

struct ConfirmOrderRequest {
  std::string iccid;
  std::optional<std::string> eid;
  std::optional<std::string> matching_id;  ///< generated (unique) when absent
  std::optional<std::string> confirmation_code;
  std::optional<std::string> smds_address;
  bool release_flag = false;
  /// A new expiry for the order (DownloadOrderRequest::expires_at).
  std::optional<std::int64_t> expires_at = std::nullopt;
};

struct ConfirmOrderResult {
  std::optional<std::string> eid;
  std::string matching_id;
  std::string smdp_address;
};

enum class FinalProfileStatus { Available, Unavailable };

struct CancelOrderRequest {
  std::string iccid;
  std::optional<std::string> eid;
  std::optional<std::string> matching_id;
  FinalProfileStatus final_status = FinalProfileStatus::Available;
};

/// matchingId syntax accepted and generated: 1..64 of [0-9A-Z-], the AC
/// token syntax of the activation code (rsp/messages/activation_code.hpp).
bool is_valid_matching_id(std::string_view id);

class Es2Service {
 public:
  Es2Service(std::shared_ptr<Inventory> inventory, Es2Config config, crypto::Random& rng);

  /// DownloadOrder (§5.3.1): reserves the profile (by ICCID, or the first
  /// available of the type) and returns its ICCID.
  SmdppResult<std::string> download_order(const std::string& operator_name, const DownloadOrderRequest& req);
  /// ConfirmOrder (§5.3.2).
  SmdppResult<ConfirmOrderResult> confirm_order(const std::string& operator_name, const ConfirmOrderRequest& req);
  /// CancelOrder (§5.3.3).
  SmdppResult<void> cancel_order(const std::string& operator_name, const CancelOrderRequest& req);
  /// ReleaseProfile (§5.3.4).
  SmdppResult<void> release_profile(const std::string& operator_name, const std::string& iccid);

  const Es2Config& config() const { return config_; }
  Inventory& inventory() { return *inv_; }

 private:
  std::string new_matching_id();
  std::shared_ptr<Inventory> inv_;
  Es2Config config_;
  crypto::Random& rng_;
  std::mutex rng_mu_;  ///< the Random may be shared with other users
};

}  // namespace rsp::smdpp
