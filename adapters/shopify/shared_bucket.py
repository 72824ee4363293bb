"""Shopify's cost bucket shared by every worker of a deployment, kept in Redis.

Shopify's leaky bucket is per app and shop, while a deployment runs many worker processes on
many hosts; each process keeping its own view of the bucket lets two of them spend the same
points and be THROTTLED.  :class:`RedisBucket` is the adapter's
:class:`~adapters.shopify.throttle.Bucket` kept in one Redis hash per shop, under the
deployment's namespace, and changed only by Lua scripts, so reserving points is atomic across
processes.  Time is Redis's ``TIME``, never a host clock, so hosts with skewed clocks agree on
how far the bucket has refilled.  The model (reservations, holds of queries in flight, how a
report is merged) is described in :mod:`adapters.shopify.throttle`; the scripts here follow
the in-process :class:`~adapters.shopify.throttle.CostBucket` step by step.

The hash holds ``max``, ``rate``, ``level`` and ``at`` (once an answer has reported the
bucket) and one ``h:<id>`` field per hold (``"<cost> <expiry>"``; a hold of a worker that died
expires).  The key expires after ``idle_seconds`` without use; the bucket is then unknown
again, which costs one query going out alone to learn it.
"""

from __future__ import annotations

import logging
import math
import uuid

from redis import Redis
from redis.exceptions import RedisError

from adapters.shopify.throttle import PROBE_WAIT, CostReport, Reservation
from connector.errors import TransientError
from connector.port import SharedState

log = logging.getLogger(__name__)

_PRELUDE = """
local key = KEYS[1]

local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function num(x)
  return string.format('%.17g', x)
end

-- the bucket's fields, and the total and count of its live holds (expired ones are dropped)
local function load(now)
  local raw = redis.call('HGETALL', key)
  local s = {held = 0, holds = 0}
  for i = 1, #raw, 2 do
    local name, value = raw[i], raw[i + 1]
    if string.sub(name, 1, 2) == 'h:' then
      local cost, expiry = string.match(value, '^(%S+) (%S+)$')
      if cost == nil or tonumber(expiry) <= now then
        redis.call('HDEL', key, name)
      else
        s.held = s.held + tonumber(cost)
        s.holds = s.holds + 1
      end
    else
      s[name] = tonumber(value)
    end
  end
  return s
end

local function refilled(s, now)
  return math.min(s.max, s.level + math.max(0, now - s.at) * s.rate)
end

local function wait_for(s, cost, now)
  if s.rate <= 0 then
    return 0
  end
  return math.max(0, (math.min(cost, s.max) - refilled(s, now)) / s.rate)
end
"""

# ARGV: cost, hold id, hold seconds, idle seconds, probe wait, probe seconds -> {granted 0|1, wait}
_RESERVE = (
    _PRELUDE
    + """
local now = server_now()
local s = load(now)
local cost = tonumber(ARGV[1])
local ttl = tonumber(ARGV[3])
if s.max == nil then
  if s.holds > 0 then
    return {0, ARGV[5]}
  end
  ttl = tonumber(ARGV[6])
else
  local wait = wait_for(s, cost, now)
  if wait > 0 then
    return {0, num(wait)}
  end
  redis.call('HSET', key, 'level', num(refilled(s, now) - cost), 'at', num(now))
end
redis.call('HSET', key, 'h:' .. ARGV[2], num(cost) .. ' ' .. num(now + ttl))
redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[4]) * 1000))
return {1, '0'}
"""
)

# ARGV: cost, hold id, idle seconds[, maximum, available, restore rate, actual cost]
_SETTLE = (
    _PRELUDE
    + """
local now = server_now()
local s = load(now)
local name = 'h:' .. ARGV[2]
local mine = redis.call('HGET', key, name)
if mine then
  redis.call('HDEL', key, name)
  s.held = s.held - tonumber(string.match(mine, '^(%S+)'))
end
if #ARGV >= 7 then
  local maximum, available = tonumber(ARGV[4]), tonumber(ARGV[5])
  local rate, actual = tonumber(ARGV[6]), tonumber(ARGV[7])
  local level = available - s.held
  if s.max ~= nil then
    level = math.min(level, refilled(s, now) + tonumber(ARGV[1]) - actual)
  end
  level = math.min(level, maximum)
  redis.call('HSET', key, 'max', num(maximum), 'rate', num(rate), 'level', num(level), 'at', num(now))
end
redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[3]) * 1000))
return 1
"""
)

# ARGV: cost -> wait
_DELAY = (
    _PRELUDE
    + """
local now = server_now()
local s = load(now)
if s.max == nil then
  return '0'
end
return num(wait_for(s, tonumber(ARGV[1]), now))
"""
)


def _unreachable(exc: RedisError) -> TransientError:
    return TransientError(
        f"the shared Shopify cost bucket in Redis is unreachable: {exc}",
        hint="check that Redis runs and REDIS_URL points at it; the request is retried",
    )


class RedisBucket:
    """One shop's cost bucket in a Redis hash, shared by every process that uses the same key.

    ``hold_seconds``: how long a hold outlives a worker that died before its answer arrived;
    ``probe_seconds``: the same for the query that went out alone to learn an unknown bucket
    (the others wait for it).  ``idle_seconds``: how long the hash outlives its last use.
    ``poll``: the longest wait before asking again, since another worker's answer may free
    points sooner than the refill.
    """

    def __init__(
        self,
        redis: Redis,
        key: str,
        *,
        hold_seconds: float = 60.0,
        probe_seconds: float = 5.0,
        idle_seconds: float = 600.0,
        poll: float = 0.5,
    ) -> None:
        self.redis = redis
        self.key = key
        self.hold_seconds = hold_seconds
        self.probe_seconds = min(probe_seconds, hold_seconds)
        self.idle_seconds = max(idle_seconds, hold_seconds)
        self.poll = poll
        self._reserve = redis.register_script(_RESERVE)
        self._settle = redis.register_script(_SETTLE)
        self._delay = redis.register_script(_DELAY)

    @property
    def known(self) -> bool:
        """Whether any answer has reported the bucket (within the idle time)."""
        try:
            return bool(self.redis.hexists(self.key, "max"))
        except RedisError as exc:
            raise _unreachable(exc) from exc

    def reserve(self, cost: float) -> Reservation:
        """Take ``cost`` points atomically if the bucket holds them, else say how long to wait."""
        hold = uuid.uuid4().hex
        args = [repr(float(cost)), hold, repr(self.hold_seconds), repr(self.idle_seconds)]
        args += [repr(PROBE_WAIT), repr(self.probe_seconds)]
        try:
            granted, wait = self._reserve(keys=[self.key], args=args)
        except RedisError as exc:
            raise _unreachable(exc) from exc
        if granted:
            return Reservation(cost, hold=hold)
        return Reservation(cost, wait=min(float(wait), self.poll))

    def settle(self, reservation: Reservation, report: CostReport | None) -> None:
        """Release a granted reservation and merge the answer's report.

        A Redis failure is logged, not raised: the request itself went through (it may have
        changed the store), and the hold expires on its own.
        """
        if reservation.hold is None:
            return
        args = [repr(float(reservation.cost)), reservation.hold, repr(self.idle_seconds)]
        if report is not None:
            status = report.status
            args += [repr(status.maximum), repr(status.available), repr(status.restore_rate)]
            args.append(repr(report.actual))
        try:
            self._settle(keys=[self.key], args=args)
        except RedisError as exc:
            log.warning("could not settle a reservation in the shared cost bucket %s: %s", self.key, exc)

    def delay_for(self, cost: float) -> float:
        """Seconds until a query of this requested cost would fit (0 when it fits now or unknown)."""
        try:
            wait = self._delay(keys=[self.key], args=[repr(float(cost))])
        except RedisError as exc:
            raise _unreachable(exc) from exc
        value = float(wait)
        return value if math.isfinite(value) else 0.0


class SharedBuckets:
    """The bucket factory the Shopify app is given: one :class:`RedisBucket` per shop.

    Keys live under the deployment's namespace (``<namespace>:throttle:shopify:<shop>``); the
    Redis connection is opened on first use.  ``http_timeout`` bounds how long a request may
    hold points.
    """

    def __init__(self, shared: SharedState, http_timeout: float = 30.0, platform: str = "shopify") -> None:
        self.shared = shared
        self.http_timeout = http_timeout
        self.platform = platform

    def key(self, shop: str) -> str:
        """The Redis key of one shop's bucket."""
        return self.shared.key("throttle", self.platform, shop)

    def __call__(self, shop: str) -> RedisBucket:
        """The shared bucket of one shop."""
        # a hold must outlive the longest request it covers: the HTTP timeout, twice with a token refresh
        hold = max(60.0, 2 * self.http_timeout)
        return RedisBucket(self.shared.redis(), self.key(shop), hold_seconds=hold)
