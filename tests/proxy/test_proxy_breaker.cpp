// Breakers on the request path (CONTRACT §2, §3), against real sims: an open breaker skips its provider with no
// network call, 503s say when to retry, half-open lets one probe through however many requests arrive.
#include "ProxyRig.h"
#include "SimRequests.h"

#include <QtTest>

#include <thread>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

// alpha opens after 3 failures in a row for 1 s; beta is the fallback.
const char* kConfig = R"({
  "breaker": {"consecutive_failures": 3, "failure_rate": 0, "open_s": 1, "max_open_s": 4, "jitter": 0},
  "providers": [
    {"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key",
     "timeouts_ms": {"first_byte": 300, "idle": 300}},
    {"id": "beta", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key"},
    {"id": "keyless", "kind": "openai", "base_url": "${SIM1}", "api_key": "${FUSEBOX_TEST_UNSET_KEY}"},
    {"id": "claude", "kind": "anthropic", "base_url": "${SIM0_ROOT}", "api_key": "sim-key"},
    {"id": "gamma", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key",
     "breaker": {"open_s": 2, "max_open_s": 8}},
    {"id": "delta", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key",
     "timeouts_ms": {"first_byte": 300, "total": 1500}},
    {"id": "slowheal", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key",
     "breaker": {"open_s": 115, "max_open_s": 600}},
    {"id": "quickheal", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key",
     "breaker": {"open_s": 0.04, "max_open_s": 1}}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "alpha"}, {"provider": "beta"}]},
    {"name": "solo", "targets": [{"provider": "alpha"}]},
    {"name": "patient", "targets": [{"provider": "alpha"}], "wait_for_recovery_ms": 3000},
    {"name": "nokey", "targets": [{"provider": "keyless"}, {"provider": "beta"}]},
    {"name": "claude", "targets": [{"provider": "claude"}]},
    {"name": "gamma", "targets": [{"provider": "gamma"}]},
    {"name": "bounded", "targets": [{"provider": "delta"}, {"provider": "beta"}]},
    {"name": "slowheal", "targets": [{"provider": "slowheal"}]},
    {"name": "quickheal", "targets": [{"provider": "quickheal"}]}
  ]
})";

HttpReply chat(ProxyRig& rig, const std::string& model) {
    return rig.client().post("/v1/chat/completions", chatRequest("hi", false, model).dump());
}

} // namespace

class ProxyBreakerTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;

    void openAlpha() {
        rig->sim(0).setFault(sim::Fault::httpError(503));
        for (int i = 0; i < 3; ++i) QCOMPARE(chat(*rig, "solo").status, 503);
        QCOMPARE(rig->engine().breaker("alpha")->state(), BreakerState::Open);
    }

private slots:
    void init() {
        rig = std::make_unique<ProxyRig>(kConfig);
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void openBreakerSkipsItsProviderWithoutANetworkCall() {
        openAlpha();
        const uint64_t before = rig->sim(0).stats().requests;
        for (int i = 0; i < 10; ++i) {
            auto reply = chat(*rig, "default");
            QCOMPARE(reply.status, 200);
            QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
            QCOMPARE(reply.header("x-fusebox-attempts"), std::string("2"));
        }
        QCOMPARE(rig->sim(0).stats().requests, before); // not one call reached alpha
        const auto snapshot = rig->engine().snapshot();
        QCOMPARE(snapshot.findProvider("alpha")->breaker.window.count(Outcome::ShortCircuited), 10u);
    }

    void everyTargetRefusedIsA503ThatSaysWhenToRetry() {
        openAlpha();
        auto reply = chat(*rig, "solo");
        QCOMPARE(reply.status, 503);
        QCOMPARE(reply.header("retry-after"), std::string("1"));
        QCOMPARE(reply.header("x-fusebox-breaker"), std::string("open"));
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("none"));
        QCOMPARE(reply.header("x-fusebox-route"), std::string("solo"));
        const json error = json::parse(reply.body)["error"];
        QCOMPARE(error["type"], json("circuit_open"));
        QCOMPARE(error["code"], json("circuit_open"));
        QVERIFY(error["param"].is_null());
        const json& fb = error["fusebox"];
        QCOMPARE(fb["route"], json("solo"));
        QVERIFY(fb["retry_after_s"].get<double>() > 0 && fb["retry_after_s"].get<double>() <= 1.0);
        QCOMPARE(fb["attempts"].size(), size_t{1});
        QCOMPARE(fb["attempts"][0]["provider"], json("alpha"));
        QCOMPARE(fb["attempts"][0]["outcome"], json("short_circuited"));
        QCOMPARE(fb["attempts"][0]["state"], json("open"));
        QVERIFY(fb["attempts"][0]["reason"].get<std::string>().starts_with("3 consecutive failures (last: server_error)"));
    }

    void realFailuresAreUpstreamUnavailable() {
        rig->sim(0).setFault(sim::Fault::httpError(500).withMessage("the model melted"));
        auto reply = chat(*rig, "solo");
        QCOMPARE(reply.status, 503);
        QVERIFY(!reply.hasHeader("x-fusebox-breaker"));
        const json error = json::parse(reply.body)["error"];
        QCOMPARE(error["type"], json("upstream_unavailable"));
        QCOMPARE(error["fusebox"]["attempts"][0]["outcome"], json("server_error"));
        QVERIFY(error["fusebox"]["attempts"][0]["reason"].get<std::string>().find("HTTP 500: the model melted") != std::string::npos);
    }

    void anthropicShapeOf503() {
        rig->sim(0).setFault(sim::Fault::httpError(529));
        auto reply = rig->client().post("/v1/messages", messagesRequest("hi", false, "claude").dump());
        QCOMPARE(reply.status, 503);
        const json body = json::parse(reply.body);
        QCOMPARE(body["type"], json("error"));
        QCOMPARE(body["error"]["type"], json("overloaded_error"));
        QCOMPARE(body["fusebox"]["route"], json("claude"));
        QCOMPARE(body["fusebox"]["attempts"][0]["outcome"], json("server_error"));
        QVERIFY(reply.hasHeader("retry-after"));
    }

    void halfOpenLetsOneProbeThroughUnderConcurrency() {
        rig->sim(0).setFault(sim::Fault::httpError(503));
        for (int i = 0; i < 3; ++i) QCOMPARE(chat(*rig, "gamma").status, 503);
        QCOMPARE(rig->engine().breaker("gamma")->state(), BreakerState::Open);
        // The probe is slow enough that the other nine surely arrive while it is in flight, even on a busy machine.
        rig->sim(0).setFault(sim::Fault::slow(Millis{1500}));
        std::this_thread::sleep_for(std::chrono::milliseconds(2100)); // gamma's 2 s open period ends
        const uint64_t before = rig->sim(0).stats().requests;
        std::vector<int> statuses(10);
        std::vector<std::thread> clients;
        for (int i = 0; i < 10; ++i)
            clients.emplace_back([this, i, &statuses] { statuses[static_cast<std::size_t>(i)] = chat(*rig, "gamma").status; });
        for (auto& c : clients) c.join();
        QCOMPARE(rig->sim(0).stats().requests - before, uint64_t{1}); // exactly one probe reached the provider
        QCOMPARE(std::count(statuses.begin(), statuses.end(), 200), 1L);
        QCOMPARE(std::count(statuses.begin(), statuses.end(), 503), 9L);
        QCOMPARE(rig->engine().breaker("gamma")->state(), BreakerState::Closed);
    }

    void retryAfterIsTheProvidersOwnRemainingOpenTime() {
        // gamma overrides open_s (2 s) and its own failure opens it: the 503 must say 2, not the default's 1.
        rig->sim(0).setFault(sim::Fault::httpError(503));
        QCOMPARE(chat(*rig, "gamma").status, 503);
        QCOMPARE(chat(*rig, "gamma").status, 503);
        auto opening = chat(*rig, "gamma"); // this request's own failure opens the breaker
        QCOMPARE(rig->engine().breaker("gamma")->state(), BreakerState::Open);
        QCOMPARE(opening.header("retry-after"), std::string("2"));
        QVERIFY(json::parse(opening.body)["error"]["fusebox"]["retry_after_s"].get<double>() > 1.5);
    }

    void retryAfterIsCappedWhileTheBodyTellsTheWholeWait() {
        // slowheal opens for 115 s. SDKs give up on a Retry-After that long (the OpenAI SDK at 60 s and more), so
        // the header says at most limits.max_retry_after_s (30 by default); the body says the whole wait.
        rig->sim(1).setFault(sim::Fault::httpError(503).times(3));
        QCOMPARE(chat(*rig, "slowheal").status, 503);
        QCOMPARE(chat(*rig, "slowheal").status, 503);
        auto opening = chat(*rig, "slowheal"); // this request's own failure opens the breaker
        QCOMPARE(rig->engine().breaker("slowheal")->state(), BreakerState::Open);
        QCOMPARE(opening.header("retry-after"), std::string("30"));
        const json error = json::parse(opening.body)["error"];
        QVERIFY2(error["fusebox"]["retry_after_s"].get<double>() >= 115.0, opening.body.c_str());
        QVERIFY2(error["message"].get<std::string>().ends_with("Retry in 115 s."), opening.body.c_str());
        auto refused = chat(*rig, "slowheal");
        QCOMPARE(refused.header("retry-after"), std::string("30"));
        QVERIFY(json::parse(refused.body)["error"]["fusebox"]["retry_after_s"].get<double>() > 100.0);

        // The cap is the operator's to choose.
        const json config = {{"limits", {{"max_retry_after_s", 100}}},
                             {"providers",
                              {{{"id", "slowheal"}, {"kind", "openai"}, {"base_url", "${SIM0}"}, {"api_key", "sim-key"},
                                {"breaker", {{"open_s", 115}, {"max_open_s", 600}}}}}},
                             {"routes", {{{"name", "slowheal"}, {"targets", {{{"provider", "slowheal"}}}}}}}};
        ProxyRig capped(config.dump(), 1);
        QVERIFY2(capped.ok(), capped.error().c_str());
        capped.engine().forceOpen("slowheal", "maintenance"); // counts as its open_s, 115 s
        auto forced = chat(capped, "slowheal");
        QCOMPARE(forced.status, 503);
        QCOMPARE(forced.header("retry-after"), std::string("100"));
        QCOMPARE(json::parse(forced.body)["error"]["fusebox"]["retry_after_s"].get<double>(), 115.0);
    }

    void theBodyNeverSaysLessThanTheHeader() {
        // A retry 40 ms away: the header says 1 (whole seconds, at least 1), and so must the body, not 0.0.
        rig->engine().forceOpen("quickheal", ""); // counts as its open_s, 0.04 s
        auto reply = chat(*rig, "quickheal");
        QCOMPARE(reply.status, 503);
        QCOMPARE(reply.header("retry-after"), std::string("1"));
        const double body = json::parse(reply.body)["error"]["fusebox"]["retry_after_s"].get<double>();
        QVERIFY2(body >= 1.0, std::to_string(body).c_str());
    }

    void failedProbeReopensForLonger() {
        openAlpha();
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        QCOMPARE(chat(*rig, "solo").status, 503); // the probe, still failing
        const auto s = rig->engine().snapshot().findProvider("alpha")->breaker;
        QCOMPARE(s.state, BreakerState::Open);
        QVERIFY(*s.retryAfterS > 1.5 && *s.retryAfterS <= 2.0); // open_s × backoff
    }

    void rateLimitOpensForRetryAfter() {
        rig->sim(0).setFault(sim::Fault::httpError(429, "2").times(1));
        auto reply = chat(*rig, "default");
        QCOMPARE(reply.status, 200); // 429 falls over even though it is not a failure
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        const auto s = rig->engine().snapshot().findProvider("alpha")->breaker;
        QCOMPARE(s.state, BreakerState::Open);
        QVERIFY(*s.retryAfterS > 1.5 && *s.retryAfterS <= 2.0);
        QVERIFY(s.reason.starts_with("rate limited (429), Retry-After 2 s"));
        QCOMPARE(s.window.failures, 0u);
        auto refused = chat(*rig, "solo");
        QCOMPARE(refused.header("retry-after"), std::string("2"));
    }

    void waitForRecoveryHoldsTheRequestInsteadOfFailing() {
        openAlpha();
        rig->sim(0).clearFault();
        QElapsedTimer timer;
        timer.start();
        auto reply = chat(*rig, "patient");
        QCOMPARE(reply.status, 200); // waited for the half-open probe and was it
        QVERIFY2(timer.elapsed() >= 700, std::to_string(timer.elapsed()).c_str());
        QCOMPARE(rig->engine().breaker("alpha")->state(), BreakerState::Closed);
    }

    void providerWithoutKeyFailsOverAsAuthError() {
        auto reply = chat(*rig, "nokey");
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QCOMPARE(rig->sim(1).stats().requests, uint64_t{1}); // the keyless provider made no call
        const auto s = rig->engine().snapshot().findProvider("keyless")->breaker;
        QCOMPARE(s.window.count(Outcome::AuthError), 1u);
        rig->sim(1).setFault(sim::Fault::httpError(500));
        auto failed = chat(*rig, "nokey");
        QVERIFY(json::parse(failed.body)["error"]["fusebox"]["attempts"][0]["reason"].get<std::string>().find(
                    "set FUSEBOX_TEST_UNSET_KEY") != std::string::npos);
    }

    void hungProviderTimesOutAtFirstByteAndFallsOver() {
        rig->sim(0).setFault(sim::Fault::hang());
        QElapsedTimer timer;
        timer.start();
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true, "default").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QVERIFY2(timer.elapsed() >= 280 && timer.elapsed() < 5000, std::to_string(timer.elapsed()).c_str());
        const auto s = rig->engine().snapshot().findProvider("alpha")->breaker;
        QCOMPARE(s.window.count(Outcome::Timeout), 1u);
    }

    void firstByteBoundsStreamsOnly() {
        // A non-streamed answer sends no byte until it is done (long reasoning takes minutes): 800 ms of silence,
        // well past alpha's 300 ms first_byte, is no failure; its default total bounds it.
        rig->sim(0).setFault(sim::Fault::slow(Millis{800}));
        auto whole = chat(*rig, "default");
        QCOMPARE(whole.status, 200);
        QCOMPARE(whole.header("x-fusebox-provider"), std::string("alpha"));
        QCOMPARE(whole.header("x-fusebox-attempts"), std::string("1"));
        auto alpha = rig->engine().snapshot().findProvider("alpha")->breaker;
        QCOMPARE(alpha.window.count(Outcome::Timeout), 0u);
        QCOMPARE(alpha.window.count(Outcome::Success), 1u);
        // The same silence before a stream's first byte is a timeout, and the stream goes to beta.
        auto stream = rig->client().stream("/v1/chat/completions", chatRequest("hi", true, "default").dump());
        QCOMPARE(stream.status, 200);
        QCOMPARE(stream.header("x-fusebox-provider"), std::string("beta"));
        alpha = rig->engine().snapshot().findProvider("alpha")->breaker;
        QCOMPARE(alpha.window.count(Outcome::Timeout), 1u);
    }

    void aWholeAnswerThatNeverComesFailsOverAtTotal() {
        rig->sim(0).setFault(sim::Fault::hang());
        QElapsedTimer timer;
        timer.start();
        auto reply = chat(*rig, "bounded");
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        // delta's total (1500 ms), not its first_byte (300 ms).
        QVERIFY2(timer.elapsed() >= 1400 && timer.elapsed() < 6000, std::to_string(timer.elapsed()).c_str());
        QCOMPARE(rig->engine().snapshot().findProvider("delta")->breaker.window.count(Outcome::Timeout), 1u);
    }

    void garbageIsABadResponseAndFallsOver() {
        rig->sim(0).setFault(sim::Fault::garbage());
        auto reply = chat(*rig, "default");
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QCOMPARE(rig->engine().snapshot().findProvider("alpha")->breaker.window.count(Outcome::BadResponse), 1u);
    }

    void forcedOpenFromTheEngineIsHonouredOnTheWire() {
        rig->engine().forceOpen("beta", "maintenance");
        rig->engine().forceOpen("alpha", "");
        auto reply = chat(*rig, "default");
        QCOMPARE(reply.status, 503);
        QCOMPARE(reply.header("x-fusebox-breaker"), std::string("open"));
        const json attempts = json::parse(reply.body)["error"]["fusebox"]["attempts"];
        QCOMPARE(attempts[1]["state"], json("forced_open"));
        QCOMPARE(attempts[1]["reason"], json("forced open by operator: maintenance"));
        rig->engine().reset("alpha", "");
        QCOMPARE(chat(*rig, "default").status, 200);
    }
};

QTEST_GUILESS_MAIN(ProxyBreakerTest)
#include "test_proxy_breaker.moc"
