#include "rsp/net/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace rsp::net {
namespace {

TEST(Metrics, CounterWithLabelsRendersHelpTypeAndSeries) {
  Metrics m;
  auto& c = m.counter("rsp_test_total", "Things counted.");
  c.inc({{"route", "/a"}, {"status", "200"}});
  c.inc({{"route", "/a"}, {"status", "200"}}, 2);
  c.inc({{"route", "quote\"back\\slash\nnewline"}});
  const std::string text = m.render();
  EXPECT_NE(text.find("# HELP rsp_test_total Things counted.\n# TYPE rsp_test_total counter\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("rsp_test_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rsp_test_total{route=\"quote\\\"back\\\\slash\\nnewline\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(c.value({{"route", "/a"}, {"status", "200"}}), 3);
}

TEST(Metrics, HistogramHasCumulativeBucketsSumAndCount) {
  Metrics m;
  auto& h = m.histogram("rsp_latency_seconds", "Latency.", {0.1, 1});
  h.observe({{"fn", "x"}}, 0.05);
  h.observe({{"fn", "x"}}, 0.5);
  h.observe({{"fn", "x"}}, 5);
  const std::string text = m.render();
  EXPECT_NE(text.find("# TYPE rsp_latency_seconds histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rsp_latency_seconds_bucket{fn=\"x\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rsp_latency_seconds_bucket{fn=\"x\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rsp_latency_seconds_bucket{fn=\"x\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rsp_latency_seconds_sum{fn=\"x\"} 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rsp_latency_seconds_count{fn=\"x\"} 3\n"), std::string::npos) << text;
  EXPECT_EQ(h.count({{"fn", "x"}}), 3u);
}

TEST(Metrics, GaugeAndInvalidNamesAndTypeClash) {
  Metrics m;
  m.gauge("bad name-1", "g").set({}, -2);
  EXPECT_NE(m.render().find("bad_name_1 -2\n"), std::string::npos) << m.render();
  // Same name, other type: usable but not rendered twice.
  m.counter("bad_name_1", "c").inc();
  EXPECT_EQ(m.render().find("counter"), std::string::npos);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 1000; ++i) {
        m.counter("rsp_c_total", "c").inc({{"k", "v"}});
        m.histogram("rsp_h", "h").observe({}, 0.001 * i);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.counter("rsp_c_total", "c").value({{"k", "v"}}), 4000);
  EXPECT_EQ(m.histogram("rsp_h", "h").count(), 4000u);
}

}  // namespace
}  // namespace rsp::net
