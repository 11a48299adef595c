// Runs the real coding agents, Claude Code and Codex CLI (their native binaries from the npm packages pinned in
// tests/e2e/package.json), non-interactively, offline: HOME and CODEX_HOME are fresh temp dirs, the environment is
// built from scratch (nothing of the developer's leaks in), every switch that makes an agent call home is off, and
// every run is bounded by a timeout that kills the agent's whole process group.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

// The platform package holds the native binary; calling it directly needs no postinstall step (run.sh installs
// with --ignore-scripts) and no node wrapper process between the test and the agent.
function platformBinary(pkg, relativePath) {
  const arch = process.arch;
  const name = `${pkg}-${process.platform}-${arch}`;
  try {
    const file = join(dirname(require.resolve(`${name}/package.json`)), relativePath);
    if (existsSync(file)) return file;
  } catch {
    // not installed for this platform: reported below
  }
  return null;
}

const TRIPLES = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' };

export const CLAUDE_BIN = process.env.FUSEBOX_CLAUDE_BIN
  ?? platformBinary('@anthropic-ai/claude-code', 'claude');
export const CODEX_BIN = process.env.FUSEBOX_CODEX_BIN
  ?? platformBinary('@openai/codex', join('vendor', TRIPLES[process.arch] ?? 'none', 'bin', 'codex'));

export function missingAgents() {
  const missing = [];
  if (!CLAUDE_BIN) missing.push(`Claude Code (no @anthropic-ai/claude-code-${process.platform}-${process.arch})`);
  if (!CODEX_BIN) missing.push(`Codex (no @openai/codex-${process.platform}-${process.arch})`);
  return missing;
}

export const AGENT_TIMEOUT_MS = 45_000;
// The key the agents send: a placeholder, as Fusebox never forwards the client's key.
export const CLIENT_KEY = 'sk-agent-placeholder';

// What every agent gets, and nothing else of the test runner's environment.
function baseEnv(home) {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    TMPDIR: tmpdir(),
    TERM: 'dumb',
    NO_COLOR: '1',
    // No proxy of the developer's may sit between an agent and 127.0.0.1.
    NO_PROXY: '127.0.0.1,localhost',
  };
}

// Spawns one agent run in its own process group; resolves with {code, signal, stdout, stderr, ms, timedOut}.
function runBounded(bin, args, { cwd, env, timeoutMs = AGENT_TIMEOUT_MS }) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text) => { stdout += text; });
    child.stderr.on('data', (text) => { stderr = (stderr + text).slice(-50_000); });
    const killGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGKILL');
    }, timeoutMs);
    const onExit = () => killGroup('SIGKILL');
    process.on('exit', onExit);
    child.on('error', (err) => {
      clearTimeout(timer);
      process.off('exit', onExit);
      resolve({ code: -1, signal: null, stdout, stderr: `${stderr}\n${bin}: ${err.message}`, ms: 0, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', onExit);
      killGroup('SIGKILL'); // anything the agent left running in its group (a shell it spawned)
      resolve({ code, signal, stdout, stderr, ms: Math.round(performance.now() - started), timedOut });
    });
  });
}

// A fresh root with a home and a work directory for one agent run (the caller removes root).
export function agentDirs(prefix) {
  const root = mkdtempSync(join(tmpdir(), `fusebox-${prefix}-`));
  const home = join(root, 'home');
  const work = join(root, 'work');
  mkdirSync(home);
  mkdirSync(work);
  return { root, home, work };
}

// Claude Code, `claude -p`: baseUrl is where its Anthropic client goes (Fusebox, or a mock directly).
export function runClaude({ baseUrl, apiKey = CLIENT_KEY, prompt, model = 'claude-sonnet-4-6', home, work, timeoutMs }) {
  const env = {
    ...baseEnv(home),
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: apiKey,
    // Offline: no telemetry, error reports, update checks, feedback surveys, model catalog or plugin syncs.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_UPDATES: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    DISABLE_COST_WARNINGS: '1',
    CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
    CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
    // Fusebox does the failing over: a retry of Claude Code's own would hide a request Fusebox got wrong.
    CLAUDE_CODE_MAX_RETRIES: '0',
    API_TIMEOUT_MS: String(timeoutMs ?? AGENT_TIMEOUT_MS),
  };
  // Root may not use --dangerously-skip-permissions; allowing the one tool is what a CI user would do anyway.
  const args = ['-p', prompt, '--output-format', 'text', '--model', model, '--allowedTools', 'Bash',
    '--no-session-persistence'];
  return runBounded(CLAUDE_BIN, args, { cwd: work, env, timeoutMs });
}

// Codex CLI, `codex exec`: a model_provider pointing at baseUrl (Fusebox's /v1, or a mock's) with the given
// wire_api, no approvals, no sandbox (the test's temp dir is the whole world it touches), nothing fetched from
// the internet (plugins, remote plugins and apps sync from github.com / chatgpt.com at start-up: off).
export function runCodex({ baseUrl, apiKey = CLIENT_KEY, prompt, model = 'gpt-5.1-codex', wireApi = 'responses',
  home, work, timeoutMs, crossApi = false }) {
  const config = [
    `model = ${JSON.stringify(model)}`,
    'model_provider = "fusebox"',
    'approval_policy = "never"',
    'sandbox_mode = "danger-full-access"',
    'check_for_update_on_startup = false',
    // Only for falling over to another API: Codex's default tools include two that have no counterpart outside
    // the Responses API (web_search, which OpenAI runs itself, and the multi_agent_v1 `namespace` of sub-agent
    // tools), and Fusebox skips a target a request cannot reach whole.
    ...(crossApi ? ['web_search = "disabled"'] : []),
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[features]',
    'plugins = false',
    'remote_plugin = false',
    'apps = false',
    ...(crossApi ? ['multi_agent = false'] : []),
    '',
    '[model_providers.fusebox]',
    'name = "Fusebox"',
    `base_url = ${JSON.stringify(baseUrl)}`,
    `wire_api = ${JSON.stringify(wireApi)}`,
    'env_key = "FUSEBOX_CLIENT_KEY"',
    // Fusebox does the failing over (see runClaude).
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
  ].join('\n');
  writeFileSync(join(home, 'config.toml'), config);
  const env = { ...baseEnv(home), CODEX_HOME: home, FUSEBOX_CLIENT_KEY: apiKey };
  const args = ['exec', '--skip-git-repo-check', '--color', 'never', prompt];
  return runBounded(CODEX_BIN, args, { cwd: work, env, timeoutMs });
}

// The shell tool call of turn 1, in the shape each agent offers it (read from the tools of its first request):
// Claude Code's Bash {command, description}; Codex's exec_command {cmd} (0.171), or the older shell {command: argv}
// and shell_command {command}.
export function shellCall(command) {
  return (tools) => {
    const names = new Set(tools.map((t) => t.name));
    if (names.has('Bash')) return { name: 'Bash', args: { command, description: 'Write and show the marker file' } };
    if (names.has('exec_command')) return { name: 'exec_command', args: { cmd: command } };
    if (names.has('shell_command')) return { name: 'shell_command', args: { command } };
    if (names.has('shell')) return { name: 'shell', args: { command: ['bash', '-lc', command] } };
    return null;
  };
}
