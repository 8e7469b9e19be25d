// Errors in words: the SM-DP+'s subject/reason codes and the eUICC's result
// codes each become a sentence that keeps the code beside it.
#include "rsp/lpa/explain.hpp"

#include <gtest/gtest.h>

namespace rsp::lpa {
namespace {

TEST(Explain, KnownSmdpPairsHaveAdvice) {
  EXPECT_EQ(explain_es9("8.2.7", "3.8"),
            "8.2.7 / 3.8: the confirmation code was refused - check the code from your operator");
  EXPECT_NE(explain_es9("8.8.5", "4.10").find("expired"), std::string::npos);
  EXPECT_NE(explain_es9("8.2.6", "3.8").find("matching ID"), std::string::npos);
}

TEST(Explain, UnknownPairsStillSayWhatTheCodesMean) {
  EXPECT_EQ(explain_es9("8.2.1", "3.9"), "8.2.1 / 3.9: the SM-DP+ says the profile's ICCID is unknown");
  EXPECT_EQ(explain_es9("9.9", "7.7"), "9.9 / 7.7: the SM-DP+ says subject 9.9 failed (reason 7.7)");
  // A hostile server's codes are echoed, never interpreted as anything else.
  EXPECT_EQ(explain_es9("", ""), " / : the SM-DP+ says subject  failed (reason )");
}

TEST(Explain, EuiccResultCodes) {
  EXPECT_EQ(explain_euicc(EuiccFunction::DeleteProfile, 2),
            "eUICC code 2 (profileNotInDisabledState): the profile is enabled - disable it first");
  EXPECT_NE(explain_euicc(EuiccFunction::EnableProfile, 1).find("iccidOrAidNotFound"), std::string::npos);
  EXPECT_NE(explain_euicc(EuiccFunction::AuthenticateServer, 7).find("ciPKUnknown"), std::string::npos);
  EXPECT_EQ(explain_euicc(EuiccFunction::SetNickname, 42), "eUICC code 42: a result this LPA does not know");
  // An error inside A3 is reported against loadProfileElements (BppCommandId 5).
  EXPECT_EQ(explain_euicc(EuiccFunction::LoadBoundProfilePackage, 12, 5),
            "eUICC code 12 (installFailedDueToPEProcessingError): the eUICC could not install a profile element "
            "(in loadProfileElements)");
  EXPECT_NE(explain_euicc(EuiccFunction::LoadBoundProfilePackage, 1, 99).find("BPP command 99"), std::string::npos);
}

TEST(Explain, DownloadErrorsByTheirSource) {
  DownloadError e;
  e.step = Step::PrepareDownload;
  e.source = DownloadError::Source::Es9Function;
  e.subject_code = "8.2.7";
  e.reason_code = "3.8";
  e.session_cancelled = true;
  EXPECT_EQ(explain(e),
            std::string(to_string(Step::PrepareDownload)) +
                ": 8.2.7 / 3.8: the confirmation code was refused - check the code from your operator; the "
                "session was cancelled on both sides");
  DownloadError card;
  card.step = Step::LoadBoundProfilePackage;
  card.source = DownloadError::Source::Euicc;
  card.euicc_code = 10;
  EXPECT_NE(explain(card).find("not enough free memory"), std::string::npos) << explain(card);
  DownloadError link;
  link.step = Step::GetEuiccInfo1;
  link.source = DownloadError::Source::Es10Transport;
  link.message = "the card refused";
  link.sw = 0x6A82;
  EXPECT_NE(explain(link).find("the card refused (status word 6A82)"), std::string::npos) << explain(link);
}

}  // namespace
}  // namespace rsp::lpa
