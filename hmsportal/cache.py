"""Django's Redis cache backend, keeping one Redis client per connection pool.

Django's RedisCacheClient builds a new ``redis.Redis`` for every cache operation, and
redis-py's constructor rebuilds its table of about 165 response callbacks each time
(redis/redis-py#3624). The status check, the portal's hottest path, pays for that on every
lookup (bench/README.md). A ``redis.Redis`` holds no connection of its own, only the pool it
borrows from, so one per pool is as safe to share as the pool itself.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.cache.backends import redis as django_redis
from redis import Redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Redis:
        # Django's private helpers (not in django-stubs): the pool for a write or a read.
        this = cast(Any, self)
        pool = this._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), this._client(connection_pool=pool))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        cast(Any, self)._class = RedisCacheClient
