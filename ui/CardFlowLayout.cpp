#include "CardFlowLayout.h"

#include <QWidget>

#include <algorithm>

CardFlowLayout::CardFlowLayout(QWidget* parent, int spacing) : QLayout(parent) { setSpacing(spacing); }

CardFlowLayout::~CardFlowLayout() {
    while (QLayoutItem* item = takeAt(0)) delete item;
}

void CardFlowLayout::addItem(QLayoutItem* item) { m_items << item; }

QLayoutItem* CardFlowLayout::itemAt(int index) const {
    return index >= 0 && index < m_items.size() ? m_items[index] : nullptr;
}

QLayoutItem* CardFlowLayout::takeAt(int index) {
    if (index < 0 || index >= m_items.size()) return nullptr;
    QLayoutItem* item = m_items.takeAt(index);
    invalidate();
    return item;
}

int CardFlowLayout::cardMinimumWidth() const {
    int widest = 0;
    for (auto* item : m_items) widest = std::max(widest, std::max(item->minimumSize().width(), 1));
    return std::max(widest, 1);
}

int CardFlowLayout::columnsFor(int width) const {
    const QMargins m = contentsMargins();
    const int inner = width - m.left() - m.right();
    const int columns = (inner + spacing()) / (cardMinimumWidth() + spacing());
    return std::clamp(columns, 1, std::max(1, static_cast<int>(m_items.size())));
}

int CardFlowLayout::arrange(const QRect& rect, bool apply) const {
    const QMargins m = contentsMargins();
    const QRect area = rect.marginsRemoved(m);
    const int columns = columnsFor(rect.width());
    const int gap = spacing();
    const int cardWidth = std::max(cardMinimumWidth(), (area.width() - gap * (columns - 1)) / columns);
    int y = area.top();
    for (int first = 0; first < m_items.size(); first += columns) {
        const int last = std::min(static_cast<int>(m_items.size()), first + columns);
        int rowHeight = 0;
        for (int i = first; i < last; ++i) {
            QLayoutItem* item = m_items[i];
            const int h = item->hasHeightForWidth() ? item->heightForWidth(cardWidth) : item->sizeHint().height();
            rowHeight = std::max({rowHeight, h, item->minimumSize().height()});
        }
        if (apply)
            for (int i = first; i < last; ++i)
                m_items[i]->setGeometry(QRect(area.left() + (i - first) * (cardWidth + gap), y, cardWidth, rowHeight));
        y += rowHeight + gap;
    }
    if (!m_items.isEmpty()) y -= gap;
    return y - rect.top() + m.bottom();
}

int CardFlowLayout::heightForWidth(int width) const { return arrange(QRect(0, 0, width, 0), false); }

QSize CardFlowLayout::minimumSize() const {
    const QMargins m = contentsMargins();
    // One column: the narrowest the board can be. Its height is given by heightForWidth.
    return QSize(cardMinimumWidth() + m.left() + m.right(), m.top() + m.bottom());
}

QSize CardFlowLayout::sizeHint() const {
    const QMargins m = contentsMargins();
    const int columns = std::max(1, std::min(3, static_cast<int>(m_items.size())));
    const int width = columns * cardMinimumWidth() + (columns - 1) * spacing() + m.left() + m.right();
    return QSize(width, heightForWidth(width));
}

void CardFlowLayout::setGeometry(const QRect& rect) {
    QLayout::setGeometry(rect);
    arrange(rect, true);
}
