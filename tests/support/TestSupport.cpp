#include "TestSupport.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fusebox::test {

std::string sourceDir() {
    const char* dir = std::getenv("FUSEBOX_SOURCE_DIR");
    return dir ? dir : ".";
}

std::string writeTempFile(const QTemporaryDir& dir, const std::string& name, const std::string& content) {
    const std::string path = dir.path().toStdString() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

Environment fakeEnv(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

} // namespace fusebox::test
