#pragma once
// Anthropic Messages, to and from the pivot: requests both ways, answers both ways, streams both ways.
#include "providers/translation/Pivot.h"
#include "providers/translation/StreamCodec.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>

namespace fusebox::translation {

std::optional<Request> decodeMessagesRequest(const nlohmann::json& body, Problems& problems);
std::optional<nlohmann::json> encodeMessagesRequest(const Request& request, const std::string& model,
                                                    Problems& problems);

std::optional<Answer> decodeMessagesAnswer(const nlohmann::json& answer, JsonReader& reader);
// nullopt (and `error`) when a tool call's arguments are not a JSON object, which Anthropic's `input` must be.
std::optional<nlohmann::json> encodeMessagesAnswer(const Answer& answer, std::string& error);

StopReason stopFromStopReason(const std::string& stopReason);
const char* stopReasonOf(StopReason stop);
Tokens tokensFromMessagesUsage(const nlohmann::json& usage);
nlohmann::json messagesUsage(const Tokens& tokens);

class MessagesStreamDecoder final : public StreamDecoder {
public:
    void decode(const SseEvent& event, JsonReader& reader, std::vector<StreamPiece>& out) override;
    Tokens tokens(const Usage& usage) const override;

private:
    std::set<int64_t> m_toolBlocks; // indices of the tool_use blocks begun
};

class MessagesStreamEncoder final : public StreamEncoder {
public:
    std::string encode(const StreamPiece& piece, const Tokens& tokens) override;
    std::string error(const StreamEventInfo& info) override;

private:
    std::string start(const Tokens& tokens);
    std::string openBlock(const nlohmann::json& block);
    std::string closeBlock();

    bool m_started = false;
    std::string m_id = "msg_fusebox";
    std::string m_model;
    int64_t m_nextBlock = 0;
    int64_t m_openBlock = -1;   // the block open now (Anthropic's blocks never interleave), -1 when none
    bool m_openIsText = false;
    std::map<int64_t, int64_t> m_toolBlocks; // the provider's key of a call -> its block index
    StopReason m_stop = StopReason::EndTurn;
    std::string m_stopSequence;
    bool m_refused = false;
};

} // namespace fusebox::translation
