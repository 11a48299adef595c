#include "ConfirmDialog.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

std::optional<ConfirmDialog::Pending> ConfirmDialog::s_next;

void ConfirmDialog::setNextAnswer(std::optional<QString> answer) { s_next = Pending{std::move(answer)}; }
void ConfirmDialog::clearNextAnswer() { s_next.reset(); }

std::optional<QString> ConfirmDialog::ask(QWidget* parent, const QString& title, const QString& question) {
    if (s_next) {
        auto answer = s_next->answer;
        s_next.reset();
        return answer;
    }
    QDialog dialog(parent);
    dialog.setObjectName("confirmDialog");
    dialog.setWindowTitle(title);
    auto* layout = new QVBoxLayout(&dialog);
    layout->addWidget(new QLabel(question, &dialog));
    auto* reason = new QLineEdit(&dialog);
    reason->setObjectName("confirmReason");
    reason->setPlaceholderText("Reason (optional, recorded in the event log)");
    layout->addWidget(reason);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    buttons->button(QDialogButtonBox::Ok)->setText(title);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    layout->addWidget(buttons);
    if (dialog.exec() != QDialog::Accepted) return std::nullopt;
    return reason->text().trimmed();
}
