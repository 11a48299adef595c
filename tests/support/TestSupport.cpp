#include "TestSupport.h"

#include <cstdlib>
#include <fstream>

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

} // namespace fusebox::test
