#pragma once
// OpenAI Responses, to and from the pivot: requests are decoded (a provider that serves Responses gets them as they
// are), answers and streams are encoded (for a Responses client answered by a Chat Completions or Messages
// provider).
#include "providers/translation/Pivot.h"
#include "providers/translation/StreamCodec.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace fusebox::translation {

std::optional<Request> decodeResponsesRequest(const nlohmann::json& body, Problems& problems);

nlohmann::json encodeResponsesAnswer(const Answer& answer);

nlohmann::json responsesUsage(const Tokens& tokens);
// A response's status and incomplete_details for why its answer ended.
const char* responseStatusOf(StopReason stop);
nlohmann::json incompleteDetailsOf(StopReason stop);

// A Responses client's event sequence (each event with its sequence_number): response.created and .in_progress;
// per message item output_item.added, content_part.added, output_text.delta (or refusal.delta) ..., their .done
// events and output_item.done; per function_call item output_item.added, function_call_arguments.delta ...,
// .done and output_item.done; then response.completed (or .incomplete) with the whole response and its usage.
class ResponsesStreamEncoder final : public StreamEncoder {
public:
    std::string encode(const StreamPiece& piece, const Tokens& tokens) override;
    // response.failed, with the response's error {code, message}: what the Responses API sends when an answer
    // fails midway, and what Codex and the SDKs read as the end of a failed stream.
    std::string error(const StreamEventInfo& info) override;

private:
    struct Call {
        int64_t outputIndex = 0;
        std::string itemId, callId, name, arguments;
    };
    std::string event(const char* type, nlohmann::json data);
    nlohmann::json response(const char* status) const;
    std::string start();
    std::string textDelta(const std::string& text, bool refusal);
    std::string closePart();
    std::string closeMessage();
    std::string closeCall(int64_t key);

    bool m_started = false;
    int64_t m_sequence = 0;
    std::string m_id = "resp_fusebox";
    std::string m_base = "fusebox"; // of the item ids
    std::string m_model;
    int64_t m_created = unixNow();
    nlohmann::json m_output = nlohmann::json::array(); // the items, by output_index (open ones as last added)
    int64_t m_message = -1;                            // output_index of the open message item
    nlohmann::json m_parts = nlohmann::json::array();  // its finished content parts
    bool m_partOpen = false;
    bool m_partIsRefusal = false;
    std::string m_partText;
    std::map<int64_t, Call> m_calls; // open function_call items, by the provider's key
    StopReason m_stop = StopReason::EndTurn;
};

} // namespace fusebox::translation
