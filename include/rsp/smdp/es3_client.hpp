#pragma once
/// The SM-DP's ES3 client (SGP.02 §5.4) towards one SM-SR, in the JSON
/// binding of rsp/m2m/es3.hpp: HTTPS with the SM-DP's client certificate
/// (mutual TLS; the SM-SR knows the SM-DP by it), or plain HTTP for lab use.
///
/// A function the eUICC executes is answered 202 with an operation id; its
/// result comes later as the SM-SR's callback, which the SM-DP's callback
/// endpoint hands to Es3Results::deliver(). call() waits for it (at most
/// `result_timeout`), so the client is the ProfileDownload's Es3Port.
/// Errors never quote a key or the bodies exchanged.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rsp/net/client.hpp"
#include "rsp/smdp/profile_download.hpp"

namespace rsp::smdp {

/// The results the SM-SR called back with, until their caller takes them.
/// At most `capacity` are kept: a result nobody waits for (its call timed
/// out, or a flood) is dropped, the lowest operation id first, so that
/// memory stays bounded whatever arrives.
class Es3Results {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  explicit Es3Results(std::size_t capacity = kDefaultCapacity) : capacity_(capacity < 1 ? 1 : capacity) {}
  /// One callback body; an error when it is not an ES3 result. The same
  /// result delivered twice (a retried callback) is kept once.
  expected<void, std::string> deliver(std::string_view body);
  /// A result decoded already.
  void deliver(m2m::es3::Result result);
  /// The result of operation `id`, taken; nullopt when none came in time.
  std::optional<m2m::es3::Result> wait(std::int64_t id, std::chrono::milliseconds timeout);
  /// Results kept now, and dropped so far for want of room.
  std::size_t size();
  std::uint64_t dropped();

 private:
  std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::int64_t, m2m::es3::Result> results_;
  std::uint64_t dropped_ = 0;
};

struct Es3ClientOptions {
  std::string smsr_url;  ///< "https://host:port" (or "http://" for lab use)
  std::vector<Bytes> trust_anchors;
  std::optional<net::TlsIdentity> identity;  ///< the SM-DP's TLS client certificate and key
  std::chrono::milliseconds timeout{10000};  ///< each connect, read and write
  std::chrono::milliseconds result_timeout{120000};
};

class Es3Client final : public Es3Port {
 public:
  static expected<std::unique_ptr<Es3Client>, std::string> create(Es3ClientOptions options,
                                                                   std::shared_ptr<Es3Results> results);
  expected<m2m::es3::Result, std::string> call(const m2m::es3::Request& request) override;
  /// Connections (so TLS handshakes) opened to the SM-SR so far: one, then
  /// one more each time the server closed the kept one (bench/m2m counts them).
  std::uint64_t connections_opened() const { return http_->connections_opened(); }

 private:
  Es3Client(std::unique_ptr<net::HttpsClient> http, std::shared_ptr<Es3Results> results,
            std::chrono::milliseconds result_timeout)
      : http_(std::move(http)), results_(std::move(results)), result_timeout_(result_timeout) {}
  std::mutex mu_;  ///< one request at a time on the kept connection
  std::unique_ptr<net::HttpsClient> http_;
  std::shared_ptr<Es3Results> results_;
  std::chrono::milliseconds result_timeout_;
};

}  // namespace rsp::smdp
