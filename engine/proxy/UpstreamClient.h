#pragma once
// The upstream HTTP client, on a Boost.Asio io_context: no thread per request and no blocking call; connections
// kept and reused per host; no redirects followed; no Accept-Encoding added (bodies are relayed as the provider
// sent them). Two engines behind one behaviour:
//   - https:// (and every URL when a proxy is configured in the environment): libcurl's multi *socket* interface
//     (CurlMulti, UpstreamTransfer): HTTP/2 where the provider offers it, TLS verified, libcurl's proxy
//     environment (http_proxy, https_proxy, all_proxy, no_proxy) honoured;
//   - plain http:// with no proxy in the environment (as it was when the client was made): HTTP/1.1 on the
//     loop's own sockets (PlainHttpPool, PlainHttpCall), a fraction of libcurl's system calls and CPU per request.
//
// Threading: one client per io_context, and that io_context is run by ONE thread. Every method of the client
// and of its calls, and every callback, runs on that thread; other threads post to it (boost::asio::post).
// The io_context must outlive the client and every UpstreamCall it returned.
//
// Deadlines (ProviderTimeouts, CONTRACT §2): connect (DNS + TCP + TLS, libcurl's), first_byte (start -> first
// response byte; for a request marked `stream` only), idle (gap between two pieces of the response; stopped
// while paused) and total (start -> end). Each ends the call with TransportError::Timeout and a message naming
// the deadline, e.g. "first_byte timeout: first byte not received within 60000 ms". A value <= 0 disables that
// deadline.
//
// Errors (see CurlErrors.h): no connection (DNS, refused, TLS) -> Connect; a response that is cut, garbled or
// missing -> BadResponse; cancel() -> Cancelled. An HTTP error status is not a transport error: it arrives in
// onHead and in UpstreamResult::status with error None.
#include "proxy/UpstreamCall.h"
#include "proxy/UpstreamTypes.h"

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <memory>

namespace fusebox {

class CurlMulti;
class PlainHttpPool;

class UpstreamClient {
  public:
    using Callbacks = UpstreamCallbacks;

    // Which engine carries plain http:// URLs: the loop's own (the default), or libcurl as for https:// (so that
    // the tests can hold both to the same behaviour).
    enum class PlainHttp { Direct, ViaCurl };

    explicit UpstreamClient(boost::asio::io_context& io, PlainHttp plainHttp = PlainHttp::Direct);
    // Aborts every call in flight and closes every connection. No callback runs after this returns, not even
    // onDone of the calls it aborted (their owners are going away too). Safe from inside any callback.
    ~UpstreamClient();
    UpstreamClient(const UpstreamClient&) = delete;
    UpstreamClient& operator=(const UpstreamClient&) = delete;

    // Starts a request. Callbacks: onHead once (the final response; 1xx are skipped), onData per body chunk
    // as it arrives, onDone exactly once and last. None is ever called from inside start() itself, so a
    // caller may store the returned handle first. Keeping the handle is optional: the call runs to its end
    // either way. Safe to call from inside another call's callbacks.
    std::shared_ptr<UpstreamCall> start(UpstreamRequest request, Callbacks callbacks);

    // Calls started whose onDone has not run yet.
    std::size_t inFlight() const;

  private:
    std::shared_ptr<CurlMulti> m_multi;
    std::shared_ptr<PlainHttpPool> m_plain; // null: ViaCurl, or a proxy in the environment

};

} // namespace fusebox
