"""The Dask side of a batch: a client (local cluster or existing scheduler), the scheduler probe and the
name of the worker running a task.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

from healthreach.errors import BatchError
from healthreach.messages import Message

if TYPE_CHECKING:
    from distributed import Client

SCHEDULER_TIMEOUT_S = 15.0
DEFAULT_SCHEDULER_PORT = 8786


def probe_scheduler(address: str, timeout_s: float = SCHEDULER_TIMEOUT_S) -> None:
    """Raise :class:`BatchError` unless the Dask scheduler at ``address`` accepts a connection and
    sends its greeting within ``timeout_s`` seconds.

    A Dask scheduler greets every new TCP connection first; a port that
    accepts and never answers (a wrong service, a stuck scheduler) would
    otherwise hold the client for ever. Addresses of other schemes (``tls://``,
    ``inproc://``) are left to Dask's own connection timeout.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    advice = Message("check the address (e.g. tcp://10.0.0.5:8786) and that the scheduler is running")
    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location, default_port=DEFAULT_SCHEDULER_PORT)
    except (ValueError, TypeError) as exc:
        msg = Message("--scheduler {address}: not a scheduler address ({reason}); {advice}", address=address,
                      reason=str(exc), advice=advice)
        raise BatchError(msg) from None
    if scheme != "tcp":
        return
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            if not sock.recv(1):
                msg = Message("the Dask scheduler at {address} closed the connection without answering; {advice}",
                              address=address, advice=advice)
                raise BatchError(msg)
    except TimeoutError:
        msg = Message("the Dask scheduler at {address} did not answer within {timeout_s:g} s (--scheduler-timeout); "
                      "{advice}", address=address, timeout_s=timeout_s, advice=advice)
        raise BatchError(msg) from None
    except OSError as exc:
        msg = Message("cannot connect to the Dask scheduler at {address} ({reason}); {advice}", address=address,
                      reason=exc.strerror or str(exc), advice=advice)
        raise BatchError(msg) from None


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None,
                memory_limit: str | float | None = "auto", dashboard_address: str | None = ":0",
                timeout_s: float = SCHEDULER_TIMEOUT_S) -> Iterator[Client]:
    """A Dask client: connected to ``scheduler`` if given, else to a new local cluster of ``workers`` processes.

    Local workers each run one audit at a time (one thread per process);
    ``memory_limit`` is per worker (``"auto"``: system memory / workers).
    ``timeout_s`` (seconds) bounds the connection to a remote scheduler and
    its first answer (see :func:`probe_scheduler`). Whatever is opened here
    is closed on exit.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        msg = Message("batch audits need Dask: pip install 'healthreach[batch]'")
        raise BatchError(msg) from None
    if scheduler:
        probe_scheduler(scheduler, timeout_s)
        try:
            client = Client(scheduler, timeout=timeout_s)
        except (OSError, TimeoutError, ValueError) as exc:
            msg = Message("cannot connect to the Dask scheduler at {address} ({reason}); {advice}", address=scheduler,
                          reason=f"{type(exc).__name__}: {exc}",
                          advice=Message("check the address (e.g. tcp://10.0.0.5:8786) and that the scheduler is "
                                         "running"))
            raise BatchError(msg) from None
        with client:
            yield client
        return
    n = max(1, int(workers or os.cpu_count() or 1))
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                      dashboard_address=dashboard_address) as cluster, Client(cluster) as client:
        yield client


def worker_name() -> str:
    """The address of the Dask worker running the current task, else ``host:pid`` of this process."""
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"

