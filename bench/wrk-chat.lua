-- wrk script for scripts/bench proxy: POST a small chat completion (not streamed) and, when the run is over,
-- print one machine-readable line that scripts/bench parses (latencies in microseconds).
wrk.method = "POST"
wrk.body = '{"model":"bench-model","messages":[{"role":"system","content":"You are terse."},'
    .. '{"role":"user","content":"Say hello in five words."}],"max_tokens":16}'
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
