// The classification table of CONTRACT §2 and the Retry-After parser.
#include "breaker/Outcome.h"
#include "breaker/RetryAfter.h"

#include <QtTest>

using namespace fusebox;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(fusebox::Outcome)
Q_DECLARE_METATYPE(fusebox::TransportError)

class OutcomeTest : public QObject {
    Q_OBJECT
private slots:
    void classification_data() {
        QTest::addColumn<int>("status");
        QTest::addColumn<TransportError>("transport");
        QTest::addColumn<Outcome>("expected");
        const auto none = TransportError::None;
        QTest::newRow("200") << 200 << none << Outcome::Success;
        QTest::newRow("201") << 201 << none << Outcome::Success;
        QTest::newRow("400") << 400 << none << Outcome::ClientError;
        QTest::newRow("404") << 404 << none << Outcome::ClientError;
        QTest::newRow("413") << 413 << none << Outcome::ClientError;
        QTest::newRow("401") << 401 << none << Outcome::AuthError;
        QTest::newRow("403") << 403 << none << Outcome::AuthError;
        QTest::newRow("408") << 408 << none << Outcome::ServerError;
        QTest::newRow("429") << 429 << none << Outcome::RateLimited;
        QTest::newRow("500") << 500 << none << Outcome::ServerError;
        QTest::newRow("502") << 502 << none << Outcome::ServerError;
        QTest::newRow("503") << 503 << none << Outcome::ServerError;
        QTest::newRow("529") << 529 << none << Outcome::ServerError;
        QTest::newRow("302") << 302 << none << Outcome::BadResponse;
        QTest::newRow("0") << 0 << none << Outcome::BadResponse;
        QTest::newRow("timeout") << 0 << TransportError::Timeout << Outcome::Timeout;
        QTest::newRow("connect") << 0 << TransportError::Connect << Outcome::ConnectError;
        QTest::newRow("200 cut") << 200 << TransportError::BadResponse << Outcome::BadResponse;
        QTest::newRow("200 then client left") << 200 << TransportError::Cancelled << Outcome::Cancelled;
        QTest::newRow("200 then idle stall") << 200 << TransportError::Timeout << Outcome::Timeout;
    }
    void classification() {
        QFETCH(int, status);
        QFETCH(TransportError, transport);
        QFETCH(Outcome, expected);
        QCOMPARE(classify(status, transport), expected);
    }

    void namesRoundTrip() {
        for (Outcome o : allOutcomes()) QCOMPARE(*outcomeFromName(outcomeName(o)), o);
        QCOMPARE(outcomeName(Outcome::ShortCircuited), std::string_view("short_circuited"));
        QVERIFY(!outcomeFromName("server-error"));
    }

    void retryAfterSeconds() {
        const WallTime now{std::chrono::seconds{1'700'000'000}};
        QCOMPARE(*parseRetryAfter("120", now), Millis{120'000});
        QCOMPARE(*parseRetryAfter(" 0 ", now), Millis{0});
        QCOMPARE(*parseRetryAfter("1.5", now), Millis{1500});
        QVERIFY(!parseRetryAfter("", now));
        QVERIFY(!parseRetryAfter("-3", now));
        QVERIFY(!parseRetryAfter("12abc", now));
        QVERIFY(!parseRetryAfter("soon", now));
    }

    void retryAfterHttpDate() {
        const WallTime now{std::chrono::seconds{784111777}}; // Sun, 06 Nov 1994 08:49:37 GMT
        QCOMPARE(formatHttpDate(now), std::string("Sun, 06 Nov 1994 08:49:37 GMT"));
        QCOMPARE(*parseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now), Millis{30'000});
        QCOMPARE(*parseRetryAfter("Sunday, 06-Nov-94 08:50:07 GMT", now), Millis{30'000}); // RFC 850
        QCOMPARE(*parseRetryAfter("Sun Nov  6 08:50:07 1994", now), Millis{30'000});      // asctime
        QCOMPARE(*parseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), Millis{0});       // in the past
        QVERIFY(!parseRetryAfter("Sun, 06 Nov 1994 25:00:00 GMT", now));
    }
};

QTEST_GUILESS_MAIN(OutcomeTest)
#include "test_outcome.moc"
