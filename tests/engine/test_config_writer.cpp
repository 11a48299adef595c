// Config write-back (CONTRACT §2): a reordered route is written into the file the user keeps, through symlinks,
// with the file's permission bits, atomically; nothing else of the file changes.
#include "config/ConfigWriter.h"
#include "core/AtomicFile.h"
#include "TestSupport.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

using namespace fusebox;
namespace fs = std::filesystem;

namespace {

const char* kConfig = R"({
  "providers": [
    { "id": "a", "kind": "openai", "base_url": "http:\/\/a/v1", "api_key": "${A_KEY}" },
    { "id": "b", "kind": "openai", "base_url": "http:\/\/b/v1" } ],
  "routes": [ { "name": "default", "targets": [ { "provider": "a" }, { "provider": "b" } ] } ]
}
)";

// A hand-edited file with an entry that is not a route: skipped, never a throw out of the writer.
const char* kConfigWithAStrayEntry = R"({
  "providers": [
    { "id": "a", "kind": "openai", "base_url": "http:\/\/a/v1", "api_key": "${A_KEY}" },
    { "id": "b", "kind": "openai", "base_url": "http:\/\/b/v1" } ],
  "routes": [ { "name": 5 }, 7, { "name": "default", "targets": [ { "provider": "a" }, { "provider": "b" } ] } ]
}
)";

const std::vector<RouteTarget> kReordered{{"b", "m"}, {"a", ""}};

unsigned modeOf(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// Whether `text` has b (with model m) before a in the default route, and kept the reference as written.
bool reorderedIn(const std::string& text) {
    const auto b = text.find(R"("provider": "b")"), a = text.find(R"("provider": "a")");
    return b != std::string::npos && a != std::string::npos && b < a && text.find(R"("model": "m")") != std::string::npos &&
           text.find("${A_KEY}") != std::string::npos;
}

// No temporary file is left behind in `dir`.
bool onlyFiles(const QTemporaryDir& dir, std::set<std::string> names) {
    std::set<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir.path().toStdString())) found.insert(entry.path().filename());
    return found == names;
}

} // namespace

class ConfigWriterTest : public QObject {
    Q_OBJECT
private slots:
    void writesTheRouteAndNothingElse() {
        QTemporaryDir dir;
        const std::string path = test::writeTempFile(dir, "fusebox.json", kConfigWithAStrayEntry);
        std::string error;
        QVERIFY2(writeRouteTargets(path, "default", kReordered, error), error.c_str());
        const std::string text = test::readFile(path);
        QVERIFY2(reorderedIn(text), text.c_str());
        QVERIFY(text.find(R"("name": 5)") != std::string::npos);
        QVERIFY(onlyFiles(dir, {"fusebox.json"}));
        QVERIFY(!writeRouteTargets(path, "nosuch", kReordered, error));
        QVERIFY(error.find("nosuch") != std::string::npos);
    }

    // Only the route's own targets change: every other byte of the file (spacing, key order, escapes such as
    // "\/", non-ASCII text, the other route) stays as the user wrote it, and the new list keeps the old's layout.
    void onlyTheRoutesOwnLinesChange() {
        const std::string head = R"({
  "listen":   "127.0.0.1:4747",
  "providers": [
    { "id": "a", "kind": "openai", "base_url": "http:\/\/a/v1", "api_key": "${A_KEY}" },
    { "base_url": "http:\/\/b/v1", "id": "b", "kind": "openai" } ],
  "routes": [
    { "name": "default",
      "targets": )";
        const std::string oldTargets = R"([
        { "provider": "a" },
        { "provider": "b", "model": "m" }
      ])";
        const std::string middle = R"( },
    { "name": "fast", "wait_for_recovery_ms": 0, "targets": )";
        const std::string oldFast = R"([ {"provider":"a"} ])";
        const std::string tail = R"( }
  ],
  "breaker": { "open_s": 30 }
}
)";
        QTemporaryDir dir;
        const std::string path = test::writeTempFile(dir, "fusebox.json", head + oldTargets + middle + oldFast + tail);
        std::string error;
        QVERIFY2(writeRouteTargets(path, "default", kReordered, error), error.c_str());
        const std::string newTargets = R"([
        { "provider": "b", "model": "m" },
        { "provider": "a" }
      ])";
        QCOMPARE(test::readFile(path), head + newTargets + middle + oldFast + tail);

        QVERIFY2(writeRouteTargets(path, "fast", {{"b", ""}, {"a", "x"}}, error), error.c_str());
        QCOMPARE(test::readFile(path),
                 head + newTargets + middle + R"([ { "provider": "b" }, { "provider": "a", "model": "x" } ])" + tail);
        QVERIFY(onlyFiles(dir, {"fusebox.json"}));
    }

    void aSymlinkedConfigStaysALinkToTheUpdatedFile() {
        // dotfiles/fusebox.json <- config/link.json <- config/fusebox.json (relative links, two hops)
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        fs::create_directories(root / "dotfiles");
        fs::create_directories(root / "config");
        const std::string real = test::writeTempFile(dir, "dotfiles/fusebox.json", kConfig);
        fs::create_symlink("../dotfiles/fusebox.json", root / "config/link.json");
        fs::create_symlink("link.json", root / "config/fusebox.json");
        const std::string path = (root / "config/fusebox.json").string();

        std::string error;
        QVERIFY2(writeRouteTargets(path, "default", kReordered, error), error.c_str());
        QVERIFY(fs::is_symlink(path));
        QCOMPARE(fs::read_symlink(path).string(), std::string("link.json"));
        QVERIFY(fs::is_symlink(root / "config/link.json"));
        QVERIFY(fs::is_regular_file(fs::symlink_status(real)));
        QVERIFY2(reorderedIn(test::readFile(real)), test::readFile(real).c_str());
        // The temporary file was made, and renamed, beside the target, not beside the link.
        std::size_t inConfig = 0, inDotfiles = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(root / "config")) ++inConfig;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(root / "dotfiles")) ++inDotfiles;
        QCOMPARE(inConfig, size_t{2});
        QCOMPARE(inDotfiles, size_t{1});
    }

    void aDanglingLinkCreatesItsTargetAndALoopIsAnError() {
        QTemporaryDir dir;
        const fs::path root = dir.path().toStdString();
        fs::create_symlink("real.json", root / "link.json");
        std::string error;
        QVERIFY2(writeFileAtomically((root / "link.json").string(), "{}\n", error), error.c_str());
        QVERIFY(fs::is_symlink(root / "link.json"));
        QCOMPARE(test::readFile((root / "real.json").string()), std::string("{}\n"));

        fs::create_symlink("loop-b", root / "loop-a");
        fs::create_symlink("loop-a", root / "loop-b");
        QVERIFY(!writeFileAtomically((root / "loop-a").string(), "{}\n", error));
        QVERIFY2(error.find("symbolic links") != std::string::npos, error.c_str());
        QVERIFY(fs::is_symlink(root / "loop-a"));
    }

    void theFileKeepsItsMode() {
        QTemporaryDir dir;
        for (unsigned mode : {0600u, 0640u, 0644u}) {
            const std::string path = test::writeTempFile(dir, "fusebox.json", kConfig);
            QCOMPARE(::chmod(path.c_str(), mode), 0);
            std::string error;
            QVERIFY2(writeRouteTargets(path, "default", kReordered, error), error.c_str());
            QCOMPARE(modeOf(path), mode);
            QVERIFY(reorderedIn(test::readFile(path)));
        }
        // Through a link too: the target's mode, and the link is still a link.
        const std::string real = test::writeTempFile(dir, "real.json", kConfig);
        QCOMPARE(::chmod(real.c_str(), 0640), 0);
        const std::string link = dir.path().toStdString() + "/link.json";
        fs::create_symlink(real, link);
        std::string error;
        QVERIFY2(writeRouteTargets(link, "default", kReordered, error), error.c_str());
        QVERIFY(fs::is_symlink(link));
        QCOMPARE(modeOf(real), 0640u);
    }

    void rootKeepsTheFilesOwner() {
        if (::geteuid() != 0) QSKIP("only root may give a file to another user");
        QTemporaryDir dir;
        const std::string path = test::writeTempFile(dir, "fusebox.json", kConfig);
        QCOMPARE(::chown(path.c_str(), 65534, 65534), 0); // nobody:nogroup, say a service account
        std::string error;
        QVERIFY2(writeRouteTargets(path, "default", kReordered, error), error.c_str());
        struct stat st {};
        QCOMPARE(::stat(path.c_str(), &st), 0);
        QCOMPARE(st.st_uid, uid_t{65534});
        QCOMPARE(st.st_gid, gid_t{65534});
    }

    void aNewFileIsPrivate() {
        QTemporaryDir dir;
        const std::string path = dir.path().toStdString() + "/sub/dir/fusebox.json";
        std::string error;
        QVERIFY2(writeFileAtomically(path, "{}\n", error), error.c_str());
        QCOMPARE(modeOf(path), 0600u);
    }
};

QTEST_GUILESS_MAIN(ConfigWriterTest)
#include "test_config_writer.moc"
