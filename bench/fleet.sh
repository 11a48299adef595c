# scripts/bench fleet, sourced by scripts/bench (it uses that script's helpers: free_port, wait_listening,
# start_nginx, start_fusebox, run_wrk, median, calc, verdict, header, cleanup, and its variables).
#
# Three `fusebox --headless` replicas and a redis-server on free loopback ports, one nginx upstream with a healthy
# and a failing location, and a fourth Fusebox without redis.url as the baseline. Figures (never asserted):
#   - trip-to-refusal convergence: replica 1's provider `flaky` fails (its base_url is the failing location; the
#     other replicas' `flaky` is healthy), so only a fleet verdict can make replicas 2 and 3 refuse it;
#     build/bench/fleet_convergence times each trip's first refusal there (p50/p99 over BENCH_TRIPS trips)
#   - Redis commands per proxied request: INFO stats total_commands_processed over an idle and a loaded interval
#   - RPS with redis.url vs without (wrk, 32 connections, as `proxy`), in BENCH_ROUNDS interleaved rounds
#   - p99 with Redis hung (SIGSTOP) vs healthy, and how long a replica takes to report "connected" after SIGCONT
#   - a wrk run during which redis-server is killed -9 and started again empty: its non-2xx and socket errors

# The fleet's config for one replica: name, flaky location (good|bad), with redis (1|0).
fleet_config() {
  local name=$1 flaky=$2 with_redis=$3 redis=""
  if [ "$with_redis" = 1 ]; then
    redis=",
  \"redis\": { \"url\": \"redis://127.0.0.1:$redis_port/0\", \"prefix\": \"bench\", \"replica_id\": \"$name\" }"
  fi
  cat <<EOF
{
  "data_dir": "$tmp/data-$name",
  "breaker": { "consecutive_failures": 3, "failure_rate": 0, "open_s": 60, "max_open_s": 120, "jitter": 0 },
  "providers": [
    { "id": "up", "kind": "openai", "base_url": "http://127.0.0.1:$up_port/good/v1", "api_key": "bench-key" },
    { "id": "flaky", "kind": "openai", "base_url": "http://127.0.0.1:$up_port/$flaky/v1", "api_key": "bench-key" }
  ],
  "routes": [
    { "name": "default", "targets": [ { "provider": "up" } ] },
    { "name": "flaky", "targets": [ { "provider": "flaky" } ] }
  ]$redis
}
EOF
}

redis_commands() { # total_commands_processed so far (commands a script runs count too)
  redis-cli -p "$redis_port" INFO stats | tr -d '\r' | sed -n 's/^total_commands_processed://p'
}
redis_calls() { # how many times a command was called from a client or a script: NAME (lower case)
  redis-cli -p "$redis_port" INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\).*/\1/p" |
    sed 's/^$/0/'
}
now_s() { date +%s.%N; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system time of PID, in clock ticks

# run_wrk on TARGET (fleet or solo) while measuring the CPU time of its Fusebox (PID): appends to cpu_per_req[TARGET]
# the microseconds of CPU per request. Contention on this shared machine moves RPS far more than CPU per request.
wrk_with_cpu() { # target pid url
  local before after requests
  before=$(cpu_ticks "$2")
  run_wrk "$1" 32 2 "$seconds" "$3"
  after=$(cpu_ticks "$2")
  requests=$(grep '^WRK_RESULT' "$tmp/wrk-$1-32-1.txt" | tr ' ' '\n' | sed -n 's/^requests=//p')
  cpu_per_req[$1]+=" $(calc '%.1f' "($after - $before) * 1000000 / $(getconf CLK_TCK) / $requests")"
}

# What replica PORT's /admin/v1/state says of Redis: off, connected, degraded (or "?" when it does not answer).
redis_link() {
  curl -s --max-time 2 "http://127.0.0.1:$1/admin/v1/state" | grep -o '"redis":"[a-z]*"' | head -1 |
    sed 's/.*:"\(.*\)"/\1/' || true
}

# Seconds until replica PORT reports "connected" (polled every 50 ms), or "n/a" after 15 s.
wait_connected() {
  local port=$1 t0 i
  t0=$(now_s)
  for i in $(seq 300); do
    if [ "$(redis_link "$port")" = connected ]; then calc '%.2f' "$(now_s) - $t0"; return 0; fi
    sleep 0.05
  done
  echo n/a
}

# Starts redis-server on $redis_port (again, after a kill: same port, empty) -> redis_pid
start_redis() {
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
    --logfile "$tmp/redis.log" >>"$tmp/redis.out" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  wait_listening "$redis_port" "$redis_pid" redis-server "$tmp/redis.log" || die "redis-server would not start"
}

bench_fleet() {
  need_tool wrk wrk
  need_tool redis-server redis-server
  need_tool redis-cli redis-tools
  need_tool curl curl
  nginx=$(find_nginx)
  need_file "$fusebox" "the fusebox executable"
  need_file "$root/build/bench/fleet_convergence" "fleet_convergence (bench/fleet_convergence.cpp)"
  tmp=$(mktemp -d /tmp/fusebox-bench-fleet.XXXXXX)
  chmod 755 "$tmp"
  wrk_raw="$results/latest-fleet-raw.txt"
  : >"$wrk_raw"

  # The upstream: a healthy and a failing chat completions location.
  {
    nginx_common "$tmp" upstream
    echo "http {"
    nginx_http_common "$tmp" upstream
    cat <<EOF
  server {
    listen 127.0.0.1:@PORT@;
    location = /good/v1/chat/completions { default_type application/json; return 200 '$chat_json'; }
    location = /bad/v1/chat/completions {
      default_type application/json;
      return 503 '{"error":{"message":"bench outage","type":"server_error"}}';
    }
    location / { return 404; }
  }
}
EOF
  } >"$tmp/upstream.template"
  start_nginx upstream "$tmp/upstream.template"
  up_port=$started_port

  redis_port=$(free_port)
  start_redis

  fleet_config r1 bad 1 >"$tmp/r1.json"
  fleet_config r2 good 1 >"$tmp/r2.json"
  fleet_config r3 good 1 >"$tmp/r3.json"
  fleet_config solo good 0 >"$tmp/solo.json"
  start_fusebox r1 "$tmp/r1.json"
  local r1=$started_port
  start_fusebox r2 "$tmp/r2.json"
  local r2=$started_port r2_pid=$started_pid
  start_fusebox r3 "$tmp/r3.json"
  local r3=$started_port
  start_fusebox solo "$tmp/solo.json"
  local solo=$started_port solo_pid=$started_pid
  local link
  link=$(wait_connected "$r2")
  [ "$link" != n/a ] || die "replica r2 never reported Redis connected (its log: $tmp/r2.log)"

  local path=/v1/chat/completions
  local -A url=([fleet]="http://127.0.0.1:$r2$path" [solo]="http://127.0.0.1:$solo$path"
    [hung]="http://127.0.0.1:$r2$path")
  local t
  for t in fleet solo; do run_wrk "$t" 4 1 1 "${url[$t]}" warmup; done

  # 1. Convergence.
  echo "   ... $trips trips on r1, refusals watched on r2 and r3" >&2
  "$root/build/bench/fleet_convergence" --trip "$r1" --watch "$r2,$r3" --trips "$trips" >"$tmp/convergence.txt" ||
    { cat "$tmp/convergence.txt" >&2; die "fleet_convergence failed"; }
  cat "$tmp/convergence.txt" >>"$wrk_raw"
  local conv
  conv=$(grep '^CONVERGENCE_RESULT' "$tmp/convergence.txt")
  cval() { echo "$conv" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

  # 2. Redis commands: an idle interval, then the same length under wrk (32 connections on r2).
  echo "   ... Redis commands: ${seconds} s idle, ${seconds} s loaded" >&2
  local c0 c1 c2 c3 t0 t1 t2 t3 e0 e1 out requests
  t0=$(now_s) c0=$(redis_commands) e0=$(redis_calls evalsha)
  sleep "$seconds"
  t1=$(now_s) c1=$(redis_commands) e1=$(redis_calls evalsha)
  out="$tmp/wrk-commands.txt"
  t2=$(now_s) c2=$(redis_commands)
  wrk -t2 -c32 -d"${seconds}s" --timeout 5s --latency -s "$root/bench/wrk-chat.lua" "${url[fleet]}" >"$out" 2>&1 ||
    die "wrk failed against r2"
  t3=$(now_s) c3=$(redis_commands)
  requests=$(grep '^WRK_RESULT' "$out" | tr ' ' '\n' | sed -n 's/^requests=//p')
  # Each interval's own INFO counts once (the one that opened it).
  local idle_rate loaded_rate per_request evalsha_rate
  # (INFO commandstats runs between the two INFO stats: 2 commands per sample, not 1)
  idle_rate=$(calc '%.1f' "($c1 - $c0 - 2) / ($t1 - $t0)")
  evalsha_rate=$(calc '%.1f' "(${e1:-0} - ${e0:-0}) / ($t1 - $t0)")
  loaded_rate=$(calc '%.1f' "($c3 - $c2 - 1) / ($t3 - $t2)")
  per_request=$(calc '%.4f' "(($c3 - $c2 - 1) - $idle_rate * ($t3 - $t2)) / $requests")

  # 3. Rounds: fleet vs standalone RPS (in alternating order, so a drift of this shared machine's speed does not
  #    favour one), then the same replica while Redis is frozen (SIGSTOP), then SIGCONT and the time until r2
  #    reports "connected" again. The RPS ratio is also taken per round (the two runs side by side).
  local round rejoin="" pair=""
  declare -A cpu_per_req=()
  for round in $(seq "$fleet_rounds"); do
    echo "   ... round $round of $fleet_rounds" >&2
    if [ $((round % 2)) = 1 ]; then
      wrk_with_cpu fleet "$r2_pid" "${url[fleet]}"
      wrk_with_cpu solo "$solo_pid" "${url[solo]}"
    else
      wrk_with_cpu solo "$solo_pid" "${url[solo]}"
      wrk_with_cpu fleet "$r2_pid" "${url[fleet]}"
    fi
    pair+=" $(calc '%.3f' "$(echo "${rps[fleet,32]}" | awk '{ print $NF }') / $(echo "${rps[solo,32]}" | awk '{ print $NF }')")"
    kill -STOP "$redis_pid"
    run_wrk hung 32 2 "$seconds" "${url[hung]}"
    kill -CONT "$redis_pid"
    rejoin+=" $(wait_connected "$r2")"
  done
  local key
  for key in fleet,32 solo,32 hung,32; do
    rps[$key]=$(median "${rps[$key]}")
    p50[$key]=$(median "${p50[$key]}")
    p99[$key]=$(median "${p99[$key]}")
  done
  # 4. kill -9 under load: wrk on r2 while redis-server is killed 1 s in and started again (empty) 1.5 s later.
  echo "   ... wrk on r2, redis-server killed (-9) and restarted empty during the run" >&2
  local kout="$tmp/wrk-killed.txt" wrk_pid killed_rejoin kline
  wrk -t2 -c32 -d"${seconds}s" --timeout 5s --latency -s "$root/bench/wrk-chat.lua" "${url[fleet]}" >"$kout" 2>&1 &
  wrk_pid=$!
  sleep 1
  kill -KILL "$redis_pid"
  wait "$redis_pid" 2>/dev/null || true
  sleep 1.5
  start_redis
  killed_rejoin=$(wait_connected "$r2")
  wait "$wrk_pid" || { cat "$kout" >&2; die "wrk failed against r2 while Redis was killed"; }
  { echo "---- killed, 32 connections"; cat "$kout"; } >>"$wrk_raw"
  kline=$(grep '^WRK_RESULT' "$kout")
  kval() { echo "$kline" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  non2xx[killed,32]=$(kval non2xx)
  sockerr[killed,32]=$(($(kval connect_err) + $(kval read_err) + $(kval write_err) + $(kval timeout_err)))

  local rejoin_max
  rejoin_max=$(echo "$rejoin" | tr ' ' '\n' | sed '/^$/d' | sort -g | tail -1)

  local ratio hung_ratio degraded_lines pair_ratio
  ratio=$(calc '%.3f' "${rps[fleet,32]} / ${rps[solo,32]}")
  pair_ratio=$(median "$pair")
  hung_ratio=$(calc '%.2f' "${p99[hung,32]} / ${p99[fleet,32]}")
  degraded_lines=$(grep -ci 'redis' "$tmp/r2.log" || true)
  {
    header "fleet: 3 x fusebox --headless + redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') + nginx upstream, all on loopback"
    echo "   wrk: POST $path (bench/wrk-chat.lua), 32 connections, ${seconds} s per run, $fleet_rounds interleaved rounds, medians"
    echo "   convergence: r1's provider fails, r2/r3 see it healthy; time from r1's tripping answer to the first 503"
    echo "   circuit_open on r2/r3 (each polled with real requests in turn)"
    echo
    printf '%-62s %12s   %s\n' figure value target
    printf '%-62s %12s\n' "trip-to-refusal on the other replicas, p50 ($(cval samples) samples)" "$(cval p50_ms) ms"
    printf '%-62s %12s   %s\n' "trip-to-refusal, p99" "$(cval p99_ms) ms" "<= 200 ms  $(verdict "$(cval p99_ms) <= 200")"
    printf '%-62s %12s   %s\n' "trip-to-refusal, max" "$(cval max_ms) ms" "<= 1000 ms  $(verdict "$(cval max_ms) <= 1000")"
    printf '%-62s %12s   %s\n' "refusals that never came within 2 s" "$(cval missed)" "0  $(verdict "$(cval missed) == 0")"
    printf '%-62s %12s   %s\n' "Redis commands per proxied request ($requests requests)" "$per_request" \
      "0  $(verdict "$per_request < 0.001")"
    printf '%-62s %12s\n' "Redis commands per second, idle, 3 replicas (scripts' own count)" "$idle_rate"
    printf '%-62s %12s\n' "  per replica" "$(calc '%.1f' "$idle_rate / 3")"
    printf '%-62s %12s\n' "  of which EVALSHA calls (round trips of the sync), per replica" "$(calc '%.1f' "$evalsha_rate / 3")"
    printf '%-62s %12s\n' "Redis commands per second, r2 under wrk load" "$loaded_rate"
    printf '%-62s %12s\n' "RPS, r2 in the fleet (redis.url set)" "$(calc '%.0f' "${rps[fleet,32]}")"
    printf '%-62s %12s\n' "RPS, the same config without redis.url" "$(calc '%.0f' "${rps[solo,32]}")"
    printf '%-62s %12s   %s\n' "RPS with redis.url / without (ratio of medians)" "$ratio" ">= 0.97  $(verdict "$ratio >= 0.97")"
    printf '%-62s %12s   %s\n' "  median of the per-round ratios ($pair )" "$pair_ratio" ">= 0.97  $(verdict "$pair_ratio >= 0.97")"
    local cf cs
    cf=$(median "${cpu_per_req[fleet]}") cs=$(median "${cpu_per_req[solo]}")
    printf '%-62s %12s\n' "CPU per request, r2 in the fleet / without redis.url, us" "$cf / $cs"
    printf '%-62s %12s   %s\n' "  without / with (the RPS ratio if CPU were the only limit)" "$(calc '%.3f' "$cs / $cf")" \
      ">= 0.97  $(verdict "$cs / $cf >= 0.97")"
    printf '%-62s %12s\n' "p50 / p99, Redis healthy" "$(lat "${p50[fleet,32]}") / $(lat "${p99[fleet,32]}")"
    printf '%-62s %12s\n' "p50 / p99, Redis hung (SIGSTOP for the whole run)" "$(lat "${p50[hung,32]}") / $(lat "${p99[hung,32]}")"
    printf '%-62s %12s   %s\n' "p99 hung / p99 healthy" "$hung_ratio" "~1 (noise)"
    printf '%-62s %12s\n' "RPS, Redis hung" "$(calc '%.0f' "${rps[hung,32]}")"
    printf '%-62s %12s   %s\n' "non-2xx / socket errors while Redis was hung" "${non2xx[hung,32]} / ${sockerr[hung,32]}" \
      "0  $(verdict "${non2xx[hung,32]} + ${sockerr[hung,32]} == 0")"
    printf '%-62s %12s   %s\n' "kill -9 under wrk: requests, non-2xx / socket errors" \
      "$(kval requests), ${non2xx[killed,32]} / ${sockerr[killed,32]}" \
      "0  $(verdict "${non2xx[killed,32]} + ${sockerr[killed,32]} == 0")"
    printf '%-62s %12s\n' "  r2 reports Redis connected after the restart, s" "$killed_rejoin"
    printf '%-62s %12s   %s\n' "r2 reports Redis connected after SIGCONT, s (max of rounds)" "${rejoin_max:-n/a}" \
      "<= 5  $(verdict "\"${rejoin_max:-99}\" != \"n/a\" && ${rejoin_max:-99} <= 5")"
    printf '%-62s %12s\n' "r2's log lines mentioning Redis, whole run" "$degraded_lines"
    local k total=0
    for k in "${!non2xx[@]}"; do total=$((total + non2xx[$k] + sockerr[$k])); done
    if [ "$total" -ne 0 ]; then
      echo
      echo "!!! NON-2XX ANSWERS OR SOCKET ERRORS under wrk: $total. wrk's output: bench/results/latest-fleet-raw.txt"
      tail -5 "$tmp/r2.log"
    fi
    echo "   (per-trip figures and wrk's output: bench/results/latest-fleet-raw.txt)"
  } | tee "$results/latest-fleet.txt"
  if grep -q '^!!! NON-2XX' "$results/latest-fleet.txt"; then bad=1; fi
  cleanup
}
