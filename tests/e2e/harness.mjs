// Starts the real processes for one test: sim_server providers and a fusebox in front of them, all on loopback,
// each with a bounded start-up time, and stops every one of them afterwards, whatever happened.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FUSEBOX_BIN = process.env.FUSEBOX_BIN;
export const SIM_SERVER = process.env.FUSEBOX_SIM_SERVER;
if (!FUSEBOX_BIN || !SIM_SERVER) {
  throw new Error('set FUSEBOX_BIN and FUSEBOX_SIM_SERVER (tests/e2e/run.sh does, from ctest)');
}

// The SDKs read these from the environment; a developer's own must not steer the tests.
// (OPENAI_LOG / ANTHROPIC_LOG stay: they only make the SDKs talk, which helps when a test fails.)
for (const name of Object.keys(process.env)) {
  if (/^(OPENAI|ANTHROPIC|AZURE_OPENAI)_/.test(name) && !name.endsWith('_LOG')) delete process.env[name];
}

export const SIM_KEY = 'sim-key';
export const CLIENT_KEY = 'sk-placeholder';
export const SIM_EVENTS = 6;
const START_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

// The sim's answer text for n content events (SimResponses.h: piece i is WORDS[i % 8], space-separated).
const WORDS = ['Fusebox', 'sim', 'says', 'hello', 'from', 'a', 'simulated', 'provider.'];
export function simText(n = SIM_EVENTS) {
  return Array.from({ length: n }, (_, i) => WORDS[i % WORDS.length]).join(' ');
}

const live = new Set();
// Last resort, should the runner exit with children still around (exit handlers must be synchronous).
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

// A child process whose stdout is read line by line; `ready` resolves with the first line matching readyRe.
class Proc {
  constructor(name, bin, args, readyRe) {
    this.name = name;
    this.stderr = '';
    this.lines = [];
    this.waiters = [];
    this.child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this.child);
        this.exitCode = code;
        this.exitSignal = signal;
        for (const w of this.waiters.splice(0)) w.reject(new Error(`${name} exited (${code ?? signal})${this.tail()}`));
        resolve({ code, signal });
      });
      this.child.on('error', (err) => {
        for (const w of this.waiters.splice(0)) w.reject(new Error(`${name}: ${bin}: ${err.message}`));
        if (this.child.pid === undefined) { // never started: there will be no 'exit'
          live.delete(this.child);
          this.exitCode = -1;
          this.exitSignal = null;
          resolve({ code: -1, signal: null });
        }
      });
    });
    this.child.stdin.on('error', () => {}); // a dead child's stdin: reported through 'exit'
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text) => {
      this.stderr = (this.stderr + text).slice(-20_000);
    });
    let partial = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text) => {
      partial += text;
      let end;
      while ((end = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, end);
        partial = partial.slice(end + 1);
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(line);
        else this.lines.push(line);
      }
    });
    this.ready = this.nextLine(START_TIMEOUT_MS).then((line) => {
      const match = readyRe.exec(line);
      if (!match) throw new Error(`${name}: unexpected first line ${JSON.stringify(line)}${this.tail()}`);
      return match;
    });
  }

  tail() {
    return this.stderr ? `\n--- ${this.name} stderr (tail) ---\n${this.stderr.slice(-4000)}` : '';
  }

  nextLine(timeoutMs) {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    if (this.exitCode !== undefined) return Promise.reject(new Error(`${this.name} has exited${this.tail()}`));
    return new Promise((resolve, reject) => {
      const waiter = {};
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no output within ${timeoutMs} ms${this.tail()}`));
      }, timeoutMs);
      waiter.resolve = (line) => { clearTimeout(timer); resolve(line); };
      waiter.reject = (err) => { clearTimeout(timer); reject(err); };
      this.waiters.push(waiter);
    });
  }

  // SIGTERM, then SIGKILL if it has not exited in time. Resolves with how it ended.
  async stop() {
    if (this.exitCode === undefined && this.exitSignal === undefined) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    return { code: this.exitCode, signal: this.exitSignal };
  }
}

// One simulated provider process (tests/e2e/sim_server.cpp), answering only to "sim-key".
export class Sim extends Proc {
  constructor(name) {
    super(name, SIM_SERVER, ['--api-key', SIM_KEY, '--events', String(SIM_EVENTS), '--interval-ms', '5'],
      /^sim_server: listening on (http:\/\/127\.0\.0\.1:(\d+))$/);
  }

  async start() {
    const match = await this.ready;
    this.url = match[1];
    return this;
  }

  // One command, one JSON line back (fault STATUS [RETRY_AFTER] | clear | stats | requests | reset).
  async cmd(line) {
    this.child.stdin.write(line + '\n');
    const answer = JSON.parse(await this.nextLine(COMMAND_TIMEOUT_MS));
    if (answer && answer.ok === false) throw new Error(`${this.name}: ${line}: ${answer.error}`);
    return answer;
  }
}

export class Fusebox extends Proc {
  constructor(configPath, extraArgs = []) {
    super('fusebox', FUSEBOX_BIN, ['--headless', '--config', configPath, ...extraArgs],
      /^fusebox: listening on (http:\/\/127\.0\.0\.1:\d+)$/);
  }

  async start() {
    const match = await this.ready;
    this.url = match[1];
    return this;
  }
}

// The breaker settings of the e2e config: two failures in a row open a provider for exactly 2 s (no jitter,
// no backoff growth), so a Retry-After is short and predictable.
export const OPEN_S = 2;

// Two sims (one behind an openai-kind provider, one behind an anthropic-kind one) and a fusebox with routes
// `gpt` -> oa/sim-1, `claude` -> an/sim-1-mini, and the cross-API `gpt-then-claude` and `claude-then-gpt`. Call stop() in a finally / after hook.
export async function startStack({ demo = false } = {}) {
  const stack = { procs: [], dir: mkdtempSync(join(tmpdir(), 'fusebox-e2e-')) };
  stack.stop = async () => {
    const ends = await Promise.all(stack.procs.map(async (p) => [p.name, await p.stop()]));
    rmSync(stack.dir, { recursive: true, force: true });
    return Object.fromEntries(ends);
  };
  try {
    stack.oa = new Sim('sim-openai');
    stack.procs.push(stack.oa);
    stack.an = new Sim('sim-anthropic');
    stack.procs.push(stack.an);
    await Promise.all([stack.oa.start(), stack.an.start()]);
    const timeouts_ms = { connect: 2000, first_byte: 5000, idle: 5000, total: 15000 };
    const config = {
      listen: '127.0.0.1:0',
      data_dir: join(stack.dir, 'data'),
      journal: { enabled: false },
      breaker: { consecutive_failures: 2, min_calls: 100, open_s: OPEN_S, backoff: 1.0, max_open_s: 10, jitter: 0 },
      providers: [
        { id: 'oa', kind: 'openai', base_url: `${stack.oa.url}/v1`, api_key: SIM_KEY, timeouts_ms },
        { id: 'an', kind: 'anthropic', base_url: stack.an.url, api_key: SIM_KEY, timeouts_ms },
      ],
      routes: [
        { name: 'gpt', targets: [{ provider: 'oa', model: 'sim-1' }] },
        { name: 'claude', targets: [{ provider: 'an', model: 'sim-1-mini' }] },
        // Fallback across the two APIs: each starts on one family and falls over to the other.
        { name: 'gpt-then-claude', targets: [{ provider: 'oa', model: 'sim-1' }, { provider: 'an', model: 'sim-1-mini' }] },
        { name: 'claude-then-gpt', targets: [{ provider: 'an', model: 'sim-1-mini' }, { provider: 'oa', model: 'sim-1' }] },
      ],
    };
    stack.configPath = join(stack.dir, 'config.json');
    writeFileSync(stack.configPath, JSON.stringify(config, null, 2));
    stack.fusebox = new Fusebox(stack.configPath, demo ? ['--demo'] : []);
    stack.procs.push(stack.fusebox);
    await stack.fusebox.start();
    stack.url = stack.fusebox.url;
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

// A fetch that remembers every call the SDK made through it: when, and what came back.
export function recordingFetch() {
  const calls = [];
  const fetchFn = async (url, init) => {
    const call = { url: String(url), start: performance.now() };
    calls.push(call);
    const response = await fetch(url, init);
    call.status = response.status;
    call.headersAt = performance.now();
    call.retryAfter = response.headers.get('retry-after');
    call.breaker = response.headers.get('x-fusebox-breaker');
    return response;
  };
  return { fetch: fetchFn, calls };
}
