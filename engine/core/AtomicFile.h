#pragma once
#include <string>
#include <string_view>

namespace fusebox {

// Writes `content` to a temporary file beside `path`, syncs it, and renames it over `path`, so a reader (or a
// crash) never sees half a file. When `path` is a symlink (or a chain of them) the file at its end is the one
// replaced, and the link stays; a replaced file keeps its permission bits (and its owner and group, as far as
// this process may set them); a new file is 0600. Creates missing parent directories. Returns false with `error`
// set.
bool writeFileAtomically(const std::string& path, std::string_view content, std::string& error);

// Reads a whole file. Returns false with `error` set ("cannot read PATH: reason").
bool readFile(const std::string& path, std::string& content, std::string& error);

} // namespace fusebox
