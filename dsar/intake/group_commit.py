"""Group commit for the intake endpoints: messages that arrive together are stored in one transaction.

Each request still waits until its own message is committed (a 202 still means "stored"), but the requests
that arrive while one transaction commits form the next one, so under load the database sees one commit, and
the broker one task, per group instead of per message. With one request at a time a group is that request.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

LINGER_SECONDS = 0.002
Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """`write` takes a group of items and returns one result per item, in order (it runs in a thread)."""

    def __init__(self, write: Callable[[list[Item]], list[Result]], max_group: int) -> None:
        self.write, self.max_group = write, max_group
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Queue] = (
            weakref.WeakKeyDictionary()
        )
        self._writers: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:  # one writer per event loop (uvicorn has one; test clients may make several)
            queue = self._queues[loop] = asyncio.Queue()
            writer = loop.create_task(self._drain(queue))
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        future: asyncio.Future[Result] = loop.create_future()
        queue.put_nowait((item, future))
        return await future

    async def _drain(self, queue: asyncio.Queue) -> None:
        busy = False  # the last group had company: requests are arriving concurrently
        while True:
            group = [await queue.get()]
            if busy and queue.qsize() + 1 < self.max_group:
                # Under concurrent load the clients the last group answered are sending their next requests right
                # now; waiting a moment lets them join this group instead of forming a small one of their own.
                await asyncio.sleep(LINGER_SECONDS)
            while len(group) < self.max_group and not queue.empty():
                group.append(queue.get_nowait())
            busy = len(group) > 1
            try:
                results = await run_in_threadpool(self.write, [item for item, _ in group])
            except Exception as exc:  # every request of the group gets the error (a 503 for a database outage)
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():  # a request whose client went away was cancelled
                    future.set_result(result)
