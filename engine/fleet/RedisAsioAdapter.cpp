#include "fleet/RedisAsioAdapter.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <hiredis/async.h>

#include <memory>

namespace fusebox::fleet {

namespace {

// Shared with the pending waits, so a wait that completes after cleanup finds `context` null and does nothing.
struct Watch : std::enable_shared_from_this<Watch> {
    Watch(boost::asio::io_context& io, int fd, redisAsyncContext* ac) : descriptor(io, fd), context(ac) {}

    boost::asio::posix::stream_descriptor descriptor;
    redisAsyncContext* context;
    bool wantRead = false, wantWrite = false;
    bool readArmed = false, writeArmed = false; // a wait is pending (Asio cannot cancel only one direction)

    void armRead() {
        if (readArmed || !wantRead || context == nullptr) return;
        readArmed = true;
        descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                              [self = shared_from_this()](const boost::system::error_code& ec) {
                                  self->readArmed = false;
                                  if (ec || self->context == nullptr || !self->wantRead) return;
                                  redisAsyncHandleRead(self->context); // may run cleanup: context is then null
                                  self->armRead();
                              });
    }
    void armWrite() {
        if (writeArmed || !wantWrite || context == nullptr) return;
        writeArmed = true;
        descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                              [self = shared_from_this()](const boost::system::error_code& ec) {
                                  self->writeArmed = false;
                                  if (ec || self->context == nullptr || !self->wantWrite) return;
                                  redisAsyncHandleWrite(self->context);
                                  self->armWrite();
                              });
    }
};

// hiredis keeps a raw pointer; it owns one reference until cleanup.
struct Handle {
    std::shared_ptr<Watch> watch;
};

Watch& watchOf(void* privdata) { return *static_cast<Handle*>(privdata)->watch; }

void addRead(void* privdata) {
    Watch& w = watchOf(privdata);
    w.wantRead = true;
    w.armRead();
}
void delRead(void* privdata) { watchOf(privdata).wantRead = false; }
void addWrite(void* privdata) {
    Watch& w = watchOf(privdata);
    w.wantWrite = true;
    w.armWrite();
}
void delWrite(void* privdata) { watchOf(privdata).wantWrite = false; }

void cleanup(void* privdata) {
    auto* handle = static_cast<Handle*>(privdata);
    Watch& w = *handle->watch;
    w.context = nullptr;
    w.wantRead = w.wantWrite = false;
    boost::system::error_code ignored;
    w.descriptor.cancel(ignored); // pending waits complete with operation_aborted and see context == nullptr
    w.descriptor.release();       // hiredis closes the socket itself, right after this returns
    delete handle;
}

} // namespace

bool attachToAsio(redisAsyncContext* ac, boost::asio::io_context& io) {
    if (ac == nullptr || ac->ev.data != nullptr || ac->c.fd < 0) return false;
    auto* handle = new Handle{std::make_shared<Watch>(io, ac->c.fd, ac)};
    ac->ev.data = handle;
    ac->ev.addRead = addRead;
    ac->ev.delRead = delRead;
    ac->ev.addWrite = addWrite;
    ac->ev.delWrite = delWrite;
    ac->ev.cleanup = cleanup;
    return true;
}

} // namespace fusebox::fleet
