#include "proxy/PlainHttpResponseParser.h"

#include "proxy/UpstreamHeaders.h"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

#include <limits>

namespace fusebox {

namespace http = boost::beast::http;

PlainHttpResponseParser::PlainHttpResponseParser(BodySink& sink) : m_sink(sink) {
    header_limit(kHeaderLimit);
    // (Not boost::none: Boost 1.74 compares a Content-Length with an empty limit as "over the limit".)
    body_limit(std::numeric_limits<std::uint64_t>::max());
}

void PlainHttpResponseParser::on_request_impl(http::verb, std::string_view, std::string_view, int,
                                              boost::beast::error_code& ec) {
    ec = http::error::bad_version; // a response parser never sees a request line
}

void PlainHttpResponseParser::on_response_impl(int code, std::string_view, int, boost::beast::error_code&) {
    m_head.status = code;
    m_head.headers.reserve(16); // a provider's answer has about a dozen fields: one allocation, no regrowth
}

void PlainHttpResponseParser::on_field_impl(http::field, std::string_view name, std::string_view value,
                                            boost::beast::error_code&) {
    if (is_header_done()) return; // a trailer
    m_head.headers.emplace_back(lowerCase(name), std::string(trimHeaderSpace(value)));
}

void PlainHttpResponseParser::on_header_impl(boost::beast::error_code&) {}

void PlainHttpResponseParser::on_body_init_impl(const boost::optional<std::uint64_t>&, boost::beast::error_code&) {}

std::size_t PlainHttpResponseParser::on_body_impl(std::string_view body, boost::beast::error_code& ec) {
    if (!body.empty() && !m_sink.onBodyPiece(body)) ec = boost::asio::error::operation_aborted;
    return body.size();
}

void PlainHttpResponseParser::on_chunk_header_impl(std::uint64_t, std::string_view, boost::beast::error_code&) {}

std::size_t PlainHttpResponseParser::on_chunk_body_impl(std::uint64_t, std::string_view body,
                                                        boost::beast::error_code& ec) {
    return on_body_impl(body, ec);
}

void PlainHttpResponseParser::on_finish_impl(boost::beast::error_code&) {}

} // namespace fusebox
