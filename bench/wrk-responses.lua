-- wrk script for scripts/bench proxy, the Responses API row: POST a small streamed Responses request (what Codex
-- sends, in small) and, when the run is over, print the same machine-readable line as wrk-chat.lua.
wrk.method = "POST"
wrk.body = '{"model":"bench-model","instructions":"You are terse.","input":[{"type":"message","role":"user",'
    .. '"content":[{"type":"input_text","text":"Say hello in five words."}]}],"stream":true,"store":false,'
    .. '"max_output_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer placeholder-key"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d mean_us=%.1f non2xx=%d "
      .. "connect_err=%d read_err=%d write_err=%d timeout_err=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.mean, e.status,
    e.connect, e.read, e.write, e.timeout))
end
