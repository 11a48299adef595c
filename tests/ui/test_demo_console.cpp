// --demo in the console: the synthetic agent load moves the board, and the Drill menu reaches the simulated
// providers through Engine::drill.
#include "ConfirmDialog.h"
#include "Engine.h"
#include "EngineBridge.h"
#include "EventLogModel.h"
#include "MainWindow.h"
#include "config/ConfigLoader.h"
#include "sim/DemoLoad.h"
#include "sim/DemoProviders.h"

#include <QAction>
#include <QLabel>
#include <QMenu>
#include <QStandardPaths>
#include <QtTest>

using namespace fusebox;

class DemoConsoleTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void loadAndDrills() {
        QTemporaryDir data; // the journal of this test alone
        auto loaded = parseConfig(R"({"listen": "127.0.0.1:0", "data_dir": ")" + data.path().toStdString() + R"("})",
                                  "demo.json");
        QVERIFY(loaded.ok());
        auto demo = std::make_unique<sim::DemoProviders>();
        std::string error;
        QVERIFY2(demo->start(error), error.c_str());
        demo->addTo(*loaded.config);
        Engine engine(std::move(*loaded.config));
        engine.adoptDemo(std::move(demo));
        QVERIFY2(engine.start(error), error.c_str());
        EngineBridge bridge(engine);
        MainWindow window(bridge);
        window.show();

        sim::DemoLoad::Options options;
        options.port = static_cast<uint16_t>(QUrl(QString::fromStdString(engine.listenUrl())).port());
        options.requestsPerSecond = 20;
        sim::DemoLoad load(options);
        load.start();
        QTRY_VERIFY_WITH_TIMEOUT(load.succeeded() >= 5, 10000);
        QTRY_VERIFY(window.card("sim-primary")->findChild<QLabel*>("count_success")->text().toInt() >= 5);

        // The Drill menu offers the five drills per simulated provider; an outage opens sim-primary's breaker.
        auto* outage = window.findChild<QAction*>("drill_sim-primary_outage");
        QVERIFY(outage);
        QVERIFY(window.findChild<QAction*>("drill_sim-backup_clear"));
        QVERIFY(outage->isCheckable() && !outage->isChecked());
        QVERIFY(window.findChild<QAction*>("drill_sim-primary_clear")->isChecked());
        outage->trigger();
        // The menu shows the drill that runs, per provider.
        QVERIFY(outage->isChecked());
        QVERIFY(!window.findChild<QAction*>("drill_sim-primary_clear")->isChecked());
        QVERIFY(window.findChild<QAction*>("drill_sim-backup_clear")->isChecked());
        QTRY_VERIFY(window.eventLog().rowCount() >= 1);
        QVERIFY(engine.demo()->find("sim-primary")->fault().has_value());
        QTRY_COMPARE_WITH_TIMEOUT(window.card("sim-primary")->findChild<QLabel*>("stateLabel")->text(), QString("open"),
                                  15000);
        window.runDrill("sim-primary", "clear");
        QVERIFY(!engine.demo()->find("sim-primary")->fault().has_value());
        QVERIFY(!outage->isChecked());
        QVERIFY(window.findChild<QAction*>("drill_sim-primary_clear")->isChecked());

        const uint64_t sent = load.sent();
        load.stop();
        QVERIFY(sent > 0);
        QTest::qWait(300);
        QCOMPARE(load.sent(), sent); // stopped: nothing more is sent
        engine.stop(Millis{0});
    }
};

QTEST_MAIN(DemoConsoleTest)
#include "test_demo_console.moc"
