// The official `openai` SDK's Responses API (responses.create / responses.stream) and the OpenAI Agents SDK
// (@openai/agents: an agent with a function tool, run to its final answer) through the real fusebox executable,
// whose providers are the wire-faithful mocks of tests/e2e/agents/mock_providers.mjs: healthy, falling over to a
// provider of the same API and of another API, and every provider down. The same clients directly against the
// mocks first, which checks the mocks with the official parsers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import { Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, Runner, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';

import { CONSECUTIVE_FAILURES, describeTraffic, startAgentStack } from './agents/agent_stack.mjs';
import { ANSWER_PREFIX, PLAIN_ANSWER } from './agents/mock_providers.mjs';

// The Agents SDK exports traces to api.openai.com unless told not to; these tests are offline.
setTracingDisabled(true);

const TEST_TIMEOUT_MS = 30_000;
const CLIENT_KEY = 'sk-placeholder';
const STORM = { status: 503 };

function marker() {
  return `fusebox-${Math.floor(Math.random() * 1e9)}-marker`;
}

// The mock calls the tool `lookup_marker` when it is offered, and quotes the marker it gets back.
const pickLookup = (tools) => (tools.some((t) => t.name === 'lookup_marker')
  ? { name: 'lookup_marker', args: { key: 'e2e' } } : null);
const quoteMarker = (output) => /fusebox-\d+-marker/.exec(output)?.[0] ?? output.trim();

// Runs fn(stack, client) against fresh mocks (and a fusebox unless direct); stops everything whatever happens.
function sdkCase(name, { providers, direct = false }, fn) {
  test(name, { timeout: TEST_TIMEOUT_MS }, async () => {
    const stack = await startAgentStack({ prefix: 'sdk', providers, direct, pickTool: pickLookup, quote: quoteMarker });
    let fuseboxEnd;
    try {
      const client = new OpenAI({ apiKey: stack.apiKey ?? CLIENT_KEY, baseURL: stack.openaiBaseUrl, maxRetries: 0,
        timeout: 10_000 });
      await fn(stack, client, () => `\n--- what the mocks saw ---\n${describeTraffic(stack)}`);
    } finally {
      fuseboxEnd = await stack.stop();
    }
    if (fuseboxEnd) assert.deepEqual(fuseboxEnd, { code: 0, signal: null }, 'fusebox exits 0 on SIGTERM');
  });
}

function assertServedBy(headers, provider, attempts) {
  assert.equal(headers.get('x-fusebox-provider'), provider);
  assert.equal(headers.get('x-fusebox-attempts'), String(attempts));
  assert.equal(headers.get('x-fusebox-route'), 'default');
}

// The failing providers of a case were each tried, and no more often than their breaker allows.
function assertPrimariesTried(stack, why) {
  for (const id of stack.order.slice(0, -1)) {
    const calls = stack.mocks[id].modelCalls().length;
    assert.ok(calls >= 1 && calls <= CONSECUTIVE_FAILURES, `${id} tried 1..${CONSECUTIVE_FAILURES} times (${calls})${why()}`);
  }
}

// An agent with one function tool; its final output must quote what the tool returned.
async function runAgent(model, mark) {
  const lookup = tool({
    name: 'lookup_marker',
    description: 'Returns the marker stored under a key.',
    parameters: z.object({ key: z.string() }),
    execute: async () => mark,
  });
  const agent = new Agent({ name: 'e2e', instructions: 'Look the marker up, then say it.', model, tools: [lookup] });
  return new Runner({ tracingDisabled: true }).run(agent, 'What is the marker under the key e2e?');
}

async function assertAgentAnswers(stack, model, why) {
  const mark = marker();
  const result = await runAgent(model, mark);
  assert.equal(result.finalOutput, `${ANSWER_PREFIX} ${mark}`, `the agent's final answer quotes the tool${why()}`);
  const answering = stack.mocks[stack.order.at(-1)];
  const second = answering.agentTurns().find((r) => r.decision.toolResult);
  assert.ok(second?.decision.toolResult.output.includes(mark), `the answering provider got the tool result${why()}`);
  assertPrimariesTried(stack, why);
}

describe('the mocks, checked with the official SDKs directly', () => {
  sdkCase('responses.stream directly against the mock Responses provider', {
    direct: true, providers: [{ id: 'responses', api: 'responses' }] }, async (stack, client) => {
    const stream = client.responses.stream({ model: 'mock-model', input: 'Say ok.' });
    const types = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    assert.equal(final.output_text, PLAIN_ANSWER);
    assert.equal(final.status, 'completed');
    assert.ok(final.usage.input_tokens > 0 && final.usage.output_tokens > 0);
    assert.deepEqual([types[0], types[1], types.at(-1)], ['response.created', 'response.in_progress', 'response.completed']);
  });
  sdkCase('Anthropic SDK messages.stream with a tool call directly against the mock Anthropic provider', {
    direct: true, providers: [{ id: 'anthropic', api: 'anthropic' }] }, async (stack) => {
    const client = new Anthropic({ apiKey: stack.apiKey, baseURL: stack.anthropicBaseUrl, maxRetries: 0 });
    const stream = client.messages.stream({ model: 'mock-model', max_tokens: 100,
      messages: [{ role: 'user', content: 'Look the marker up.' }],
      tools: [{ name: 'lookup_marker', input_schema: { type: 'object', properties: { key: { type: 'string' } } } }] });
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.content[0].type, 'tool_use');
    assert.deepEqual(final.content[0].input, { key: 'e2e' }, 'the input_json_delta pieces join to the input');
  });
  sdkCase('Agents SDK directly against the mock Responses provider', {
    direct: true, providers: [{ id: 'responses', api: 'responses' }] },
  (stack, client, why) => assertAgentAnswers(stack, new OpenAIResponsesModel(client, 'mock-model'), why));
  sdkCase('Agents SDK (Chat Completions model) directly against the mock Chat Completions provider', {
    direct: true, providers: [{ id: 'chat', api: 'chat' }] },
  (stack, client, why) => assertAgentAnswers(stack, new OpenAIChatCompletionsModel(client, 'mock-model'), why));
});

describe('openai SDK Responses API through Fusebox', () => {
  sdkCase('responses.create through Fusebox: healthy, not streamed', {
    providers: [{ id: 'oa-primary', api: 'responses' }] }, async (stack, client, why) => {
    const { data, response } = await client.responses.create({ model: 'any-model', input: 'Say ok.' }).withResponse();
    assert.equal(data.output_text, PLAIN_ANSWER, why());
    assert.equal(data.model, 'oa-primary-model', "the route target's model");
    assert.ok(data.usage.input_tokens > 0 && data.usage.output_tokens > 0);
    assertServedBy(response.headers, 'oa-primary', 1);
  });
  sdkCase('responses.stream through Fusebox: healthy', {
    providers: [{ id: 'oa-primary', api: 'responses' }] }, async (stack, client, why) => {
    const stream = client.responses.stream({ model: 'any-model', input: 'Say ok.' });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    const final = await stream.finalResponse();
    assert.equal(text, PLAIN_ANSWER, why());
    assert.equal(final.output_text, PLAIN_ANSWER);
    assert.ok(final.usage.output_tokens > 0, 'usage arrives with response.completed');
  });
  sdkCase('responses.create: Responses primary 503 storm -> Responses backup', {
    providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'oa-backup', api: 'responses' }] },
  async (stack, client, why) => {
    const { data, response } = await client.responses.create({ model: 'any-model', input: 'Say ok.' }).withResponse();
    assert.equal(data.output_text, PLAIN_ANSWER, why());
    assertServedBy(response.headers, 'oa-backup', 2);
  });
  sdkCase('responses.stream: Responses primary 503 storm -> Anthropic backup', {
    providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'an-backup', api: 'anthropic' }] },
  async (stack, client, why) => {
    const stream = client.responses.stream({ model: 'any-model', input: 'Say ok.' });
    const types = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    assert.equal(final.output_text, PLAIN_ANSWER, why());
    assert.ok(final.usage.input_tokens > 0 && final.usage.output_tokens > 0, 'usage crosses from Anthropic');
    assert.equal(types.at(-1), 'response.completed', 'a Responses event stream, translated');
    assert.equal(stack.mocks['an-backup'].modelCalls()[0].body.model, 'an-backup-model');
  });
  sdkCase('responses.create: every provider down -> 503 with Retry-After', {
    providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'oa-backup', api: 'responses', fault: STORM }] },
  async (stack, client, why) => {
    const err = await client.responses.create({ model: 'any-model', input: 'Say ok.' }).then(
      () => assert.fail(`expected a 503${why()}`), (e) => e);
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 503);
    assert.ok(Number(err.headers.get('retry-after')) >= 1, 'Retry-After is set');
    assert.equal(err.error?.fusebox?.route, 'default', 'the body names the route');
    assert.deepEqual(err.error.fusebox.attempts.map((a) => a.provider), ['oa-primary', 'oa-backup']);
  });
});

describe('OpenAI Agents SDK through Fusebox', () => {
  sdkCase('Agents SDK through Fusebox: healthy', {
    providers: [{ id: 'oa-primary', api: 'responses' }] },
  (stack, client, why) => assertAgentAnswers(stack, new OpenAIResponsesModel(client, 'any-model'), why));
  sdkCase('Agents SDK: Responses primary 503 storm -> Responses backup', {
    providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'oa-backup', api: 'responses' }] },
  (stack, client, why) => assertAgentAnswers(stack, new OpenAIResponsesModel(client, 'any-model'), why));
  sdkCase('Agents SDK: Responses primary 503 storm -> Anthropic backup', {
    providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'an-backup', api: 'anthropic' }] },
  (stack, client, why) => assertAgentAnswers(stack, new OpenAIResponsesModel(client, 'any-model'), why));
  sdkCase('Agents SDK: Responses primary 503 storm -> Chat Completions ("api": "chat") backup', {
    providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'oa-chat', api: 'chat', chatOnly: true }] },
  (stack, client, why) => assertAgentAnswers(stack, new OpenAIResponsesModel(client, 'any-model'), why));
  sdkCase('Agents SDK (Chat Completions model): Chat primary 503 storm -> Chat backup', {
    providers: [{ id: 'oa-primary', api: 'chat', fault: STORM }, { id: 'oa-backup', api: 'chat' }] },
  (stack, client, why) => assertAgentAnswers(stack, new OpenAIChatCompletionsModel(client, 'any-model'), why));
  sdkCase('Agents SDK (Chat Completions model): Chat primary 503 storm -> Anthropic backup', {
    providers: [{ id: 'oa-primary', api: 'chat', fault: STORM }, { id: 'an-backup', api: 'anthropic' }] },
  (stack, client, why) => assertAgentAnswers(stack, new OpenAIChatCompletionsModel(client, 'any-model'), why));
  sdkCase('Agents SDK: every provider down -> the run fails with the 503', {
    providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'an-backup', api: 'anthropic', fault: STORM }] },
  async (stack, client, why) => {
    const err = await runAgent(new OpenAIResponsesModel(client, 'any-model'), marker()).then(
      () => assert.fail(`expected the run to fail${why()}`), (e) => e);
    assert.equal(err.status, 503, String(err));
    assert.deepEqual(err.error?.fusebox?.attempts?.map((a) => a.provider), ['oa-primary', 'an-backup']);
  });
});
