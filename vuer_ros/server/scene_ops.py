"""SceneOps: vuer's operator syntax for scene changes, shared by the app and its sessions.

    sess.set @ DefaultScene(...)
    sess.update @ Box(key="box", position=[0, 0, 1])      # or a list of elements
    sess.update(Box(key="box", args=[1, 1, 1]), strict=True)
    sess.add @ Sphere(key="ball")                          # sess.add(X, to="parent")
    sess.upsert @ [a, b]                                   # sess.upsert(X, to="parent", strict=False)
    sess.remove @ "ball"                                   # or a list of keys
    sess @ Set(scene)                                      # any protocol ServerEvent

Subclasses implement :meth:`_send_event`.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ..protocol import Add, Remove, ServerEvent, Set, Update, Upsert
from ..protocol.elements import Element

Nodes = Element | dict[str, Any] | Iterable[Element | dict[str, Any]]


class At:
    """``op @ x`` calls ``op(x)``; ``op(x, **kw)`` works too, and ``op(**kw) @ x``
    binds options first (``sess.add(to="base_link") @ box``)."""

    def __init__(self, fn: Callable[..., None], **bound: Any) -> None:
        self._fn = fn
        self._bound = bound

    def __matmul__(self, arg: Any) -> None:
        self._fn(arg, **self._bound)

    def __call__(self, *args: Any, **kwargs: Any) -> "At | None":
        if not args:
            return At(self._fn, **{**self._bound, **kwargs})
        self._fn(*args, **{**self._bound, **kwargs})
        return None


def _as_list(nodes: Any) -> list[Any]:
    if isinstance(nodes, (list, tuple)):
        return list(nodes)
    return [nodes]


class SceneOps:
    """Mixin: the five scene operations, as vuer spells them."""

    def _send_event(self, event: ServerEvent) -> None:
        raise NotImplementedError

    def __matmul__(self, event: ServerEvent) -> None:
        if not isinstance(event, ServerEvent):
            raise TypeError(f"'@' needs a protocol ServerEvent (Set(...), Update(...)), got {type(event).__name__}; "
                            "to send an element use .set/.update/.add/.upsert @ element")
        self._send_event(event)

    @property
    def set(self) -> At:
        """Replace the whole scene: ``sess.set @ DefaultScene(...)``."""
        return At(lambda scene: self._send_event(Set(scene)))

    @property
    def update(self) -> At:
        """Patch existing nodes by key: ``sess.update @ node`` / ``@ [n1, n2]``; ``strict=True`` replaces all props."""
        return At(lambda nodes, strict=False: self._send_event(Update(*_as_list(nodes), strict=strict)))

    @property
    def add(self) -> At:
        """Add nodes under ``to`` (default: the scene root)."""
        return At(lambda nodes, to=None: self._send_event(Add(*_as_list(nodes), to=to)))

    @property
    def upsert(self) -> At:
        """Update nodes whose key exists, add the rest under ``to``."""
        return At(lambda nodes, to=None, strict=False:
                  self._send_event(Upsert(*_as_list(nodes), to=to, strict=strict)))

    @property
    def remove(self) -> At:
        """Remove nodes by key: ``sess.remove @ "key"`` / ``@ ["k1", "k2"]``."""
        return At(lambda keys: self._send_event(Remove(*_as_list(keys))))
