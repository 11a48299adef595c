#pragma once
// First start: shown above the board while no provider can be used (none configured, or none has its key). Says
// where the config file is (Open / Show in folder), how to add a provider with a key, and how to point an agent
// at the proxy port. Help ▸ Getting started shows it at any time.
#include "Snapshot.h"

#include <QFrame>

class QLabel;

class WelcomePanel : public QFrame {
    Q_OBJECT
public:
    WelcomePanel(const QString& configPath, QWidget* parent = nullptr);
    // Refreshes the address and the providers' keys; shows itself while no provider can be used (unless dismissed).
    void show(const fusebox::EngineSnapshot& snapshot);
    void showAnyway(); // Help ▸ Getting started
    static bool noProviderUsable(const fusebox::EngineSnapshot& snapshot);
    // file:// URLs the buttons open (for tests: QDesktopServices is not asked there)
    QString configUrl() const;
    QString folderUrl() const;

private:
    QString m_configPath;
    QLabel* m_config;
    QLabel* m_providers;
    QLabel* m_agents;
    QString m_shownUrl;
    bool m_dismissed = false;
    bool m_forced = false;
};
