#pragma once
// When the console cannot start (a bad config, the port in use), a window says what is wrong (file, line, key path)
// and the way out, instead of a silent exit: Open config / Show in folder, fix it, Retry. Quit keeps the exit status
// a script expects (2). Headless mode never shows it: it prints the same message on stderr and exits 2.
#include <QDialog>

class QLabel;

class StartupProblemDialog : public QDialog {
    Q_OBJECT
public:
    enum class Problem { Config, Listen };
    StartupProblemDialog(Problem problem, const QString& details, const QString& configPath, QWidget* parent = nullptr);
    QString problemText() const;
    QString wayOutText() const;

    // Shows the dialog; true when the operator asked to try again. With FUSEBOX_SCREENSHOT=PATH set (as for the
    // window, scripts/screenshot), saves a picture of the dialog after FUSEBOX_SCREENSHOT_AFTER_S seconds
    // (default 30) and answers Quit.
    static bool askRetry(Problem problem, const QString& details, const QString& configPath);

private:
    QLabel* m_problem;
    QLabel* m_wayOut;
};
