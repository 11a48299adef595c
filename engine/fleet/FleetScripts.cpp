#include "fleet/FleetScripts.h"

namespace fusebox::fleet {

// Shared by the scripts: Redis's own clock, in milliseconds.
#define FUSEBOX_LUA_NOW                                                                                      \
    "local t = redis.call('TIME')\n"                                                                         \
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

const FleetScript kSyncScript{"sync", FUSEBOX_LUA_NOW R"LUA(
local p, me = ARGV[1], ARGV[2]
local keep = 86400000
local out = {now_ms = now, epoch = redis.call('GET', p .. ':epoch') or '', replicas = {}, providers = {}, routes = {}}

local reps = p .. ':replicas'
redis.call('HSET', reps, me, now .. ' ' .. ARGV[3])
redis.call('PEXPIRE', reps, 60000)
local all = redis.call('HGETALL', reps)
for j = 1, #all, 2 do
  local seen, info = string.match(all[j + 1], '^(%d+) (.*)$')
  if seen == nil or now - tonumber(seen) > 30000 then
    redis.call('HDEL', reps, all[j])
  else
    out.replicas[all[j]] = {info = info, age_ms = now - tonumber(seen)}
  end
end

local day = math.floor(tonumber(t[1]) / 86400)
local n = tonumber(ARGV[4])
local i = 5
for k = 1, n do
  local id, win = ARGV[i], tonumber(ARGV[i + 1])
  local wk = p .. ':window:' .. id
  redis.call('HSET', wk, me, now .. ' ' .. ARGV[i + 2] .. ' ' .. ARGV[i + 3] .. ' ' .. ARGV[i + 4])
  redis.call('PEXPIRE', wk, win + 5000)
  local c, f, s = 0, 0, 0
  local w = redis.call('HGETALL', wk)
  for j = 1, #w, 2 do
    if w[j] ~= me then
      local seen, cc, ff, ss = string.match(w[j + 1], '^(%d+) (%d+) (%d+) (%d+)$')
      -- A replica that stopped pushing keeps its calls for one window, as a live one's would age out.
      if seen == nil or now - tonumber(seen) > win then
        redis.call('HDEL', wk, w[j])
      else
        c, f, s = c + tonumber(cc), f + tonumber(ff), s + tonumber(ss)
      end
    end
  end
  local sk = p .. ':spend:' .. id .. ':' .. day
  redis.call('HSET', sk, me, ARGV[i + 5])
  redis.call('PEXPIRE', sk, 2 * keep)
  local spend = 0
  local sp = redis.call('HGETALL', sk)
  for j = 1, #sp, 2 do
    if sp[j] ~= me then spend = spend + (tonumber(sp[j + 1]) or 0) end
  end
  local verdict = redis.call('HGET', p .. ':verdicts', id) or ''
  local remaining = 0
  if verdict ~= '' then
    local ok, v = pcall(cjson.decode, verdict)
    if ok and type(v) == 'table' and tonumber(v.until_ms) and tonumber(v.until_ms) > now then
      remaining = tonumber(v.until_ms) - now
    end
  end
  out.providers[id] = {calls = c, failures = f, slow = s, spend = spend, verdict = verdict,
                       remaining_ms = remaining, probe = redis.call('GET', p .. ':probe:' .. id) or ''}
  i = i + 6
end

local routes = redis.call('HGETALL', p .. ':routes')
for j = 1, #routes, 2 do out.routes[routes[j]] = routes[j + 1] end
for _, key in ipairs({':epoch', ':gen', ':verdicts', ':routes'}) do redis.call('PEXPIRE', p .. key, keep) end
return cjson.encode(out)
)LUA"};

const FleetScript kVerdictScript{"verdict", FUSEBOX_LUA_NOW R"LUA(
local p, provider = ARGV[1], ARGV[2]
local gen = redis.call('INCR', p .. ':gen')
local remaining = tonumber(ARGV[4]) or 0
local untilMs = 0
if remaining > 0 then untilMs = now + remaining end
local text = cjson.encode({provider = provider, state = ARGV[3], until_ms = untilMs, remaining_ms = remaining,
                           gen = gen, opens = tonumber(ARGV[5]) or 0, origin = ARGV[6], reason = ARGV[7],
                           action = ARGV[8], at_ms = now, instance = ARGV[10]})
redis.call('HSET', p .. ':verdicts', provider, text)
redis.call('PEXPIRE', p .. ':verdicts', 86400000)
redis.call('PEXPIRE', p .. ':gen', 86400000)
-- A verdict ends the probe round it answers (or makes it moot).
redis.call('DEL', p .. ':probe:' .. provider)
if ARGV[9] == '1' then redis.call('DEL', p .. ':window:' .. provider) end
if ARGV[8] == 'reset' then
  redis.call('DEL', p .. ':spend:' .. provider .. ':' .. math.floor(tonumber(t[1]) / 86400))
end
redis.call('PUBLISH', p .. ':events', cjson.encode({kind = 'verdict', body = text}))
return gen
)LUA"};

const FleetScript kRouteScript{"route", FUSEBOX_LUA_NOW R"LUA(
local p, route = ARGV[1], ARGV[2]
local gen = redis.call('INCR', p .. ':gen')
local ok, targets = pcall(cjson.decode, ARGV[3])
if not ok then return redis.error_reply('targets are not JSON') end
local text = cjson.encode({route = route, targets = targets, gen = gen, origin = ARGV[4], at_ms = now,
                           instance = ARGV[5]})
redis.call('HSET', p .. ':routes', route, text)
redis.call('PEXPIRE', p .. ':routes', 86400000)
redis.call('PEXPIRE', p .. ':gen', 86400000)
redis.call('PUBLISH', p .. ':events', cjson.encode({kind = 'route', body = text}))
return gen
)LUA"};

const FleetScript kRenewProbeScript{"renew_probe", R"LUA(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
)LUA"};

#undef FUSEBOX_LUA_NOW

} // namespace fusebox::fleet
