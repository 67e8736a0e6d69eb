"""Every scene element class, under the module name vuer uses (``vuer.schemas``):
``from vuer_ros.schemas import DefaultScene, Plane, Sphere``.

Re-exported from :mod:`vuer_ros.protocol.elements`, whose classes are made from
the wire schema, :mod:`vuer_ros.protocol.schema` (the one definition)."""

from __future__ import annotations

from .protocol import elements as _elements
from .protocol.elements import (Element)

# any element class added to protocol/elements later is exported too
globals().update({name: obj for name, obj in vars(_elements).items()
                  if isinstance(obj, type) and issubclass(obj, Element)})

__all__ = sorted({name for name, obj in vars(_elements).items()
                  if isinstance(obj, type) and issubclass(obj, Element)}
                 | {"ALL_TAGS", "to_wire_node", "to_wire_value"})
