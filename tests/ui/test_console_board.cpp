// The board in an incident (issue 13): cards that fit the screen, charts that tell the truth, an event log that
// survives a restart, every action reachable by keyboard. Against a real engine and real sims, offscreen.
#include "CardFlowLayout.h"
#include "ChartsPanel.h"
#include "ConsoleRig.h"
#include "Engine.h"
#include "EngineBridge.h"
#include "EventLogModel.h"
#include "EventLogPanel.h"
#include "MainWindow.h"
#include "ProviderBoard.h"
#include "ProviderCard.h"
#include "ProviderHistory.h"
#include "ProviderPalette.h"
#include "SimHttpClient.h"
#include "SpendHistoryChart.h"
#include "SpendPanel.h"
#include "TestSupport.h"
#include "config/ConfigLoader.h"
#include "sim/SimProvider.h"

#include <QAbstractScrollArea>
#include <QApplication>
#include <QChartView>
#include <QLabel>
#include <QPushButton>
#include <QScrollBar>
#include <QSet>
#include <QStandardPaths>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace fusebox;
using fusebox::test::SimHttpClient;

namespace {

// `n` providers over two sims (odd ones on the first), a route over the first two, the journal in `dataDir`.
std::string boardConfig(int n, const std::string& dataDir, const std::string& url1, const std::string& url2,
                        const std::string& pricesFile = {}) {
    nlohmann::json providers = nlohmann::json::array();
    for (int i = 1; i <= n; ++i)
        providers.push_back({{"id", "p" + std::to_string(i)}, {"kind", "openai"},
                             {"base_url", i % 2 ? url1 : url2}, {"api_key", "k"}});
    nlohmann::json config = {{"listen", "127.0.0.1:0"},
                             {"data_dir", dataDir},
                             {"breaker", {{"consecutive_failures", 2}, {"open_s", 30}, {"jitter", 0}}},
                             {"providers", providers},
                             {"routes", {{{"name", "default"}, {"targets", {{{"provider", "p1"}}, {{"provider", "p2"}}}}}}}};
    if (!pricesFile.empty()) config["prices_file"] = pricesFile;
    return config.dump(2);
}

struct Board {
    QTemporaryDir dir;
    sim::SimProvider sim1{test::Console::fastOptions()}, sim2{test::Console::fastOptions()};
    std::unique_ptr<Engine> engine;
    std::unique_ptr<EngineBridge> bridge;
    std::unique_ptr<MainWindow> window;

    bool start(int providers, QSize size) {
        if (!sim1.start() || !sim2.start()) return false;
        const std::string prices = test::writeTempFile(
            dir, "prices.json",
            nlohmann::json{{"models", {{"priced-model", {{"input_per_mtok", 1000}, {"output_per_mtok", 2000}}}}}}.dump());
        auto loaded = parseConfig(boardConfig(providers, dir.path().toStdString() + "/data", sim1.openaiBaseUrl(),
                                              sim2.openaiBaseUrl(), prices),
                                  "board.json");
        if (!loaded.ok()) return false;
        engine = std::make_unique<Engine>(std::move(*loaded.config));
        std::string error;
        if (!engine->start(error)) return false;
        bridge = std::make_unique<EngineBridge>(*engine);
        window = std::make_unique<MainWindow>(*bridge);
        window->resize(size);
        window->show();
        settle();
        return true;
    }
    ~Board() {
        window.reset();
        bridge.reset();
        if (engine) engine->stop(Millis{0});
    }
    static void settle() {
        // Layout requests and the board's splitter fit are posted events: let them run.
        for (int i = 0; i < 5; ++i) {
            QCoreApplication::processEvents();
            QTest::qWait(20);
        }
    }
    uint16_t port() const { return static_cast<uint16_t>(QUrl(QString::fromStdString(engine->listenUrl())).port()); }
    void chat(int n, const std::string& model) {
        SimHttpClient client(port());
        for (int i = 0; i < n; ++i)
            client.post("/v1/chat/completions", nlohmann::json{{"model", model},
                                                               {"messages", {{{"role", "user"}, {"content", "hi"}}}}}
                                                    .dump());
    }
};

// The card is whole: as tall as its content needs, its buttons inside it and not squeezed.
QString cardCut(ProviderCard* card) {
    if (card->height() < card->minimumSizeHint().height())
        return QString("%1 is %2 px tall, needs %3").arg(card->objectName()).arg(card->height()).arg(card->minimumSizeHint().height());
    for (const char* name : {"forceOpenButton", "forceCloseButton", "resetButton"}) {
        auto* button = card->findChild<QPushButton*>(name);
        const QRect r(button->mapTo(card, QPoint(0, 0)), button->size());
        if (!card->rect().contains(r) || button->height() < button->minimumSizeHint().height() || !button->isVisible())
            return QString("%1's %2 is cut").arg(card->objectName(), name);
    }
    return {};
}

// The card lies entirely inside the visible part of the board's scroll area.
bool cardInView(MainWindow& window, ProviderCard* card) {
    QWidget* viewport = window.board().viewport();
    const QRect r(card->mapTo(viewport, QPoint(0, 0)), card->size());
    return viewport->rect().contains(r);
}

} // namespace

class ConsoleBoardTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("FuseboxBoardTest");
        QSettings().clear(); // no window layout saved by an earlier run
    }

    // Four providers at 1920×1080: one row, every card whole and on screen without scrolling.
    void fourProvidersFitAt1920() {
        Board b;
        QVERIFY(b.start(4, QSize(1920, 1080)));
        QCOMPARE(b.window->size(), QSize(1920, 1080));
        for (const char* id : {"p1", "p2", "p3", "p4"}) {
            ProviderCard* card = b.window->card(id);
            QVERIFY(card);
            const QString cut = cardCut(card);
            QVERIFY2(cut.isEmpty(), qPrintable(cut));
            QVERIFY2(cardInView(*b.window, card), qPrintable(QString("%1 needs scrolling").arg(id)));
        }
        QCOMPARE(b.window->board().verticalScrollBar()->maximum(), 0);
        QCOMPARE(b.window->board().cards().columnsFor(b.window->board().viewport()->width()) >= 4, true);
    }

    // Six providers at 1024×700: the window really is that small, the cards flow into as many columns as fit, no
    // card is cut, the first row is in view, the proxy address is whole, and a focused card scrolls into view.
    void sixProvidersAt1024x700() {
        Board b;
        QVERIFY(b.start(6, QSize(1024, 700)));
        QVERIFY2(b.window->minimumSizeHint().width() <= 1024 && b.window->minimumSizeHint().height() <= 700,
                 qPrintable(QString("minimum %1×%2").arg(b.window->minimumSizeHint().width()).arg(b.window->minimumSizeHint().height())));
        QCOMPARE(b.window->size(), QSize(1024, 700));
        for (int i = 1; i <= 6; ++i) {
            const QString cut = cardCut(b.window->card(QString("p%1").arg(i)));
            QVERIFY2(cut.isEmpty(), qPrintable(cut));
        }
        QVERIFY(cardInView(*b.window, b.window->card("p1")));
        QVERIFY(cardInView(*b.window, b.window->card("p2")));
        auto* address = b.window->findChild<QLabel*>("proxyAddress");
        QVERIFY2(address->width() >= address->sizeHint().width(),
                 qPrintable(QString("%1 px for %2 px of address").arg(address->width()).arg(address->sizeHint().width())));
        // The last card is below the fold; giving it the focus brings it into view.
        ProviderCard* last = b.window->card("p6");
        QVERIFY(!cardInView(*b.window, last));
        b.window->activateWindow();
        last->setFocus(Qt::TabFocusReason);
        QTRY_VERIFY(cardInView(*b.window, last));
    }

    // Every card's three actions are Tab stops, and no tab stop is a frame that cannot show its focus.
    void everyActionIsATabStop() {
        Board b;
        QVERIFY(b.start(2, QSize(1400, 900)));
        b.window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(b.window.get()));
        b.window->card("p1")->setFocus(Qt::TabFocusReason);
        QSet<QWidget*> seen;
        QStringList chain;
        for (int i = 0; i < 120; ++i) {
            QWidget* focus = QApplication::focusWidget();
            QVERIFY(focus);
            if (seen.contains(focus)) break;
            seen.insert(focus);
            chain << (focus->objectName().isEmpty() ? focus->metaObject()->className() : focus->objectName());
            QVERIFY2(!qobject_cast<QChartView*>(focus) && !focus->inherits("QScrollArea"),
                     qPrintable("a tab stop that shows nothing: " + chain.last()));
            QTest::keyClick(focus, Qt::Key_Tab);
        }
        for (const char* id : {"p1", "p2"})
            for (const char* name : {"forceOpenButton", "forceCloseButton", "resetButton"})
                QVERIFY2(seen.contains(b.window->card(id)->findChild<QPushButton*>(name)),
                         qPrintable(QString("%1 of %2 is not in the Tab order: %3").arg(name, id, chain.join(", "))));
        // A focused card draws its focus.
        QVERIFY(b.window->card("p1")->styleSheet().contains(":focus"));
    }

    // Counts have whole-number ticks; the window's time axis ends in "now", the trend's too.
    void chartsHaveIntegerTicksAndATimeAxis() {
        Board b;
        QVERIFY(b.start(2, QSize(1400, 900)));
        b.chat(2, "default");
        ChartsPanel& charts = b.window->chartsPanel();
        QTRY_VERIFY(charts.trendPointCount() >= 1);
        QTRY_VERIFY(charts.countTicks().size() >= 2);
        const QList<double> ticks = charts.countTicks();
        for (int i = 0; i < ticks.size(); ++i) {
            QVERIFY2(ticks[i] == std::floor(ticks[i]), qPrintable(QString("tick %1").arg(ticks[i])));
            if (i > 0) QVERIFY(ticks[i] > ticks[i - 1]);
        }
        QVERIFY(charts.windowTimeLabels().contains("now"));
        QVERIFY2(charts.windowTimeLabels().contains("-20 s"), qPrintable(charts.windowTimeLabels().join(",")));
        QCOMPARE(charts.trendTimeLabels().last(), QString("now"));
        QVERIFY(charts.trendTimeLabels().contains("-15 min"));
    }

    // A provider has the same colour in the requests, tokens and spend charts, and no two share one.
    void oneColourPerProviderAcrossCharts() {
        Board b;
        QVERIFY(b.start(3, QSize(1400, 900)));
        for (const char* id : {"p1", "p2", "p3"}) b.chat(1, std::string(id) + "/priced-model");
        SpendPanel& spend = b.window->spendPanel();
        QTRY_VERIFY(spend.pointCount("p3") >= 1);
        const int before = spend.history().refreshes();
        spend.history().refresh();
        QTRY_VERIFY(spend.history().refreshes() > before && spend.history().barColour("p3").isValid());
        QSet<QRgb> colours;
        for (const char* id : {"p1", "p2", "p3"}) {
            const QColor line = spend.lineColour(id);
            QCOMPARE(spend.history().barColour(id), line);
            QCOMPARE(ProviderPalette::colour(id), line);
            colours.insert(line.rgb());
        }
        QCOMPARE(colours.size(), 3);
    }

    // The trend's failure line is per interval: high while the provider fails or is refused, back to zero when it
    // recovers (the breaker window's rate stayed low through the outage and peaked at the recovering probe).
    void failureHistoryPeaksDuringTheIncident() {
        ProviderHistory history;
        EngineSnapshot s;
        s.providers.resize(1);
        auto& p = s.providers[0];
        p.id = "p1";
        const WallTime start{std::chrono::seconds{1'767'225'600}};
        double outageMid = 0;
        for (int t = 0; t <= 180; ++t) {
            s.takenAt = start + std::chrono::seconds(t);
            if (t < 60 || t >= 120) { // healthy: 5 calls a second, all fine
                p.figures.attemptsTotal += 5;
            } else if (t < 63) { // the outage starts: every call fails until the breaker opens
                p.figures.attemptsTotal += 5;
                p.figures.errorsTotal += 5;
            } else { // open: refused, a failing probe every 10 s
                p.figures.shortCircuitedTotal += 5;
                if (t % 10 == 0) {
                    ++p.figures.attemptsTotal;
                    ++p.figures.errorsTotal;
                }
            }
            if (t == 90) outageMid = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(s.takenAt.time_since_epoch()).count());
            QVERIFY(history.add(s));
        }
        const auto& points = history.points("p1");
        double peak = -1;
        qint64 peakAt = 0;
        for (const auto& point : points)
            if (point.failureRate > peak) {
                peak = point.failureRate;
                peakAt = point.msecs;
            }
        QVERIFY2(peak > 0.9, qPrintable(QString::number(peak)));
        const qint64 startMs = std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count();
        QVERIFY2(peakAt >= startMs + 60'000 && peakAt < startMs + 120'000,
                 qPrintable(QString("peak at %1 s").arg((peakAt - startMs) / 1000)));
        for (const auto& point : points) {
            const qint64 t = (point.msecs - startMs) / 1000;
            if (t >= 70 && t < 120) QVERIFY2(point.failureRate > 0.8, qPrintable(QString("%1 s: %2").arg(t).arg(point.failureRate)));
            if (t >= 131 || t < 60) QCOMPARE(point.failureRate, 0.0);
        }
        Q_UNUSED(outageMid);
    }

    // Events of an earlier run (yesterday's, within 24 hours) are in a new window's log, with their date and
    // zone; older ones are not; a copy carries ISO 8601 UTC.
    void eventLogSurvivesARestart() {
        QTemporaryDir dir;
        const std::string data = dir.path().toStdString() + "/data";
        const auto now = std::chrono::system_clock::now();
        const WallTime twentyHoursAgo = std::chrono::time_point_cast<std::chrono::milliseconds>(now - std::chrono::hours(20));
        {
            ManualClock clock(std::chrono::time_point_cast<std::chrono::milliseconds>(now - std::chrono::hours(30)));
            auto loaded = parseConfig(boardConfig(2, data, "http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1"), "a.json");
            QVERIFY(loaded.ok());
            Engine first(std::move(*loaded.config), clock);
            QVERIFY(first.forceOpen("p2", "too old to show").ok);
            clock.setWall(twentyHoursAgo);
            QVERIFY(first.forceOpen("p1", "maintenance window").ok);
        } // the journal commits on close
        auto loaded = parseConfig(boardConfig(2, data, "http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1"), "b.json");
        QVERIFY(loaded.ok());
        Engine second(std::move(*loaded.config));
        std::string error;
        QVERIFY2(second.start(error), error.c_str());
        EngineBridge bridge(second);
        MainWindow window(bridge);
        EventLogModel& log = window.eventLog();
        int row = -1;
        for (int r = 0; r < log.rowCount(); ++r) {
            QVERIFY2(!log.data(log.index(r, EventLogModel::Reason), Qt::DisplayRole).toString().contains("too old"),
                     "an event older than 24 hours is shown");
            if (log.data(log.index(r, EventLogModel::Reason), Qt::DisplayRole).toString() == "maintenance window") row = r;
        }
        QVERIFY2(row >= 0, "yesterday's force-open is not in the log");
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(
            std::chrono::duration_cast<std::chrono::milliseconds>(twentyHoursAgo.time_since_epoch()).count());
        const QString shown = log.data(log.index(row, EventLogModel::Time), Qt::DisplayRole).toString();
        QVERIFY2(shown.startsWith(at.toString("yyyy-MM-dd HH:mm:ss")), qPrintable(shown));
        QVERIFY2(shown.endsWith(at.timeZoneAbbreviation()), qPrintable(shown));
        EventLogFilter filter;
        filter.setSourceModel(&log);
        QVERIFY2(filter.toText().contains(at.toUTC().toString("yyyy-MM-ddTHH:mm:ss")), qPrintable(filter.toText()));
        QVERIFY(filter.toText().contains("Z\t"));
        second.stop(Millis{0});
    }

    // A 429 open is told apart from an outage open, and states read in words.
    void rateLimitOpenAndStatesInWords() {
        Board b;
        QVERIFY(b.start(2, QSize(1400, 900)));
        b.sim1.setFault(sim::Fault::httpError(429, "20"));
        b.chat(1, "p1/any");
        QTRY_COMPARE(b.window->card("p1")->findChild<QLabel*>("stateLabel")->text(), QString("rate limited"));
        QVERIFY(b.window->card("p1")->findChild<QLabel*>("countdownLabel")->text().endsWith(" s"));
        b.sim2.setFault(sim::Fault::httpError(503));
        b.chat(2, "p2/any");
        QTRY_COMPARE(b.window->card("p2")->findChild<QLabel*>("stateLabel")->text(), QString("open"));
        QVERIFY(b.window->card("p1")->findChild<QLabel*>("stateLabel")->property("stateColor") !=
                b.window->card("p2")->findChild<QLabel*>("stateLabel")->property("stateColor"));
        QVERIFY(b.engine->forceOpen("p2", "by hand").ok);
        b.bridge->refresh();
        QTRY_COMPARE(b.window->card("p2")->findChild<QLabel*>("stateLabel")->text(), QString("forced open"));
    }
};

QTEST_MAIN(ConsoleBoardTest)
#include "test_console_board.moc"
