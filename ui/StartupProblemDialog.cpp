#include "StartupProblemDialog.h"

#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFontDatabase>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>

#include <cstdio>

StartupProblemDialog::StartupProblemDialog(Problem problem, const QString& details, const QString& configPath,
                                           QWidget* parent)
    : QDialog(parent) {
    setObjectName("startupProblemDialog");
    setWindowTitle("Fusebox cannot start");
    auto* layout = new QVBoxLayout(this);
    auto* title = new QLabel(problem == Problem::Config ? "<b>The config file has errors.</b>"
                                                        : "<b>Fusebox cannot open its proxy port.</b>",
                             this);
    layout->addWidget(title);
    m_problem = new QLabel(details.trimmed(), this);
    m_problem->setObjectName("startupProblem");
    m_problem->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_problem->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_problem->setWordWrap(true);
    layout->addWidget(m_problem);
    const QString file = configPath.isEmpty() ? QString("the config file") : configPath;
    m_wayOut = new QLabel(problem == Problem::Config
                              ? "Fix " + file + " (each line above names the line, column and key), save it, then Retry. "
                                                "\"fusebox --check-config\" checks it from a terminal; the README explains every key."
                              : "Another program (perhaps another Fusebox) has this address. Stop it, or change "
                                "\"listen\" in " + file + " (port 0 picks a free port; --listen HOST:PORT overrides it "
                                "for one run), then Retry.",
                          this);
    m_wayOut->setObjectName("startupWayOut");
    m_wayOut->setWordWrap(true);
    layout->addWidget(m_wayOut);

    auto* buttons = new QDialogButtonBox(this);
    QPushButton* retry = buttons->addButton("Retry", QDialogButtonBox::AcceptRole);
    retry->setObjectName("startupRetry");
    QPushButton* open = buttons->addButton("Open config", QDialogButtonBox::ActionRole);
    QPushButton* folder = buttons->addButton("Show in folder", QDialogButtonBox::ActionRole);
    QPushButton* quit = buttons->addButton("Quit", QDialogButtonBox::RejectRole);
    quit->setObjectName("startupQuit");
    open->setEnabled(!configPath.isEmpty());
    folder->setEnabled(!configPath.isEmpty());
    connect(open, &QPushButton::clicked, this, [configPath] { QDesktopServices::openUrl(QUrl::fromLocalFile(configPath)); });
    connect(folder, &QPushButton::clicked, this, [configPath] {
        QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(configPath).absolutePath()));
    });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    setMinimumWidth(560);
}

QString StartupProblemDialog::problemText() const { return m_problem->text(); }
QString StartupProblemDialog::wayOutText() const { return m_wayOut->text(); }

bool StartupProblemDialog::askRetry(Problem problem, const QString& details, const QString& configPath) {
    StartupProblemDialog dialog(problem, details, configPath);
    const QString screenshot = qEnvironmentVariable("FUSEBOX_SCREENSHOT");
    if (!screenshot.isEmpty()) {
        const int after = qEnvironmentVariableIntValue("FUSEBOX_SCREENSHOT_AFTER_S");
        QTimer::singleShot(std::chrono::seconds(after > 0 ? after : 30), &dialog, [&dialog, screenshot] {
            const bool saved = dialog.grab().save(screenshot);
            std::fprintf(saved ? stdout : stderr, "fusebox: %s %s\n", saved ? "saved a screenshot to" : "cannot write",
                         qPrintable(screenshot));
            std::fflush(saved ? stdout : stderr);
            dialog.reject();
        });
    }
    return dialog.exec() == QDialog::Accepted;
}
