#pragma once
#include <string>
#include <string_view>

namespace fusebox {

// Writes `content` to a temporary file beside `path`, syncs it, and renames it over `path`, so a reader (or a
// crash) never sees half a file. Creates missing parent directories. Returns false with `error` set.
bool writeFileAtomically(const std::string& path, std::string_view content, std::string& error);

// Reads a whole file. Returns false with `error` set ("cannot read PATH: reason").
bool readFile(const std::string& path, std::string& content, std::string& error);

} // namespace fusebox
