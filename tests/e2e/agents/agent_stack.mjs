// One scenario's processes: mock providers (in this process, on loopback) and, unless the agent talks to a mock
// directly, the real fusebox executable in front of them with one route, `default`, over the mocks in the order
// given. Every agent model name therefore lands on that route, whatever model the agent asks for.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Fusebox } from '../harness.mjs';
import { MOCK_KEY, MockProvider } from './mock_providers.mjs';
import { agentDirs } from './agents.mjs';

// Short enough that a hanging primary costs the agent two seconds per turn, long enough for a loaded CI machine.
const TIMEOUTS_MS = { connect: 2000, first_byte: 2000, idle: 5000, total: 30000 };
// Two failures in a row open a provider for the rest of the scenario: the second turn of a failing primary's
// scenario is then refused without a network call.
export const CONSECUTIVE_FAILURES = 2;

// providers: [{id, api: 'anthropic'|'responses'|'chat', fault?: {status}|'hang', chatOnly?: true}]
// chatOnly writes "api": "chat" for the provider (an OpenAI-kind provider without /responses).
// direct: true starts no fusebox (exactly one provider then), for checking the mocks against the agents.
export async function startAgentStack({ prefix, providers, pickTool, quote, direct = false }) {
  const dirs = agentDirs(prefix);
  const stack = { ...dirs, mocks: {}, order: providers.map((p) => p.id) };
  stack.stop = async () => {
    const fuseboxEnd = stack.fusebox ? await stack.fusebox.stop() : null;
    await Promise.all(Object.values(stack.mocks).map((m) => m.stop()));
    rmSync(dirs.root, { recursive: true, force: true });
    return fuseboxEnd;
  };
  try {
    for (const p of providers) {
      const mock = new MockProvider(p.id, p.api, { pickTool, quote });
      mock.fault = p.fault ?? null;
      stack.mocks[p.id] = mock;
    }
    await Promise.all(Object.values(stack.mocks).map((m) => m.start()));
    if (direct) {
      if (providers.length !== 1) throw new Error('a direct run has exactly one provider');
      const only = stack.mocks[providers[0].id];
      stack.apiKey = MOCK_KEY;
      stack.anthropicBaseUrl = only.url;
      stack.openaiBaseUrl = `${only.url}/v1`;
      return stack;
    }
    const config = {
      listen: '127.0.0.1:0',
      data_dir: join(dirs.root, 'data'),
      journal: { enabled: false },
      breaker: { consecutive_failures: CONSECUTIVE_FAILURES, min_calls: 100, open_s: 60, backoff: 1.0, max_open_s: 60,
        jitter: 0 },
      providers: providers.map((p) => ({
        id: p.id,
        kind: p.api === 'anthropic' ? 'anthropic' : 'openai',
        base_url: p.api === 'anthropic' ? stack.mocks[p.id].url : `${stack.mocks[p.id].url}/v1`,
        api_key: MOCK_KEY,
        timeouts_ms: TIMEOUTS_MS,
        ...(p.chatOnly ? { api: 'chat' } : {}),
      })),
      // Each target names its own model, so a mock's record shows that Fusebox replaced the agent's.
      routes: [{ name: 'default', targets: providers.map((p) => ({ provider: p.id, model: `${p.id}-model` })) }],
    };
    stack.configPath = join(dirs.root, 'fusebox.json');
    writeFileSync(stack.configPath, JSON.stringify(config, null, 2));
    stack.fusebox = new Fusebox(stack.configPath);
    await stack.fusebox.start();
    stack.apiKey = undefined; // the agents' placeholder: Fusebox sends the provider's own key
    stack.anthropicBaseUrl = stack.fusebox.url;
    stack.openaiBaseUrl = `${stack.fusebox.url}/v1`;
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

// Fusebox's own view of a provider (GET /admin/v1/state; loopback clients need no token).
export async function providerState(stack, id) {
  const response = await fetch(`${stack.fusebox.url}/admin/v1/state`);
  const state = await response.json();
  return state.providers.find((p) => p.id === id);
}

// A few lines on what each mock saw, for failure messages.
export function describeTraffic(stack) {
  return Object.values(stack.mocks).map((m) => {
    const lines = m.requests.map((r) => {
      const decision = r.decision ? ` -> ${r.decision.kind}${r.decision.name ? ` ${r.decision.name}` : ''}` : '';
      const tools = Array.isArray(r.body?.tools) ? ` tools=[${r.body.tools.map((t) => t.name ?? t.function?.name ?? t.type).join(',')}]` : '';
      return `    ${r.method} ${r.path}${r.query} -> ${r.status}${decision} model=${r.body?.model}${tools}`;
    });
    return `  ${m.name} (${m.api}${m.fault ? `, fault ${JSON.stringify(m.fault)}` : ''}): ${m.requests.length} requests\n${lines.join('\n')}`;
  }).join('\n');
}
