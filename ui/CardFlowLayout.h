#pragma once
// The board's cards in as many columns as the width holds (each at least its minimum width), rows as tall as
// their tallest card, cards of a row stretched to share the width evenly. Height follows width
// (heightForWidth), so a scroll area around it shows every card whole and scrolls only when rows do not fit.
#include <QLayout>
#include <QList>

class CardFlowLayout : public QLayout {
public:
    explicit CardFlowLayout(QWidget* parent = nullptr, int spacing = 8);
    ~CardFlowLayout() override;

    void addItem(QLayoutItem* item) override;
    int count() const override { return static_cast<int>(m_items.size()); }
    QLayoutItem* itemAt(int index) const override;
    QLayoutItem* takeAt(int index) override;
    Qt::Orientations expandingDirections() const override { return Qt::Horizontal; }
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize minimumSize() const override;
    QSize sizeHint() const override;
    void setGeometry(const QRect& rect) override;

    // How many cards a row holds at `width` (the layout's own width, margins included).
    int columnsFor(int width) const;

private:
    int arrange(const QRect& rect, bool apply) const; // returns the height used
    int cardMinimumWidth() const;

    QList<QLayoutItem*> m_items;
};
