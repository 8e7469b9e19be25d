// The card behind pcscd through vsmartcard's vpcd driver, reached with the
// PC/SC API like any reader application. Starts `pcscd -f` itself when none
// is running (and stops it again); skips when pcscd or vpcd cannot run here.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <winscard.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "rsp/apdu/lpa_exchange.hpp"
#include "rsp/card/transport/vpcd.hpp"
#include "sim_card.hpp"
#include "test_app.hpp"

extern char** environ;

namespace rsp::card::transport {
namespace {

Bytes hex(std::string_view h) { return from_hex(h).value(); }

bool establish(SCARDCONTEXT& ctx) {
  return SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &ctx) == SCARD_S_SUCCESS;
}

std::string find_program(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"}) {
    const auto p = std::filesystem::path(dir) / name;
    if (std::filesystem::exists(p)) return p.string();
  }
  return {};
}

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// pcscd for the duration of the test: the running one, or one we start.
class PcscDaemon {
 public:
  PcscDaemon() {
    SCARDCONTEXT ctx = 0;
    if (establish(ctx)) {
      SCardReleaseContext(ctx);
      available_ = true;
      return;
    }
    const std::string pcscd = find_program("pcscd");
    if (pcscd.empty()) {
      why_ = "pcscd is not installed";
      return;
    }
    pid_ = spawn({pcscd, "-f"});
    for (int i = 0; i < 50 && pid_ > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (establish(ctx)) {
        SCardReleaseContext(ctx);
        available_ = true;
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;  // it exited
    }
    why_ = "pcscd could not be started here (needs permission for its socket)";
  }
  ~PcscDaemon() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  bool available() const { return available_; }
  const std::string& why() const { return why_; }

 private:
  pid_t pid_ = -1;
  bool available_ = false;
  std::string why_;
};

// The first reader whose name contains "Virtual PCD" and holds a card.
std::string wait_for_virtual_card(SCARDCONTEXT ctx) {
  for (int i = 0; i < 100; ++i) {
    char readers[4096];
    DWORD len = sizeof readers;
    if (SCardListReaders(ctx, nullptr, readers, &len) == SCARD_S_SUCCESS) {
      for (const char* r = readers; *r; r += std::strlen(r) + 1) {
        if (!std::strstr(r, "Virtual PCD")) continue;
        SCARD_READERSTATE state{};
        state.szReader = r;
        state.dwCurrentState = SCARD_STATE_UNAWARE;
        if (SCardGetStatusChange(ctx, 0, &state, 1) == SCARD_S_SUCCESS &&
            (state.dwEventState & SCARD_STATE_PRESENT)) {
          return r;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return {};
}

TEST(PcscE2e, SelectIsdRThroughPcscd) {
  if (find_program("pcscd").empty() ||
      !std::filesystem::exists("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")) {
    GTEST_SKIP() << "pcscd or the vsmartcard vpcd driver is not installed "
                    "(scripts/setup.sh installs pcscd and vsmartcard-vpcd)";
  }
  PcscDaemon daemon;
  if (!daemon.available()) GTEST_SKIP() << daemon.why();

  Card card;
  auto app = std::make_shared<test::EchoApp>();
  card.add_application(app);
  std::jthread vpcd([&](std::stop_token stop) {
    VpcdOptions options;
    options.retry_interval = std::chrono::milliseconds(100);
    EXPECT_TRUE(run_vpcd(card, options, stop));
  });

  SCARDCONTEXT ctx = 0;
  ASSERT_TRUE(establish(ctx));
  const std::string reader = wait_for_virtual_card(ctx);
  if (reader.empty()) {
    SCardReleaseContext(ctx);
    GTEST_SKIP() << "pcscd runs but no vpcd reader showed a card (is vpcd configured on port 35963?)";
  }

  SCARDHANDLE handle = 0;
  DWORD protocol = 0;
  // Given the choice pcscd prefers T=1; lpac asks for T=0 only, as here.
  ASSERT_EQ(SCardConnect(ctx, reader.c_str(), SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                         &handle, &protocol),
            SCARD_S_SUCCESS);
  EXPECT_EQ(protocol, static_cast<DWORD>(SCARD_PROTOCOL_T1));
  SCardDisconnect(handle, SCARD_RESET_CARD);  // renegotiate the protocol
  ASSERT_EQ(SCardConnect(ctx, reader.c_str(), SCARD_SHARE_EXCLUSIVE, SCARD_PROTOCOL_T0, &handle,
                         &protocol),
            SCARD_S_SUCCESS);
  EXPECT_EQ(protocol, static_cast<DWORD>(SCARD_PROTOCOL_T0));

  unsigned char atr[MAX_ATR_SIZE];
  DWORD atr_len = sizeof atr;
  DWORD state = 0, proto = 0;
  char name[256];
  DWORD name_len = sizeof name;
  ASSERT_EQ(SCardStatus(handle, name, &name_len, &state, &proto, atr, &atr_len), SCARD_S_SUCCESS);
  EXPECT_EQ(to_hex(ByteView(atr, atr_len)), to_hex(card.atr()));

  const SCARD_IO_REQUEST* pci = protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
  apdu::Transmit transmit = [&](ByteView command) -> std::optional<Bytes> {
    Bytes rx(65538);
    DWORD rx_len = static_cast<DWORD>(rx.size());
    if (SCardTransmit(handle, pci, command.data(), static_cast<DWORD>(command.size()), nullptr,
                      rx.data(), &rx_len) != SCARD_S_SUCCESS) {
      return std::nullopt;
    }
    rx.resize(rx_len);
    return rx;
  };
  auto rx = transmit(hex("00A4040C10A0000005591010FFFFFFFF8900000100"));
  ASSERT_TRUE(rx);
  EXPECT_EQ(to_hex(*rx), "9000");
  auto fci = apdu::exchange(transmit, hex("00A4040010A0000005591010FFFFFFFF8900000100"));
  ASSERT_TRUE(fci);
  EXPECT_EQ(fci->sw, 0x9000);
  EXPECT_EQ(fci->data, make_fci(kIsdRAid));
  auto opened = transmit(hex("0070000001"));
  ASSERT_TRUE(opened);
  EXPECT_EQ(to_hex(*opened), "019000");
  EXPECT_EQ(to_hex(*transmit(hex("01A4040C10A0000005591010FFFFFFFF8900000100"))), "9000");
  Bytes command(700);
  for (std::size_t i = 0; i < command.size(); ++i) command[i] = static_cast<std::uint8_t>(i);
  auto echoed = apdu::send_es10(transmit, command, 1);
  ASSERT_TRUE(echoed) << echoed.error().message();
  EXPECT_EQ(*echoed, command);

  SCardDisconnect(handle, SCARD_UNPOWER_CARD);
  SCardReleaseContext(ctx);

  // pcsc_scan lists the card with its ATR.
  const std::string pcsc_scan = find_program("pcsc_scan");
  if (!pcsc_scan.empty()) {
    const std::string cmd = pcsc_scan + " -c -n 2>&1";
    std::FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string output;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) output += buf;
    ::pclose(p);
    std::string atr_spaced;
    for (std::uint8_t b : card.atr()) {
      char h[4];
      std::snprintf(h, sizeof h, "%02X ", b);
      atr_spaced += h;
    }
    atr_spaced.pop_back();
    EXPECT_NE(output.find("Virtual PCD"), std::string::npos) << output;
    EXPECT_NE(output.find(atr_spaced), std::string::npos) << output;
  }
  vpcd.request_stop();
}

/// Runs `LPAC_APDU=pcsc lpac ARGS` and returns its exit status and output.
std::pair<int, std::string> run_lpac_pcsc(const std::string& lpac, const std::string& args) {
  const std::string cmd = "LPAC_APDU=pcsc " + lpac + " " + args + " 2>&1";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) output += buf;
  return {::pclose(p), output};
}

// With LPAC pointing at an lpac binary: `lpac chip info` and `lpac profile
// list` through lpac's own PC/SC driver (T=0, TERMINAL CAPABILITY, MANAGE
// CHANNEL, SELECT, STORE DATA) against the simulated eUICC behind vpcd.
TEST(PcscE2e, RealLpacOverPcsc) {
  const char* lpac = std::getenv("LPAC");
  if (!lpac || !*lpac) GTEST_SKIP() << "set LPAC to an lpac binary to run this test";
  if (find_program("pcscd").empty()) GTEST_SKIP() << "pcscd is not installed";
  PcscDaemon daemon;
  if (!daemon.available()) GTEST_SKIP() << daemon.why();
  testing::SimulatedEuicc euicc;
  std::jthread vpcd([&](std::stop_token stop) {
    VpcdOptions options;
    options.retry_interval = std::chrono::milliseconds(100);
    EXPECT_TRUE(run_vpcd(euicc.card, options, stop));
  });
  SCARDCONTEXT ctx = 0;
  ASSERT_TRUE(establish(ctx));
  const std::string reader = wait_for_virtual_card(ctx);
  SCardReleaseContext(ctx);
  if (reader.empty()) GTEST_SKIP() << "no vpcd reader showed a card";

  auto [info_status, info] = run_lpac_pcsc(lpac, "chip info");
  EXPECT_EQ(info_status, 0) << info;
  testing::expect_chip_info_names(info, euicc.eid);
  auto [list_status, list] = run_lpac_pcsc(lpac, "profile list");
  EXPECT_EQ(list_status, 0) << list;
  testing::expect_empty_profile_list(list);
  vpcd.request_stop();
}

}  // namespace
}  // namespace rsp::card::transport
