#pragma once
// Drives a hiredis 0.14 async context from a Boost.Asio io_context (hiredis' adapter contract: addRead, delRead,
// addWrite, delWrite, cleanup; see hiredis/adapters/libuv.h for the reference shape).
//
// NOTE: the socket belongs to hiredis, which closes it in redisFree(). Asio only watches it through a
// stream_descriptor that is release()d in cleanup, never closed, so the descriptor number cannot be closed
// twice (and perhaps close somebody else's file that reused the number).
struct redisAsyncContext;

namespace boost::asio {
class io_context;
}

namespace fusebox::fleet {

// Attaches `context` to `io`; false when the context is already attached or has no socket. All later calls into
// hiredis for this context must run on `io`'s thread.
bool attachToAsio(redisAsyncContext* context, boost::asio::io_context& io);

} // namespace fusebox::fleet
