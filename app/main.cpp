// fusebox: command line, config path, the Engine, then the console window or the headless runner.
#include "CommandLine.h"
#include "Headless.h"

#include "Engine.h"
#include "EngineBridge.h"
#include "MainWindow.h"
#include "StartupProblemDialog.h"
#include "ScreenshotTour.h"
#include "config/ConfigLoader.h"
#include "config/DefaultConfig.h"
#include "core/Log.h"
#include "sim/DemoLoad.h"
#include "sim/DemoProviders.h"

#include <QApplication>
#include <QTimer>

#include <cstdio>
#include <filesystem>

namespace {

constexpr int kUsageError = 2;

void printLine(std::FILE* stream, const std::string& text) {
    std::fputs(text.c_str(), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
}

QStringList argumentList(int argc, char** argv) {
    QStringList args;
    for (int i = 0; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);
    return args;
}

// The config path to use; on first start (no --config, no file yet) writes the documented default there.
std::optional<std::string> resolveConfigPath(const CommandLine& cl, const fusebox::Environment& env) {
    if (cl.configPath) return cl.configPath->toStdString();
    const std::string path = fusebox::defaultConfigPath(env);
    if (std::filesystem::exists(path)) return path;
    std::string error;
    if (!fusebox::writeDefaultConfig(path, error)) {
        printLine(stderr, "fusebox: " + error);
        return std::nullopt;
    }
    printLine(stdout, "fusebox: wrote a default config to " + path + " (the README explains every key)");
    return path;
}

} // namespace

int main(int argc, char** argv) {
    const CommandLine cl = parseCommandLine(argumentList(argc, argv));
    fusebox::Log::setJson(cl.jsonLogs);
    if (!cl.error.isEmpty()) {
        printLine(stderr, "fusebox: " + cl.error.toStdString() + "\nTry 'fusebox --help'.");
        return kUsageError;
    }
    if (cl.help) {
        printLine(stdout, cl.helpText.toStdString());
        return 0;
    }
    if (cl.version) {
        printLine(stdout, std::string("fusebox ") + FUSEBOX_VERSION);
        return 0;
    }

    fusebox::LoadOptions options;
    if (cl.listen) options.listenOverride = cl.listen->toStdString();
    const auto configPath = resolveConfigPath(cl, options.env);
    if (!configPath) return kUsageError;

    // The console's QApplication exists before the config is read, so that a bad config or a busy port is shown
    // in a window with the way out (and Retry), not only on stderr. Headless and --check-config never make one.
    std::unique_ptr<QApplication> app;
    if (!cl.headless && !cl.checkConfig) {
        app = std::make_unique<QApplication>(argc, argv);
        QApplication::setApplicationName("Fusebox");
        QApplication::setOrganizationName("Fusebox");
    }
    if (cl.headless) blockStopSignals(); // before any engine thread exists, so they all inherit the mask
    std::string error;
    std::unique_ptr<fusebox::sim::DemoProviders> demo;
    if (cl.demo && !cl.checkConfig) {
        demo = std::make_unique<fusebox::sim::DemoProviders>();
        if (!demo->start(error)) {
            printLine(stderr, "fusebox: " + error);
            return 1;
        }
    }
    const QString shownPath = QString::fromStdString(*configPath);
    std::unique_ptr<fusebox::Engine> engine;
    for (;;) {
        fusebox::ConfigResult loaded = fusebox::loadConfigFile(*configPath, options);
        if (!loaded.ok()) {
            const std::string errors = fusebox::formatErrors(loaded.errors);
            std::fputs(errors.c_str(), stderr);
            if (app && StartupProblemDialog::askRetry(StartupProblemDialog::Problem::Config,
                                                      QString::fromStdString(errors), shownPath))
                continue;
            return kUsageError;
        }
        for (const auto& warning : loaded.warnings) printLine(stderr, "fusebox: warning: " + warning);
        if (cl.checkConfig) {
            printLine(stdout, "ok");
            return 0;
        }
        if (demo) demo->addTo(*loaded.config);
        engine = std::make_unique<fusebox::Engine>(std::move(*loaded.config));
        if (engine->start(error)) break;
        printLine(stderr, "fusebox: " + error);
        engine.reset();
        if (app && StartupProblemDialog::askRetry(StartupProblemDialog::Problem::Listen,
                                                  QString::fromStdString(error), shownPath))
            continue;
        return kUsageError;
    }
    if (demo) engine->adoptDemo(std::move(demo));
    printLine(stdout, "fusebox: listening on " + engine->listenUrl());
    if (cl.headless) return runHeadless(*engine);

    EngineBridge bridge(*engine);
    MainWindow window(bridge);
    // The proxy outlives the window: hidden to the tray, it goes on serving; only a confirmed Quit stops it.
    QApplication::setQuitOnLastWindowClosed(false);
    QObject::connect(&window, &MainWindow::quitConfirmed, app.get(), &QApplication::quit);
    window.show();

    // --demo: a few agents' worth of traffic through our own port, so every panel moves.
    std::unique_ptr<fusebox::sim::DemoLoad> load;
    if (cl.demo) {
        fusebox::sim::DemoLoad::Options loadOptions;
        const std::string url = engine->listenUrl(); // http://HOST:PORT
        const auto colon = url.rfind(':');
        loadOptions.host = url.substr(7, colon - 7);
        loadOptions.port = static_cast<uint16_t>(std::stoi(url.substr(colon + 1)));
        load = std::make_unique<fusebox::sim::DemoLoad>(loadOptions);
        load->start();
    }
    // FUSEBOX_DEMO_DRILL=PROVIDER:KIND starts a drill a few seconds in (scripts/screenshot uses it).
    const QString drill = qEnvironmentVariable("FUSEBOX_DEMO_DRILL");
    if (cl.demo && drill.contains(':')) {
        QTimer::singleShot(std::chrono::seconds(qEnvironmentVariableIntValue("FUSEBOX_DEMO_DRILL_AFTER_S") > 0
                                                    ? qEnvironmentVariableIntValue("FUSEBOX_DEMO_DRILL_AFTER_S") : 8),
                           &window, [&window, drill] { window.runDrill(drill.section(':', 0, 0), drill.section(':', 1)); });
    }
    // FUSEBOX_SCREENSHOT=PATH saves a picture of the window after FUSEBOX_SCREENSHOT_AFTER_S seconds (default 30)
    // and quits (one picture; scripts/screenshot uses ScreenshotTour, below).
    const QString screenshot = qEnvironmentVariable("FUSEBOX_SCREENSHOT");
    if (!screenshot.isEmpty()) {
        const int after = qEnvironmentVariableIntValue("FUSEBOX_SCREENSHOT_AFTER_S");
        QTimer::singleShot(std::chrono::seconds(after > 0 ? after : 30), &window, [&window, screenshot] {
            const bool saved = window.grab().save(screenshot);
            printLine(saved ? stdout : stderr, (saved ? "fusebox: saved a screenshot to " : "fusebox: cannot write ") +
                                                   screenshot.toStdString());
            QApplication::exit(saved ? 0 : 1);
        });
    }
    ScreenshotTour::startFromEnvironment(window); // scripts/screenshot: FUSEBOX_SCREENSHOT_DIR, _SIZE
    const int status = QApplication::exec();
    if (load) load->stop();
    engine->stop(std::chrono::seconds(10));
    return status;
}
