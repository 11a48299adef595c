// Real coding agents through Fusebox: Claude Code (`claude -p`) and Codex CLI (`codex exec`), the pinned npm
// releases, run a two-turn shell task against wire-faithful mock providers, directly (proving the mocks are what
// the agents expect) and through the real fusebox executable: healthy, with the primary failing over to a provider
// of the same API, and to one of the other API. Offline: everything is on 127.0.0.1.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { CLIENT_KEY, missingAgents, runClaude, runCodex, shellCall } from './agents.mjs';
import { CONSECUTIVE_FAILURES, describeTraffic, providerState, startAgentStack } from './agent_stack.mjs';
import { ANSWER_PREFIX } from './mock_providers.mjs';

const TEST_TIMEOUT_MS = 60_000;

const missing = missingAgents();

function marker() {
  return `fusebox-${Math.floor(Math.random() * 1e9)}-marker`;
}

// One scenario: the agent, the providers (the last healthy one is the one that must answer), whether the agent
// talks to Fusebox or to the only mock directly, and (Codex) whether it is set up to cross APIs (agents.mjs).
function scenario(name, { agent, providers, direct = false, crossApi = false }) {
  const skip = missing.length ? `agent not installed: ${missing.join('; ')}` : false;
  test(name, { timeout: TEST_TIMEOUT_MS, skip }, async () => {
    const mark = marker();
    const command = `echo ${mark} > out.txt && cat out.txt`;
    const stack = await startAgentStack({
      prefix: agent,
      providers,
      direct,
      pickTool: shellCall(command),
      // The model "reads" the tool's output and repeats the marker it finds (all of the output if none).
      quote: (output) => /fusebox-\d+-marker/.exec(output)?.[0] ?? output.trim(),
    });
    let run;
    let fuseboxEnd;
    try {
      const prompt = 'Write the marker file with the shell tool, then tell me what it says.';
      const common = { prompt, home: stack.home, work: stack.work, apiKey: stack.apiKey ?? CLIENT_KEY };
      run = agent === 'claude'
        ? await runClaude({ ...common, baseUrl: stack.anthropicBaseUrl })
        : await runCodex({ ...common, baseUrl: stack.openaiBaseUrl, crossApi });
      const why = () => `\n--- agent exit ${run.code ?? run.signal} after ${run.ms} ms${run.timedOut ? ' (TIMED OUT)' : ''}`
        + `\n--- stdout ---\n${run.stdout.slice(-3000)}\n--- stderr (tail) ---\n${run.stderr.slice(-3000)}`
        + `\n--- what the mocks saw ---\n${describeTraffic(stack)}`;

      assert.equal(run.timedOut, false, `the agent finished in time${why()}`);
      assert.equal(run.code, 0, `the agent exits 0${why()}`);
      const outFile = join(stack.work, 'out.txt');
      assert.ok(existsSync(outFile), `the shell tool really ran: out.txt exists${why()}`);
      assert.equal(readFileSync(outFile, 'utf8').trim(), mark, 'out.txt holds the marker');
      assert.ok(run.stdout.includes(`${ANSWER_PREFIX} ${mark}`), `the agent printed the model's final answer${why()}`);

      // The provider that answered: the last one of the route (every one before it is failing).
      const answering = stack.mocks[stack.order.at(-1)];
      const turns = answering.agentTurns();
      const first = turns.find((r) => r.decision.kind === 'tool');
      const second = turns.find((r) => r.decision.toolResult);
      assert.ok(first, `the answering provider got turn 1 with the shell tool offered${why()}`);
      assert.ok(second, `the answering provider got turn 2 carrying the tool result${why()}`);
      assert.ok(second.decision.toolResult.output.includes(mark), `turn 2 carries the command's output${why()}`);
      if (!direct) assert.equal(first.body.model, `${answering.name}-model`, "Fusebox put the target's model in");
      for (const r of answering.modelCalls()) {
        assert.notEqual(r.headers['x-api-key'] ?? r.headers.authorization, undefined, 'the provider key is sent');
        assert.ok(!JSON.stringify(r.headers).includes(CLIENT_KEY), "the agent's own key is never forwarded");
      }

      // Every provider before it was failing: each was tried, and its breaker opened after
      // CONSECUTIVE_FAILURES failures, so it saw no more model calls than that.
      for (const id of stack.order.slice(0, -1)) {
        const failing = stack.mocks[id];
        const calls = failing.modelCalls().length;
        assert.ok(calls >= 1 && calls <= CONSECUTIVE_FAILURES,
          `${id} was tried, and no more than ${CONSECUTIVE_FAILURES} times (${calls})${why()}`);
        if (calls === CONSECUTIVE_FAILURES) {
          assert.equal((await providerState(stack, id)).state, 'open', `${id}'s breaker opened`);
        }
      }
    } finally {
      fuseboxEnd = await stack.stop();
    }
    if (fuseboxEnd) assert.deepEqual(fuseboxEnd, { code: 0, signal: null }, 'fusebox exits 0 on SIGTERM');
  });
}

const STORM = { status: 503 };

describe('Claude Code', () => {
  scenario('Claude Code: directly against the mock Anthropic provider', {
    agent: 'claude', direct: true, providers: [{ id: 'anthropic', api: 'anthropic' }] });
  scenario('Claude Code: healthy Anthropic provider', {
    agent: 'claude', providers: [{ id: 'an-primary', api: 'anthropic' }] });
  scenario('Claude Code: Anthropic primary 503 storm -> Anthropic backup', {
    agent: 'claude', providers: [{ id: 'an-primary', api: 'anthropic', fault: STORM }, { id: 'an-backup', api: 'anthropic' }] });
  scenario('Claude Code: Anthropic primary hangs -> Anthropic backup', {
    agent: 'claude', providers: [{ id: 'an-primary', api: 'anthropic', fault: 'hang' }, { id: 'an-backup', api: 'anthropic' }] });
  scenario('Claude Code: Anthropic primary overloaded in-stream -> Anthropic backup', {
    agent: 'claude', providers: [{ id: 'an-primary', api: 'anthropic', fault: 'overloaded_in_stream' }, { id: 'an-backup', api: 'anthropic' }] });
  scenario('Claude Code: Anthropic primary 503 storm -> OpenAI Chat Completions backup', {
    agent: 'claude', providers: [{ id: 'an-primary', api: 'anthropic', fault: STORM }, { id: 'oa-chat', api: 'chat' }] });
});

describe('Codex CLI', () => {
  scenario('Codex: directly against the mock Responses provider', {
    agent: 'codex', direct: true, providers: [{ id: 'responses', api: 'responses' }] });
  scenario('Codex: healthy Responses provider', {
    agent: 'codex', providers: [{ id: 'oa-primary', api: 'responses' }] });
  scenario('Codex: Responses primary 503 storm -> Responses backup', {
    agent: 'codex', providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'oa-backup', api: 'responses' }] });
  scenario('Codex: Responses primary hangs -> Responses backup', {
    agent: 'codex', providers: [{ id: 'oa-primary', api: 'responses', fault: 'hang' }, { id: 'oa-backup', api: 'responses' }] });
  scenario('Codex: Responses primary fails in-stream (response.failed) -> Responses backup', {
    agent: 'codex', providers: [{ id: 'oa-primary', api: 'responses', fault: 'overloaded_in_stream' }, { id: 'oa-backup', api: 'responses' }] });
  scenario('Codex: Responses primary 503 storm -> Anthropic backup', {
    agent: 'codex', crossApi: true,
    providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'an-backup', api: 'anthropic' }] });
  scenario('Codex: Responses primary 503 storm -> Chat Completions ("api": "chat") backup', {
    agent: 'codex', crossApi: true,
    providers: [{ id: 'oa-primary', api: 'responses', fault: STORM }, { id: 'oa-chat', api: 'chat', chatOnly: true }] });
});
