#pragma once
// The pivot: one representation of a conversation, its answer and its stream, that every client API decodes into
// and every provider API encodes from. A new API is one more decoder and encoder, never a row and a column of
// pairwise translators.
//
// It holds what agents send and read: a system prompt, user and assistant turns of text, images, tool calls and
// tool results, function tools and the choice among them, sampling limits, and, on the way back, text, refusals,
// tool calls, why the answer stopped and what it cost. Hints the target has no counterpart for are dropped before
// they get here (LiteLLM's drop_params); what must not be dropped is refused by the decoder, naming the field.
#include "core/UntrustedJson.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace fusebox::translation {

// Why an answer ended, in terms every API has.
enum class StopReason { EndTurn, MaxTokens, StopSequence, ToolUse, Refusal };

// A picture: by URL, or inline (base64 `data` of `mediaType`). A data: URL is read as inline.
struct Image {
    std::string url;
    std::string mediaType;
    std::string data;
};
Image imageFromUrl(const std::string& url);
std::string dataUrl(const Image& image); // the URL, or a data: URL of the inline picture

// A call the assistant made. `arguments` is the JSON text exactly as the model wrote it (OpenAI's shape), so a
// stream's fragments join to the same bytes on every side.
struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments;
};

struct Part {
    enum class Kind { Text, Image, ToolCall, ToolResult, Refusal };
    Kind kind = Kind::Text;
    std::string text; // Text, Refusal
    Image image;
    ToolCall call;
    // ToolResult: the call it answers, what the tool gave back (Text and Image parts), and whether it failed.
    std::string callId;
    std::vector<Part> result;
    bool isError = false;

    static Part textPart(std::string text);
};

enum class Role { User, Assistant };
struct Turn {
    Role role = Role::User;
    std::vector<Part> parts;
};

struct ToolDef {
    std::string name;
    std::string description;
    nlohmann::json parameters = nlohmann::json::object(); // a JSON Schema
    std::optional<bool> strict;
};

struct ToolChoice {
    enum class Mode { Auto, None, Required, Named };
    Mode mode = Mode::Auto;
    std::string name; // Named
};

struct Request {
    std::string system; // system / developer messages and instructions, joined by blank lines
    std::vector<Turn> turns;
    std::vector<ToolDef> tools;
    std::optional<ToolChoice> toolChoice;
    std::optional<bool> parallelToolCalls;
    std::optional<int64_t> maxTokens;
    std::optional<double> temperature;
    std::optional<double> topP;
    std::vector<std::string> stop;
    std::optional<nlohmann::json> jsonFormat; // OpenAI's response_format (json_object, json_schema)
    bool stream = false;
    std::optional<std::string> user;
};

// Token counts, normalised: `input` is every prompt token, cached or not (OpenAI's prompt_tokens); Anthropic's
// input_tokens is input - cacheRead - cacheWrite.
struct Tokens {
    int64_t input = 0;
    int64_t cacheRead = 0;
    int64_t cacheWrite = 0;
    int64_t output = 0;
    int64_t reasoning = 0; // of output
};

struct Answer {
    std::string id;
    std::string model;
    std::vector<Part> content; // Text, Refusal and ToolCall parts, in order
    StopReason stop = StopReason::EndTurn;
    std::string stopSequence;
    Tokens tokens;
};

// One step of a streamed answer.
struct StreamPiece {
    enum class Kind {
        Start,         // id, model
        Text,          // text
        Refusal,       // text
        ToolStart,     // tool, callId, name
        ToolArguments, // tool, text: a fragment of the arguments' JSON text
        ToolEnd,       // tool: its arguments are whole
        Finish,        // stop, stopSequence
        End,           // the provider's end of stream: the usage is final
    };
    Kind kind = Kind::Text;
    std::string id, model, text, callId, name, stopSequence;
    int64_t tool = 0; // the provider's key for the call (its index)
    StopReason stop = StopReason::EndTurn;

    static StreamPiece start(std::string id, std::string model);
    static StreamPiece words(Kind kind, std::string text); // Text or Refusal
    static StreamPiece toolStart(int64_t tool, std::string callId, std::string name);
    static StreamPiece toolArguments(int64_t tool, std::string fragment);
    static StreamPiece toolEnd(int64_t tool);
    static StreamPiece finish(StopReason stop, std::string stopSequence = {});
    static StreamPiece end();
};

// What went wrong while decoding or encoding: a malformed field (the request's or the answer's own fault, with
// its path), or something the other side cannot express (the target is skipped). The first of each is kept.
struct Problems {
    JsonReader reader;
    std::string whyNot;
    void refuse(std::string reason) {
        if (whyNot.empty()) whyNot = std::move(reason);
    }
    bool any() const { return reader.failed() || !whyNot.empty(); }
};

// Adds `part` to the last turn when it has `role`, else to a new turn of that role.
void appendPart(std::vector<Turn>& turns, Role role, Part part);

// Text of a content field that must be text: a string, or a list of {"type":"text","text":...} parts (any of
// `textTypes`) joined by newlines; another part type is refused, naming it and its path.
std::optional<std::string> textContent(const nlohmann::json* content, const std::string& at,
                                       std::initializer_list<const char*> textTypes, Problems& problems);

// The JSON text of `arguments` as an object, for APIs that carry tool input as an object: "" is {}, anything but
// an object is nullopt.
std::optional<nlohmann::json> argumentsObject(const std::string& arguments);

// A provider's id made safe for ours ("chatcmpl-", "msg_", "resp_" ...): at most 64 bytes of [A-Za-z0-9_-].
std::string idPart(const std::string& id);

int64_t unixNow();

} // namespace fusebox::translation
