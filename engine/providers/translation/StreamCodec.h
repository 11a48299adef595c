#pragma once
// A stream crosses in two halves: the provider's API decodes each event into pivot pieces, the client's API
// encodes each piece into its own events. Both keep what state their API's framing needs (open blocks, indices).
#include "providers/Dialect.h"
#include "providers/SseParser.h"
#include "providers/translation/Pivot.h"

#include <string>
#include <vector>

namespace fusebox::translation {

class StreamDecoder {
public:
    virtual ~StreamDecoder() = default;
    // The pieces of one provider event that is not an error (the translator answers those itself). A field of the
    // wrong type is recorded in `reader`.
    virtual void decode(const SseEvent& event, JsonReader& reader, std::vector<StreamPiece>& out) = 0;
    // The attempt's usage so far, as the provider's dialect counted it, normalised.
    virtual Tokens tokens(const Usage& usage) const = 0;
};

class StreamEncoder {
public:
    virtual ~StreamEncoder() = default;
    // The client's bytes for one piece; `tokens` is the usage so far.
    virtual std::string encode(const StreamPiece& piece, const Tokens& tokens) = 0;
    // The provider's in-band error, in the client's shape (the exchange ends the stream after it).
    virtual std::string error(const StreamEventInfo& info) = 0;
    // Set when a piece cannot be put in the client's framing (the exchange treats it as a bad_response).
    const std::string& failure() const { return m_failure; }

protected:
    void fail(std::string why) {
        if (m_failure.empty()) m_failure = std::move(why);
    }

private:
    std::string m_failure;
};

} // namespace fusebox::translation
