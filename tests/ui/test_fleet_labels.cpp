// The console's fleet labels (CONTRACT §5 "What you can see"): the header's "3 replicas · Redis connected",
// amber while degraded, hidden without a fleet; a card's "tripped by replica X".
#include "FleetOriginLabel.h"
#include "FleetStatusLabel.h"

#include <QtTest>

using namespace fusebox;

class FleetLabelsTest : public QObject {
    Q_OBJECT
private slots:
    void headerShowsReplicasAndRedis() {
        FleetStatusLabel label;
        FleetStatus fleet;
        label.showFleet(fleet);
        QVERIFY(label.isHidden()); // no redis.url: nothing to show

        fleet.enabled = true;
        fleet.redis = RedisLink::Connected;
        fleet.replica = "api-1";
        fleet.replicas = {{"api-1", "http://a:1", "0.1.0", 0.2}, {"api-2", "http://b:1", "0.1.0", 1.0},
                          {"api-3", "http://c:1", "0.1.0", 2.5}};
        label.showFleet(fleet);
        QVERIFY(!label.isHidden());
        QCOMPARE(label.text(), QString::fromUtf8("3 replicas · Redis connected"));
        QCOMPARE(label.property("degraded").toBool(), false);
        QVERIFY(label.toolTip().contains("api-2"));

        fleet.redis = RedisLink::Degraded;
        fleet.replicas.clear();
        label.showFleet(fleet);
        QCOMPARE(label.text(), QString::fromUtf8("replica api-1 · Redis degraded"));
        QCOMPARE(label.property("degraded").toBool(), true);
        QVERIFY(label.styleSheet().contains("#e65100")); // amber
    }

    void cardSaysWhichReplicaTrippedIt() {
        FleetOriginLabel label;
        BreakerSnapshot b;
        b.state = BreakerState::Open;
        label.showOrigin(b);
        QVERIFY(label.isHidden()); // decided here
        b.originReplica = "api-2";
        label.showOrigin(b);
        QVERIFY(!label.isHidden());
        QCOMPARE(label.text(), QString("tripped by replica api-2"));
        b.state = BreakerState::ForcedOpen;
        label.showOrigin(b);
        QCOMPARE(label.text(), QString("set by an operator on replica api-2"));
    }
};

QTEST_MAIN(FleetLabelsTest)
#include "test_fleet_labels.moc"
