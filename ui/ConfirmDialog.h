#pragma once
// Asks an operator to confirm an incident action, with an optional reason that goes into the event log.
// Test seam (as KeePassXC's MessageBox::setNextAnswer): setNextAnswer() makes the next ask() return at once
// without showing anything, so tests drive the real buttons without a modal loop.
#include <QString>

#include <optional>

class QWidget;

class ConfirmDialog {
public:
    // The reason typed (possibly empty) when confirmed; nullopt when cancelled.
    static std::optional<QString> ask(QWidget* parent, const QString& title, const QString& question);

    // nullopt answer = "Cancel". Applies to the next ask() only.
    static void setNextAnswer(std::optional<QString> answer);
    static void clearNextAnswer();

private:
    struct Pending {
        std::optional<QString> answer;
    };
    static std::optional<Pending> s_next;
};
