"""The in-child half of @cpex/core's process supervisor (``@cpex/core/host``), for Python.

The host (``spawnSupervised`` in core) starts a child in its own session and process group, with
two things in its environment:

  CPEX_LIFELINE_FD       an inherited pipe fd the host never writes; end-of-file on it means the
                         gateway is gone (exit, crash or SIGKILL: the kernel closes it).
  CPEX_SUPERVISOR_TAG    a random marker; every descendant that keeps its environment carries it
                         in /proc/<pid>/environ, which is how the host finds escapees.

What the child does (this module, for Python; any language can do the same - see
docs/host-python.md "Processes"):

  1. ``become_subreaper()``: prctl(PR_SET_CHILD_SUBREAPER) - descendants orphaned by a double fork
     (``setsid`` included) are re-parented to this process instead of init, so they stay in its
     process tree and a tree walk finds them.
  2. ``watch_lifeline(fd)``: a thread blocked in read(); on EOF it kills the whole tree and exits,
     even while the main thread is stuck in a plugin.
  3. ``die_with_parent()``: prctl(PR_SET_PDEATHSIG, SIGKILL) where no lifeline is available.
  4. protocol fds are created non-inheritable (close-on-exec, PEP 446) by the caller.

Linux only for 1-3 (and the /proc walk); elsewhere they are no-ops and the process group is what
is killed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Callable, Optional

LIFELINE_ENV = "CPEX_LIFELINE_FD"
TAG_ENV = "CPEX_SUPERVISOR_TAG"

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_LINUX = sys.platform.startswith("linux")


def _prctl(option: int, arg: int) -> bool:
    if not _LINUX:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, arg, 0, 0, 0) == 0
    except Exception:  # noqa: BLE001 - best effort; the caller documents what it loses
        return False


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process (Linux 3.4+)."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Get ``sig`` when the parent dies; exits at once if it already died before prctl took effect."""
    if not _LINUX:
        return
    parent = os.getppid()
    if _prctl(_PR_SET_PDEATHSIG, int(sig)) and os.getppid() != parent:
        os._exit(1)


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, pgid) for every process we can see in /proc."""
    out: dict[int, tuple[int, int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # Fields after the command (which may contain spaces and parentheses): state ppid pgrp ...
        rest = stat[stat.rfind(b")") + 2 :].split()
        if len(rest) >= 3:
            out[int(name)] = (int(rest[1]), int(rest[2]))
    return out


def _tagged(tag: str) -> list[int]:
    needle = f"{TAG_ENV}={tag}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as fh:
                if needle in fh.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            continue
    return found


def descendants(root: int, procs: Optional[dict[int, tuple[int, int]]] = None) -> list[int]:
    """Every process below ``root`` in the process tree (Linux; [] elsewhere)."""
    procs = _processes() if procs is None else procs
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out: list[int] = []
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except OSError:
        pass


def kill_tree(root: int, tag: Optional[str] = None, include_root: bool = True) -> list[int]:
    """SIGKILLs ``root``'s process group, every descendant (and their groups) and, with ``tag``,
    every process carrying it. Descendants are stopped first so none can fork while the tree is
    walked; the walk repeats until it finds nothing new. Returns the pids signalled."""
    me = os.getpid()
    mine = os.getpgrp()
    killed: set[int] = set()
    for _ in range(8):
        procs = _processes()
        victims = set(descendants(root, procs))
        if include_root:
            victims.update(p for p, (_, g) in procs.items() if g == root)
        elif root == mine:  # our own group's other members (the caller lives on to exit cleanly)
            victims.update(p for p, (_, g) in procs.items() if g == mine)
        if tag and _LINUX:
            victims.update(_tagged(tag))
        if include_root:
            victims.add(root)
        victims.discard(me)
        new = victims - killed
        if not new and killed:
            break
        for pid in new:
            _kill(pid, signal.SIGSTOP)
        for pid in new:
            pgid = procs.get(pid, (0, 0))[1]
            if pgid > 1 and pgid != mine:  # a group of the tree's own (never the caller's)
                _killpg(pgid, signal.SIGKILL)
            _kill(pid, signal.SIGKILL)
        killed |= new
        if not _LINUX:
            break
    if include_root and root != mine:
        _killpg(root, signal.SIGKILL)
    return sorted(killed)


def kill_own_tree_and_exit(code: int = 1) -> None:
    """Kills every descendant of this process (and any tagged process), its process group, then itself."""
    me = os.getpid()
    try:
        kill_tree(me, os.environ.get(TAG_ENV) or None, include_root=False)
        sys.stderr.flush()
        if not _LINUX and os.getpgrp() == me:  # no /proc to list our group: the whole group, us too
            os.killpg(me, signal.SIGKILL)
    finally:
        os._exit(code)


def watch_lifeline(fd: int, on_gone: Callable[[], None] = kill_own_tree_and_exit) -> bool:
    """Starts a daemon thread that calls ``on_gone`` when ``fd`` reaches end-of-file (the host is
    gone). The fd is made close-on-exec so exec'd programs do not hold it."""
    try:
        os.set_inheritable(fd, False)
        os.fstat(fd)
    except OSError:
        return False

    def watch() -> None:
        while True:
            try:
                data = os.read(fd, 4096)
            except InterruptedError:
                continue
            except OSError:
                data = b""
            if not data:
                on_gone()
                return

    threading.Thread(target=watch, name="cpex-lifeline", daemon=True).start()
    return True


def lifeline_fd() -> Optional[int]:
    """The lifeline fd the host passed (CPEX_LIFELINE_FD), if any."""
    raw = os.environ.get(LIFELINE_ENV)
    if not raw or not raw.isdigit():
        return None
    return int(raw)
