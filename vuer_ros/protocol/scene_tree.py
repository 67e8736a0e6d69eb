"""SceneTree: the current scene, kept by the server so any client can be
brought up to date with one SET (late join, reconnect, a client that fell behind).

It applies the same SET / UPDATE / ADD / UPSERT / REMOVE events the browser
applies, on wire-form nodes (plain maps), and indexes every node by key.
Problems (an UPDATE for a key that does not exist, ADD under a missing parent)
are returned as messages, not raised: one bad node never blocks the others.
"""

from __future__ import annotations

import copy
from typing import Any

from .schema import BY_TAG, CHILD_LISTS

_SCENE = BY_TAG["Scene"]


class SceneTreeError(ValueError):
    """An event that cannot be applied at all (wrong shape)."""


def empty_scene() -> dict[str, Any]:
    return {"tag": _SCENE.tag, "key": _SCENE.default_key, "up": _SCENE.defaults()["up"],
            "children": [], "bgChildren": []}


class SceneTree:
    def __init__(self) -> None:
        self.root: dict[str, Any] = empty_scene()
        self._nodes: dict[str, dict[str, Any]] = {}
        self._parent: dict[str, tuple[dict[str, Any], str]] = {}
        self._index(self.root, None, "")

    # -- queries -------------------------------------------------------------
    def __contains__(self, key: str) -> bool:
        return key in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._nodes.get(key)

    def parent_key(self, key: str) -> str | None:
        entry = self._parent.get(key)
        return entry[0]["key"] if entry else None

    def snapshot(self) -> dict[str, Any]:
        """The whole scene as one node (share it read-only; copy to mutate)."""
        return self.root

    # -- applying events -------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> list[str]:
        """Apply one wire-form server event; return problems found (empty if none)."""
        etype = event.get("etype")
        data = event.get("data")
        if etype == "SET":
            return self.set(data)
        if not isinstance(data, dict):
            raise SceneTreeError(f"{etype}: data is not a map")
        if etype == "UPDATE":
            return self.update(data.get("nodes") or [], strict=bool(data.get("strict")))
        if etype == "ADD":
            return self.add(data.get("nodes") or [], to=data.get("to"))
        if etype == "UPSERT":
            return self.upsert(data.get("nodes") or [], to=data.get("to"), strict=bool(data.get("strict")))
        if etype == "REMOVE":
            return self.remove(data.get("keys") or [])
        return []  # RPCs and other events do not change the scene

    def set(self, scene: Any) -> list[str]:
        if not isinstance(scene, dict) or "key" not in scene:
            raise SceneTreeError("SET: data is not a scene node with a key")
        self.root = copy.deepcopy(scene)
        self._nodes.clear()
        self._parent.clear()
        problems: list[str] = []
        self._index(self.root, None, "", problems)
        return problems

    def update(self, nodes: list[Any], strict: bool = False) -> list[str]:
        problems = []
        for node in nodes:
            key = node.get("key") if isinstance(node, dict) else None
            current = self._nodes.get(key) if isinstance(key, str) else None
            if current is None:
                problems.append(f"UPDATE: no node with key {key!r}")
                continue
            self._merge(current, node, strict, problems)
        return problems

    def add(self, nodes: list[Any], to: str | None = None) -> list[str]:
        problems: list[str] = []
        parent = self._nodes.get(to) if to else self.root
        if parent is None:
            return [f"ADD: no parent with key {to!r}"]
        for node in nodes:
            if not isinstance(node, dict) or not isinstance(node.get("key"), str):
                problems.append("ADD: node without a string key")
                continue
            if node["key"] in self._nodes:
                # the browser would end up with two nodes of one key: replace instead
                self._remove_key(node["key"])
            node = copy.deepcopy(node)
            parent.setdefault("children", []).append(node)
            self._index(node, parent, "children", problems)
        return problems

    def upsert(self, nodes: list[Any], to: str | None = None, strict: bool = False) -> list[str]:
        problems: list[str] = []
        fresh = []
        for node in nodes:
            key = node.get("key") if isinstance(node, dict) else None
            if isinstance(key, str) and key in self._nodes:
                self._merge(self._nodes[key], node, strict, problems)
            else:
                fresh.append(node)
        if fresh:
            problems += self.add(fresh, to=to)
        return problems

    def remove(self, keys: list[Any]) -> list[str]:
        problems = []
        for key in keys:
            if not isinstance(key, str) or key not in self._nodes:
                problems.append(f"REMOVE: no node with key {key!r}")
                continue
            if self._nodes[key] is self.root:
                problems.append("REMOVE: the scene root cannot be removed")
                continue
            self._remove_key(key)
        return problems

    # -- internals ---------------------------------------------------------------
    def _merge(self, current: dict[str, Any], node: dict[str, Any], strict: bool, problems: list[str]) -> None:
        replaces_children = strict or any(name in node for name in CHILD_LISTS)
        if replaces_children:
            for name in CHILD_LISTS:
                for child in current.get(name, ()) if (strict or name in node) else ():
                    self._unindex(child)
        if strict:
            keep = {"key": current["key"]}
            current.clear()
            current.update(keep)
        for name, value in node.items():
            current[name] = copy.deepcopy(value) if name in CHILD_LISTS else value
        if replaces_children:
            for name in CHILD_LISTS:
                for child in current.get(name, ()) if name in node else ():
                    self._index(child, current, name, problems)

    def _index(self, node: dict[str, Any], parent: dict[str, Any] | None, slot: str,
               problems: list[str] | None = None) -> None:
        key = node.get("key")
        if isinstance(key, str):
            if key in self._nodes and problems is not None:
                problems.append(f"duplicate key {key!r}: the later node wins lookups")
            self._nodes[key] = node
            if parent is not None:
                self._parent[key] = (parent, slot)
        for name in CHILD_LISTS:
            for child in node.get(name, ()) or ():
                if isinstance(child, dict):
                    self._index(child, node, name, problems)

    def _unindex(self, node: dict[str, Any]) -> None:
        key = node.get("key")
        if isinstance(key, str) and self._nodes.get(key) is node:
            del self._nodes[key]
            self._parent.pop(key, None)
        for name in CHILD_LISTS:
            for child in node.get(name, ()) or ():
                if isinstance(child, dict):
                    self._unindex(child)

    def _remove_key(self, key: str) -> None:
        node = self._nodes[key]
        parent, slot = self._parent[key]
        siblings = parent.get(slot, [])
        for i, child in enumerate(siblings):
            if child is node:
                del siblings[i]
                break
        self._unindex(node)
