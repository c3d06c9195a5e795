"""A lean HTTP/1.1 load client for the benches: keep-alive connections on asyncio streams, nothing else.

The benches run the load, the API, the workers and PostgreSQL on the same two cores, so the client's own CPU is
taken from the system it measures. A general-purpose client (httpx) spends about as much CPU per request as the
webhook does; this one sends a prepared request and reads the status line, the headers and a Content-Length
body, which is all the benches need.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence


class Connection:
    """One keep-alive connection; `post` sends a body and returns (status, response body)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{head}Content-Length: {len(body)}\r\n\r\n"
                          .encode("latin-1") + body)
        try:
            await self.writer.drain()
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("connection closed by the server")
            length, close = 0, False
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and value.strip().lower() == "close":
                    close = True
            answer = await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.close()
            raise ConnectionError(str(exc)) from exc
        if close:
            self.close()
        return int(status_line.split()[1]), answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def post_many(
    port: int, path: str, items: Sequence[tuple[bytes, dict[str, str]]], clients: int, *, rate: float = 0.0,
    on_answer: Callable[[int, int, bytes, float, float], None] | None = None,
) -> tuple[float, list[int], int]:
    """Post every (body, headers) with `clients` connections, as a mail service or browsers do: a post that fails
    in transit is sent again (the Message-ID or Idempotency-Key makes that safe). With `rate`, item i leaves at
    i/rate seconds (an open-loop arrival rate); without, as fast as the server answers. `on_answer(index, status,
    body, sent_at, seconds)` sees each answer (sent_at: the wall clock when the post left; seconds: how long
    it took). Returns seconds, the statuses
    that were not 2xx, resends."""
    loop = asyncio.get_running_loop()
    order = list(range(len(items)))
    order.reverse()
    failures: list[int] = []
    resends = 0
    start = loop.time()

    async def client() -> None:
        nonlocal resends
        conn = Connection("127.0.0.1", port)
        while order:
            index = order.pop()
            if rate:
                await asyncio.sleep(max(0.0, start + index / rate - loop.time()))
            body, headers = items[index]
            for attempt in range(5):
                sent_at, began = time.time(), loop.time()
                try:
                    status, answer = await conn.post(path, body, headers)
                    break
                except ConnectionError:
                    if attempt == 4:
                        raise
                    resends += 1
                    await asyncio.sleep(0.5)
            if not 200 <= status < 300:
                failures.append(status)
            if on_answer is not None:
                on_answer(index, status, answer, sent_at, loop.time() - began)
        conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return loop.time() - start, failures, resends
