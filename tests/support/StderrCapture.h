#pragma once
// Sends everything written to stderr (fd 2, where Fusebox logs) into a file until destroyed: for tests that read
// the log lines.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace fusebox::test {

class StderrCapture {
  public:
    explicit StderrCapture(const std::string& path) {
        std::fflush(stderr);
        m_saved = ::dup(2);
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 2);
        ::close(fd);
    }
    ~StderrCapture() {
        std::fflush(stderr);
        ::dup2(m_saved, 2);
        ::close(m_saved);
    }
    StderrCapture(const StderrCapture&) = delete;
    StderrCapture& operator=(const StderrCapture&) = delete;

  private:
    int m_saved = -1;
};

} // namespace fusebox::test
