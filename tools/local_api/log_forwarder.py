"""A stdout stand-in that ships complete lines to one CloudWatch Logs stream from a background thread, in batches,
off the request path (what Lambda and API Gateway do with the function's output and the access log)."""

from __future__ import annotations

import io
import queue
import threading
import time
from typing import Any


class LogForwarder(io.TextIOBase):
    """A stdout stand-in that ships complete lines to one CloudWatch Logs stream from a background thread."""

    def __init__(self, logs: Any, group: str, stream: str, echo: io.TextIOBase | None = None) -> None:
        self.logs, self.group, self.stream, self.echo = logs, group, stream, echo
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.partial = threading.local()
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        self.thread = threading.Thread(target=self._ship, name=f"logs:{group}", daemon=True)
        self.thread.start()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        buffered = getattr(self.partial, "text", "") + text
        *complete, rest = buffered.split("\n")
        self.partial.text = rest
        for line in complete:
            if line.strip():
                self.lines.put(line)
        if self.echo:
            self.echo.write(text)
        return len(text)

    def close_and_flush(self, timeout: float = 10.0) -> None:
        self.lines.put(None)
        self.thread.join(timeout)

    def _ship(self) -> None:
        done = False
        while not done:
            batch = [self.lines.get()]
            deadline = time.monotonic() + 0.2
            while batch[-1] is not None and len(batch) < 500 and time.monotonic() < deadline:
                try:
                    batch.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            done = None in batch
            events = [{"timestamp": int(time.time() * 1000), "message": line} for line in batch if line is not None]
            if events:
                self.logs.put_log_events(logGroupName=self.group, logStreamName=self.stream, logEvents=events)
