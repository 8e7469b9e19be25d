#pragma once
// The story `rsp demo m2m` tells, step by step (one process, the embedded
// default). The steps live in three files, one part each:
//   cmd_demo_m2m.cpp       the card, the SM-SR, the device, ES1 and ES4 (steps 1-8, and the expiry last);
//   demo_m2m_download.cpp  the M2M SM-DP and an ES2 DownloadProfile through ES3 and ES8;
//   demo_m2m_swap.cpp      a second SM-SR and the SM-SR change (ES7).
// No protocol logic lives here: only the wiring of the libraries.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rsp/es5/admin_session.hpp"
#include "rsp/euicc_m2m/es8_card.hpp"
#include "rsp/euicc_m2m/euicc.hpp"
#include "rsp/m2m/eis.hpp"
#include "rsp/m2m_device/device.hpp"
#include "rsp/net/server.hpp"
#include "rsp/service/clock.hpp"
#include "rsp/service/outbox.hpp"
#include "rsp/smpp/loopback.hpp"
#include "rsp/smsr/es5_link.hpp"
#include "rsp/smsr/registry.hpp"
#include "rsp/smsr/service.hpp"
#include "rsp/store/database.hpp"

namespace rsp::cli::demo_m2m {

inline const std::string kEum = "EUM-TEST";
inline const std::string kMno = "demo-mno";
inline const std::string kSmsrId = "smsr.demo";
inline const smpp::Address kSmsrAddress{"4912345", 1, 1};
inline const std::string kBootMsisdn = "447700900001";
inline const std::string kSecondMsisdn = "447700900002";

/// The MNO's callback endpoint: plain HTTP on 127.0.0.1, keeping each body
/// (the SM-SRs' ES4 callbacks and the SM-DP's ES2 ones).
class MnoEndpoint {
 public:
  bool start();
  void stop();
  std::string url() const { return server_->url() + "/mno/callbacks"; }
  /// Waits for `count` bodies in all; those after `seen`.
  std::vector<nlohmann::json> wait(std::size_t seen, std::size_t count, std::chrono::seconds timeout);
  std::size_t count();

 private:
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> bodies_;
};

/// Where a callback goes, by recipient (the outbox entries' lane): the MNO's
/// endpoint unless a recipient has its own (the SM-DP's ES3 results).
class CallbackDestinations {
 public:
  explicit CallbackDestinations(std::string fallback) : fallback_(std::move(fallback)) {}
  void set(const std::string& recipient, std::string url);
  std::string of(const std::string& recipient);

 private:
  std::mutex mu_;
  std::string fallback_;
  std::map<std::string, std::string> urls_;
};

/// One SM-SR as the demo runs it (Demo::start_smsr_node): its EIS registry
/// in SQLite (ISD-R keys sealed under a key-encryption key), its ES5 link
/// with SMS wake-ups through the loopback SMSC, its ES4 service, its PSK-TLS
/// administration sessions on 127.0.0.1, its callbacks' outbox worker.
struct SmsrNode {
  SmsrNode(std::string smsr_id, smpp::Address sms_address) : id(std::move(smsr_id)), address(std::move(sms_address)) {}
  void stop();

  std::string id;
  smpp::Address address;
  std::string kek_id;  ///< the key-encryption key's id (never the key)
  std::shared_ptr<store::Database> db;
  std::shared_ptr<smsr::Registry> registry;
  std::unique_ptr<smpp::SmsTransport> sms;
  std::shared_ptr<smsr::Es5Link> link;
  std::shared_ptr<smsr::Service> service;
  smsr::ServiceConfig service_config;  ///< the service's, for the ES3 service on the same registry and link
  std::unique_ptr<es5::AdminSessionServer> sessions;
  std::unique_ptr<service::OutboxWorker> worker;
};

struct SmdpPart;    // demo_m2m_download.cpp
struct SecondSmsr;  // demo_m2m_swap.cpp

class Demo {
 public:
  explicit Demo(std::filesystem::path dir) : dir_(std::move(dir)) {}
  int run();
  void stop();

 private:
  // Printing.
  void step(const std::string& title);
  static void say(const std::string& line);
  bool failed(const std::string& what);

  // What the steps share.
  std::string card_profiles();
  std::string eis_state(const std::string& iccid);
  /// Waits for operation `id` at `smsr` to end; prints its outcome (or,
  /// unless `quiet`, that it did not end in time).
  std::optional<smsr::Operation> finish_at(smsr::Service& smsr, std::int64_t id,
                                           std::chrono::seconds timeout = std::chrono::seconds(30),
                                           bool quiet = false);
  std::optional<smsr::Operation> finish(std::int64_t id, std::chrono::seconds timeout = std::chrono::seconds(30),
                                        bool quiet = false) {
    return finish_at(*in_charge_, id, timeout, quiet);
  }
  /// Prints the MNO's callbacks after the first `seen`, once `count` came in all.
  void show_callbacks(std::size_t seen, std::size_t count);
  /// Prints the MNO's callbacks after the first `seen` once one of them is a
  /// call of `function`; that one (nullopt when none came in time).
  std::optional<nlohmann::json> show_callbacks_until(std::size_t seen, const std::string& function,
                                                      std::chrono::seconds timeout);
  void print_callbacks(const std::vector<nlohmann::json>& bodies);
  /// Starts `node` with its registry in `database`; its callbacks go each to
  /// its recipient's destination, over HTTPS checked against the test CI (or
  /// plain HTTP, the MNO's endpoint).
  bool start_smsr_node(SmsrNode& node, const std::string& database);
  /// The device listens at `msisdn` too (a new profile's number).
  void listen_at(const std::string& msisdn);

  // cmd_demo_m2m.cpp
  bool make_card();
  bool start_smsr();
  bool start_device();
  bool register_eis();
  bool enable_second();
  bool disable_with_fallback();
  bool pol2_refusal();
  bool pol1_refusal();
  bool expiry();
  // demo_m2m_download.cpp
  bool start_smdp();
  bool download_profile();
  void stop_smdp();
  // demo_m2m_swap.cpp
  bool start_second_smsr();
  bool change_smsr();
  bool enable_after_change();
  void stop_second_smsr();

  std::filesystem::path dir_;
  std::filesystem::path pki_;
  int n_ = 0;
  std::string eid_, boot_iccid_, second_iccid_, downloaded_iccid_;
  m2m::Eis eis_;
  std::unique_ptr<euicc_m2m::M2mEuicc> card_;
  service::SystemClock clock_;
  MnoEndpoint endpoint_;
  std::shared_ptr<CallbackDestinations> destinations_;
  std::vector<Bytes> roots_;  ///< the test CI: the TLS certificates of the SM-SRs and the SM-DP chain to it
  std::unique_ptr<smpp::LoopbackSmsc> smsc_;
  SmsrNode smsr_{kSmsrId, kSmsrAddress};
  /// The SM-SR that manages the eUICC now: smsr_'s, then the second one's.
  std::shared_ptr<smsr::Service> in_charge_;
  std::vector<std::unique_ptr<smpp::SmsTransport>> device_sms_;
  std::unique_ptr<euicc_m2m::Es8Card> es8_;  ///< the card's ISD-Ps as the SM-DP reaches them (ES8)
  std::unique_ptr<m2m_device::M2mDevice> device_;
  std::shared_ptr<SmdpPart> smdp_;
  std::shared_ptr<SecondSmsr> second_;
};

}  // namespace rsp::cli::demo_m2m
