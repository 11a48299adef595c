#include "proxy/CurlErrors.h"

#include <curl/curl.h>

namespace fusebox {

namespace {

TransportError classifyCurlCode(CURLcode code, bool requestSent) {
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return TransportError::Timeout;
    case CURLE_ABORTED_BY_CALLBACK:
        return TransportError::Cancelled;
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
    case CURLE_NOT_BUILT_IN:
    case CURLE_FAILED_INIT:
        return TransportError::Connect;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: // connected, then the peer reset or closed while we were still sending
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_TOO_MANY_REDIRECTS:
        return TransportError::BadResponse;
    case CURLE_UNSUPPORTED_PROTOCOL: // a scheme we do not speak, or (request sent) an HTTP/0.9 reply: garbage
    default:
        // Anything else: blame the response when the request went out, else the connection.
        return requestSent ? TransportError::BadResponse : TransportError::Connect;
    }
}

} // namespace

CurlFailure describeCurlFailure(int curlCode, std::string_view detail, bool requestSent,
                                Millis connectTimeout) {
    const auto code = static_cast<CURLcode>(curlCode);
    CurlFailure failure;
    failure.error = classifyCurlCode(code, requestSent);
    const std::string reason = detail.empty() ? std::string(curl_easy_strerror(code)) : std::string(detail);
    switch (failure.error) {
    case TransportError::Timeout:
        // We set no CURLOPT_TIMEOUT, so curl's only deadline is the connect one (DNS + TCP + TLS).
        failure.message = "connect timeout: not connected within " + std::to_string(connectTimeout.count()) +
                          " ms (" + reason + ")";
        break;
    case TransportError::Connect:
        failure.message = "connect error: " + reason;
        break;
    case TransportError::BadResponse:
        failure.message = "bad response: " + reason;
        break;
    case TransportError::Cancelled:
        failure.message = "cancelled: " + reason;
        break;
    case TransportError::Local:
        failure.message = "local resource error: " + reason;
        break;
    case TransportError::None:
        failure.message = reason;
        break;
    }
    return failure;
}

} // namespace fusebox
