"""The sandbox's state file (`sandbox serve --state-file PATH`): the world survives a restart.

The whole world (every portal's HubSpot and Zoom, issued tokens, the `world_id`) is pickled to
the file, atomically (a temporary file renamed over it): on start when the file is new, then
every `interval_s` seconds while the world changes (any counted API call), and on stop. On
start an existing file is read back instead of the scenario, so a restarted dev stack goes on
where it was, with the same tokens and the same `world_id`. Locks are not pickled; fresh ones
are made on reading. The file is local development state (trusted input, never shared).
"""

from __future__ import annotations

import io
import logging
import os
import pickle  # noqa: S403 - a local state file this process wrote itself
import tempfile
import threading
from pathlib import Path
from typing import Any

from sandbox import state as state_module
from sandbox.state import SandboxState

logger = logging.getLogger("zoomsync.sandbox")

_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
FORMAT = 1


def _new_rlock() -> Any:
    return threading.RLock()


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return _new_rlock, ()
        return NotImplemented


class StateFileError(Exception):
    pass


def world_save(world: SandboxState, path: Path) -> None:
    """Write `world` to `path` atomically."""
    buffer = io.BytesIO()
    with world.lock:
        locks = [w.hubspot.lock for w in world.portals.values()]
        for lock in locks:
            lock.acquire()
        try:
            _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump({"format": FORMAT, "world": world})
        finally:
            for lock in reversed(locks):
                lock.release()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(buffer.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def world_read(path: Path) -> SandboxState:
    try:
        data = pickle.loads(path.read_bytes())  # noqa: S301 - see the module docstring
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same answer
        raise StateFileError(
            f"{path}: not a sandbox state file this version can read ({type(exc).__name__}); "
            "delete it to start from the scenario again") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(
            data.get("world"), SandboxState):
        raise StateFileError(f"{path}: not a sandbox state file (delete it to start afresh)")
    return data["world"]


class StateKeeper:
    """Saves the served world to a file while the server runs."""

    def __init__(self, path: Path, *, interval_s: float = 2.0) -> None:
        self.path = path
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: tuple[str, int] | None = None

    def restore(self) -> bool:
        """Install the file's world, if there is a file. True when it did."""
        if not self.path.exists():
            return False
        world = state_module.install(world_read(self.path))
        self._seen = self._mark(world)
        return True

    def _mark(self, world: SandboxState) -> tuple[str, int]:
        with world.lock:
            calls = sum(sum(c.values()) for c in world.counters.calls.values())
        return world.world_id, calls

    def save_if_changed(self) -> bool:
        world = state_module.sandbox_state()
        mark = self._mark(world)
        if mark == self._seen:
            return False
        world_save(world, self.path)
        self._seen = mark
        return True

    def start(self) -> None:
        try:
            self.save_if_changed()
        except Exception:  # serve anyway; the loop logs again if it keeps failing
            logger.exception("sandbox state file %s: save failed", self.path)
        self._thread = threading.Thread(target=self._loop, name="sandbox-state-file", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.save_if_changed()
            except Exception:  # keep serving; the next round tries again
                logger.exception("sandbox state file %s: save failed", self.path)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._seen = None  # always write the last state
        self.save_if_changed()
