// The operations console against a real engine (real proxy port, simulated providers on loopback), offscreen.
// Widgets are found by objectName; modal confirmations go through ConfirmDialog's next-answer seam.
#include "ConsoleRig.h"
#include "SpendHistoryChart.h"
#include "SpendPanel.h"
#include "ChartsPanel.h"
#include "ConfirmDialog.h"
#include "Engine.h"
#include "EngineBridge.h"
#include "EventLogModel.h"
#include "EventLogPanel.h"
#include "MainWindow.h"
#include "ProviderCard.h"
#include "RoutesPanel.h"
#include "SimHttpClient.h"
#include "SpendPanel.h"
#include "TestSupport.h"
#include "config/ConfigLoader.h"
#include "sim/SimProvider.h"

#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QtTest>

using namespace fusebox;
using fusebox::test::Console;


class MainWindowTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true); // QSettings of the window stay out of the user's files
        QCoreApplication::setOrganizationName("FuseboxTest");
        qunsetenv("FUSEBOX_UI_TEST_UNSET_KEY");
    }
    void cleanup() { ConfirmDialog::clearNextAnswer(); }

    void headerAndBoardShowTheEngine() {
        Console c;
        QVERIFY(c.start());
        QCOMPARE(c.window->windowTitle(), QString("Fusebox"));
        QCOMPARE(c.find<QLabel>("proxyAddress")->text(), QString::fromStdString(c.engine->listenUrl()));
        // The route answers, but the provider "nokey" would fail every call: degraded, and the detail says why.
        QCOMPARE(c.find<QLabel>("overallState")->text(), QString("degraded"));
        QCOMPARE(c.find<QLabel>("overallDetail")->toolTip(), QString("nokey has no key"));
        QTRY_COMPARE(c.find<QLabel>("headlineSpend")->text(), QString("$0.0000"));
        QVERIFY(c.window->card("p1") && c.window->card("p2") && c.window->card("nokey"));
        QCOMPARE(c.cardText("p1", "stateLabel"), QString("closed"));
        QCOMPARE(c.cardText("nokey", "noKeyLabel"), QString("no key: set FUSEBOX_UI_TEST_UNSET_KEY"));
        QVERIFY(!c.window->card("p1")->findChild<QLabel*>("noKeyLabel")->isVisibleTo(c.window.get()));

        c.chat(3); // p1 answers
        QTRY_COMPARE(c.cardText("p1", "count_success"), QString("3"));
        // The sims' model has no price: the spend figure says so rather than pretending $0.
        QTRY_COMPARE(c.find<QLabel>("headlineSpend")->text(), QString("$0.0000 + unpriced"));
        QTRY_VERIFY(c.cardText("p1", "rpsLabel") != "0.0/s");

        // p1 fails twice in a row: open, with a countdown to the next probe that goes down.
        c.sim1.setFault(sim::Fault::httpError(503));
        c.chat(2);
        QCOMPARE(c.state("p1"), BreakerState::Open);
        QTRY_COMPARE(c.cardText("p1", "stateLabel"), QString("open"));
        auto* state = c.window->card("p1")->findChild<QLabel*>("stateLabel");
        QCOMPARE(state->property("stateColor").toString(), QColor(0xd3, 0x2f, 0x2f).name());
        QTRY_COMPARE(c.cardText("p1", "count_failure"), QString("2"));
        QVERIFY(c.cardText("p1", "reasonLabel").contains("consecutive failures"));
        QCOMPARE(c.find<QLabel>("overallState")->text(), QString("degraded")); // p2 still answers the route
        auto* countdown = c.window->card("p1")->findChild<QLabel*>("countdownLabel");
        const double first = countdown->property("seconds").toDouble();
        QVERIFY2(first > 25 && first <= 30, qPrintable(countdown->text()));
        QTest::qWait(1300);
        const double later = countdown->property("seconds").toDouble();
        QVERIFY2(later < first - 1.0, qPrintable(QString("%1 then %2").arg(first).arg(later)));
        QVERIFY(countdown->text().endsWith(" s"));
        // While p1 is open, the route falls back to p2 and p1's refusals are counted as short-circuited.
        c.chat(2);
        QTRY_COMPARE(c.cardText("p1", "count_short_circuited"), QString("2"));
        QTRY_VERIFY(c.logHas("closed  →  open"));
    }

    void incidentControlsReachTheEngineAfterConfirmation() {
        Console c;
        QVERIFY(c.start());
        ProviderCard* card = c.window->card("p2");
        // Cancelled: nothing happens.
        ConfirmDialog::setNextAnswer(std::nullopt);
        QTest::mouseClick(card->findChild<QPushButton*>("forceOpenButton"), Qt::LeftButton);
        QCOMPARE(c.state("p2"), BreakerState::Closed);

        ConfirmDialog::setNextAnswer(QString("provider maintenance"));
        QTest::mouseClick(card->findChild<QPushButton*>("forceOpenButton"), Qt::LeftButton);
        QCOMPARE(c.state("p2"), BreakerState::ForcedOpen);
        QTRY_COMPARE(c.cardText("p2", "stateLabel"), QString("forced open")); // states in words, not the engine's names
        QVERIFY(card->findChild<QLabel*>("manualMark")->isVisibleTo(c.window.get()));
        QTRY_VERIFY(c.logHas("operator | p2 | force open | provider maintenance"));

        ConfirmDialog::setNextAnswer(QString());
        QTest::mouseClick(card->findChild<QPushButton*>("forceCloseButton"), Qt::LeftButton);
        QCOMPARE(c.state("p2"), BreakerState::ForcedClosed);
        QTRY_COMPARE(card->findChild<QLabel*>("stateLabel")->property("stateColor").toString(),
                     QColor(0xef, 0x6c, 0x00).name());
        QTRY_VERIFY(c.logHas("force close | force_close (no reason given)"));

        // The keyboard shortcut of the focused card.
        c.window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(c.window.get()));
        card->setFocus();
        QTRY_VERIFY(card->hasFocus());
        ConfirmDialog::setNextAnswer(QString("all clear"));
        QTest::keyClick(card, Qt::Key_R, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(c.state("p2"), BreakerState::Closed);
        QTRY_VERIFY(c.logHas("reset | all clear"));
        QTRY_VERIFY(!card->findChild<QLabel*>("manualMark")->isVisibleTo(c.window.get()));
        // The context menu offers the same three actions.
        QCOMPARE(card->actions().size(), 3);
    }

    void routeReorderReachesTheEngineAndTheConfigFile() {
        Console c;
        QVERIFY(c.start());
        auto* list = c.find<QListWidget>("routeList_default");
        QVERIFY(list);
        QCOMPARE(list->count(), 2);
        QCOMPARE(list->item(0)->text(), QString("p1"));
        list->setCurrentRow(0);
        QTest::mouseClick(c.find<QPushButton>("moveDown_default"), Qt::LeftButton);
        const auto routes = c.engine->snapshot().routes;
        QCOMPARE(routes.front().targets.front().provider, std::string("p2"));
        QCOMPARE(list->item(0)->text(), QString("p2"));
        QFile file(QString::fromStdString(c.configPath));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString written = QString::fromUtf8(file.readAll());
        QVERIFY2(written.indexOf("\"provider\": \"p2\"") < written.indexOf("\"provider\": \"p1\"") ||
                     written.indexOf("\"provider\":\"p2\"") < written.indexOf("\"provider\":\"p1\""),
                 qPrintable(written));
        QVERIFY(written.contains("${FUSEBOX_UI_TEST_UNSET_KEY}")); // the reference is kept, as written
        QTRY_VERIFY(c.logHas("route | route default | p1, p2  →  p2, p1"));

        // Ctrl+Up on the list moves it back.
        c.window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(c.window.get()));
        list->setFocus();
        list->setCurrentRow(1);
        QTest::keyClick(list, Qt::Key_Up, Qt::ControlModifier);
        QCOMPARE(c.engine->snapshot().routes.front().targets.front().provider, std::string("p1"));

        // A drop (the model moving a row) applies the order too.
        QVERIFY(list->model()->moveRow({}, 1, {}, 0));
        QTRY_COMPARE(c.engine->snapshot().routes.front().targets.front().provider, std::string("p2"));
    }

    void eventLogFiltersAndCopies() {
        Console c;
        QVERIFY(c.start());
        ConfirmDialog::setNextAnswer(QString("one"));
        c.window->runIncidentAction("p1", ProviderCard::Action::ForceOpen);
        ConfirmDialog::setNextAnswer(QString("two"));
        c.window->runIncidentAction("p2", ProviderCard::Action::ForceOpen);
        c.bridge->setRoute("default", {{"p2", ""}, {"p1", ""}});
        QTRY_VERIFY(c.window->eventLog().rowCount() >= 5); // 2 operator, 2 breaker, 1 route
        // Newest first.
        QCOMPARE(c.window->eventLog().eventAt(0).type, EventType::Route);

        auto& filter = c.window->eventLogPanel().filter();
        auto* subject = c.find<QComboBox>("eventSubjectFilter");
        auto* type = c.find<QComboBox>("eventTypeFilter");
        subject->setCurrentIndex(subject->findData("p2"));
        QCOMPARE(filter.rowCount(), 2); // its operator action and its breaker transition
        type->setCurrentIndex(type->findData("operator"));
        QCOMPARE(filter.rowCount(), 1);
        QCOMPARE(filter.data(filter.index(0, EventLogModel::Reason)).toString(), QString("two"));
        subject->setCurrentIndex(0);
        type->setCurrentIndex(type->findData("route"));
        QCOMPARE(filter.rowCount(), 1);

        QTest::mouseClick(c.find<QPushButton>("copyEventsButton"), Qt::LeftButton);
        const QString text = QGuiApplication::clipboard()->text();
        QVERIFY2(text.startsWith("Time (UTC)\tType\tProvider / route\tChange\tReason\n"), qPrintable(text));
        QVERIFY(text.contains("route\troute default\tp1, p2  →  p2, p1\treordered") ||
                text.contains("route\troute default\tp1, p2  →  p2, p1\t"));
        QCOMPARE(text.count('\n'), 2);
    }

    void eventLogIsSeededFromHistory() {
        Console c;
        QVERIFY(c.start());
        c.engine->forceOpen("p1", "before the window");
        EngineBridge bridge(*c.engine);
        MainWindow second(bridge);
        QVERIFY(second.eventLog().rowCount() >= 2);
        QCOMPARE(QString::fromStdString(second.eventLog().eventAt(0).reason), QString("before the window"));
    }

    void chartsReceivePoints() {
        Console c;
        QVERIFY(c.start());
        c.chat(4);
        auto& charts = c.window->chartsPanel();
        QCOMPARE(charts.provider(), QString("p1"));
        QTRY_COMPARE_WITH_TIMEOUT(charts.barCount(), 60, 3000); // one bar per second of the 60 s window
        QTRY_VERIFY_WITH_TIMEOUT(charts.trendPointCount() >= 2, 5000);
        QVERIFY(c.window->spendPanel().pointCount("p1") >= 2);
        QVERIFY(c.find<QWidget>("windowChart") && c.find<QWidget>("trendChart"));
    }

    void spendHistoryAndCsvExportComeFromTheJournal() {
        Console c;
        QVERIFY(c.start());
        // "hi" is 1 input token at the sim, 3 content events are 3 output tokens: 0.001 + 0.006 = $0.007 each.
        c.chat(2, "priced-model");
        c.chat(1); // unpriced: tokens but no cost
        SpendHistoryChart& history = c.window->spendPanel().history();
        QTRY_VERIFY(history.refreshes() >= 1); // the first report, asked for at start, has arrived
        const int before = history.refreshes();
        history.refresh(); // the query runs on a worker thread; the chart changes when it is back
        QTRY_VERIFY(history.refreshes() > before);
        QCOMPARE(history.bucketCount(), 60); // per minute over the last hour
        QVERIFY2(std::abs(history.shownUsd() - 0.014) < 1e-9, std::to_string(history.shownUsd()).c_str());
        QTRY_COMPARE(c.find<QLabel>("headlineSpend")->text(), QString("$0.0140 + unpriced"));

        const QString path = c.dir.path() + "/export.csv";
        QVERIFY(c.window->exportAttempts(path));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(file.readAll()).split("\r\n", Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 4); // the header and three attempts
        QVERIFY(lines[0].startsWith("time,request_id,route,provider,model,outcome"));
        QCOMPARE(lines.filter(",priced-model,success,").size(), 2);
    }

    void pollingNeverExceedsTenHertz() {
        Console c;
        QVERIFY(c.start());
        c.bridge->setPollInterval(5);
        QCOMPARE(c.bridge->pollInterval(), 100);
        QSignalSpy spy(c.bridge.get(), &EngineBridge::snapshotUpdated);
        c.chat(20); // many requests, no signal per request
        QTest::qWait(1000);
        QVERIFY2(spy.count() <= 12, qPrintable(QString::number(spy.count())));
    }
    void layoutIsKeptBetweenRuns() {
        Console c;
        QVERIFY(c.start());
        c.window->resize(1111, 777);
        c.window->close(); // saves
        EngineBridge bridge(*c.engine);
        MainWindow again(bridge);
        // The offscreen platform may add a few pixels of frame on the way back; the layout is what matters.
        QCOMPARE(again.width(), 1111);
        QVERIFY2(std::abs(again.height() - 777) <= 8, qPrintable(QString::number(again.height())));
        QSettings().clear();
    }

    void overallStateAndTrayColourFollowWhatClientsGet() {
        Console c;
        QVERIFY(c.start());
        auto* overall = c.find<QLabel>("overallState");
        c.bridge->forceOpen("p1", "");
        QTRY_COMPARE(overall->text(), QString("degraded")); // p2 still answers the route
        QCOMPARE(overall->property("stateColor").toString(), QColor(0xe0, 0xa1, 0x00).name());
        c.bridge->forceOpen("p2", "");
        QTRY_COMPARE(overall->text(), QString("down"));
        QCOMPARE(overall->property("stateColor").toString(), QColor(0xd3, 0x2f, 0x2f).name());
        QVERIFY2(c.find<QLabel>("overallDetail")->toolTip().startsWith("route default down"),
                 qPrintable(c.find<QLabel>("overallDetail")->toolTip()));
    }
};

QTEST_MAIN(MainWindowTest)
#include "test_main_window.moc"
