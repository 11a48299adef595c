#pragma once
// The cards of the board in a scroll area: they flow to the width (CardFlowLayout), a card that takes the focus
// (by Tab, a shortcut or a click, or any of its buttons) is scrolled into view, and the pane asks its splitter for
// the height that shows every card whole, as long as that leaves the panes below room to be read.
#include <QScrollArea>

class CardFlowLayout;
class QSplitter;

class ProviderBoard : public QScrollArea {
    Q_OBJECT
public:
    explicit ProviderBoard(QWidget* parent = nullptr);
    CardFlowLayout& cards() { return *m_layout; }
    QWidget* container() const { return m_container; }
    // The height that shows every card without scrolling at the current width.
    int heightForAllCards() const;
    // Sizes the enclosing splitter's pane to heightForAllCards (within limits), unless the user moved the splitter.
    void fitSplitter();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void onFocusChanged(QWidget* old, QWidget* now);

    QWidget* m_container;
    CardFlowLayout* m_layout;
    QSplitter* m_splitter = nullptr;
    bool m_userSized = false;
    bool m_fitting = false;
};
