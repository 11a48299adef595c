#include "WelcomePanel.h"

#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

namespace {

QLabel* paragraph(const QString& name, QWidget* parent) {
    auto* label = new QLabel(parent);
    label->setObjectName(name);
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

} // namespace

WelcomePanel::WelcomePanel(const QString& configPath, QWidget* parent) : QFrame(parent), m_configPath(configPath) {
    setObjectName("welcomePanel");
    setFrameShape(QFrame::StyledPanel);
    setStyleSheet("#welcomePanel { background: #fff8e1; border: 1px solid #e0a100; border-radius: 4px; }");
    auto* layout = new QVBoxLayout(this);
    auto* title = new QLabel("<b>Getting started: no provider can answer yet</b>", this);
    layout->addWidget(title);

    auto* configRow = new QHBoxLayout;
    m_config = paragraph("welcomeConfig", this);
    configRow->addWidget(m_config, 1);
    auto* open = new QPushButton("Open config", this);
    open->setObjectName("welcomeOpenConfig");
    auto* folder = new QPushButton("Show in folder", this);
    folder->setObjectName("welcomeShowFolder");
    auto* dismiss = new QPushButton("Hide", this);
    dismiss->setObjectName("welcomeDismiss");
    dismiss->setToolTip("Help ▸ Getting started shows this again");
    configRow->addWidget(open);
    configRow->addWidget(folder);
    configRow->addWidget(dismiss);
    layout->addLayout(configRow);
    m_providers = paragraph("welcomeProviders", this);
    layout->addWidget(m_providers);
    m_agents = paragraph("welcomeAgents", this);
    layout->addWidget(m_agents);

    open->setEnabled(!m_configPath.isEmpty());
    folder->setEnabled(!m_configPath.isEmpty());
    connect(open, &QPushButton::clicked, this, [this] { QDesktopServices::openUrl(QUrl(configUrl())); });
    connect(folder, &QPushButton::clicked, this, [this] { QDesktopServices::openUrl(QUrl(folderUrl())); });
    connect(dismiss, &QPushButton::clicked, this, [this] {
        m_dismissed = true;
        m_forced = false;
        hide();
    });
    m_config->setText(m_configPath.isEmpty()
                          ? QString("The config was not read from a file.")
                          : "Config file: <code>" + m_configPath.toHtmlEscaped() + "</code> (every key is explained in "
                                                                                   "the README).");
    hide();
}

QString WelcomePanel::configUrl() const { return QUrl::fromLocalFile(m_configPath).toString(); }
QString WelcomePanel::folderUrl() const { return QUrl::fromLocalFile(QFileInfo(m_configPath).absolutePath()).toString(); }

bool WelcomePanel::noProviderUsable(const fusebox::EngineSnapshot& snapshot) {
    for (const auto& p : snapshot.providers)
        if (p.hasKey) return false;
    return true;
}

void WelcomePanel::showAnyway() {
    m_forced = true;
    m_dismissed = false;
    setVisible(true);
}

void WelcomePanel::show(const fusebox::EngineSnapshot& snapshot) {
    const bool wanted = m_forced || (!m_dismissed && noProviderUsable(snapshot));
    if (wanted != isVisible()) setVisible(wanted);
    if (!wanted) return;
    QStringList missing;
    for (const auto& p : snapshot.providers)
        if (!p.hasKey) missing << "<b>" + QString::fromStdString(p.id).toHtmlEscaped() + "</b>: " +
                                      QString::fromStdString(p.keyHint).toHtmlEscaped();
    QString providers = snapshot.providers.empty()
                            ? QString("No provider is configured. ")
                            : "Providers without a key: " + missing.join(", ") + ". ";
    providers += "Add a provider to <code>providers</code> in the config with its <code>kind</code> "
                 "(<code>openai</code> or <code>anthropic</code>), <code>base_url</code> and "
                 "<code>\"api_key\": \"${OPENAI_API_KEY}\"</code>, put it in a route's <code>targets</code>, set the "
                 "variable in Fusebox's environment (<code>export OPENAI_API_KEY=sk-...</code>) and start Fusebox again.";
    if (m_providers->text() != providers) m_providers->setText(providers);
    const QString url = QString::fromStdString(snapshot.listenUrl);
    if (url == m_shownUrl) return;
    m_shownUrl = url;
    m_agents->setText(
        "Point your agents at <code>" + url.toHtmlEscaped() + "</code> with any placeholder key (Fusebox sends each "
        "provider its own):<br>"
        "&nbsp;• OpenAI SDKs: <code>OPENAI_BASE_URL=" + url.toHtmlEscaped() + "/v1</code> (or "
        "<code>OpenAI(base_url=\"" + url.toHtmlEscaped() + "/v1\")</code>), model <code>default</code> or a route name<br>"
        "&nbsp;• Anthropic SDKs and Claude Code: <code>ANTHROPIC_BASE_URL=" + url.toHtmlEscaped() + "</code><br>"
        "&nbsp;• Codex: in <code>~/.codex/config.toml</code>, <code>model_provider = \"fusebox\"</code> and "
        "<code>[model_providers.fusebox] base_url = \"" + url.toHtmlEscaped() + "/v1\"</code>, "
        "<code>wire_api = \"responses\"</code>");
}
