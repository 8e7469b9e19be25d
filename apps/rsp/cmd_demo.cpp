// `rsp demo`: the platform's main job on one machine, each step printed as it
// happens: a test PKI, the SM-DP+ on HTTPS with its SQLite database, sample
// profiles imported, an ES2+ order over HTTPS with the operator's API key,
// its activation code and QR, a download of that profile into a fresh
// simulated eUICC by the LPA, and the operator's HandleDownloadProgressInfo
// callbacks. Every step runs this same tool as a child process, so the demo
// shows exactly what a user would type; it holds no protocol logic of its own
// (the operator's callback endpoint is a small HTTP receiver in the demo).

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "demo_m2m.hpp"
#include "rsp/common/file.hpp"
#include "rsp/messages/functions.hpp"
#include "rsp/net/server.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;

const std::string kOperator = "demo-operator";
const std::string kAddress = "localhost";  // the DPtls name `rsp pki init` issues by default

/// A child `rsp` process whose output is read through a pipe.
struct Child {
  pid_t pid = -1;
  int out = -1;
};

std::optional<Child> spawn_self(const std::vector<std::string>& args, bool capture) {
  static const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<char*> argv;
  std::string self_copy = self;
  argv.push_back(self_copy.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  int fds[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (capture) {
    if (::pipe(fds) != 0) return std::nullopt;
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
  }
  Child c;
  const int rc = posix_spawn(&c.pid, self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (capture) ::close(fds[1]);
  if (rc != 0) {
    if (capture) ::close(fds[0]);
    return std::nullopt;
  }
  c.out = capture ? fds[0] : -1;
  return c;
}

int wait_child(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/// Reads one line from `fd` (without the newline); false at the end.
bool read_line(int fd, std::string& line) {
  line.clear();
  char c;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) return !line.empty();
    if (c == '\n') return true;
    line.push_back(c);
  }
}

/// Runs `rsp <args>`, echoing its output; `output` receives it too.
int run_self(const std::vector<std::string>& args, std::string* output = nullptr) {
  auto c = spawn_self(args, true);
  if (!c) return 127;
  std::string line;
  while (read_line(c->out, line)) {
    std::printf("      %s\n", line.c_str());
    if (output) *output += line + "\n";
  }
  ::close(c->out);
  return wait_child(c->pid);
}

/// The SM-DP+ running in the background; its output is shown as it comes.
class BackgroundServer {
 public:
  explicit BackgroundServer(std::string tag = "smdpp") : tag_(std::move(tag)) {}
  ~BackgroundServer() { stop(); }

  /// Starts `rsp <args>` and waits for its "listening on <url>" line.
  std::optional<std::string> start(const std::vector<std::string>& args) {
    auto c = spawn_self(args, true);
    if (!c) return std::nullopt;
    child_ = *c;
    std::string line;
    while (read_line(child_.out, line)) {
      std::printf("      [%s] %s\n", tag_.c_str(), line.c_str());
      const auto at = line.find("listening on ");
      if (at != std::string::npos) {
        url_ = line.substr(at + 13);
        break;
      }
    }
    if (url_.empty()) return std::nullopt;
    echo_ = std::thread([this] {
      std::string l;
      while (read_line(child_.out, l)) {
        std::printf("      [%s] %s\n", tag_.c_str(), l.c_str());
        std::fflush(stdout);
      }
    });
    return url_;
  }

  /// SIGTERM and wait (graceful shutdown); returns the exit status.
  int stop() {
    if (child_.pid < 0) return 0;
    ::kill(child_.pid, SIGTERM);
    const int rc = wait_child(child_.pid);
    child_.pid = -1;
    if (echo_.joinable()) echo_.join();
    if (child_.out >= 0) ::close(child_.out);
    child_.out = -1;
    return rc;
  }

 private:
  std::string tag_;
  Child child_;
  std::string url_;
  std::thread echo_;
};

/// The operator's endpoint for ES2+ HandleDownloadProgressInfo (SGP.22
/// §5.3.5): plain HTTP on 127.0.0.1 for the demo, remembering each call.
class CallbackReceiver {
 public:
  static constexpr std::string_view kPath = rsp::messages::kEs2HandleDownloadProgressInfo.path;

  bool start() {
    rsp::net::HttpServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.insecure_plain_http = true;
    o.worker_threads = 2;
    server_ = std::make_unique<rsp::net::HttpServer>(std::move(o));
    server_->post(std::string(kPath), [this](const rsp::net::Request& req) {
      {
        std::lock_guard lock(mu_);
        bodies_.push_back(req.body);
      }
      cv_.notify_all();
      rsp::net::Response res;
      res.content_type = "application/json;charset=UTF-8";
      res.body = R"({"header":{"functionExecutionStatus":{"status":"Executed-Success"}}})";
      return res;
    });
    return static_cast<bool>(server_->start());
  }
  std::string url() const { return server_->url() + std::string(kPath); }
  /// Waits until a call with notificationPointId `point` came (or the timeout).
  std::vector<std::string> wait_for_point(int point, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& b : bodies_) {
        auto j = nlohmann::json::parse(b, nullptr, false);
        if (j.is_object() && j.value("notificationPointId", 0) == point) return true;
      }
      return false;
    });
    return bodies_;
  }
  void stop() {
    if (server_) server_->stop();
  }

 private:
  std::unique_ptr<rsp::net::HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> bodies_;
};

/// One line per callback: point, status, ICCID.
std::string describe_callback(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return "(not JSON)";
  static const char* const kPoints[] = {"",
                                        "eligibility and retry limit check",
                                        "confirmation failure",
                                        "BPP download",
                                        "BPP installation",
                                        "profile enabled on the eUICC",
                                        "profile disabled on the eUICC",
                                        "profile deleted from the eUICC"};
  const int point = j.value("notificationPointId", 0);
  std::string status = "?";
  if (auto s = j.find("notificationPointStatus"); s != j.end() && s->is_object()) status = s->value("status", "?");
  return "notificationPointId " + std::to_string(point) + " (" + (point >= 1 && point <= 7 ? kPoints[point] : "other") +
         "): " + status + ", ICCID " + j.value("iccid", std::string("?")) + ", from " +
         (j.contains("header") ? j["header"].value("functionRequesterIdentifier", std::string("?")) : std::string("?"));
}

/// A port free on 127.0.0.1 now, for a server whose address must name its
/// port before it starts (the SM-DS: the eUICC signs that address).
int free_port() {
  rsp::net::HttpServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.insecure_plain_http = true;
  o.worker_threads = 1;
  rsp::net::HttpServer probe(std::move(o));
  if (!probe.start()) return 0;
  const std::string url = probe.url();
  probe.stop();
  return std::stoi(url.substr(url.rfind(':') + 1));
}

struct DemoOptions {
  std::string dir;
  bool keep = false;
};

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::string s;
  std::getline(in, s);
  return s;
}

int run_demo(const DemoOptions& opt) {
  fs::path dir;
  if (opt.dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "rsp-demo-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "demo: cannot create a temporary directory\n");
      return 1;
    }
    dir = tmpl;
  } else {
    dir = opt.dir;
    fs::create_directories(dir);
  }
  std::printf("rsp demo: working in %s\n", dir.c_str());
  const std::string pki = (dir / "pki").string();
  const std::string db = (dir / "smdpp.db").string();
  const std::string profiles = (dir / "profiles").string();
  const std::string card = (dir / "euicc").string();
  const int total = 17;  // steps printed below
  int n = 0;
  BackgroundServer server;
  BackgroundServer smds("smds");
  // The SM-DS of the discovery download: its address carries its port, so
  // that it sits beside the SM-DP+ on this host.
  const int smds_port = free_port();
  const std::string smds_address = kAddress + ":" + std::to_string(smds_port);
  CallbackReceiver callbacks;

  auto fail = [&](int rc) {
    std::printf("demo: step %d failed (exit %d); files kept in %s\n", n, rc, dir.c_str());
    server.stop();
    smds.stop();
    callbacks.stop();
    return rc == 0 ? 1 : rc;
  };
  auto step = [&](const char* title, const std::vector<std::string>& args, std::string* out = nullptr) {
    std::printf("\n[%d/%d] %s\n      $ rsp", ++n, total, title);
    for (const auto& a : args) std::printf(" %s", a.find_first_of(" $") == std::string::npos ? a.c_str() : ("'" + a + "'").c_str());
    std::printf("\n");
    return run_self(args, out);
  };

  if (int rc = step("Create a test PKI shaped like GSMA SGP.26 (CI, EUM, eUICC, SM-DP+ on NIST P-256 and brainpool)",
                    {"pki", "init", "--out", pki, "--curves", "nist,brp"}))
    return fail(rc);
  if (int rc = step("Validate every certificate chain with the SGP.22 certificate profile", {"pki", "verify", pki}))
    return fail(rc);
  if (int rc = step("Make three sample profile packages (SAIP: header, USIM, MILENAGE keys)",
                    {"profile", "sample", "--out", profiles, "--count", "3", "--type", "demo", "--size", "12000"}))
    return fail(rc);
  if (int rc = step("Import them into the SM-DP+ inventory (SQLite)",
                    {"smdpp", "profiles", "import", profiles, "--operator", kOperator, "--db", db,
                     "--service-provider", "Demo Operator", "--profile-name", "Demo profile"}))
    return fail(rc);

  std::string url;
  // ES2+ runs over mutual TLS (SGP.22 §2.6.6): the operator is known by the
  // client certificate `rsp pki init` issued it under the test CI.
  const std::string operator_cert = pki + "/CERT_OPERATOR_TLS_NIST.pem";
  const std::string operator_key = pki + "/SK_OPERATOR_TLS_NIST.pem";
  {
    if (!callbacks.start()) return fail(1);
    nlohmann::json cfg = {{"listen", "127.0.0.1:0"},
                          {"address", kAddress},
                          {"pki", pki},
                          {"database", db},
                          {"client_trust", pki + "/CERT_CI_ECDSA_NIST.pem"},
                          {"operators",
                           {{{"name", kOperator},
                             {"client_cert", operator_cert},
                             {"callback_url", callbacks.url()}}}},
                          // ES12 to the SM-DS: this SM-DP+'s client certificate (mutual TLS).
                          {"smds_client_cert", pki + "/CERT_S_SM_DP_TLS_NIST.pem"},
                          {"smds_client_key", pki + "/SK_S_SM_DP_TLS_NIST.pem"}};
    const fs::path config = dir / "smdpp.json";
    std::ofstream(config) << cfg.dump(2) << "\n";
    std::printf("\n[%d/%d] Start the SM-DP+ on HTTPS (DPtls certificate, ES9+ for the LPA, ES2+ over mutual TLS for the\n"
                "      operator with its client certificate %s, callbacks to the operator's endpoint %s;\n"
                "      one access-log line per request, /healthz and /metrics on the admin port)\n"
                "      $ rsp smdpp serve --config %s\n",
                ++n, total, operator_cert.c_str(), callbacks.url().c_str(), config.c_str());
    std::fflush(stdout);
    url = server.start({"smdpp", "serve", "--config", config.string()}).value_or("");
    if (url.empty()) return fail(1);
  }
  // https://127.0.0.1:PORT -> 127.0.0.1:PORT: where the LPA reaches `localhost`
  const std::string endpoint = url.substr(url.find("://") + 3);

  if (int rc = step("Create a fresh simulated eUICC with the test PKI's eUICC identity",
                    {"euicc", "create", "--dir", card, "--pki", pki}))
    return fail(rc);
  const std::string eid = read_text(fs::path(card) / "identity" / "eid.txt");

  std::string order_out;
  const std::string port = endpoint.substr(endpoint.rfind(':') + 1);
  if (int rc = step("ES2+ order by the operator over mutual TLS with its client certificate: DownloadOrder +"
                    " ConfirmOrder for this EID, activation code and QR",
                    {"smdpp", "es2", "order", "--url", "https://" + kAddress + ":" + port, "--resolve",
                     kAddress + ":127.0.0.1", "--trust", pki + "/CERT_CI_ECDSA_NIST.pem", "--trust",
                     pki + "/CERT_CI_ECDSA_BRP.pem", "--operator", kOperator, "--cert", operator_cert, "--key",
                     operator_key,
                     "--type", "demo", "--eid", eid, "--qr-png", (dir / "activation-code.png").string()},
                    &order_out))
    return fail(rc);
  const auto ac_at = order_out.find("LPA:1$");
  if (ac_at == std::string::npos) return fail(1);
  const std::string ac = order_out.substr(ac_at, order_out.find('\n', ac_at) - ac_at);

  std::string download_out;
  if (int rc = step("The LPA downloads the profile into the eUICC over HTTPS (ES9+, ES10b), then sends the notification",
                    {"lpa", "download", "--euicc", card, "--ac", ac, "--resolve", kAddress + ":" + endpoint},
                    &download_out))
    return fail(rc);
  const auto iccid_at = download_out.find("installed ICCID ");
  if (iccid_at == std::string::npos) return fail(1);
  const std::string iccid = download_out.substr(iccid_at + 16, download_out.find(' ', iccid_at + 16) - iccid_at - 16);
  if (int rc = step("The user enables it through the LPA (ES10c EnableProfile); a notification it leaves goes to the "
                    "SM-DP+",
                    {"lpa", "--euicc", "sim:" + card, "--resolve", kAddress + ":" + endpoint, "profile", "enable",
                     iccid}))
    return fail(rc);
  if (int rc = step("The eUICC's profiles as the LPA lists them", {"lpa", "--euicc", "sim:" + card, "profile", "list"}))
    return fail(rc);
  {
    std::printf("\n[%d/%d] The operator's endpoint received ES2+ HandleDownloadProgressInfo from the SM-DP+'s outbox\n"
                "      (POST %s): the download, the installation and the enable the eUICC notified\n",
                ++n, total, callbacks.url().c_str());
    // The enable notification comes last (the profile asked for it in its
    // notificationConfigurationInfo; the SM-DP+ verified and recorded it).
    const auto received = callbacks.wait_for_point(5, std::chrono::seconds(30));
    for (const auto& b : received) std::printf("      %s\n", describe_callback(b).c_str());
    auto arrived = [&](int point) {
      for (const auto& b : received) {
        auto j = nlohmann::json::parse(b, nullptr, false);
        if (j.is_object() && j.value("notificationPointId", 0) == point) return true;
      }
      return false;
    };
    if (!arrived(4)) {
      std::printf("      no installation callback arrived\n");
      return fail(1);
    }
    if (!arrived(5)) {
      std::printf("      no enable callback arrived\n");
      return fail(1);
    }
  }

  // Discovery (SGP.22 §3.6): a second profile ordered with the EID and an
  // SM-DS address; the LPA finds it there and downloads it without a code.
  {
    nlohmann::json cfg = {{"listen", "127.0.0.1:" + std::to_string(smds_port)},
                          {"address", smds_address},
                          {"pki", pki},
                          {"database", (dir / "smds.db").string()},
                          {"callers", {{{"name", kAddress}, {"client_cert", pki + "/CERT_S_SM_DP_TLS_NIST.pem"}}}},
                          {"client_trust", pki + "/CERT_CI_ECDSA_NIST.pem"}};
    const fs::path config = dir / "smds.json";
    std::ofstream(config) << cfg.dump(2) << "\n";
    std::printf("\n[%d/%d] Start the SM-DS at %s (DStls certificate; ES12 for the SM-DP+ by its client certificate,\n"
                "      ES11 for the LPA)\n      $ rsp smds serve --config %s\n",
                ++n, total, smds_address.c_str(), config.c_str());
    std::fflush(stdout);
    if (smds_port == 0 || smds.start({"smds", "serve", "--config", config.string()}).value_or("").empty())
      return fail(1);
  }
  const std::vector<std::string> es2_common = {
      "smdpp", "es2", "order", "--url", "https://" + kAddress + ":" + port, "--resolve", kAddress + ":127.0.0.1",
      "--trust", pki + "/CERT_CI_ECDSA_NIST.pem", "--trust", pki + "/CERT_CI_ECDSA_BRP.pem", "--operator", kOperator,
      "--cert", operator_cert, "--key", operator_key, "--type", "demo", "--eid", eid, "--smds-address", smds_address};
  if (int rc = step("ES2+ order of a second profile for this EID with the SM-DS's address: the SM-DP+ registers the "
                    "event there (ES12 RegisterEvent from its outbox)",
                    es2_common))
    return fail(rc);
  const std::vector<std::string> lpa_common = {"lpa", "--euicc", "sim:" + card, "--resolve", kAddress + ":" + endpoint};
  auto with = [](std::vector<std::string> v, std::initializer_list<std::string> more) {
    v.insert(v.end(), more);
    return v;
  };
  {
    // The registration leaves from the outbox within a second or so.
    std::string out;
    int rc = 1;
    for (int i = 0; i < 20 && out.find(kAddress + "\n") == std::string::npos; ++i) {
      if (i) std::this_thread::sleep_for(std::chrono::milliseconds(500));
      out.clear();
      auto c = spawn_self(with(lpa_common, {"profile", "discovery", "--smds", smds_address}), true);
      if (!c) return fail(127);
      std::string line;
      while (read_line(c->out, line)) out += line + "\n";
      ::close(c->out);
      rc = wait_child(c->pid);
    }
    if (int r = step("The LPA asks the SM-DS for the eUICC's events (ES11: InitiateAuthentication, AuthenticateClient "
                     "with the eUICC's signature)",
                     with(lpa_common, {"profile", "discovery", "--smds", smds_address}));
        r != 0 || rc != 0)
      return fail(r ? r : rc);
  }
  if (int rc = step("The LPA downloads without an activation code: the SM-DP+ and matchingId the event names",
                    with(lpa_common, {"profile", "download", "--smds", smds_address})))
    return fail(rc);
  {
    // The SM-DP+ deletes the event once the profile is installed (ES12 DeleteEvent from its outbox).
    std::string out;
    for (int i = 0; i < 20; ++i) {
      if (i) std::this_thread::sleep_for(std::chrono::milliseconds(500));
      out.clear();
      auto c = spawn_self(with(lpa_common, {"--json", "profile", "discovery", "--smds", smds_address}), true);
      if (!c) return fail(127);
      std::string line;
      while (read_line(c->out, line)) out += line;
      ::close(c->out);
      wait_child(c->pid);
      if (out.find("\"events\":[]") != std::string::npos) break;
    }
    if (int rc = step("The event is gone: the SM-DP+ deleted it after the installation (ES12 DeleteEvent)",
                      with(lpa_common, {"profile", "discovery", "--smds", smds_address})))
      return fail(rc);
    if (out.find("\"events\":[]") == std::string::npos) {
      std::printf("      the event is still there\n");
      return fail(1);
    }
  }
  if (int rc = step("The SM-DP+'s final state of its inventory", {"smdpp", "profiles", "list", "--db", db}))
    return fail(rc);

  std::printf("\n      stopping the SM-DS and the SM-DP+ (SIGTERM)\n");
  if (int rc = smds.stop(); rc != 0) return fail(rc);
  if (int rc = server.stop(); rc != 0) return fail(rc);
  callbacks.stop();
  std::printf("\nrsp demo: all %d steps completed\n", n);
  if (!opt.keep && opt.dir.empty()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else {
    std::printf("rsp demo: files kept in %s\n", dir.c_str());
  }
  return 0;
}

}  // namespace

RSP_COMMAND_GROUP(demo) {
  auto* cmd = app.add_subcommand("demo", "Run the platform's demo on this machine, step by step");
  auto opt = std::make_shared<DemoOptions>();
  cmd->add_option("--dir", opt->dir, "Work in this directory instead of a temporary one (kept afterwards)");
  cmd->add_flag("--keep", opt->keep, "Keep the temporary directory");
  cmd->callback([opt, cmd] {
    if (cmd->got_subcommand("m2m")) return;
    int rc = run_demo(*opt);
    if (rc != 0) rsp::cli::exit_with(rc);
  });
  auto m2m = std::make_shared<DemoOptions>();
  auto* m2m_cmd = cmd->add_subcommand("m2m", "Run the M2M (SGP.02) demo in one process, step by step");
  m2m_cmd->add_option("--dir", m2m->dir, "Work in this directory instead of a temporary one (kept afterwards)");
  m2m_cmd->add_flag("--keep", m2m->keep, "Keep the temporary directory");
  m2m_cmd->callback([m2m] {
    int rc = rsp::cli::run_demo_m2m(m2m->dir, m2m->keep);
    if (rc != 0) rsp::cli::exit_with(rc);
  });
}
