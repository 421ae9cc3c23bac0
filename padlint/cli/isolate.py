"""Run the linting of one target in a child process with a time limit, so that a model
file that hangs or crashes cannot take padlint down (the CLI's ``--timeout``), and run
the user's code with its prints on stderr (:func:`prints_to_stderr`), so that stdout
carries only padlint's own output: JSON that parses, a diff that applies."""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable

from padlint.ir.report import Outcome


def _descriptors() -> tuple[int, int] | None:
    """The file descriptors of sys.stdout and sys.stderr, None when either has none (a
    stream replaced by an in-memory one, as under pytest's capsys)."""
    try:
        return sys.stdout.fileno(), sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None


@contextlib.contextmanager
def prints_to_stderr():
    """Inside it, what the user's code prints goes to stderr: ``print`` (sys.stdout) and
    also writes to the stdout file descriptor (C extensions, child processes, a stream the
    model file kept), which is pointed at stderr's and put back on exit. Every command that
    imports, builds or runs a model file runs that inside this."""
    stdout, fds = sys.stdout, _descriptors()
    saved = None
    if fds is not None and fds[0] != fds[1]:
        stdout.flush()
        saved = os.dup(fds[0])
        os.dup2(fds[1], fds[0])
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            for stream in (stdout, sys.stderr):   # what the user's code left buffered goes to stderr
                stream.flush()
            os.dup2(saved, fds[0])
            os.close(saved)


def _child(conn, fn: Callable[..., Outcome], args: tuple) -> None:
    try:
        with prints_to_stderr():
            outcome = fn(*args).portable()
    except BaseException as err:  # noqa: BLE001 - sys.exit() in user code, or worse
        outcome = Outcome(errors=[{"target": args[0], "message":
                                   f"{args[0]}: analysing it stopped with {type(err).__name__}: {err}; "
                                   "run with --debug for the traceback"}])
    try:
        conn.send(outcome)
    finally:
        conn.close()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(0)


def warm_up() -> None:
    """Do padlint's one-time imports and set-up here, before forking, so that each
    child starts ready and its time limit is spent on the user's model."""
    import torch  # lazy: imports torch, which this module must not
    from torch import nn  # lazy: imports torch, which this module must not

    from padlint.api import analyze  # lazy: imports torch, which this module must not
    analyze(nn.Sequential(nn.Conv2d(1, 1, 1), nn.ReLU()), (1, 1, 4, 4))
    torch.empty(1, device="meta")


MAX_WAIT = 10 ** 6      # seconds: the selector takes at most 2**31 ms (--yes, a huge --timeout)


def run_isolated(fn: Callable[..., Outcome], args: tuple, timeout: float) -> Outcome:
    """``fn(*args)`` in a child process; ``timeout <= 0`` runs it here instead."""
    label = args[0]
    if timeout <= 0:
        with prints_to_stderr():
            return fn(*args)
    fork = "fork" in multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork") if fork else multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(send, fn, args), daemon=True)
    process.start()
    send.close()
    try:
        if not receive.poll(min(timeout, MAX_WAIT)):
            process.kill()
            process.join()
            return Outcome(errors=[{"target": label, "message":
                                    f"{label}: timed out after {timeout:g} s while loading, building or "
                                    "tracing it; fix what hangs, or raise --timeout"}])
        try:
            return receive.recv()
        except EOFError:
            process.join()
            return Outcome(errors=[{"target": label, "message":
                                    f"{label}: the process analysing it crashed (exit code "
                                    f"{process.exitcode}): code in the model file ended the process; run the file with python "
                                    "to see why"}])
    finally:
        receive.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
