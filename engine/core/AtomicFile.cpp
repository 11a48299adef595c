#include "core/AtomicFile.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fusebox {

namespace {

namespace fs = std::filesystem;

// The kernel's own limit on links followed in one lookup (MAXSYMLINKS); more is a loop.
constexpr int kMaxSymlinkHops = 40;

// The file a write to `path` means: the end of its symlink chain (a config kept in dotfiles and linked into
// ~/.config stays linked). Each relative link target is taken from its link's directory. A chain that ends in
// nothing yet names the file to create. nullopt (and `error` set) on a loop or an unreadable link.
std::optional<fs::path> resolveSymlinks(const fs::path& path, std::string& error) {
    fs::path current = path;
    for (int hop = 0; hop < kMaxSymlinkHops; ++hop) {
        struct stat st {};
        if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return current;
        std::error_code ec;
        const fs::path target = fs::read_symlink(current, ec);
        if (ec) {
            error = "cannot follow the symlink " + current.string() + ": " + ec.message();
            return std::nullopt;
        }
        current = target.is_absolute() ? target : current.parent_path() / target;
    }
    error = "cannot write " + path.string() + ": too many levels of symbolic links";
    return std::nullopt;
}

// For a call whose failure leaves nothing to do; taking its result keeps -Wunused-result quiet, as (void) does not.
void bestEffort(int) {}

// Gives the new file the old one's permission bits and, as far as we may, its owner and group: a config made 0640
// for a service's group must not come back 0600 (nor a 0600 one wider), nor a service user's file come back owned
// by root when root edits it.
void keepOwnerAndMode(int fd, const struct stat& old) {
    if (old.st_uid != ::geteuid() || old.st_gid != ::getegid()) {
        // Only root may give a file away; anyone may pass it to one of their own groups. Best effort either way.
        const uid_t owner = ::geteuid() == 0 ? old.st_uid : static_cast<uid_t>(-1);
        if (::fchown(fd, owner, old.st_gid) != 0 && owner != static_cast<uid_t>(-1))
            bestEffort(::fchown(fd, static_cast<uid_t>(-1), old.st_gid));
    }
    // After chown, which may clear set-id bits. On a file we have just created it does not fail.
    bestEffort(::fchmod(fd, old.st_mode & 07777));
}

} // namespace

bool writeFileAtomically(const std::string& path, std::string_view content, std::string& error) {
    const auto resolved = resolveSymlinks(fs::path(path), error);
    if (!resolved) return false;
    const fs::path& target = *resolved;
    std::error_code ec;
    if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
    if (ec) {
        error = "cannot create " + target.parent_path().string() + ": " + ec.message();
        return false;
    }
    struct stat old {};
    const bool existed = ::stat(target.c_str(), &old) == 0;

    // Beside the target, not beside the link: rename() only replaces within one file system. The counter keeps two
    // writers in this process (console and admin API) off each other's temporary file.
    static std::atomic<unsigned> s_sequence{0};
    const std::string temp = target.string() + ".tmp." + std::to_string(::getpid()) + "." +
                             std::to_string(s_sequence.fetch_add(1, std::memory_order_relaxed));
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = "cannot write " + temp + ": " + std::strerror(errno);
        return false;
    }
    if (existed) keepOwnerAndMode(fd, old);
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = "cannot write " + temp + ": " + std::strerror(errno);
            ::close(fd);
            ::unlink(temp.c_str());
            return false;
        }
        written += static_cast<std::size_t>(n);
    }
    // The data must be on disk before the rename makes it the file, or a crash could leave an empty config.
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        error = "cannot write " + temp + ": " + std::strerror(errno);
        ::unlink(temp.c_str());
        return false;
    }
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        error = "cannot replace " + target.string() + ": " + std::strerror(errno);
        ::unlink(temp.c_str());
        return false;
    }
    // And the rename itself, which lives in the directory. Best effort: the file is already whole either way.
    const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
    if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        bestEffort(::fsync(dir));
        ::close(dir);
    }
    return true;
}

bool readFile(const std::string& path, std::string& content, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read " + path + ": " + std::strerror(errno);
        return false;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    content = buffer.str();
    return true;
}

} // namespace fusebox
