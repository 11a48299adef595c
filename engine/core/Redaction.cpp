#include "core/Redaction.h"

#include <algorithm>
#include <functional>

namespace fusebox {

bool redactInPlace(std::string& text, std::string_view secret) {
    if (secret.size() < kMinRedactedSecret || text.size() < secret.size()) return false;
    // Boyer-Moore-Horspool: relayed stream events pass through here, so the common "not found" must be cheap.
    const std::boyer_moore_horspool_searcher searcher(secret.begin(), secret.end());
    auto hit = std::search(text.begin(), text.end(), searcher);
    if (hit == text.end()) return false;
    std::string out;
    out.reserve(text.size());
    auto from = text.begin();
    while (hit != text.end()) {
        out.append(from, hit);
        out += kRedactedMark;
        from = hit + static_cast<std::ptrdiff_t>(secret.size());
        hit = std::search(from, text.end(), searcher);
    }
    out.append(from, text.end());
    text = std::move(out);
    return true;
}

std::string redacted(std::string text, std::string_view secret) {
    redactInPlace(text, secret);
    return text;
}

} // namespace fusebox
