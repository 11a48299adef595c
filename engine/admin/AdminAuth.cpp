#include "admin/AdminAuth.h"

#include <boost/asio/ip/address.hpp>

#include <cctype>
#include <string>

namespace fusebox {

bool constantTimeEquals(std::string_view a, std::string_view b) {
    // Walk the expected value's full length whatever the guess's length is; a length mismatch is folded in
    // too.
    const std::size_t n = b.size();
    unsigned char diff = static_cast<unsigned char>(a.size() != b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
    }
    return diff == 0;
}

bool isLoopbackAddress(std::string_view address) {
    std::string text(address);
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    boost::system::error_code ec;
    const auto parsed = boost::asio::ip::make_address(text, ec);
    if (ec) return false;
    if (parsed.is_v6()) {
        const auto v6 = parsed.to_v6();
        if (v6.is_v4_mapped())
            return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
        return v6.is_loopback();
    }
    return parsed.to_v4().is_loopback();
}

AdminAccess checkAdminAccess(std::string_view adminToken, std::string_view authorizationHeader,
                             bool peerIsLoopback) {
    if (adminToken.empty()) {
        if (peerIsLoopback) return {};
        return {403, "admin calls are served to loopback clients only while admin_token is not set"};
    }
    constexpr std::string_view kBearer = "Bearer ";
    // The scheme name is case-insensitive (RFC 9110 §11.1); only the token is secret.
    bool bearer = authorizationHeader.size() > kBearer.size();
    for (std::size_t i = 0; bearer && i < kBearer.size(); ++i)
        bearer = std::tolower(static_cast<unsigned char>(authorizationHeader[i])) ==
                 std::tolower(static_cast<unsigned char>(kBearer[i]));
    if (!bearer || !constantTimeEquals(authorizationHeader.substr(kBearer.size()), adminToken))
        return {401, "admin calls need the header Authorization: Bearer <admin_token>"};
    return {};
}

} // namespace fusebox
