#pragma once
// One HTTP/1.x response read for PlainHttpCall with Beast's parser (RFC 9112 framing: Content-Length, chunked,
// or to the end of the connection): the status and header fields into an UpstreamHead (names lower-cased,
// values trimmed, in arrival order), each piece of the body (de-chunked) handed to a sink as it is parsed, with
// no copy. Trailer fields after a chunked body are not part of the head and are dropped.
#include "proxy/UpstreamTypes.h"

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <string_view>

namespace fusebox {

class PlainHttpResponseParser final : public boost::beast::http::basic_parser<false> {
  public:
    // Receives each body piece; returns false to stop parsing (the call was cancelled or went away).
    class BodySink {
      public:
        virtual bool onBodyPiece(std::string_view piece) = 0;

      protected:
        ~BodySink() = default;
    };

    // Header fields at most this long together, as libcurl allows (CURL_MAX_HTTP_HEADER); no body limit: the
    // proxy bounds what it keeps itself.
    static constexpr std::uint32_t kHeaderLimit = 100 * 1024;

    explicit PlainHttpResponseParser(BodySink& sink);

    const UpstreamHead& head() const { return m_head; }
    bool interim() const { return m_head.status >= 100 && m_head.status < 200; }

  private:
    void on_request_impl(boost::beast::http::verb, std::string_view, std::string_view, int,
                         boost::beast::error_code& ec) override;
    void on_response_impl(int code, std::string_view reason, int version, boost::beast::error_code& ec) override;
    void on_field_impl(boost::beast::http::field, std::string_view name, std::string_view value,
                       boost::beast::error_code& ec) override;
    void on_header_impl(boost::beast::error_code& ec) override;
    void on_body_init_impl(const boost::optional<std::uint64_t>& contentLength, boost::beast::error_code& ec) override;
    std::size_t on_body_impl(std::string_view body, boost::beast::error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t size, std::string_view extensions, boost::beast::error_code& ec) override;
    std::size_t on_chunk_body_impl(std::uint64_t remain, std::string_view body, boost::beast::error_code& ec) override;
    void on_finish_impl(boost::beast::error_code& ec) override;

    BodySink& m_sink;
    UpstreamHead m_head;
};

} // namespace fusebox
