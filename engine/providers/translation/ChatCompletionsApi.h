#pragma once
// OpenAI Chat Completions, to and from the pivot: requests both ways, answers both ways, streams both ways.
#include "providers/translation/Pivot.h"
#include "providers/translation/StreamCodec.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace fusebox::translation {

std::optional<Request> decodeChatRequest(const nlohmann::json& body, Problems& problems);
std::optional<nlohmann::json> encodeChatRequest(const Request& request, const std::string& model, Problems& problems);

std::optional<Answer> decodeChatAnswer(const nlohmann::json& answer, JsonReader& reader);
nlohmann::json encodeChatAnswer(const Answer& answer);

StopReason stopFromFinishReason(const std::string& finishReason);
const char* finishReasonOf(StopReason stop);
Tokens tokensFromChatUsage(const nlohmann::json& usage);
nlohmann::json chatUsage(const Tokens& tokens);

class ChatStreamDecoder final : public StreamDecoder {
public:
    void decode(const SseEvent& event, JsonReader& reader, std::vector<StreamPiece>& out) override;
    Tokens tokens(const Usage& usage) const override;

private:
    bool m_started = false;
    struct Call {
        int64_t key = 0; // the call's key in the pivot
        std::string id;
    };
    std::map<int64_t, Call> m_calls; // the calls begun, by the provider's index
    int64_t m_nextKey = 0;
    int64_t m_reasoningTokens = 0;   // from the usage chunk's completion_tokens_details (the dialect keeps no such count)
};

class ChatStreamEncoder final : public StreamEncoder {
public:
    explicit ChatStreamEncoder(bool clientAskedUsage) : m_clientAskedUsage(clientAskedUsage) {}
    std::string encode(const StreamPiece& piece, const Tokens& tokens) override;
    std::string error(const StreamEventInfo& info) override;

private:
    std::string chunk(nlohmann::json delta, const nlohmann::json& finishReason) const;
    bool m_clientAskedUsage;
    std::string m_id = "chatcmpl-fusebox";
    std::string m_model;
    int64_t m_created = unixNow();
    std::map<int64_t, int64_t> m_callIndex; // the provider's key of a call -> its index in delta.tool_calls
};

} // namespace fusebox::translation
