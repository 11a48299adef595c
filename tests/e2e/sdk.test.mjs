// The official OpenAI and Anthropic SDKs, unmodified, against the real fusebox executable. Every test starts
// its own fusebox and sim_server processes (loopback only) and stops them at its end, pass or fail.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { CLIENT_KEY, OPEN_S, SIM_EVENTS, SIM_KEY, recordingFetch, simText, startStack } from './harness.mjs';

const TEST_TIMEOUT_MS = 30_000;
const messages = [{ role: 'user', content: 'Say hello.' }]; // 10 bytes: the sim counts ceil(10 / 4) = 3 tokens
const INPUT_TOKENS = 3;

// Runs fn against a fresh stack; the processes are stopped whatever happens, and fusebox must exit 0 on SIGTERM.
async function withStack(fn, options) {
  const stack = await startStack(options);
  let ends;
  try {
    await fn(stack);
  } finally {
    ends = await stack.stop();
  }
  assert.deepEqual(ends.fusebox, { code: 0, signal: null }, 'fusebox exits 0 on SIGTERM');
}

function openaiClient(stack, options = {}) {
  return new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0, timeout: 10_000, ...options });
}

function anthropicClient(stack, options = {}) {
  return new Anthropic({ apiKey: CLIENT_KEY, baseURL: stack.url, maxRetries: 0, timeout: 10_000, ...options });
}

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to fail');
}

// Polls cond() every 20 ms until it is true; fails after timeoutMs.
async function eventually(cond, what, timeoutMs = 2000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function header(headers, name) {
  return typeof headers?.get === 'function' ? headers.get(name) : headers?.[name];
}

function assertFuseboxHeaders(headers, route, provider, attempts = '1') {
  assert.equal(header(headers, 'x-fusebox-route'), route);
  assert.equal(header(headers, 'x-fusebox-provider'), provider);
  assert.equal(header(headers, 'x-fusebox-attempts'), attempts);
  assert.ok(header(headers, 'x-request-id'), 'x-request-id is set');
}

describe('OpenAI SDK', () => {
  test('chat.completions.create, not streamed: the answer, usage and x-fusebox headers', { timeout: TEST_TIMEOUT_MS },
    () => withStack(async (stack) => {
      const client = openaiClient(stack);
      const { data, response } = await client.chat.completions
        .create({ model: 'gpt', messages }, { headers: { 'x-request-id': 'e2e-openai-1' } })
        .withResponse();
      assert.equal(data.object, 'chat.completion');
      assert.equal(data.model, 'sim-1', 'the route target replaced the model');
      assert.equal(data.choices.length, 1);
      assert.equal(data.choices[0].message.role, 'assistant');
      assert.equal(data.choices[0].message.content, simText());
      assert.equal(data.choices[0].finish_reason, 'stop');
      assert.equal(data.usage.prompt_tokens, INPUT_TOKENS);
      assert.equal(data.usage.completion_tokens, SIM_EVENTS);
      assertFuseboxHeaders(response.headers, 'gpt', 'oa');
      assert.equal(response.headers.get('x-request-id'), 'e2e-openai-1', "the client's request id is kept");
    }));

  test('chat.completions.create, streamed: every chunk, joined text, headers, no stray usage chunk',
    { timeout: TEST_TIMEOUT_MS }, () => withStack(async (stack) => {
      const client = openaiClient(stack);
      const { data: stream, response } = await client.chat.completions
        .create({ model: 'gpt', messages, stream: true })
        .withResponse();
      assertFuseboxHeaders(response.headers, 'gpt', 'oa');
      assert.match(response.headers.get('content-type'), /^text\/event-stream/);
      let text = '';
      let contentChunks = 0;
      let finish = null;
      let chunks = 0;
      for await (const chunk of stream) {
        ++chunks;
        assert.equal(chunk.object, 'chat.completion.chunk');
        assert.equal(chunk.model, 'sim-1');
        // Fusebox asks the provider for usage; the client did not, so that extra chunk must not reach it.
        assert.ok(!chunk.usage, `unexpected usage chunk ${JSON.stringify(chunk)}`);
        for (const choice of chunk.choices) {
          if (choice.delta?.content) {
            text += choice.delta.content;
            ++contentChunks;
          }
          if (choice.finish_reason) finish = choice.finish_reason;
        }
      }
      assert.equal(text, simText());
      assert.equal(contentChunks, SIM_EVENTS);
      assert.equal(finish, 'stop');
      assert.ok(chunks > SIM_EVENTS, 'role and finish chunks arrive too');
      // The sim counts a stream complete once its last write has finished, which may be just after we read it.
      await eventually(async () => (await stack.oa.cmd('stats')).streams_completed === 1, 'the sim completed 1 stream');
    }));

  test('streamed with stream_options.include_usage: the usage chunk reaches the client', { timeout: TEST_TIMEOUT_MS },
    () => withStack(async (stack) => {
      const client = openaiClient(stack);
      const stream = await client.chat.completions.create({
        model: 'gpt', messages, stream: true, stream_options: { include_usage: true },
      });
      let text = '';
      let usage = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, simText());
      assert.ok(usage, 'a usage chunk arrived');
      assert.equal(usage.prompt_tokens, INPUT_TOKENS);
      assert.equal(usage.completion_tokens, SIM_EVENTS);
    }));

  test('--demo: the demo route answers through the SDK', { timeout: TEST_TIMEOUT_MS },
    () => withStack(async (stack) => {
      const client = openaiClient(stack);
      const { data, response } = await client.chat.completions.create({ model: 'demo', messages }).withResponse();
      assert.match(data.choices[0].message.content, /^Fusebox sim says/);
      assertFuseboxHeaders(response.headers, 'demo', 'sim-primary');
    }, { demo: true }));
});

describe('Anthropic SDK', () => {
  test('messages.create, not streamed: text, usage and x-fusebox headers', { timeout: TEST_TIMEOUT_MS },
    () => withStack(async (stack) => {
      const client = anthropicClient(stack);
      const { data, response } = await client.messages
        .create({ model: 'claude', max_tokens: 100, messages })
        .withResponse();
      assert.equal(data.type, 'message');
      assert.equal(data.role, 'assistant');
      assert.equal(data.model, 'sim-1-mini', 'the route target replaced the model');
      assert.equal(data.content.length, 1);
      assert.equal(data.content[0].type, 'text');
      assert.equal(data.content[0].text, simText());
      assert.equal(data.stop_reason, 'end_turn');
      assert.equal(data.usage.input_tokens, INPUT_TOKENS);
      assert.equal(data.usage.output_tokens, SIM_EVENTS);
      assertFuseboxHeaders(response.headers, 'claude', 'an');
    }));

  test('messages.stream: every text delta, final message, usage, headers', { timeout: TEST_TIMEOUT_MS },
    () => withStack(async (stack) => {
      const client = anthropicClient(stack);
      const stream = client.messages.stream({ model: 'claude', max_tokens: 100, messages });
      const deltas = [];
      const events = [];
      stream.on('text', (delta) => deltas.push(delta));
      stream.on('streamEvent', (event) => events.push(event.type));
      const { response } = await stream.withResponse();
      assertFuseboxHeaders(response.headers, 'claude', 'an');
      const final = await stream.finalMessage();
      assert.equal(deltas.length, SIM_EVENTS);
      assert.equal(deltas.join(''), simText());
      assert.equal(final.content[0].text, simText());
      assert.equal(final.model, 'sim-1-mini');
      assert.equal(final.stop_reason, 'end_turn');
      assert.equal(final.usage.input_tokens, INPUT_TOKENS);
      assert.equal(final.usage.output_tokens, SIM_EVENTS);
      assert.equal(events[0], 'message_start');
      assert.equal(events.at(-1), 'message_stop');
      assert.equal(events.filter((t) => t === 'content_block_delta').length, SIM_EVENTS);
    }));

  test('messages.create with stream: true and a small max_tokens: raw events, max_tokens stop', { timeout: TEST_TIMEOUT_MS },
    () => withStack(async (stack) => {
      const client = anthropicClient(stack);
      const stream = await client.messages.create({ model: 'claude', max_tokens: 3, messages, stream: true });
      let text = '';
      let stop = null;
      let outputTokens = null;
      for await (const event of stream) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
        if (event.type === 'message_delta') {
          stop = event.delta.stop_reason;
          outputTokens = event.usage.output_tokens;
        }
      }
      assert.equal(text, simText(3));
      assert.equal(stop, 'max_tokens');
      assert.equal(outputTokens, 3);
    }));
});

describe('fallback across the two APIs', () => {
  test('OpenAI SDK, streamed: the OpenAI provider fails, the Anthropic one answers in OpenAI chunks',
    { timeout: TEST_TIMEOUT_MS }, () => withStack(async (stack) => {
      await stack.oa.cmd('fault 503');
      const client = openaiClient(stack);
      const { data: stream, response } = await client.chat.completions
        .create({ model: 'gpt-then-claude', messages, stream: true, stream_options: { include_usage: true } })
        .withResponse();
      assertFuseboxHeaders(response.headers, 'gpt-then-claude', 'an', '2');
      let text = '';
      let finish = null;
      let usage = null;
      for await (const chunk of stream) {
        assert.equal(chunk.object, 'chat.completion.chunk');
        if (chunk.usage) usage = chunk.usage;
        for (const choice of chunk.choices) {
          if (choice.delta?.content) text += choice.delta.content;
          if (choice.finish_reason) finish = choice.finish_reason;
        }
      }
      assert.equal(text, simText());
      assert.equal(finish, 'stop');
      assert.equal(usage.prompt_tokens, INPUT_TOKENS);
      assert.equal(usage.completion_tokens, SIM_EVENTS);
    }));

  test('Anthropic SDK: the Anthropic provider fails, the OpenAI one answers as a message, streamed and not',
    { timeout: TEST_TIMEOUT_MS }, () => withStack(async (stack) => {
      await stack.an.cmd('fault 529');
      const client = anthropicClient(stack);
      const { data, response } = await client.messages
        .create({ model: 'claude-then-gpt', max_tokens: 100, messages })
        .withResponse();
      assertFuseboxHeaders(response.headers, 'claude-then-gpt', 'oa', '2');
      assert.equal(data.type, 'message');
      assert.equal(data.content[0].text, simText());
      assert.equal(data.stop_reason, 'end_turn');
      assert.equal(data.usage.output_tokens, SIM_EVENTS);

      const stream = client.messages.stream({ model: 'claude-then-gpt', max_tokens: 100, messages });
      const deltas = [];
      stream.on('text', (delta) => deltas.push(delta));
      const final = await stream.finalMessage();
      assert.equal(deltas.join(''), simText());
      assert.equal(final.content[0].text, simText());
      assert.equal(final.stop_reason, 'end_turn');
      assert.equal(final.usage.output_tokens, SIM_EVENTS);
    }));
});

describe('client keys', () => {
  test('the placeholder key never reaches the provider; the configured key does', { timeout: TEST_TIMEOUT_MS },
    () => withStack(async (stack) => {
      // Control: the sims really check the key. The same SDKs sent straight at them get a 401.
      const directOpenai = new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${stack.oa.url}/v1`, maxRetries: 0 });
      const e1 = await rejection(directOpenai.chat.completions.create({ model: 'sim-1', messages }));
      assert.ok(e1 instanceof OpenAI.AuthenticationError, `got ${e1}`);
      assert.equal(e1.status, 401);
      const directAnthropic = new Anthropic({ apiKey: CLIENT_KEY, baseURL: stack.an.url, maxRetries: 0 });
      const e2 = await rejection(directAnthropic.messages.create({ model: 'sim-1', max_tokens: 10, messages }));
      assert.ok(e2 instanceof Anthropic.AuthenticationError, `got ${e2}`);
      assert.equal(e2.status, 401);
      await stack.oa.cmd('reset');
      await stack.an.cmd('reset');

      // Through fusebox, the same placeholder key works: fusebox sent the provider's own key instead.
      const viaOpenai = await openaiClient(stack).chat.completions.create({ model: 'gpt', messages });
      assert.equal(viaOpenai.choices[0].message.content, simText());
      const viaAnthropic = await anthropicClient(stack).messages.create({ model: 'claude', max_tokens: 100, messages });
      assert.equal(viaAnthropic.content[0].text, simText());

      const [oaSeen] = await stack.oa.cmd('requests');
      assert.equal(oaSeen.headers.authorization, `Bearer ${SIM_KEY}`);
      assert.equal(oaSeen.headers['x-api-key'], undefined);
      const [anSeen] = await stack.an.cmd('requests');
      assert.equal(anSeen.headers['x-api-key'], SIM_KEY);
      assert.equal(anSeen.headers.authorization, undefined);
      assert.ok(anSeen.headers['anthropic-version'], 'anthropic-version reaches the provider');
      for (const seen of [oaSeen, anSeen]) {
        assert.ok(!JSON.stringify(seen.headers).includes(CLIENT_KEY), `client key leaked: ${JSON.stringify(seen)}`);
      }
    }));
});

// Both sims fail with 503; two failures in a row open a provider's breaker for OPEN_S seconds (no jitter).
// The scenario, per SDK:
//   1. maxRetries 0, two calls: the provider really fails; the SDK throws APIError 503 (upstream_unavailable).
//   2. maxRetries 0: the breaker refuses without a network call: 503 circuit_open, Retry-After, x-fusebox-breaker.
//   3. maxRetries 1, outage goes on: the SDK waits Retry-After, retries once (the half-open probe fails), throws 503.
//   4. the provider recovers (fault cleared), maxRetries 1: 503 circuit_open, the SDK waits Retry-After, retries,
//      and the retry gets through (the probe succeeds).
async function outageScenario(stack, sim, { makeClient, call, checkOpenError, checkSuccess }) {
  await sim.cmd('fault 503');
  const requestsSeen = async () => (await sim.cmd('stats')).requests;

  const step1 = recordingFetch();
  const noRetry = makeClient({ fetch: step1.fetch, maxRetries: 0 });
  for (let i = 0; i < 2; ++i) {
    const err = await rejection(call(noRetry));
    assert.equal(err.status, 503, `step 1 call ${i}: ${err}`);
    assert.equal(header(err.headers, 'x-fusebox-breaker'), null, 'a real failure is not a breaker refusal');
    assert.match(header(err.headers, 'retry-after'), /^\d+$/);
  }
  assert.equal(await requestsSeen(), 2, 'both calls reached the provider');

  const refused = await rejection(call(noRetry));
  assert.equal(refused.status, 503);
  assert.equal(header(refused.headers, 'x-fusebox-breaker'), 'open');
  const retryAfter = Number(header(refused.headers, 'retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= OPEN_S, `Retry-After ${retryAfter}`);
  checkOpenError(refused);
  assert.equal(await requestsSeen(), 2, 'a refusal makes no network call');
  assert.equal(step1.calls.length, 3, 'maxRetries 0: no retries');

  // The SDKs wait Retry-After (whole seconds) before a retry; measure it from the 503's headers to the retry.
  const assertWaitedRetryAfter = (calls) => {
    assert.equal(calls.length, 2, `one retry: ${JSON.stringify(calls)}`);
    assert.equal(calls[0].status, 503);
    const wanted = Number(calls[0].retryAfter) * 1000;
    const waited = calls[1].start - calls[0].headersAt;
    assert.ok(waited >= wanted - 50 && waited <= wanted + 1500, `waited ${waited.toFixed(0)} ms for Retry-After ${wanted} ms`);
    return waited;
  };

  const step3 = recordingFetch();
  const oneRetry = makeClient({ fetch: step3.fetch, maxRetries: 1 });
  const stillDown = await rejection(call(oneRetry));
  assert.equal(stillDown.status, 503);
  const waited3 = assertWaitedRetryAfter(step3.calls);
  assert.equal(step3.calls[0].breaker, 'open');
  assert.equal(step3.calls[1].breaker, null, 'the retry was let through as the half-open probe, and failed');
  assert.equal(await requestsSeen(), 3, 'only the probe reached the provider');

  await sim.cmd('clear');
  const step4 = recordingFetch();
  const recovering = makeClient({ fetch: step4.fetch, maxRetries: 1 });
  const { data, response } = await call(recovering).withResponse();
  const waited4 = assertWaitedRetryAfter(step4.calls);
  assert.equal(step4.calls[0].breaker, 'open');
  assert.equal(step4.calls[1].status, 200);
  checkSuccess(data, response);
  assert.equal(await requestsSeen(), 4);
  return { retryAfter, waited3, waited4 };
}

describe('SDK retries on the Fusebox 503', () => {
  test('OpenAI SDK: APIError 503, honours Retry-After, the retry gets through after recovery',
    { timeout: TEST_TIMEOUT_MS }, () => withStack(async (stack) => {
      const seen = await outageScenario(stack, stack.oa, {
        makeClient: (options) => openaiClient(stack, options),
        call: (client) => client.chat.completions.create({ model: 'gpt', messages }),
        checkOpenError: (err) => {
          assert.ok(err instanceof OpenAI.InternalServerError, `got ${err}`);
          assert.equal(err.type, 'circuit_open');
          assert.equal(err.code, 'circuit_open');
          assert.equal(err.error.fusebox.route, 'gpt');
          assert.equal(err.error.fusebox.attempts[0].outcome, 'short_circuited');
          assert.equal(err.error.fusebox.attempts[0].provider, 'oa');
        },
        checkSuccess: (data, response) => {
          assert.equal(data.choices[0].message.content, simText());
          assertFuseboxHeaders(response.headers, 'gpt', 'oa');
        },
      });
      console.log(`# OpenAI SDK: Retry-After ${seen.retryAfter} s; waited ${seen.waited3.toFixed(0)} ms and ` +
        `${seen.waited4.toFixed(0)} ms before its retries`);
    }));

  test('Anthropic SDK: APIError 503 overloaded_error, honours Retry-After, the retry gets through after recovery',
    { timeout: TEST_TIMEOUT_MS }, () => withStack(async (stack) => {
      const seen = await outageScenario(stack, stack.an, {
        makeClient: (options) => anthropicClient(stack, options),
        call: (client) => client.messages.create({ model: 'claude', max_tokens: 100, messages }),
        checkOpenError: (err) => {
          assert.ok(err instanceof Anthropic.InternalServerError, `got ${err}`);
          assert.equal(err.error.type, 'error');
          assert.equal(err.error.error.type, 'overloaded_error');
          assert.equal(err.error.fusebox.route, 'claude');
          assert.equal(err.error.fusebox.attempts[0].outcome, 'short_circuited');
          assert.equal(err.error.fusebox.attempts[0].provider, 'an');
        },
        checkSuccess: (data, response) => {
          assert.equal(data.content[0].text, simText());
          assertFuseboxHeaders(response.headers, 'claude', 'an');
        },
      });
      console.log(`# Anthropic SDK: Retry-After ${seen.retryAfter} s; waited ${seen.waited3.toFixed(0)} ms and ` +
        `${seen.waited4.toFixed(0)} ms before its retries`);
    }));
});
