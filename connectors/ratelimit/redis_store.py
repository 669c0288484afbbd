"""The LimitStore in Redis: one set of buckets for every worker on every machine.

Each take is one Lua script, so refilling and taking from all of a call's limits (a realm's minute
and second buckets; a Xero tenant's minute and day plus the app-wide minute) is atomic across
processes: either every limit gives a token or none is touched and the caller is told how long to
wait. Time is the Redis server's (`TIME`), one clock for all workers however their own clocks
drift; tests may inject `now` instead. Every key expires once it would be back to its initial state,
so idle realms and tenants cost nothing.

Concurrency slots are a sorted set of holders scored by lease expiry: a worker killed mid-request
frees its slot when the lease runs out instead of holding it forever.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from redis import Redis

from connectors.ratelimit import EPSILON, PAUSED, Charge, Now, Rate, Wait, Window

# Every script's first argument is the instant, or empty for the server's clock.
_NOW = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

_TAKE = (
    _NOW
    + """
local n = tonumber(ARGV[2])
local wait, refused = 0, ''
local state = {}
for i = 1, n do
  local at = 2 + (i - 1) * 6
  local kind, name = ARGV[at + 1], ARGV[at + 2]
  local maximum, window, burst = tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5])
  local cost = tonumber(ARGV[at + 6])
  local w = 0
  if kind == 'rate' then
    local refill = (maximum - burst) / window
    local saved = redis.call('HMGET', KEYS[i], 'tokens', 'stamp')
    local tokens, stamp = tonumber(saved[1]) or burst, tonumber(saved[2]) or now
    tokens = math.min(burst, tokens + math.max(0, now - stamp) * refill)
    state[i] = tokens
    if tokens < cost - tonumber(ARGV[#ARGV - 1]) then w = (cost - tokens) / refill end
  elseif kind == 'window' then
    -- A list of the last calls' instants, newest first: those inside the window count.
    local recent = redis.call('LRANGE', KEYS[i], 0, maximum - 1)
    local count = 0
    while count < #recent and tonumber(recent[count + 1]) > now - window do count = count + 1 end
    state[i] = count
    local leaving = count + cost - maximum
    if leaving > 0 then w = tonumber(recent[count - leaving + 1]) + window - now end
  else
    local period = math.floor(now / window)
    local saved = redis.call('HMGET', KEYS[i], 'period', 'count')
    local count = 0
    if tonumber(saved[1]) == period then count = tonumber(saved[2]) end
    state[i] = count
    if count + cost > maximum then w = (period + 1) * window - now end
  end
  if w > wait then wait, refused = w, name end
end
for j = n + 1, #KEYS do
  local pause_end = tonumber(redis.call('GET', KEYS[j]))
  if pause_end and pause_end - now > wait then wait, refused = pause_end - now, ARGV[#ARGV] end
end
if wait > 0 then return {tostring(wait), refused} end
for i = 1, n do
  local at = 2 + (i - 1) * 6
  local maximum, window, burst = tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5])
  local cost = tonumber(ARGV[at + 6])
  if ARGV[at + 1] == 'rate' then
    local refill = (maximum - burst) / window
    redis.call('HSET', KEYS[i], 'tokens', tostring(state[i] - cost), 'stamp', tostring(now))
    -- Gone once it would have refilled: a missing bucket is a full one.
    redis.call('PEXPIRE', KEYS[i], math.ceil((burst + cost) / refill * 1000) + 1000)
  elseif ARGV[at + 1] == 'window' then
    for _ = 1, cost do redis.call('LPUSH', KEYS[i], tostring(now)) end
    redis.call('LTRIM', KEYS[i], 0, maximum - 1)
    redis.call('PEXPIRE', KEYS[i], math.ceil(window * 1000) + 1000)
  else
    local period = math.floor(now / window)
    redis.call('HSET', KEYS[i], 'period', tostring(period), 'count', tostring(state[i] + cost))
    redis.call('PEXPIRE', KEYS[i], math.ceil(((period + 1) * window - now) * 1000) + 1000)
  end
end
return {'0', ''}
"""
)

_PAUSE = (
    _NOW
    + """
local pause_end = now + tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= pause_end then return 0 end
redis.call('SET', KEYS[1], tostring(pause_end), 'PX', math.ceil(tonumber(ARGV[2]) * 1000) + 1)
return 1
"""
)

_ENTER = (
    _NOW
    + """
local lease = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(lease * 1000))
return 1
"""
)

DEFAULT_PREFIX = "arpilot:limits:"
# Longer than any request may take (Intuit times out at 120 s): only a crashed holder's lease runs out.
SLOT_LEASE_SECONDS = 180.0
SLOT_POLL_SECONDS = 0.02


class RedisStore:
    """A LimitStore shared by every process that uses the same Redis and prefix."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        now: Now | None = None,
        slot_lease: float = SLOT_LEASE_SECONDS,
        poll: float = SLOT_POLL_SECONDS,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._now = now
        self._slot_lease = slot_lease
        self._poll = poll
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)
        self._enter = redis.register_script(_ENTER)

    def _clock(self) -> str:
        # Empty: the script reads the server's TIME, the one clock every worker shares.
        return "" if self._now is None else repr(self._now())

    def _pause_key(self, key: str) -> str:
        return f"{self._prefix}pause:{key}"

    def take(self, charges: Sequence[Charge]) -> Wait:
        keys = [f"{self._prefix}{charge.key}:{charge.limit.name}" for charge in charges]
        keys += [self._pause_key(key) for key in dict.fromkeys(charge.key for charge in charges)]
        args: list[str | int | float] = [self._clock(), len(charges)]
        for charge in charges:
            limit = charge.limit
            if isinstance(limit, Rate):
                args += ["rate", limit.name, limit.maximum, repr(float(limit.window)), limit.burst, charge.cost]
            elif isinstance(limit, Window):
                args += ["window", limit.name, limit.maximum, repr(float(limit.window)), 0, charge.cost]
            else:
                args += ["quota", limit.name, limit.maximum, repr(float(limit.period)), 0, charge.cost]
        args += [repr(EPSILON), PAUSED]
        seconds, name = self._take(keys=keys, args=args)
        return Wait(float(seconds), name.decode() if isinstance(name, bytes) else name)

    def pause(self, key: str, seconds: float) -> None:
        if seconds > 0:
            self._pause(keys=[self._pause_key(key)], args=[self._clock(), repr(float(seconds))])

    @contextmanager
    def slot(self, key: str, maximum: int) -> Iterator[None]:
        slots, holder = f"{self._prefix}slots:{key}", uuid.uuid4().hex
        while not self._enter(keys=[slots], args=[self._clock(), maximum, holder, repr(self._slot_lease)]):
            time.sleep(self._poll)
        try:
            yield
        finally:
            self._redis.zrem(slots, holder)
