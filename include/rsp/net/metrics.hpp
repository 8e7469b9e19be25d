#pragma once
/// Thread-safe counters, gauges and latency histograms with labels, rendered
/// in the Prometheus text exposition format (version 0.0.4):
///
///   # HELP rsp_http_requests_total HTTP requests answered.
///   # TYPE rsp_http_requests_total counter
///   rsp_http_requests_total{method="POST",route="/x",status="200"} 3
///
/// Families are created on first use and live as long as the Metrics object;
/// the references returned stay valid. Never put secrets into label values.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace rsp::net {

using Labels = std::vector<std::pair<std::string, std::string>>;

class CounterFamily {
 public:
  void inc(const Labels& labels = {}, double by = 1.0);
  double value(const Labels& labels = {}) const;

 private:
  friend class Metrics;
  mutable std::mutex mu_;
  std::map<Labels, double> values_;
};

class GaugeFamily {
 public:
  void set(const Labels& labels, double v);
  void add(const Labels& labels, double by);
  double value(const Labels& labels = {}) const;

 private:
  friend class Metrics;
  mutable std::mutex mu_;
  std::map<Labels, double> values_;
};

class HistogramFamily {
 public:
  explicit HistogramFamily(std::vector<double> bounds);
  void observe(const Labels& labels, double value);
  std::uint64_t count(const Labels& labels = {}) const;
  double sum(const Labels& labels = {}) const;

 private:
  friend class Metrics;
  struct Series {
    std::vector<std::uint64_t> buckets;  ///< per bound, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<Labels, Series> series_;
};

class Metrics {
 public:
  /// Default latency buckets in seconds (1 ms .. 10 s).
  static std::vector<double> default_latency_buckets();

  /// The family `name`, created with `help` on first use. Invalid characters
  /// in names become '_'. Asking for an existing name with another type gives
  /// a detached family that is not rendered (a programming error, not a crash).
  CounterFamily& counter(const std::string& name, const std::string& help);
  GaugeFamily& gauge(const std::string& name, const std::string& help);
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<double> bounds = default_latency_buckets());

  /// All families in the text exposition format, sorted by name.
  std::string render() const;
  /// Content-Type of render()'s output.
  static const char* content_type() { return "text/plain; version=0.0.4; charset=utf-8"; }

 private:
  enum class Type { Counter, Gauge, Histogram };
  struct Family {
    Type type;
    std::string help;
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<GaugeFamily> gauge;
    std::unique_ptr<HistogramFamily> histogram;
  };
  Family& family(const std::string& name, const std::string& help, Type type, std::vector<double> bounds);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<Family> detached_;
};

}  // namespace rsp::net
