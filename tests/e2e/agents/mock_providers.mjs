// Wire-faithful mock LLM providers for the coding-agent tests: an Anthropic Messages one, an OpenAI Responses one
// and an OpenAI Chat Completions one, each a real HTTP server on loopback that answers the way the real API does
// (status codes, headers, the SSE event sequence and field names), so that a real agent (Claude Code, Codex) can
// run against it directly or through Fusebox. What the model "decides" is a two-turn script, the same in every API:
//   turn 1: the request offers the agent's shell tool and carries no tool result yet -> call that tool;
//   turn 2: the request carries the tool's result -> answer with text that quotes it.
// Requests that do not offer the tool (an agent's side calls: titles, quota checks) get a short plain answer.
// Every request is recorded, so that a test can check what the agent (or Fusebox) really sent.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

export const MOCK_KEY = 'mock-provider-key';

// The answer of turn 2 starts with this, then quotes the tool's output.
export const ANSWER_PREFIX = 'Mock model saw the tool output:';
// The answer to a request that offers no tool the script wants (a plain question, an agent's side call).
export const PLAIN_ANSWER = 'Mock model: ok.';

const id = (prefix) => `${prefix}${randomBytes(12).toString('hex')}`;
const tokensOf = (value) => Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));

// ---- reading the conversation, whatever the API ----------------------------------------------------------------

// The tools a request offers, as [{name, parameters}] (JSON Schema of the arguments; null for free-form tools).
function offeredTools(api, body) {
  const tools = Array.isArray(body?.tools) ? body.tools : [];
  return tools.map((t) => {
    if (api === 'anthropic') return { name: t?.name, parameters: t?.input_schema ?? null, type: t?.type };
    if (api === 'chat') return { name: t?.function?.name, parameters: t?.function?.parameters ?? null, type: t?.type };
    return { name: t?.name, parameters: t?.parameters ?? null, type: t?.type }; // responses: flat function tools
  }).filter((t) => typeof t.name === 'string');
}

function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === 'string' ? part : part?.text ?? part?.output ?? '')).join('');
  }
  if (content && typeof content === 'object') return content.text ?? content.output ?? JSON.stringify(content);
  return '';
}

// The tool results a request carries, in order: [{callId, output}].
function toolResults(api, body) {
  const found = [];
  if (api === 'anthropic') {
    for (const message of body?.messages ?? []) {
      if (!Array.isArray(message?.content)) continue;
      for (const block of message.content) {
        if (block?.type === 'tool_result') found.push({ callId: block.tool_use_id, output: textOf(block.content) });
      }
    }
  } else if (api === 'chat') {
    for (const message of body?.messages ?? []) {
      if (message?.role === 'tool') found.push({ callId: message.tool_call_id, output: textOf(message.content) });
    }
  } else {
    const input = Array.isArray(body?.input) ? body.input : [];
    for (const item of input) {
      if (item?.type === 'function_call_output' || item?.type === 'custom_tool_call_output') {
        found.push({ callId: item.call_id, output: textOf(item.output) });
      }
    }
  }
  return found;
}

// The model's decision for one request: {kind: 'tool', name, args} or {kind: 'text', text}.
function decide(api, body, script) {
  const results = toolResults(api, body);
  const mine = results.filter((r) => script.issuedCallIds.has(r.callId));
  const result = mine.at(-1) ?? results.at(-1);
  if (result) return { kind: 'text', text: `${ANSWER_PREFIX} ${script.quote(result.output)}`, toolResult: result };
  const call = script.pickTool(offeredTools(api, body));
  if (call) return { kind: 'tool', name: call.name, args: call.args };
  return { kind: 'text', text: PLAIN_ANSWER };
}

// ---- the three wire formats ------------------------------------------------------------------------------------

function sse(res, event, data) {
  res.write(event ? `event: ${event}\ndata: ${JSON.stringify(data)}\n\n` : `data: ${JSON.stringify(data)}\n\n`);
}

function startSse(res, extraHeaders = {}) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...extraHeaders,
  });
}

// Anthropic Messages (https://docs.anthropic.com/en/api/messages-streaming): message_start carries the input usage,
// a ping follows, each block is content_block_start / _delta* / _stop (tool input as input_json_delta pieces),
// message_delta carries stop_reason and the output usage, message_stop ends it.
function anthropicAnswer(req, res, body, decision) {
  const model = body.model;
  const inputTokens = tokensOf(body.messages);
  const messageId = id('msg_');
  const headers = { 'request-id': id('req_'), 'anthropic-organization-id': 'mock-org' };
  let block;
  let stopReason;
  if (decision.kind === 'tool') {
    block = { type: 'tool_use', id: decision.callId, name: decision.name, input: decision.args };
    stopReason = 'tool_use';
  } else {
    block = { type: 'text', text: decision.text };
    stopReason = 'end_turn';
  }
  const outputTokens = tokensOf(block);
  const usage = { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
    output_tokens: outputTokens, service_tier: 'standard' };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ id: messageId, type: 'message', role: 'assistant', model, content: [block],
      stop_reason: stopReason, stop_sequence: null, usage }));
    return;
  }
  startSse(res, headers);
  sse(res, 'message_start', { type: 'message_start', message: { id: messageId, type: 'message', role: 'assistant',
    model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
  if (block.type === 'tool_use') {
    sse(res, 'content_block_start', { type: 'content_block_start', index: 0,
      content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
    sse(res, 'ping', { type: 'ping' });
    for (const piece of splitInto(JSON.stringify(block.input), 3)) {
      sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0,
        delta: { type: 'input_json_delta', partial_json: piece } });
    }
  } else {
    sse(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    sse(res, 'ping', { type: 'ping' });
    for (const piece of splitInto(block.text, 3)) {
      sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
    }
  }
  sse(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
  sse(res, 'message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens } });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

// OpenAI Responses (https://platform.openai.com/docs/api-reference/responses-streaming): every event has its
// sequence_number; response.created and response.in_progress carry the response in progress; an output item is
// output_item.added, its deltas and .done events, output_item.done; response.completed carries output and usage.
function responsesAnswer(req, res, body, decision) {
  const responseId = id('resp_');
  const createdAt = Math.floor(Date.now() / 1000);
  const inputTokens = tokensOf(body.input);
  const base = { id: responseId, object: 'response', created_at: createdAt, status: 'in_progress', error: null,
    incomplete_details: null, instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null,
    model: body.model, output: [], parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null, reasoning: { effort: null, summary: null },
    store: body.store ?? true, temperature: body.temperature ?? 1, text: { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto', tools: body.tools ?? [], top_p: body.top_p ?? 1, truncation: 'disabled',
    usage: null, user: null, metadata: {} };
  let item;
  if (decision.kind === 'tool') {
    item = { id: id('fc_'), type: 'function_call', status: 'completed', arguments: JSON.stringify(decision.args),
      call_id: decision.callId, name: decision.name };
  } else {
    item = { id: id('msg_'), type: 'message', status: 'completed', role: 'assistant',
      content: [{ type: 'output_text', text: decision.text, annotations: [], logprobs: [] }] };
  }
  const outputTokens = tokensOf(item);
  const usage = { input_tokens: inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens + outputTokens };
  const completed = { ...base, status: 'completed', output: [item], usage };
  const headers = { 'x-request-id': id('req_'), 'openai-processing-ms': '5' };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(completed));
    return;
  }
  startSse(res, headers);
  let seq = 0;
  const emit = (type, fields) => sse(res, type, { type, sequence_number: seq++, ...fields });
  emit('response.created', { response: base });
  emit('response.in_progress', { response: base });
  if (item.type === 'function_call') {
    emit('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } });
    for (const piece of splitInto(item.arguments, 3)) {
      emit('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: piece });
    }
    emit('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: item.arguments });
  } else {
    const text = item.content[0].text;
    emit('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    emit('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
    for (const piece of splitInto(text, 3)) {
      emit('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: piece, logprobs: [] });
    }
    emit('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text, logprobs: [] });
    emit('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: item.content[0] });
  }
  emit('response.output_item.done', { output_index: 0, item });
  emit('response.completed', { response: completed });
  res.end();
}

// OpenAI Chat Completions streaming: chat.completion.chunk objects, the role in the first delta, tool calls as
// delta.tool_calls[{index, id, type, function:{name, arguments}}] with the arguments in later pieces, a last chunk
// with finish_reason, a usage chunk with empty choices when stream_options.include_usage, then data: [DONE].
function chatAnswer(req, res, body, decision) {
  const chatId = id('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const inputTokens = tokensOf(body.messages);
  let message;
  let finish;
  if (decision.kind === 'tool') {
    message = { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: decision.callId, type: 'function',
      function: { name: decision.name, arguments: JSON.stringify(decision.args) } }] };
    finish = 'tool_calls';
  } else {
    message = { role: 'assistant', content: decision.text, refusal: null };
    finish = 'stop';
  }
  const outputTokens = tokensOf(message);
  const usage = { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens,
    prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };
  const headers = { 'x-request-id': id('req_') };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ id: chatId, object: 'chat.completion', created, model: body.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage, system_fingerprint: 'fp_mock' }));
    return;
  }
  startSse(res, headers);
  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (choices, extra = {}) => sse(res, null, { id: chatId, object: 'chat.completion.chunk', created,
    model: body.model, system_fingerprint: 'fp_mock', choices, ...(includeUsage ? { usage: null } : {}), ...extra });
  if (decision.kind === 'tool') {
    const call = message.tool_calls[0];
    chunk([{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: call.id, type: 'function',
      function: { name: call.function.name, arguments: '' } }] }, logprobs: null, finish_reason: null }]);
    for (const piece of splitInto(call.function.arguments, 3)) {
      chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, logprobs: null, finish_reason: null }]);
    }
  } else {
    chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
    for (const piece of splitInto(message.content, 3)) {
      chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]);
    }
  }
  chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]);
  if (includeUsage) chunk([], { usage });
  res.write('data: [DONE]\n\n');
  res.end();
}

function splitInto(text, parts) {
  const size = Math.max(1, Math.ceil(text.length / parts));
  const pieces = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces.length ? pieces : [''];
}

// ---- what each API accepts -------------------------------------------------------------------------------------

// The real APIs reject a body field they do not know with a 400 (Anthropic: "X: Extra inputs are not permitted";
// OpenAI: "Unrecognized request argument supplied: X"), so a field leaking from one API into another through a
// translation fails here as it would there. The lists are the documented request fields, betas included.
const KNOWN_FIELDS = {
  anthropic: ['model', 'messages', 'max_tokens', 'system', 'metadata', 'stop_sequences', 'stream', 'temperature',
    'top_k', 'top_p', 'tools', 'tool_choice', 'thinking', 'service_tier', 'container', 'mcp_servers',
    'context_management', 'output_config', 'output_format', 'inference_geo'],
  responses: ['model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'store',
    'include', 'prompt_cache_key', 'prompt_cache_retention', 'client_metadata', 'stream', 'stream_options',
    'max_output_tokens', 'max_tool_calls', 'metadata', 'previous_response_id', 'conversation', 'temperature', 'top_p',
    'top_logprobs', 'text', 'truncation', 'user', 'safety_identifier', 'service_tier', 'background', 'prompt'],
  chat: ['model', 'messages', 'stream', 'stream_options', 'tools', 'tool_choice', 'parallel_tool_calls', 'temperature',
    'top_p', 'max_tokens', 'max_completion_tokens', 'n', 'stop', 'presence_penalty', 'frequency_penalty', 'logit_bias',
    'logprobs', 'top_logprobs', 'response_format', 'seed', 'user', 'metadata', 'store', 'reasoning_effort',
    'modalities', 'audio', 'prediction', 'service_tier', 'web_search_options', 'verbosity', 'safety_identifier',
    'prompt_cache_key', 'functions', 'function_call'],
};
const ROLES = { anthropic: ['user', 'assistant'], chat: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] };

// Why the API would refuse this body with a 400, or null.
function refusal(api, body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON object';
  if (typeof body.model !== 'string') return 'model: Field required';
  const unknown = Object.keys(body).filter((k) => !KNOWN_FIELDS[api].includes(k));
  if (unknown.length) {
    return api === 'anthropic' ? `${unknown[0]}: Extra inputs are not permitted`
      : `Unrecognized request argument supplied: ${unknown[0]}`;
  }
  if (api === 'anthropic' && !Number.isInteger(body.max_tokens)) return 'max_tokens: Field required';
  const messages = api === 'responses' ? [] : body.messages;
  if (api !== 'responses' && !Array.isArray(messages)) return 'messages: Field required';
  for (const [i, m] of messages.entries()) {
    if (!ROLES[api].includes(m?.role)) return `messages.${i}.role: Input should be one of ${ROLES[api].join(', ')}`;
  }
  return null;
}

// ---- errors, in each API's own shape ---------------------------------------------------------------------------

function sendError(res, api, status, message, extraHeaders = {}) {
  let body;
  if (api === 'anthropic') {
    const type = { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error',
      429: 'rate_limit_error', 529: 'overloaded_error' }[status] ?? 'api_error';
    body = { type: 'error', error: { type, message }, request_id: id('req_') };
  } else {
    const type = status === 401 ? 'invalid_request_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
    body = { error: { message, type, param: null, code: status === 401 ? 'invalid_api_key' : null } };
  }
  res.writeHead(status, { 'content-type': 'application/json', ...extraHeaders });
  res.end(JSON.stringify(body));
}

// A stream that opens normally and then fails before its first content event.
function failInStream(res, api, body) {
  startSse(res);
  if (api === 'anthropic') {
    sse(res, 'message_start', { type: 'message_start', message: { id: id('msg_'), type: 'message', role: 'assistant',
      model: body.model, content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: tokensOf(body.messages), output_tokens: 1 } } });
    sse(res, 'error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  } else if (api === 'responses') {
    const response = { id: id('resp_'), object: 'response', created_at: Math.floor(Date.now() / 1000),
      status: 'in_progress', model: body.model, output: [], usage: null, error: null };
    sse(res, 'response.created', { type: 'response.created', sequence_number: 0, response });
    sse(res, 'response.failed', { type: 'response.failed', sequence_number: 1, response: { ...response,
      status: 'failed', error: { code: 'server_error', message: 'The server had an error processing your request.' } } });
  } else {
    sse(res, null, { id: id('chatcmpl-'), object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000),
      model: body.model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    sse(res, null, { error: { message: 'The server had an error processing your request.', type: 'server_error',
      param: null, code: null } });
  }
  res.end();
}

// ---- the server ------------------------------------------------------------------------------------------------

const PATHS = {
  anthropic: { answer: '/v1/messages', handler: anthropicAnswer },
  responses: { answer: '/v1/responses', handler: responsesAnswer },
  chat: { answer: '/v1/chat/completions', handler: chatAnswer },
};

export class MockProvider {
  // api: 'anthropic' | 'responses' | 'chat'. pickTool(tools) -> {name, args} | null chooses the shell call of turn 1;
  // quote(output) -> what of the tool's output the answer of turn 2 repeats (all of it by default).
  constructor(name, api, { pickTool = () => null, quote = (output) => output.trim(), key = MOCK_KEY } = {}) {
    if (!PATHS[api]) throw new Error(`unknown mock api ${api}`);
    this.name = name;
    this.api = api;
    this.key = key;
    this.script = { pickTool, quote, issuedCallIds: new Set() };
    this.requests = []; // {method, path, headers, body, decision, status}
    // null | {status} (every model call answers that status) | 'hang' (never answers) | 'overloaded_in_stream'
    // (a streamed call starts with 200 and its opening event, then fails in-band before any content, as Anthropic
    // does with overloaded_error and OpenAI with response.failed / an error chunk).
    this.fault = null;
    this.sockets = new Set();
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  async stop() {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  // The model calls: requests to the API's answering path (not count_tokens, models, HEAD...).
  modelCalls() {
    return this.requests.filter((r) => r.method === 'POST' && r.path === PATHS[this.api].answer);
  }

  // Model calls that offered the agent's shell tool: the agent's own turns, not its side calls.
  agentTurns() {
    return this.modelCalls().filter((r) => r.decision?.kind === 'tool' || r.decision?.toolResult);
  }

  authorized(req) {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return req.headers['x-api-key'] === this.key || bearer === this.key;
  }

  async handle(req, res) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://mock');
    const record = { at: Date.now(), method: req.method, path: url.pathname, query: url.search, headers: req.headers,
      raw, body: null };
    this.requests.push(record);
    if (raw) {
      try {
        record.body = JSON.parse(raw);
      } catch {
        record.status = 400;
        return sendError(res, this.api, 400, 'mock: the body is not JSON');
      }
    }
    const reply = (status, fn) => {
      record.status = status;
      return fn();
    };
    if (req.method === 'HEAD' || (req.method === 'GET' && url.pathname === '/')) {
      return reply(200, () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(req.method === 'HEAD' ? undefined : 'ok'); });
    }
    if (!this.authorized(req)) return reply(401, () => sendError(res, this.api, 401, 'mock: invalid x-api-key / bearer key'));
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      const data = [{ id: 'mock-model', object: 'model', created: 0, owned_by: 'mock', type: 'model',
        display_name: 'Mock model', created_at: '2025-01-01T00:00:00Z' }];
      return reply(200, () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ object: 'list', data, has_more: false, first_id: 'mock-model', last_id: 'mock-model' })); });
    }
    if (req.method === 'POST' && this.api === 'anthropic' && url.pathname === '/v1/messages/count_tokens') {
      return reply(200, () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ input_tokens: tokensOf(record.body?.messages) })); });
    }
    if (req.method !== 'POST' || url.pathname !== PATHS[this.api].answer) {
      return reply(404, () => sendError(res, this.api, 404, `mock ${this.api}: no such endpoint ${req.method} ${url.pathname}`));
    }
    if (this.fault === 'hang') {
      record.status = 'hang';
      return undefined; // the socket stays open until the client gives up or stop() destroys it
    }
    if (this.fault?.status) {
      return reply(this.fault.status, () => sendError(res, this.api, this.fault.status, 'mock: the provider is failing'));
    }
    const refused = refusal(this.api, record.body);
    if (refused) return reply(400, () => sendError(res, this.api, 400, refused));
    if (this.fault === 'overloaded_in_stream' && record.body.stream) {
      return reply(200, () => failInStream(res, this.api, record.body));
    }
    const decision = decide(this.api, record.body, this.script);
    if (decision.kind === 'tool') {
      decision.callId = this.api === 'anthropic' ? id('toolu_') : id('call_');
      this.script.issuedCallIds.add(decision.callId);
    }
    record.decision = decision;
    return reply(200, () => PATHS[this.api].handler(req, res, record.body, decision));
  }
}
