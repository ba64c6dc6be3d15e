"""Ctrl-C in a run on worker processes: the main process answers it, the workers stop.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group, worker processes
included. Python's own answer in a worker is wrong three ways. A worker that gets it while
Python starts or imports relsim prints the traceback of the import; one that gets it while idle
prints another. And one that gets it while sending a finished replication to the main process
stops mid-message: the main process then waits for the rest of the message forever. Killing
workers (SIGTERM) has the same last flaw, and the soak met it as a hang.

So a worker answers SIGINT only where that is safe, inside a replication (:func:`run_task`):
there it raises :class:`Stopped`, which is sent back like any result. Anywhere else the signal
only marks the worker as stopping, and every replication it starts afterwards stops at once.
The worker starts with SIGINT blocked: the main process blocks it while it spawns a worker
(:func:`sigint_held`), and the signal mask survives fork and exec. A signal sent during the
start-up waits until the worker's initializer has put the handler in place (:func:`start_worker`);
CPython's ``multiprocessing.resource_tracker`` starts its process the same way. When the main
process leaves a pool on Ctrl-C or an error, it sends the workers SIGINT itself
(:func:`stop_workers`), which also reaches them when the SIGINT reached the main process
alone, and then shuts the pool down in the usual way.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
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


class Stopped(KeyboardInterrupt):
    """A replication stopped by SIGINT inside a worker process. A KeyboardInterrupt, so that a
    worker interrupted on its own stops the run as a Ctrl-C would, and so that no ``except
    Exception`` in a model catches it."""


_stopping = False  # this worker got SIGINT: replications stop
_in_task = False  # a replication is running, so the SIGINT handler may raise


def _stop(signum: int, frame: Any) -> None:
    global _stopping, _in_task
    _stopping = True
    if _in_task:
        _in_task = False  # one raise per replication, and never while a result is being sent
        raise Stopped("replication stopped by SIGINT")


def start_worker(registered: dict[str, dict[str, Any]]) -> None:
    """A worker process's initializer: answer SIGINT as described above (a signal that came
    during the start-up arrives now, and only marks the worker as stopping), then restore the
    extensions registered in the main process."""
    if _CAN_MASK:
        signal.signal(signal.SIGINT, _stop)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    extensions.restore(registered)


def run_task(function: Callable[..., Any], *args: Any) -> Any:
    """Run one task in a worker, stoppable by SIGINT (raises :class:`Stopped`)."""
    global _in_task
    try:
        _in_task = True  # inside the try, so that the finally always clears it
        if _stopping:
            raise Stopped("replication not started: the worker got SIGINT")
        return function(*args)
    finally:
        _in_task = False


def stop_workers(executor: cf.Executor) -> None:
    """Send a process pool's workers SIGINT: running replications stop at once, queued ones
    do not start, and the pool's shutdown then ends the workers in the usual way."""
    if not _CAN_MASK:
        return
    # `_processes` (pid -> Process) is the pool's own record; no public API lists its workers
    for pid in list(getattr(executor, "_processes", None) or {}):
        with contextlib.suppress(OSError):  # it has already ended
            os.kill(pid, signal.SIGINT)
