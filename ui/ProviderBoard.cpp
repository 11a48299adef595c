#include "ProviderBoard.h"

#include "CardFlowLayout.h"
#include "ProviderCard.h"

#include <QApplication>
#include <QEvent>
#include <QScrollBar>
#include <QSplitter>
#include <QTimer>

namespace {
// The panes below the cards (routes, events, charts) keep at least this share of the board's height.
constexpr double kLowerShare = 0.4;
} // namespace

ProviderBoard::ProviderBoard(QWidget* parent)
    : QScrollArea(parent), m_container(new QWidget(this)), m_layout(new CardFlowLayout(m_container)) {
    setObjectName("providerBoardScroll");
    m_container->setObjectName("providerBoard");
    setWidget(m_container);
    setWidgetResizable(true);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff); // the cards flow to the width instead
    setFocusPolicy(Qt::NoFocus); // the cards and their buttons are the tab stops, not their frame
    setMinimumHeight(120);
    m_container->installEventFilter(this);
    connect(qApp, &QApplication::focusChanged, this, &ProviderBoard::onFocusChanged);
}

int ProviderBoard::heightForAllCards() const {
    const int width = viewport()->width() > 0 ? viewport()->width() : this->width();
    return m_layout->heightForWidth(width) + 2 * frameWidth();
}

void ProviderBoard::fitSplitter() {
    if (m_splitter == nullptr) {
        m_splitter = qobject_cast<QSplitter*>(parentWidget());
        if (m_splitter == nullptr) return;
        m_splitter->installEventFilter(this);
        connect(m_splitter, &QSplitter::splitterMoved, this, [this] {
            if (!m_fitting) m_userSized = true;
        });
    }
    if (m_userSized || m_layout->count() == 0) return;
    const int index = m_splitter->indexOf(this);
    QList<int> sizes = m_splitter->sizes();
    if (index != 0 || sizes.size() < 2) return;
    const int total = sizes[0] + sizes[1];
    if (total <= 0) return;
    const int wanted = std::min(heightForAllCards(), static_cast<int>(total * (1.0 - kLowerShare)));
    const int top = std::max(wanted, minimumHeight());
    if (std::abs(sizes[0] - top) <= 1) return;
    m_fitting = true;
    m_splitter->setSizes({top, total - top});
    m_fitting = false;
}

bool ProviderBoard::eventFilter(QObject* watched, QEvent* event) {
    // A new width may change the columns, a new card the rows: fit again once the layout has settled.
    if ((watched == m_splitter && event->type() == QEvent::Resize) ||
        (watched == m_container && event->type() == QEvent::LayoutRequest))
        QTimer::singleShot(0, this, &ProviderBoard::fitSplitter);
    return QScrollArea::eventFilter(watched, event);
}

void ProviderBoard::onFocusChanged(QWidget*, QWidget* now) {
    for (QWidget* w = now; w != nullptr; w = w->parentWidget()) {
        if (auto* card = qobject_cast<ProviderCard*>(w)) {
            if (card->parentWidget() == m_container) ensureWidgetVisible(card, 0, 4);
            return;
        }
    }
}
