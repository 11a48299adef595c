#include "CommandLine.h"

#include <QCommandLineParser>

CommandLine parseCommandLine(const QStringList& arguments) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        "Fusebox: a circuit breaker for LLM traffic. Point your agents' OpenAI or Anthropic SDK base URL at it.");
    const QCommandLineOption config("config", "Config file (default: $XDG_CONFIG_HOME/fusebox/config.json; "
                                              "written with documented defaults on first start).",
                                    "PATH");
    const QCommandLineOption listen("listen", "Overrides \"listen\" from the config. Port 0 picks a free port.",
                                    "HOST:PORT");
    const QCommandLineOption headless("headless", "No window: the engine alone, for servers and CI.");
    const QCommandLineOption demo("demo", "Adds two simulated providers (sim-primary, sim-backup) and a route "
                                          "\"demo\" over them, so everything can be tried without API keys.");
    const QCommandLineOption checkConfig("check-config", "Validates the config, prints ok or the errors, exits 0 or 2.");
    const QCommandLineOption logFormat("log-format", "Log lines on stderr as text (default) or JSON lines.",
                                       "text|json", "text");
    const QCommandLineOption version("version", "Prints the version.");
    const QCommandLineOption help({"h", "help"}, "Shows this help.");
    parser.addOptions({config, listen, headless, demo, checkConfig, logFormat, version, help});

    CommandLine out;
    // Without a QCoreApplication (none exists yet: the mode decides which one) Qt cannot know the program's name
    // and writes a placeholder.
    out.helpText = parser.helpText().replace("<executable_name>", "fusebox");
    if (!parser.parse(arguments)) {
        out.error = parser.errorText();
        return out;
    }
    if (!parser.positionalArguments().isEmpty()) {
        out.error = "unexpected argument: " + parser.positionalArguments().first();
        return out;
    }
    // A flag given twice with different values is ambiguous; refuse rather than pick one silently.
    for (const auto* option : {&config, &listen, &logFormat}) {
        const QStringList values = parser.values(*option);
        if (values.size() > 1) {
            out.error = "--" + option->names().first() + " given more than once";
            return out;
        }
    }
    if (parser.isSet(config)) out.configPath = parser.value(config);
    if (parser.isSet(listen)) out.listen = parser.value(listen);
    out.headless = parser.isSet(headless);
    out.demo = parser.isSet(demo);
    out.checkConfig = parser.isSet(checkConfig);
    out.version = parser.isSet(version);
    out.help = parser.isSet(help);
    const QString format = parser.value(logFormat);
    if (format != "text" && format != "json") {
        out.error = "--log-format must be text or json (got \"" + format + "\")";
        return out;
    }
    out.jsonLogs = format == "json";
    return out;
}
