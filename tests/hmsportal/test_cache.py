"""hmsportal.cache: Django's Redis cache, with one Redis client per connection pool."""

from __future__ import annotations

import uuid

from hmsportal.cache import RedisCache


def test_the_cache_works_and_keeps_one_client(redis_url):
    cache = RedisCache(redis_url, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    cache.set("answer", {"register": "brreg"}, timeout=30)
    assert cache.get("answer") == {"register": "brreg"}
    assert cache.add("count", 1)
    assert cache.incr("count") == 2
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=False)
    cache.delete_many(["answer", "count"])
    assert cache.get("answer") is None


def test_each_server_of_a_replicated_setup_gets_its_own_client(redis_url):
    # The first server takes the writes, the others the reads (Django's rule).
    cache = RedisCache([redis_url, redis_url], {})
    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client(write=False)
    assert writer is not reader
    assert writer.connection_pool is not reader.connection_pool
    assert cache._cache.get_client(write=False) is reader
