#include "sim/SimOpenAiExtras.h"

namespace fusebox::sim {

namespace {

// Ordered, so events read like the real API's ("type" first), for people reading a capture.
using OJson = nlohmann::ordered_json;

std::string dump(const OJson& json) {
    return json.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

std::string sseEvent(std::string_view name, const OJson& payload) {
    return "event: " + std::string(name) + "\ndata: " + dump(payload) + "\n\n";
}

std::string messageId(const Reply& reply) {
    return "msg_" + reply.id;
}

OJson responsesUsage(const Reply& reply) {
    return {{"input_tokens", reply.inputTokens},
            {"input_tokens_details", {{"cached_tokens", reply.cacheReadTokens}}},
            {"output_tokens", reply.outputTokens},
            {"output_tokens_details", {{"reasoning_tokens", 0}}},
            {"total_tokens", reply.inputTokens + reply.outputTokens}};
}

OJson outputText(const std::string& text) {
    return {{"type", "output_text"}, {"text", text}, {"annotations", OJson::array()}};
}

OJson messageItem(const Reply& reply, const char* status, OJson content) {
    return {{"id", messageId(reply)},
            {"type", "message"},
            {"status", status},
            {"role", "assistant"},
            {"content", std::move(content)}};
}

// The response object: `status` "in_progress" (no output, no usage yet), "completed", "incomplete" or
// "failed".
OJson responseObject(const Reply& reply, const std::string& status) {
    OJson response = {{"id", reply.id},
                      {"object", "response"},
                      {"created_at", reply.created},
                      {"status", status},
                      {"error", nullptr},
                      {"incomplete_details", nullptr},
                      {"model", reply.model},
                      {"output", OJson::array()},
                      {"usage", nullptr}};
    if (status == "completed" || status == "incomplete") {
        response["output"] =
            OJson::array({messageItem(reply, "completed", OJson::array({outputText(contentText(reply.outputTokens))}))});
        response["usage"] = responsesUsage(reply);
    }
    if (status == "incomplete") response["incomplete_details"] = {{"reason", "max_output_tokens"}};
    return response;
}

std::string endStatus(const Reply& reply) {
    return reply.truncated ? "incomplete" : "completed";
}

OJson completionChoice(const std::string& text, const char* finish) {
    OJson choice = {{"text", text}, {"index", 0}, {"logprobs", nullptr}};
    choice["finish_reason"] = finish ? OJson(finish) : OJson(nullptr);
    return choice;
}

OJson completionChunk(const Reply& reply, OJson choices) {
    OJson chunk = {{"id", reply.id},
                   {"object", "text_completion"},
                   {"created", reply.created},
                   {"model", reply.model},
                   {"choices", std::move(choices)}};
    if (reply.includeUsage) chunk["usage"] = nullptr;
    return chunk;
}

OJson completionUsage(const Reply& reply) {
    return {{"prompt_tokens", reply.inputTokens},
            {"completion_tokens", reply.outputTokens},
            {"total_tokens", reply.inputTokens + reply.outputTokens}};
}

} // namespace

std::string responsesBody(const Reply& reply) {
    return dump(responseObject(reply, endStatus(reply)));
}

StreamScript responsesStream(const Reply& reply) {
    StreamScript script;
    int64_t sequence = 0;
    auto event = [&](const char* type, OJson fields) {
        OJson payload = {{"type", type}};
        for (auto& [key, value] : fields.items()) payload[key] = std::move(value);
        payload["sequence_number"] = sequence++;
        return sseEvent(type, payload);
    };
    const std::string itemId = messageId(reply);
    script.preamble = event("response.created", {{"response", responseObject(reply, "in_progress")}});
    script.preamble += event("response.in_progress", {{"response", responseObject(reply, "in_progress")}});
    script.preamble += event("response.output_item.added",
                             {{"output_index", 0}, {"item", messageItem(reply, "in_progress", OJson::array())}});
    script.preamble += event("response.content_part.added", {{"item_id", itemId},
                                                             {"output_index", 0},
                                                             {"content_index", 0},
                                                             {"part", outputText("")}});
    script.firstContentSequence = sequence;
    for (int i = 0; i < reply.outputTokens; ++i)
        script.content.push_back(event("response.output_text.delta", {{"item_id", itemId},
                                                                      {"output_index", 0},
                                                                      {"content_index", 0},
                                                                      {"delta", contentPiece(i)},
                                                                      {"logprobs", OJson::array()}}));
    const std::string text = contentText(reply.outputTokens);
    script.epilogue = event("response.output_text.done", {{"item_id", itemId},
                                                          {"output_index", 0},
                                                          {"content_index", 0},
                                                          {"text", text},
                                                          {"logprobs", OJson::array()}});
    script.epilogue += event("response.content_part.done", {{"item_id", itemId},
                                                            {"output_index", 0},
                                                            {"content_index", 0},
                                                            {"part", outputText(text)}});
    script.epilogue += event("response.output_item.done",
                             {{"output_index", 0},
                              {"item", messageItem(reply, "completed", OJson::array({outputText(text)}))}});
    const std::string status = endStatus(reply);
    script.epilogue += event(status == "completed" ? "response.completed" : "response.incomplete",
                             {{"response", responseObject(reply, status)}});
    return script;
}

std::string responsesFailedEvent(const Reply& reply, int status, std::string_view message, int64_t sequenceNumber) {
    OJson response = responseObject(reply, "failed");
    response["error"] = {{"code", status == 429 ? "rate_limit_exceeded" : "server_error"},
                         {"message", message.empty() ? defaultErrorMessage(status) : std::string(message)}};
    return sseEvent("response.failed",
                    {{"type", "response.failed"}, {"response", std::move(response)}, {"sequence_number", sequenceNumber}});
}

std::string completionBody(const Reply& reply) {
    OJson body = {{"id", reply.id},
                  {"object", "text_completion"},
                  {"created", reply.created},
                  {"model", reply.model},
                  {"choices", OJson::array({completionChoice(contentText(reply.outputTokens),
                                                             reply.truncated ? "length" : "stop")})},
                  {"usage", completionUsage(reply)}};
    return dump(body);
}

StreamScript completionStream(const Reply& reply) {
    StreamScript script; // legacy completions send no role chunk: the first chunk is text already
    for (int i = 0; i < reply.outputTokens; ++i)
        script.content.push_back(
            "data: " + dump(completionChunk(reply, OJson::array({completionChoice(contentPiece(i), nullptr)}))) + "\n\n");
    script.epilogue =
        "data: " + dump(completionChunk(reply, OJson::array({completionChoice("", reply.truncated ? "length" : "stop")}))) +
        "\n\n";
    if (reply.includeUsage) {
        OJson last = completionChunk(reply, OJson::array());
        last["usage"] = completionUsage(reply);
        script.epilogue += "data: " + dump(last) + "\n\n";
    }
    script.epilogue += "data: [DONE]\n\n";
    return script;
}

std::string countTokensBody(const Reply& reply) {
    return dump(OJson{{"input_tokens", reply.inputTokens}});
}

} // namespace fusebox::sim
