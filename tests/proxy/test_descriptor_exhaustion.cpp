// When this machine runs out of file descriptors, the upstream socket Fusebox cannot open is Fusebox's problem,
// not the provider's: it once counted as the provider's connect_error and opened a healthy provider's breaker.
// This test lowers the process's descriptor limit and fills it (its own executable: the limit cannot be raised
// again afterwards).
#include "ProxyRig.h"
#include "SimRequests.h"
#include "TestSupport.h"

#include <QtTest>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

class DescriptorExhaustionTest : public QObject {
    Q_OBJECT

private slots:
    void aLocalSocketFailureIsNotTheProvidersFailure() {
        ProxyRig rig(R"({
          "providers": [{"id": "gpt", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key",
                         "breaker": {"consecutive_failures": 1}}],
          "routes": [{"name": "default", "targets": [{"provider": "gpt"}]}]
        })", 1, quickSimOptions(2));
        QVERIFY2(rig.ok(), rig.error().c_str());

        auto client = rig.client(); // its event loop's descriptors, before there are none
        // The journal's files open at its first commit: done before the descriptors run out, so that it neither
        // takes one during the request nor frees one it held for a moment (SQLite syncs the directory through a
        // descriptor of its own when it creates the WAL).
        (void)rig.engine().attemptsCsv(WallTime{}, std::chrono::system_clock::now());
        // Fill every descriptor but two: one for the test's client socket, one for Fusebox's accept.
        const int probe = ::dup(0);
        QVERIFY(probe >= 0);
        rlimit limit{};
        QVERIFY(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
        const rlimit lowered{static_cast<rlim_t>(probe + 64), static_cast<rlim_t>(probe + 64)};
        QVERIFY(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
        std::vector<int> filler{probe};
        // And keep filling for a moment: a descriptor another thread held only briefly must not come free after.
        const auto soakUntil = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
        do {
            for (int fd = ::dup(0); fd >= 0; fd = ::dup(0)) filler.push_back(fd);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        } while (std::chrono::steady_clock::now() < soakUntil);
        QVERIFY(filler.size() > 2);
        for (int i = 0; i < 2; ++i) {
            ::close(filler.back());
            filler.pop_back();
        }

        auto reply = client.post("/v1/chat/completions", chatRequest("hi").dump());
        for (int fd : filler) ::close(fd);

        QVERIFY2(reply.status == 503, (std::to_string(reply.status) + " " + reply.body).c_str());
        const json body = parseJson(reply.body);
        QCOMPARE(body["error"]["code"], json("fusebox_overloaded"));
        QVERIFY2(body["error"]["message"].get<std::string>().find("could not open a socket") != std::string::npos,
                 reply.body.c_str());
        // One failure would have opened it (consecutive_failures 1): it heard nothing.
        const auto snapshot = rig.engine().snapshot();
        const ProviderSnapshot* gpt = snapshot.findProvider("gpt");
        QVERIFY(gpt);
        QCOMPARE(gpt->breaker.state, BreakerState::Closed);
        QCOMPARE(gpt->breaker.consecutiveFailures, 0);

        // Descriptors back: served as usual.
        QCOMPARE(rig.client().post("/v1/chat/completions", chatRequest("hi").dump()).status, 200);
    }
};

QTEST_GUILESS_MAIN(DescriptorExhaustionTest)
#include "test_descriptor_exhaustion.moc"
