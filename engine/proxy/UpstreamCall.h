#pragma once
// The caller's handle on one upstream request started by UpstreamClient::start().
//
// Like the client, a call belongs to its client's io_context thread: call these only from there. Each is safe
// at any time, including from inside this call's own onHead/onData/onDone, after the call ended, and after
// the client was destroyed (then they do nothing).
namespace fusebox {

class UpstreamCall {
  public:
    virtual ~UpstreamCall() = default;

    // Stops the request: no onHead/onData after this returns, and the connection is closed (an HTTP/1.1
    // connection cannot be reused mid-response). onDone(Cancelled) follows exactly once, but never from
    // inside cancel() itself: it is posted to the io_context, so a caller may cancel while holding its own
    // locks or mid-way through its own state change. No-op when the call already ended.
    virtual void cancel() = 0;

    // Backpressure: stop reading the response (the data stays in the kernel / TCP window) until resume(). The
    // idle deadline does not run while paused; connect, first_byte and total do. At most the chunk being
    // delivered when pause() is called completes; no onData follows until resume(). resume() never calls
    // onData from inside itself either: buffered data is delivered from the io_context afterwards.
    virtual void pause() = 0;
    virtual void resume() = 0;

    // True once onDone has been called (or the client went away).
    virtual bool finished() const = 0;
};

} // namespace fusebox
