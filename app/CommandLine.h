#pragma once
// CONTRACT §1: the flags of `fusebox`, parsed with QCommandLineParser.
#include <QString>
#include <QStringList>

#include <optional>

struct CommandLine {
    std::optional<QString> configPath;
    std::optional<QString> listen;
    bool headless = false;
    bool demo = false;
    bool checkConfig = false;
    bool jsonLogs = false;
    bool version = false;
    bool help = false;
    QString helpText;
    QString error; // non-empty: a command-line error (exit status 2)
};

CommandLine parseCommandLine(const QStringList& arguments);
