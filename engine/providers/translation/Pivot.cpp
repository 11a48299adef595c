#include "providers/translation/Pivot.h"

#include <chrono>

namespace fusebox::translation {

using nlohmann::json;

Image imageFromUrl(const std::string& url) {
    Image image;
    // data:<media type>;base64,<data>: inline, which Anthropic takes only as such.
    constexpr std::string_view kData = "data:";
    constexpr std::string_view kBase64 = ";base64,";
    if (url.starts_with(kData)) {
        const std::size_t marker = url.find(kBase64);
        if (marker != std::string::npos) {
            image.mediaType = url.substr(kData.size(), marker - kData.size());
            image.data = url.substr(marker + kBase64.size());
            return image;
        }
    }
    image.url = url;
    return image;
}

std::string dataUrl(const Image& image) {
    if (!image.url.empty()) return image.url;
    return "data:" + image.mediaType + ";base64," + image.data;
}

Part Part::textPart(std::string text) {
    Part part;
    part.kind = Kind::Text;
    part.text = std::move(text);
    return part;
}

StreamPiece StreamPiece::start(std::string id, std::string model) {
    StreamPiece piece;
    piece.kind = Kind::Start;
    piece.id = std::move(id);
    piece.model = std::move(model);
    return piece;
}

StreamPiece StreamPiece::words(Kind kind, std::string text) {
    StreamPiece piece;
    piece.kind = kind;
    piece.text = std::move(text);
    return piece;
}

StreamPiece StreamPiece::toolStart(int64_t tool, std::string callId, std::string name) {
    StreamPiece piece;
    piece.kind = Kind::ToolStart;
    piece.tool = tool;
    piece.callId = std::move(callId);
    piece.name = std::move(name);
    return piece;
}

StreamPiece StreamPiece::toolArguments(int64_t tool, std::string fragment) {
    StreamPiece piece = words(Kind::ToolArguments, std::move(fragment));
    piece.tool = tool;
    return piece;
}

StreamPiece StreamPiece::toolEnd(int64_t tool) {
    StreamPiece piece;
    piece.kind = Kind::ToolEnd;
    piece.tool = tool;
    return piece;
}

StreamPiece StreamPiece::finish(StopReason stop, std::string stopSequence) {
    StreamPiece piece;
    piece.kind = Kind::Finish;
    piece.stop = stop;
    piece.stopSequence = std::move(stopSequence);
    return piece;
}

StreamPiece StreamPiece::end() {
    StreamPiece piece;
    piece.kind = Kind::End;
    return piece;
}

void appendPart(std::vector<Turn>& turns, Role role, Part part) {
    if (turns.empty() || turns.back().role != role) turns.push_back(Turn{role, {}});
    turns.back().parts.push_back(std::move(part));
}

std::optional<std::string> textContent(const json* content, const std::string& at,
                                       std::initializer_list<const char*> textTypes, Problems& problems) {
    if (!content) return std::string();
    if (content->is_string()) return content->get<std::string>();
    if (!content->is_array()) {
        problems.reader.fail(at, "", "text or a list of parts", *content);
        return std::nullopt;
    }
    std::string text;
    for (std::size_t i = 0; i < content->size(); ++i) {
        const json& part = (*content)[i];
        const std::string partAt = JsonReader::indexPath(at, i);
        if (!part.is_object()) {
            problems.reader.fail(partAt, "", "an object", part);
            return std::nullopt;
        }
        const std::string type = problems.reader.stringOr(part, "type", "", partAt);
        if (problems.reader.failed()) return std::nullopt;
        bool isText = false;
        for (const char* textType : textTypes) isText = isText || type == textType;
        if (!isText) {
            problems.refuse("'" + partAt + "' is of type '" + clipUtf8(type, 64) + "': only text can cross there");
            return std::nullopt;
        }
        auto partText = problems.reader.string(part, "text", partAt);
        if (!partText) {
            if (!problems.reader.failed()) problems.reader.fail(partAt, "text", "a string", json());
            return std::nullopt;
        }
        if (!text.empty()) text += '\n';
        text += *partText;
    }
    return text;
}

std::optional<json> argumentsObject(const std::string& arguments) {
    if (arguments.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
    ParsedJson parsed = parseUntrusted(arguments);
    if (!parsed.ok() || !parsed.value.is_object()) return std::nullopt;
    return std::move(parsed.value);
}

std::string idPart(const std::string& id) {
    std::string out;
    for (char c : id) {
        if (out.size() >= 64) break;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
            out += c;
    }
    return out.empty() ? std::string("fusebox") : out;
}

int64_t unixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace fusebox::translation
