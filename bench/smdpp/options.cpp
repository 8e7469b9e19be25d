#include "options.hpp"

#include <cstdlib>

namespace rsp::bench::smdpp_https {

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (k == "--verify") {
      a.verify = true;
    } else if (k == "--db") {
      const char* v = next();
      if (!v) return false;
      a.db = v;
    } else if (k == "--downloads" || k == "--clients" || k == "--rounds" || k == "--sessions" || k == "--idle") {
      const char* v = next();
      if (!v) return false;
      const int n = std::atoi(v);
      if (n < 0 || ((k == "--downloads" || k == "--clients" || k == "--rounds") && n < 1)) return false;
      (k == "--downloads" ? a.downloads
       : k == "--clients" ? a.clients
       : k == "--rounds"  ? a.rounds
       : k == "--idle"    ? a.idle
                          : a.sessions) = n;
    } else if (k == "--split") {
      const char* v = next();
      if (!v || std::atoi(v) < 0) return false;
      a.split = std::atoi(v);
    } else if (k == "--handlers") {
      const char* v = next();
      if (!v) return false;
      const std::string h = v;
      if (h == "pool") a.handlers = net::HandlerThreads::Pool;
      else if (h == "inline") a.handlers = net::HandlerThreads::Inline;
      else return false;
    } else if (k == "--curve") {
      const char* v = next();
      if (!v) return false;
      const std::string c = v;
      if (c == "nist") a.curve = crypto::Curve::NistP256;
      else if (c == "brp") a.curve = crypto::Curve::BrainpoolP256r1;
      else return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace rsp::bench::smdpp_https
