"""Ctrl-C in a run on worker processes: the main process alone answers it.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group, worker processes
included. A worker that receives it while Python starts or imports relsim prints a traceback of
the import, and one that receives it while idle prints another; neither helps the user, who only
needs the main process to stop, keep the finished replications and say how to resume.

So workers never react to SIGINT. The main process holds SIGINT back while it spawns a worker
(:func:`sigint_held`): the signal mask survives fork and exec, so the worker starts with SIGINT
blocked, and a signal sent meanwhile waits. The worker's first act is to ignore SIGINT, which
discards a waiting one, and to unblock it (:func:`start_worker`). CPython's own
``multiprocessing.resource_tracker`` starts its process the same way. The main process then
stops its workers itself (:func:`stop_workers`), which also stops a replication that would
otherwise run for minutes after the Ctrl-C.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from relsim import extensions

_CAN_MASK = hasattr(signal, "pthread_sigmask")  # POSIX; elsewhere workers keep Python's default


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Hold a Ctrl-C back until the block ends, then raise it as usual.

    The block is a submit that may spawn a worker, which must not be cut in half: a worker
    started but never sent its start-up data fails to read it and prints that traceback. Two
    things hold the signal. The mask blocks SIGINT in this thread, and a spawned worker
    inherits the mask. A recording handler catches the signal when another thread of this
    process takes it, since Python would otherwise raise KeyboardInterrupt in the main thread
    mid-block regardless of the mask. Off the main thread, where handlers cannot be set, or
    under a handler set outside Python, which could not be put back, only the mask is used."""
    if not _CAN_MASK:
        yield
        return
    on_main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if on_main else None
    received: list[int] = []
    if handler is not None:
        signal.signal(signal.SIGINT, lambda number, _: received.append(number))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a waiting SIGINT arrives now
        if handler is not None:
            # signal.signal runs due handlers first, so the recording one sees a waiting SIGINT
            signal.signal(signal.SIGINT, handler)
            if received:
                _raise_held(handler)


def _raise_held(handler: Any) -> None:
    """Answer a held SIGINT as the handler in place before would have."""
    if callable(handler):  # Python's default raises KeyboardInterrupt
        handler(signal.SIGINT, None)
    elif handler != signal.SIG_IGN:  # the system's default: die of SIGINT
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)


def start_worker(registered: dict[str, dict[str, Any]]) -> None:
    """A worker process's initializer: ignore SIGINT for good, then restore the extensions
    registered in the main process."""
    if _CAN_MASK:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    extensions.restore(registered)


def stop_workers(executor: cf.Executor) -> None:
    """Terminate a process pool's workers now, mid-replication if need be (their unfinished
    replications are lost; finished ones were already kept by the main process)."""
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    # Python 3.11-3.13 offer no public way; `_processes` maps pid -> Process (None once shut down)
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
