// The console window against a real engine, offscreen.
#include "Engine.h"
#include "EngineBridge.h"
#include "MainWindow.h"
#include "config/ConfigLoader.h"

#include <QTableWidget>
#include <QtTest>

using namespace fusebox;

class MainWindowTest : public QObject {
    Q_OBJECT
private slots:
    void showsProvidersAndTheirStates() {
        auto loaded = parseConfig(R"({"providers": [{"id": "p1", "kind": "openai", "base_url": "http:\/\/127.0.0.1:9", "api_key": "k"}]})", "t.json");
        QVERIFY(loaded.ok());
        Engine engine(*loaded.config);
        EngineBridge bridge(engine);
        MainWindow window(bridge);
        window.show();
        QCOMPARE(window.windowTitle(), QString("Fusebox"));
        auto* table = window.findChild<QTableWidget*>("providerTable");
        QVERIFY(table);
        QCOMPARE(table->rowCount(), 1);
        QCOMPARE(table->item(0, 2)->text(), QString("closed"));
        bridge.forceOpen("p1", "drill");
        QTRY_COMPARE(table->item(0, 2)->text(), QString("forced_open"));
    }
};

QTEST_MAIN(MainWindowTest)
#include "test_main_window.moc"
