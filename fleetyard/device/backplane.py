"""What the server processes share about devices: heartbeat states and their deadlines,
the target-state cache's generations, and device logs.

Part of the device side (DESIGN.md "Performance by design": poll timestamps live in memory
with one process, in Redis with several). `Memory` serves one process; `Redis`
(FLEETYARD_REDIS_URL) serves several, with each heartbeat transition one Lua script so
that a poll on one process and an expiry on another never interleave. Exactly one
process expires devices: the holder of a lease that it renews while it runs; when it
stops, another takes over once the lease lapses, and the deadlines are still in Redis.
"""

from __future__ import annotations

import asyncio
import heapq
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

import orjson

ONLINE, TIMEOUT, OFFLINE = "online", "timeout", "offline"


def now_ms() -> int:
    return int(time.time() * 1000)


class Backplane(Protocol):
    # --- the target-state cache: a generation for everything, and one per device -----------
    async def generations(self, device_id: int) -> tuple[int, int]: ...
    async def bump_all(self) -> None: ...
    async def bump_devices(self, ids: Iterable[int]) -> None: ...

    # --- heartbeats ---------------------------------------------------------------------
    async def poll(self, device_id: int, deadline_ms: int) -> str | None:
        """The device fetched its state: it is online until `deadline_ms`; the state it had."""
        ...

    async def adopt(self, device_id: int, state: str, deadline_ms: int) -> None:
        """Track a device the database says is online or timed out, unless tracked already."""
        ...

    async def expire(self, now: int, grace_ms: int, limit: int = 500) -> list[tuple[int, str]]:
        """Move every device past its deadline on (online → timeout → offline); the moves."""
        ...

    async def heartbeat(self, device_id: int) -> str | None: ...
    async def forget(self, device_id: int) -> None: ...
    async def lead(self, ttl_ms: int) -> bool:
        """Whether this process is the one that expires devices (taking or renewing the lease)."""
        ...

    # --- logs ---------------------------------------------------------------------------
    async def append_logs(self, device_id: int, lines: list[dict[str, Any]], retention: int) -> None: ...
    async def read_logs(self, device_id: int, count: int) -> list[dict[str, Any]]: ...
    async def follow_logs(self, device_id: int) -> Follower:
        """Live lines of the device from now on (subscribed before this returns)."""
        ...
    async def drop_logs(self, device_id: int) -> None: ...

    async def close(self) -> None: ...


class Follower(Protocol):
    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...
    async def close(self) -> None: ...


class Memory:
    """One process: dictionaries, a heap of deadlines, and queues for log followers."""

    def __init__(self) -> None:
        self._all = 0
        self._devices: dict[int, int] = {}
        self._states: dict[int, tuple[str, int]] = {}
        self._due: list[tuple[int, int]] = []
        self._logs: dict[int, deque[dict[str, Any]]] = {}
        self._followers: dict[int, set[asyncio.Queue[dict[str, Any]]]] = {}

    async def generations(self, device_id: int) -> tuple[int, int]:
        return self._all, self._devices.get(device_id, 0)

    async def bump_all(self) -> None:
        self._all += 1

    async def bump_devices(self, ids: Iterable[int]) -> None:
        for i in ids:
            self._devices[i] = self._devices.get(i, 0) + 1

    async def poll(self, device_id: int, deadline_ms: int) -> str | None:
        previous = self._states.get(device_id)
        self._schedule(device_id, ONLINE, deadline_ms)
        return previous[0] if previous else None

    async def adopt(self, device_id: int, state: str, deadline_ms: int) -> None:
        if device_id not in self._states:
            self._schedule(device_id, state, deadline_ms)

    def _schedule(self, device_id: int, state: str, deadline: int) -> None:
        self._states[device_id] = (state, deadline)
        heapq.heappush(self._due, (deadline, device_id))

    async def expire(self, now: int, grace_ms: int, limit: int = 500) -> list[tuple[int, str]]:
        moves: list[tuple[int, str]] = []
        while self._due and self._due[0][0] <= now and len(moves) < limit:
            deadline, device_id = heapq.heappop(self._due)
            current = self._states.get(device_id)
            if current is None or current[1] != deadline:
                continue  # rescheduled or forgotten since: a stale heap entry
            if current[0] == ONLINE:
                self._schedule(device_id, TIMEOUT, now + grace_ms)
                moves.append((device_id, TIMEOUT))
            else:
                del self._states[device_id]
                moves.append((device_id, OFFLINE))
        return moves

    async def heartbeat(self, device_id: int) -> str | None:
        current = self._states.get(device_id)
        return current[0] if current else None

    async def forget(self, device_id: int) -> None:
        self._states.pop(device_id, None)

    async def lead(self, ttl_ms: int) -> bool:
        return True

    async def append_logs(self, device_id: int, lines: list[dict[str, Any]], retention: int) -> None:
        kept = self._logs.get(device_id)
        if kept is None or kept.maxlen != retention:
            kept = self._logs[device_id] = deque(kept or (), maxlen=retention)
        kept.extend(lines)
        for queue in self._followers.get(device_id, ()):
            for line in lines:
                _offer(queue, line)

    async def read_logs(self, device_id: int, count: int) -> list[dict[str, Any]]:
        kept = self._logs.get(device_id) or ()
        return list(kept)[-count:] if count > 0 else []

    async def follow_logs(self, device_id: int) -> Follower:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(FOLLOW_BUFFER)
        followers = self._followers.setdefault(device_id, set())
        followers.add(queue)
        return _QueueFollower(queue, followers)

    async def drop_logs(self, device_id: int) -> None:
        self._logs.pop(device_id, None)

    async def close(self) -> None:
        return None


FOLLOW_BUFFER = 1000


class _QueueFollower:
    def __init__(self, queue: asyncio.Queue[dict[str, Any]], followers: set):
        self.queue, self.followers = queue, followers

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self.queue.get()

    async def close(self) -> None:
        self.followers.discard(self.queue)


def _offer(queue: asyncio.Queue[dict[str, Any]], line: dict[str, Any]) -> None:
    """A slow reader loses lines rather than holding the writer up (§7)."""
    try:
        queue.put_nowait(line)
    except asyncio.QueueFull:
        pass


# --- Redis ---------------------------------------------------------------------------------

_POLL = """
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 'online')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return previous
"""

_ADOPT = """
if redis.call('SET', KEYS[1], ARGV[3], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
return 1
"""

_EXPIRE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local moves = {}
for _, id in ipairs(ids) do
  local key = ARGV[4] .. id
  local state = redis.call('GET', key)
  if state == 'online' then
    redis.call('SET', key, 'timeout')
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
    table.insert(moves, id)
    table.insert(moves, 'timeout')
  else
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
    if state == 'timeout' then
      table.insert(moves, id)
      table.insert(moves, 'offline')
    end
  end
end
return moves
"""

_LEAD = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_APPEND = """
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[1], ARGV[i])
  redis.call('PUBLISH', KEYS[2], ARGV[i])
end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

LOG_TTL_MS = 30 * 24 * 3600 * 1000  # §7: at most 30 days


class _PubSubFollower:
    def __init__(self, pubsub: Any):
        self.pubsub = pubsub

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        async for message in self.pubsub.listen():
            if message.get("type") == "message":
                yield orjson.loads(message["data"])

    async def close(self) -> None:
        await self.pubsub.aclose()


class Redis:
    """Several processes, one Redis. `prefix` keeps servers of different databases apart."""

    def __init__(self, url: str, prefix: str = "fleetyard:"):
        import redis.asyncio as aioredis

        self.client = aioredis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self.token = uuid.uuid4().hex  # this process, as a lease holder
        self._poll = self.client.register_script(_POLL)
        self._adopt = self.client.register_script(_ADOPT)
        self._expire = self.client.register_script(_EXPIRE)
        self._lead = self.client.register_script(_LEAD)
        self._append = self.client.register_script(_APPEND)

    def _k(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    async def generations(self, device_id: int) -> tuple[int, int]:
        a, d = await self.client.mget(self._k("state", "all"), self._k("state", "device", device_id))
        return int(a or 0), int(d or 0)

    async def bump_all(self) -> None:
        await self.client.incr(self._k("state", "all"))

    async def bump_devices(self, ids: Iterable[int]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.incr(self._k("state", "device", i))
            await pipe.execute()

    async def poll(self, device_id: int, deadline_ms: int) -> str | None:
        return await self._poll(keys=[self._k("hb", device_id), self._k("hb-due")], args=[device_id, deadline_ms])

    async def adopt(self, device_id: int, state: str, deadline_ms: int) -> None:
        await self._adopt(keys=[self._k("hb", device_id), self._k("hb-due")], args=[device_id, deadline_ms, state])

    async def expire(self, now: int, grace_ms: int, limit: int = 500) -> list[tuple[int, str]]:
        flat = await self._expire(keys=[self._k("hb-due")], args=[now, grace_ms, limit, self._k("hb", "")])
        return [(int(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]

    async def heartbeat(self, device_id: int) -> str | None:
        return await self.client.get(self._k("hb", device_id))

    async def forget(self, device_id: int) -> None:
        await self.client.delete(self._k("hb", device_id))
        await self.client.zrem(self._k("hb-due"), device_id)

    async def lead(self, ttl_ms: int) -> bool:
        return bool(await self._lead(keys=[self._k("hb-leader")], args=[self.token, ttl_ms]))

    async def resign(self) -> None:
        """Give the lease up at once (a clean stop), if it is ours."""
        if await self.client.get(self._k("hb-leader")) == self.token:
            await self.client.delete(self._k("hb-leader"))

    async def append_logs(self, device_id: int, lines: list[dict[str, Any]], retention: int) -> None:
        if lines:
            await self._append(keys=[self._k("logs", device_id), self._k("logs-live", device_id)],
                               args=[retention, LOG_TTL_MS, *(orjson.dumps(x).decode() for x in lines)])

    async def read_logs(self, device_id: int, count: int) -> list[dict[str, Any]]:
        if count <= 0:
            return []
        return [orjson.loads(x) for x in await self.client.lrange(self._k("logs", device_id), -count, -1)]

    async def follow_logs(self, device_id: int) -> Follower:
        pubsub = self.client.pubsub()
        await pubsub.subscribe(self._k("logs-live", device_id))
        return _PubSubFollower(pubsub)

    async def drop_logs(self, device_id: int) -> None:
        await self.client.delete(self._k("logs", device_id))

    async def close(self) -> None:
        try:
            await self.resign()
        finally:
            await self.client.aclose()
