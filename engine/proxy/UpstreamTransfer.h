#pragma once
// One HTTP exchange on a CurlMulti: sets up the easy handle, turns curl's header and body callbacks into
// onHead/onData, runs the first_byte (streams only), idle and total deadlines, and ends with exactly one onDone.
// Internal to UpstreamClient; callers see it as an UpstreamCall.
#include "proxy/CurlMulti.h"
#include "proxy/UpstreamCall.h"
#include "proxy/UpstreamDeadlines.h"
#include "proxy/UpstreamTypes.h"

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

struct curl_slist;

namespace fusebox {

class UpstreamTransfer final : public UpstreamCall,
                               public CurlTransfer,
                               public std::enable_shared_from_this<UpstreamTransfer> {
  public:
    UpstreamTransfer(const std::shared_ptr<CurlMulti>& multi, UpstreamRequest request,
                     UpstreamCallbacks callbacks);
    ~UpstreamTransfer() override;
    UpstreamTransfer(const UpstreamTransfer&) = delete;
    UpstreamTransfer& operator=(const UpstreamTransfer&) = delete;

    // Starts the exchange; never calls a callback from inside itself (a failure to start is posted).
    void begin();

    void cancel() override;
    void pause() override;
    void resume() override;
    bool finished() const override { return m_state == State::Finished || m_state == State::Gone; }

    void onCurlDone(int curlCode) override;
    void onMultiClosing() override;
    void onMultiClosed() override;

    // libcurl's header and write callbacks land here. They return what curl expects: the byte count to go on,
    // anything else to abort (or, for body bytes, CURL_WRITEFUNC_PAUSE to hold them until resume()).
    std::size_t onHeaderBytes(std::string_view line);
    std::size_t onBodyBytes(const char* data, std::size_t size);

  private:
    enum class State { Running, Cancelling, Finished, Gone };

    bool setUpEasy(CurlMulti& multi, std::string& error);
    void attach();
    void failSoon(TransportError error, std::string message);
    void finish(TransportError error, std::string message);
    void releaseEasy();
    void applyPause();
    bool deliverHead();

    std::weak_ptr<CurlMulti> m_multi;
    boost::asio::io_context& m_io;
    UpstreamRequest m_request;
    UpstreamCallbacks m_callbacks;

    void* m_easy = nullptr; // CURL*; owned here until attached, then by the multi
    curl_slist* m_headerList = nullptr;
    std::array<char, 256> m_errorBuffer{}; // CURL_ERROR_SIZE
    bool m_attached = false;

    State m_state = State::Running;
    bool m_paused = false;     // what the caller wants
    bool m_curlPaused = false; // what curl was last told (or did itself after CURL_WRITEFUNC_PAUSE)

    UpstreamHead m_head; // the response being parsed; the final one once m_headDelivered
    bool m_headDelivered = false;
    UpstreamDeadlines m_deadlines; // first_byte, idle, total (curl runs connect)
};

} // namespace fusebox
