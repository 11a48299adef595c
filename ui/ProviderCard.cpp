#include "ProviderCard.h"

#include "FleetOriginLabel.h"

#include "Format.h"
#include "ProviderBadge.h"

#include <QAction>
#include <QContextMenuEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

using fusebox::Outcome;

namespace {

// The window counts shown on the card, in this order; "failure" and "slow" are the breaker's own tallies.
const char* const kCountNames[] = {"success", "failure", "slow", "rate_limited", "short_circuited", "client_error"};

const char* const kCardStyle = "ProviderCard:focus { border: 3px solid #0d47a1; border-radius: 4px; }";
const char* const kSelectedStyle = "ProviderCard { border: 2px solid #1565c0; border-radius: 4px; }"
                                   "ProviderCard:focus { border: 3px solid #0d47a1; border-radius: 4px; }";

QPushButton* buttonFor(QAction* action, const QString& name, QWidget* parent) {
    auto* button = new QPushButton(action->text().remove('&'), parent);
    button->setObjectName(name);
    button->setToolTip(action->toolTip() + "  (" + action->shortcut().toString(QKeySequence::NativeText) + ")");
    // In the Tab order: every action of the card is reachable from the keyboard (its shortcut also works).
    button->setFocusPolicy(Qt::StrongFocus);
    QObject::connect(button, &QPushButton::clicked, action, &QAction::trigger);
    return button;
}

} // namespace

ProviderCard::ProviderCard(const QString& providerId, QWidget* parent) : QFrame(parent), m_id(providerId) {
    setObjectName("providerCard_" + providerId);
    setFrameShape(QFrame::StyledPanel);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumWidth(330);
    // The focus is always visible: a focused card has a thick outline (a selected one a thin one).
    setStyleSheet(kCardStyle);
    auto* layout = new QVBoxLayout(this);

    auto* header = new QHBoxLayout;
    auto* name = new QLabel("<b>" + providerId.toHtmlEscaped() + "</b>", this);
    name->setObjectName("providerName");
    m_state = new QLabel(this);
    m_state->setObjectName("stateLabel");
    m_state->setAlignment(Qt::AlignCenter);
    m_state->setMinimumWidth(96);
    m_manual = new QLabel("manual", this);
    m_manual->setObjectName("manualMark");
    m_manual->setStyleSheet("QLabel { border: 1px solid #888; border-radius: 3px; padding: 0 4px; color: #555; }");
    header->addWidget(name);
    header->addStretch(1);
    header->addWidget(m_manual);
    header->addWidget(m_state);
    layout->addLayout(header);

    m_noKey = new QLabel(this);
    m_noKey->setObjectName("noKeyLabel");
    m_noKey->setStyleSheet("QLabel { color: #b71c1c; font-weight: bold; }");
    layout->addWidget(m_noKey);
    m_reason = new QLabel(this);
    m_reason->setObjectName("reasonLabel");
    m_reason->setWordWrap(true);
    m_reason->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_reason);
    m_origin = new FleetOriginLabel(this);
    layout->addWidget(m_origin);

    auto* grid = new QGridLayout;
    m_countdown = addValue(grid, 0, 0, "next probe", "countdownLabel");
    m_countdownCaption = qobject_cast<QLabel*>(grid->itemAtPosition(0, 0)->widget());
    m_inFlight = addValue(grid, 0, 2, "in flight", "inFlightLabel");
    m_rps = addValue(grid, 1, 0, "requests", "rpsLabel");
    m_errors = addValue(grid, 1, 2, "errors (60 s)", "errorRateLabel");
    m_latency = addValue(grid, 2, 0, "p50 / p95 / p99 (60 s)", "latencyLabel");
    grid->addWidget(m_latency, 2, 1, 1, 3);
    layout->addLayout(grid);

    auto* counts = new QGridLayout;
    int i = 0;
    for (const char* countName : kCountNames) {
        auto* caption = new QLabel(console::outcomeName(countName), this);
        caption->setStyleSheet("QLabel { color: #666; font-size: 8pt; }");
        auto* value = new QLabel("0", this);
        value->setObjectName(QString("count_") + countName);
        counts->addWidget(caption, 0, i);
        counts->addWidget(value, 1, i);
        m_counts.insert(countName, value);
        ++i;
    }
    layout->addLayout(counts);

    const auto makeAction = [this](const QString& text, const QString& tip, const QKeySequence& key, Action which) {
        auto* action = new QAction(text, this);
        action->setToolTip(tip);
        action->setShortcut(key);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut); // acts on the focused card only
        connect(action, &QAction::triggered, this, [this, which] { emit actionRequested(m_id, which); });
        addAction(action);
        return action;
    };
    m_forceOpen = makeAction("Force &open", "Refuse every call to " + m_id + " until released",
                             QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), Action::ForceOpen);
    m_forceClose = makeAction("Force &close", "Admit every call to " + m_id + " whatever the breaker says",
                              QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), Action::ForceClose);
    m_reset = makeAction("&Reset", "Back to closed with a cleared window and backoff",
                         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R), Action::Reset);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(buttonFor(m_forceOpen, "forceOpenButton", this));
    buttons->addWidget(buttonFor(m_forceClose, "forceCloseButton", this));
    buttons->addWidget(buttonFor(m_reset, "resetButton", this));
    layout->addLayout(buttons);
}

QLabel* ProviderCard::addValue(QGridLayout* grid, int row, int column, const QString& caption, const QString& name) {
    auto* label = new QLabel(caption, this);
    label->setStyleSheet("QLabel { color: #666; }");
    auto* value = new QLabel(this);
    value->setObjectName(name);
    grid->addWidget(label, row, column);
    grid->addWidget(value, row, column + 1);
    return value;
}

QAction* ProviderCard::action(Action which) const {
    switch (which) {
    case Action::ForceOpen: return m_forceOpen;
    case Action::ForceClose: return m_forceClose;
    case Action::Reset: return m_reset;
    }
    return nullptr;
}

void ProviderCard::setDrills(const QStringList& kinds) { m_drills = kinds; }

void ProviderCard::setSelected(bool selected) {
    if (m_selected == selected) return;
    m_selected = selected;
    setStyleSheet(selected ? kSelectedStyle : kCardStyle);
}

void ProviderCard::show(const fusebox::ProviderSnapshot& p) {
    const auto& b = p.breaker;
    // The badge says what clients get: no key, failing every call, a 429's pause (rate limited) or the state.
    const ProviderBadge badge = providerBadge(p);
    const bool rateLimited = console::isRateLimitOpen(b);
    m_state->setText(badge.text);
    m_state->setToolTip(badge.tooltip);
    m_state->setProperty("stateColor", badge.colour.name());
    m_state->setStyleSheet(QString("QLabel { background: %1; color: white; font-weight: bold; border-radius: 4px; "
                                   "padding: 2px 8px; }").arg(badge.colour.name()));
    m_countdownCaption->setText(rateLimited ? QStringLiteral("retry after") : QStringLiteral("next probe"));
    m_manual->setVisible(console::isManual(b.state));
    m_noKey->setVisible(!p.hasKey);
    m_noKey->setText("no key: " + QString::fromStdString(p.keyHint));
    m_reason->setText(QString::fromStdString(b.reason));
    m_reason->setToolTip("since " + console::dateTime(b.since));
    m_origin->showOrigin(b);
    // Only a refusing breaker has a next probe; forced_open has none (it waits for an operator).
    const bool refusing = b.state == fusebox::BreakerState::Open || b.state == fusebox::BreakerState::HalfOpen;
    m_countdown->setText(refusing ? console::countdown(b.retryAfterS) : QStringLiteral("—"));
    m_countdown->setProperty("seconds", refusing && b.retryAfterS ? QVariant(*b.retryAfterS) : QVariant());
    m_inFlight->setText(QString::number(b.inFlight));
    m_rps->setText(console::rate(p.figures.requestsPerSecond));
    m_errors->setText(console::percent(p.figures.errorRate));
    const auto& f = p.figures;
    m_latency->setText(f.recentLatencySamples == 0 ? QStringLiteral("— (no calls)")
                                            : console::millis(f.p50Ms) + " / " + console::millis(f.p95Ms) + " / " +
                                                  console::millis(f.p99Ms));
    const auto& w = b.window;
    m_counts["success"]->setText(QString::number(w.count(Outcome::Success)));
    m_counts["failure"]->setText(QString::number(w.failures));
    m_counts["slow"]->setText(QString::number(w.slow));
    m_counts["rate_limited"]->setText(QString::number(w.count(Outcome::RateLimited)));
    m_counts["short_circuited"]->setText(QString::number(w.count(Outcome::ShortCircuited)));
    m_counts["client_error"]->setText(QString::number(w.count(Outcome::ClientError)));
}

void ProviderCard::contextMenuEvent(QContextMenuEvent* event) {
    QMenu menu(this);
    menu.addAction(m_forceOpen);
    menu.addAction(m_forceClose);
    menu.addAction(m_reset);
    if (!m_drills.isEmpty()) {
        QMenu* drills = menu.addMenu("Drill");
        for (const QString& kind : m_drills)
            drills->addAction(console::drillName(kind), this, [this, kind] { emit drillRequested(m_id, kind); });
    }
    menu.exec(event->globalPos());
}

void ProviderCard::mousePressEvent(QMouseEvent* event) {
    setFocus(Qt::MouseFocusReason);
    QFrame::mousePressEvent(event);
}

void ProviderCard::focusInEvent(QFocusEvent* event) {
    emit selected(m_id);
    QFrame::focusInEvent(event);
}
