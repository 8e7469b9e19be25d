#include "rsp/net/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace rsp::net {

namespace {

std::string sanitize_name(const std::string& name, bool allow_colon) {
  std::string out = name.empty() ? std::string("_") : name;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) out[i] = '_';
  }
  return out;
}

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string render_labels(const Labels& labels, const std::string& extra_name = {}, const std::string& extra = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += sanitize_name(k, false) + "=\"" + escape_label_value(v) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name + "=\"" + extra + "\"";
  }
  return out + "}";
}

}  // namespace

void CounterFamily::inc(const Labels& labels, double by) {
  if (!(by >= 0)) return;  // counters only go up
  std::lock_guard lock(mu_);
  values_[labels] += by;
}

double CounterFamily::value(const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

void GaugeFamily::set(const Labels& labels, double v) {
  std::lock_guard lock(mu_);
  values_[labels] = v;
}

void GaugeFamily::add(const Labels& labels, double by) {
  std::lock_guard lock(mu_);
  values_[labels] += by;
}

double GaugeFamily::value(const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

HistogramFamily::HistogramFamily(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::erase_if(bounds_, [](double b) { return std::isnan(b) || std::isinf(b); });
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
}

void HistogramFamily::observe(const Labels& labels, double value) {
  if (std::isnan(value)) return;
  std::lock_guard lock(mu_);
  auto& s = series_[labels];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size(), 0);
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  if (it != bounds_.end()) ++s.buckets[static_cast<std::size_t>(it - bounds_.begin())];
  ++s.count;
  s.sum += value;
}

std::uint64_t HistogramFamily::count(const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second.count;
}

double HistogramFamily::sum(const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second.sum;
}

std::vector<double> Metrics::default_latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Metrics::Family& Metrics::family(const std::string& raw_name, const std::string& help, Type type,
                                 std::vector<double> bounds) {
  const std::string name = sanitize_name(raw_name, true);
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  Family* f = nullptr;
  if (it == families_.end()) {
    f = &families_[name];
  } else if (it->second.type == type) {
    return it->second;
  } else {
    f = &detached_.emplace_back();
  }
  f->type = type;
  f->help = help;
  switch (type) {
    case Type::Counter: f->counter = std::make_unique<CounterFamily>(); break;
    case Type::Gauge: f->gauge = std::make_unique<GaugeFamily>(); break;
    case Type::Histogram: f->histogram = std::make_unique<HistogramFamily>(std::move(bounds)); break;
  }
  return *f;
}

CounterFamily& Metrics::counter(const std::string& name, const std::string& help) {
  return *family(name, help, Type::Counter, {}).counter;
}

GaugeFamily& Metrics::gauge(const std::string& name, const std::string& help) {
  return *family(name, help, Type::Gauge, {}).gauge;
}

HistogramFamily& Metrics::histogram(const std::string& name, const std::string& help, std::vector<double> bounds) {
  return *family(name, help, Type::Histogram, std::move(bounds)).histogram;
}

std::string Metrics::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + escape_help(f.help) + "\n";
    switch (f.type) {
      case Type::Counter: {
        out += "# TYPE " + name + " counter\n";
        std::lock_guard l(f.counter->mu_);
        for (const auto& [labels, v] : f.counter->values_)
          out += name + render_labels(labels) + " " + format_number(v) + "\n";
        break;
      }
      case Type::Gauge: {
        out += "# TYPE " + name + " gauge\n";
        std::lock_guard l(f.gauge->mu_);
        for (const auto& [labels, v] : f.gauge->values_)
          out += name + render_labels(labels) + " " + format_number(v) + "\n";
        break;
      }
      case Type::Histogram: {
        out += "# TYPE " + name + " histogram\n";
        const auto& h = *f.histogram;
        std::lock_guard l(h.mu_);
        for (const auto& [labels, s] : h.series_) {
          std::uint64_t cumulative = 0;
          for (std::size_t i = 0; i < h.bounds_.size(); ++i) {
            cumulative += s.buckets[i];
            out += name + "_bucket" + render_labels(labels, "le", format_number(h.bounds_[i])) + " " +
                   std::to_string(cumulative) + "\n";
          }
          out += name + "_bucket" + render_labels(labels, "le", "+Inf") + " " + std::to_string(s.count) + "\n";
          out += name + "_sum" + render_labels(labels) + " " + format_number(s.sum) + "\n";
          out += name + "_count" + render_labels(labels) + " " + std::to_string(s.count) + "\n";
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace rsp::net
