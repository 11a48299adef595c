// The console in an incident (issue 13): it never lies (route health, no-key badge, errors' time base), never hides
// (the applied route order, THIS change in the status line, reset clearing the window everywhere), and never loses
// the proxy (closing the window keeps serving; quitting asks when agents are using the port).
#include "ConfirmDialog.h"
#include "ConsoleRig.h"
#include "ProviderCard.h"
#include "RoutesPanel.h"
#include "StartupProblemDialog.h"
#include "TrayKeeper.h"
#include "WelcomePanel.h"
#include "config/ConfigError.h"

#include <QAction>
#include <QItemSelectionModel>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QtTest>

#include <thread>

#include <nlohmann/json.hpp>

using namespace fusebox;
using fusebox::test::Console;

namespace {

QStringList providersIn(QListWidget* list) {
    QStringList out;
    for (int i = 0; i < list->count(); ++i) out << list->item(i)->data(Qt::UserRole).toString();
    return out;
}

QStringList engineOrder(Console& c) {
    QStringList out;
    const EngineSnapshot snapshot = c.engine->snapshot();
    for (const auto& t : snapshot.routes.front().targets) out << QString::fromStdString(t.provider);
    return out;
}

} // namespace

class ConsoleTruthTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("FuseboxTest");
        qunsetenv("FUSEBOX_UI_TEST_UNSET_KEY");
    }
    void cleanup() {
        ConfirmDialog::clearNextAnswer();
        TrayKeeper::setTrayAvailableForTests(std::nullopt);
        TrayKeeper::setNextQuitAnswer(std::nullopt);
        RoutesPanel::setUndoWindowMs(10'000);
        QSettings().clear();
    }

    void routeListShowsTheAppliedOrderAfterEachMove() {
        Console c;
        QVERIFY(c.start());
        auto* list = c.find<QListWidget>("routeList_default");
        auto* message = c.find<QLabel>("statusMessage");
        list->setCurrentRow(0);
        QTest::mouseClick(c.find<QPushButton>("moveDown_default"), Qt::LeftButton);
        QCOMPARE(engineOrder(c), QStringList({"p2", "p1"}));
        QCOMPARE(providersIn(list), engineOrder(c));
        // The moved target stays the one selected, once: no second highlighted row.
        QCOMPARE(list->selectionModel()->selectedRows().size(), 1);
        QCOMPARE(list->currentItem()->data(Qt::UserRole).toString(), QString("p1"));
        QCOMPARE(list->currentRow(), 1);
        // The status line reports THIS change.
        QCOMPARE(message->text(), QString("Route default reordered: p2 → p1 (was p1 → p2)"));

        c.window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(c.window.get()));
        list->setFocus();
        QTest::keyClick(list, Qt::Key_Up, Qt::ControlModifier); // p1 back up
        QCOMPARE(engineOrder(c), QStringList({"p1", "p2"}));
        QCOMPARE(providersIn(list), engineOrder(c));
        QCOMPARE(list->selectionModel()->selectedRows().size(), 1);
        QCOMPARE(list->currentItem()->data(Qt::UserRole).toString(), QString("p1"));
        QCOMPARE(message->text(), QString("Route default reordered: p1 → p2 (was p2 → p1)"));
        QTest::keyClick(list, Qt::Key_Up, Qt::ControlModifier); // already first: nothing changes
        QCOMPARE(engineOrder(c), QStringList({"p1", "p2"}));

        // Someone else changes the route (the admin API): the list follows the engine.
        QVERIFY(c.engine->setRoute("default", {{"p2", ""}, {"p1", ""}}).ok);
        QTRY_COMPARE(providersIn(list), QStringList({"p2", "p1"}));
        QCOMPARE(list->count(), 2);
    }

    void aReorderCanBeUndoneForAFewSeconds() {
        Console c;
        QVERIFY(c.start());
        auto* list = c.find<QListWidget>("routeList_default");
        auto* undo = c.window->routesPanel().undoButtonFor("default");
        QVERIFY(undo);
        QVERIFY(!undo->isVisibleTo(c.window.get()));
        list->setCurrentRow(0);
        c.window->routesPanel().moveSelected("default", +1);
        QCOMPARE(engineOrder(c), QStringList({"p2", "p1"}));
        QVERIFY(undo->isVisibleTo(c.window.get()));
        QTest::mouseClick(undo, Qt::LeftButton);
        QCOMPARE(engineOrder(c), QStringList({"p1", "p2"}));
        QCOMPARE(providersIn(list), engineOrder(c));
        QVERIFY(!undo->isVisibleTo(c.window.get()));
        QCOMPARE(c.find<QLabel>("statusMessage")->text(), QString("Route default undone: p1 → p2 (was p2 → p1)"));
        QTRY_VERIFY(c.logHas("undone from the console"));

        // The offer lapses.
        RoutesPanel::setUndoWindowMs(200);
        list->setCurrentRow(0);
        c.window->routesPanel().moveSelected("default", +1);
        QVERIFY(undo->isVisibleTo(c.window.get()));
        QTRY_VERIFY(!undo->isVisibleTo(c.window.get()));
        QVERIFY(!c.window->routesPanel().undo("default"));
        QCOMPARE(engineOrder(c), QStringList({"p2", "p1"}));

        // An undo never overwrites a change made elsewhere since.
        RoutesPanel::setUndoWindowMs(10'000);
        list->setCurrentRow(0);
        c.window->routesPanel().moveSelected("default", +1); // p1, p2
        QVERIFY(c.engine->setRoute("default", {{"p2", ""}, {"p1", ""}}).ok);
        QVERIFY(!c.window->routesPanel().undo("default"));
        QCOMPARE(engineOrder(c), QStringList({"p2", "p1"}));
        QVERIFY(c.find<QLabel>("statusMessage")->text().startsWith("Not undone"));
    }

    void everyTargetOpenMakesTheRouteAndTheHeaderDown() {
        Console c;
        QVERIFY(c.start());
        c.sim1.setFault(sim::Fault::httpError(503));
        c.sim2.setFault(sim::Fault::httpError(503));
        c.chat(2); // two failures each: both breakers open for 30 s
        QCOMPARE(c.state("p1"), BreakerState::Open);
        QCOMPARE(c.state("p2"), BreakerState::Open);
        auto* route = c.window->routesPanel().stateFor("default");
        QTRY_COMPARE(route->property("routeState").toString(), QString("down"));
        QVERIFY2(route->text().startsWith("down — no target can answer"), qPrintable(route->text()));
        QVERIFY2(route->text().contains("soonest retry in "), qPrintable(route->text()));
        QCOMPARE(c.find<QLabel>("overallState")->text(), QString("down"));
        QCOMPARE(c.find<QLabel>("overallState")->property("stateColor").toString(), QColor(0xd3, 0x2f, 0x2f).name());
        QVERIFY(c.find<QLabel>("overallDetail")->toolTip().startsWith("route default down (retry in "));
        auto* list = c.find<QListWidget>("routeList_default");
        QVERIFY2(list->item(0)->text().contains("open, retry in"), qPrintable(list->item(0)->text()));
        // The errors figure names its time base; every call of the last 60 s failed.
        QTRY_COMPARE(c.find<QLabel>("headlineErrors")->text(), QString("100 % (last 60 s)"));
        // The admin API says the same, as a new field.
        test::SimHttpClient client(c.port());
        const auto reply = client.get("/admin/v1/state");
        QCOMPARE(reply.status, 200);
        const auto state = nlohmann::json::parse(reply.body);
        QCOMPARE(state["routes"][0]["health"]["state"].get<std::string>(), std::string("down"));
        QCOMPARE(state["health"]["state"].get<std::string>(), std::string("down"));
        QVERIFY(state["routes"][0]["health"]["retry_after_s"].get<double>() > 20);
    }

    void aProviderWithoutKeyWearsItsOwnBadge() {
        Console c;
        QVERIFY(c.start());
        auto* badge = c.window->card("nokey")->findChild<QLabel*>("stateLabel");
        QTRY_COMPARE(badge->text(), QString("no key"));
        QVERIFY(badge->property("stateColor").toString() != QColor(0x2e, 0x9d, 0x4f).name()); // not "closed" green
        QVERIFY(badge->toolTip().contains("set FUSEBOX_UI_TEST_UNSET_KEY"));
        QCOMPARE(c.cardText("p1", "stateLabel"), QString("closed"));
        // Its route, alone: down, waiting for a key.
        QVERIFY(c.engine->setRoute("default", {{"nokey", "claude-x"}}).ok);
        QTRY_COMPARE(c.window->routesPanel().stateFor("default")->property("routeState").toString(), QString("down"));
        QVERIFY(c.window->routesPanel().stateFor("default")->text().contains("waits for an operator or a key"));
    }

    void resetClearsTheWindowEverywhere() {
        Console c;
        QVERIFY(c.start());
        c.sim1.setFault(sim::Fault::httpError(503));
        c.chat(2); // p1 opens
        c.chat(3); // three refusals of p1, answered by p2
        QTRY_COMPARE(c.cardText("p1", "count_short_circuited"), QString("3"));
        QTRY_COMPARE(c.cardText("p1", "count_failure"), QString("2"));
        ConfirmDialog::setNextAnswer(QString("incident over"));
        c.window->runIncidentAction("p1", ProviderCard::Action::Reset);
        QCOMPARE(c.state("p1"), BreakerState::Closed);
        QTRY_COMPARE(c.cardText("p1", "count_short_circuited"), QString("0"));
        QCOMPARE(c.cardText("p1", "count_failure"), QString("0"));
        const auto window = c.engine->snapshot().findProvider("p1")->breaker;
        QCOMPARE(window.window.count(Outcome::ShortCircuited), 0u);
        QCOMPARE(window.window.calls, 0u);
        QVERIFY(window.buckets.empty());
        test::SimHttpClient client(c.port());
        const auto state = nlohmann::json::parse(client.get("/admin/v1/state").body);
        QCOMPARE(state["providers"][0]["id"].get<std::string>(), std::string("p1"));
        QCOMPARE(state["providers"][0]["window"]["buckets"].size(), std::size_t{0});
    }

    void closingTheWindowKeepsTheProxyServing() {
        TrayKeeper::setTrayAvailableForTests(true);
        Console c;
        QVERIFY(c.start());
        QVERIFY(c.window->trayKeeper().hasTray());
        QSignalSpy quit(c.window.get(), &MainWindow::quitConfirmed);
        QSignalSpy lastClosed(qApp, &QGuiApplication::lastWindowClosed);
        c.chat(2); // agents are using it
        QVERIFY(c.window->close() == false); // the close was turned into a hide
        QVERIFY(!c.window->isVisible());
        QCOMPARE(quit.count(), 0);
        QCOMPARE(lastClosed.count(), 0);
        QCOMPARE(c.window->trayKeeper().noticesShown(), 1);
        QVERIFY(c.window->trayKeeper().lastNotice().contains(QString::fromStdString(c.engine->listenUrl())));
        // The port answers after the close: a real request through the proxy.
        test::SimHttpClient client(c.port());
        const auto answer = client.post("/v1/chat/completions", nlohmann::json{{"model", "default"},
                                        {"messages", {{{"role", "user"}, {"content", "hi"}}}}}.dump());
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.header("x-fusebox-provider"), std::string("p1"));
        // The notice is given once.
        c.window->show();
        c.window->close();
        QCOMPARE(c.window->trayKeeper().hides(), 2);
        QCOMPARE(c.window->trayKeeper().noticesShown(), 1);
        QVERIFY(!c.window->isVisible());

        // With the setting off, closing is quitting: it asks (agents were seen), and "Keep serving" keeps the window.
        c.window->show();
        c.find<QAction>("hideToTrayAction")->setChecked(false);
        QCOMPARE(QSettings().value("console/hideToTray").toBool(), false);
        TrayKeeper::setNextQuitAnswer(false);
        QVERIFY(!c.window->close());
        QVERIFY(c.window->isVisible());
        QCOMPARE(quit.count(), 0);
        QVERIFY(TrayKeeper::lastQuitQuestion().contains("in the last minute"));
    }

    void quitAsksWhileAgentsAreUsingThePortNamingHowMany() {
        Console c;
        QVERIFY(c.start());
        QSignalSpy quit(c.window.get(), &MainWindow::quitConfirmed);
        // Nobody used it: no question.
        c.window->quit();
        QCOMPARE(quit.count(), 1);
        QVERIFY(TrayKeeper::lastQuitQuestion().isEmpty());

        c.chat(3);
        // The exchanges end a moment after their answers were read.
        QTRY_COMPARE(c.engine->snapshot().agentRequestsInFlight, int64_t{0});
        TrayKeeper::setNextQuitAnswer(false);
        c.find<QAction>("quitAction")->trigger(); // Ctrl+Q, the File menu and the tray menu's Quit
        QCOMPARE(quit.count(), 1);
        QVERIFY2(TrayKeeper::lastQuitQuestion().contains("Agents are using Fusebox: 3 requests in the last minute."),
                 qPrintable(TrayKeeper::lastQuitQuestion()));
        QVERIFY(TrayKeeper::lastQuitQuestion().contains(QString::fromStdString(c.engine->listenUrl())));
        TrayKeeper::setNextQuitAnswer(true);
        c.window->quit();
        QCOMPARE(quit.count(), 2);
        // A request in flight (its provider hangs) is named too.
        c.sim1.setFault(sim::Fault::hang());
        std::thread agent([port = c.port()] {
            test::SimHttpClient client(port, std::chrono::milliseconds(1500));
            client.post("/v1/chat/completions", nlohmann::json{{"model", "default"},
                         {"messages", {{{"role", "user"}, {"content", "hi"}}}}}.dump());
        });
        QTRY_COMPARE(c.engine->snapshot().agentRequestsInFlight, int64_t{1});
        TrayKeeper::setNextQuitAnswer(false);
        c.window->quit();
        const QString question = TrayKeeper::lastQuitQuestion();
        agent.join(); // the client gives up after 1.5 s, which cancels the upstream call
        c.sim1.clearFault();
        QVERIFY2(question.contains("1 request in flight, 4 requests in the last minute"), qPrintable(question));
        QCOMPARE(quit.count(), 2);
        QTRY_COMPARE(c.engine->snapshot().agentRequestsInFlight, int64_t{0});
        QCOMPARE(TrayKeeper::quitQuestion("http://x:1", 1, 0),
                 QString("Agents are using Fusebox: 1 request in flight.\n\nOnce it stops, they get \"connection "
                         "refused\" at http://x:1 until it runs again. Quit anyway?"));

        // No tray on this desktop: closing the window is quitting, with the same question.
        TrayKeeper::setTrayAvailableForTests(false);
        MainWindow second(*c.bridge);
        QSignalSpy quitSecond(&second, &MainWindow::quitConfirmed);
        second.show();
        TrayKeeper::setNextQuitAnswer(false);
        QVERIFY(!second.close());
        QVERIFY(second.isVisible());
        QCOMPARE(quitSecond.count(), 0);
        TrayKeeper::setNextQuitAnswer(true);
        QVERIFY(second.close());
        QCOMPARE(quitSecond.count(), 1);
    }

    void welcomePanelWhenNoProviderCanBeUsed() {
        Console c;
        QVERIFY(c.start());
        auto& welcome = c.window->welcomePanel();
        QVERIFY(!welcome.isVisibleTo(c.window.get())); // p1 and p2 have keys
        EngineSnapshot none = c.engine->snapshot();
        for (auto& p : none.providers) p.hasKey = false;
        QVERIFY(WelcomePanel::noProviderUsable(none));
        welcome.show(none);
        QVERIFY(welcome.isVisibleTo(c.window.get()));
        const QString config = welcome.findChild<QLabel*>("welcomeConfig")->text();
        QVERIFY2(config.contains(QString::fromStdString(c.configPath)), qPrintable(config));
        const QString agents = welcome.findChild<QLabel*>("welcomeAgents")->text();
        const QString url = QString::fromStdString(c.engine->listenUrl());
        QVERIFY2(agents.contains("OPENAI_BASE_URL=" + url + "/v1") && agents.contains("ANTHROPIC_BASE_URL=" + url),
                 qPrintable(agents));
        QVERIFY(welcome.folderUrl().endsWith(c.dir.path()));
        QTest::mouseClick(welcome.findChild<QPushButton*>("welcomeDismiss"), Qt::LeftButton);
        QVERIFY(!welcome.isVisibleTo(c.window.get()));
    }

    void startupProblemDialogNamesFileLineAndKey() {
        QTemporaryDir dir;
        const std::string bad = test::writeTempFile(dir, "bad.json", "{\n  \"breaker\": { \"open_s\": \"30\" }\n}\n");
        const auto loaded = loadConfigFile(bad);
        QVERIFY(!loaded.ok());
        StartupProblemDialog dialog(StartupProblemDialog::Problem::Config, QString::fromStdString(formatErrors(loaded.errors)),
                                    QString::fromStdString(bad));
        QVERIFY2(dialog.problemText().contains("bad.json:2:16: breaker.open_s: must be a number"),
                 qPrintable(dialog.problemText()));
        QVERIFY(dialog.wayOutText().contains("Retry"));
        QVERIFY(dialog.findChild<QPushButton*>("startupRetry"));
        StartupProblemDialog busy(StartupProblemDialog::Problem::Listen, "cannot listen on 127.0.0.1:4747: Address in use",
                                  QString::fromStdString(bad));
        QVERIFY(busy.wayOutText().contains("\"listen\""));
    }
};

QTEST_MAIN(ConsoleTruthTest)
#include "test_console_truth.moc"
