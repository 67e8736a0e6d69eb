"""Element keys of the scene model: safe for any frame id or marker namespace.

Every key the scene model emits has one of these forms::

    tf:<frame>                 the Group of TF frame <frame>
    marker:<ns>:<id>           the Group of marker (ns, id), carrying its pose
    marker:<ns>:<id>#<part>    a geometry node inside that marker (body, shaft, head, ...)
    marker:<ns>:list.<type>.<frame>  the MarkerList of the listed markers of type <type>
                               of namespace <ns> in frame <frame>'s group (marker_list.py)
    robot:<link>               the Group of a URDF link's visuals (inside tf:<link>)
    robot:<link>#visual<i>     the link's i-th <visual>, at its origin; its geometry is
                               robot:<link>#visual<i>#body
    <display>:<topic>:<slot>   the Group of one message a topic display shows (``path``,
                               ``pose``, ``odometry``, ...; stamped_display.py); its
                               geometry is <display>:<topic>:<slot>#<part>
    map:<topic>                the Group of an OccupancyGrid topic's map, at its origin
    map:<topic>#tile<i>_<j>    its tile of cells in column i, row j
    tfd:<frame>                the TF display's Group of frame <frame> (inside tf:<frame>):
                               its axes tfd:<frame>#x|#y|#z, name tfd:<frame>#name and
                               the arrow to its parent tfd:<frame>#arrow (#shaft, #head)
    cloud:<topic>              a PointCloud2 / LaserScan topic's latest cloud (decay time 0)
    cloud:<topic>:<n>          its n-th cloud, while the decay time keeps several

``<frame>``, ``<link>``, ``<ns>`` and ``<topic>`` are escaped: ASCII letters, digits and ``_ - . ~ /``
stay as they are, every other character (``:``, ``#``, ``%``, spaces, control
characters, non-ASCII) becomes ``%XX`` per UTF-8 byte, as in a URL. So
``frame "my robot:base"`` is ``tf:my%20robot%3Abase``. ``<id>`` is the decimal
int32. The mapping is one-to-one (``unescape`` inverts it), the prefixes keep
these keys apart from the scene's own (``scene``, ``grid``, ``DEFAULT``, ...),
and ``#`` never occurs in an escaped name or an id, so part keys cannot collide
with marker keys.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, unquote

_SAFE = "_-.~/"

FRAME_PREFIX = "tf:"
MARKER_PREFIX = "marker:"
ROBOT_PREFIX = "robot:"
MAP_PREFIX = "map:"
TF_DISPLAY_PREFIX = "tfd:"
CLOUD_PREFIX = "cloud:"


@lru_cache(maxsize=65536)
def escape(name: str) -> str:
    """Escape a frame id or namespace for use inside a key."""
    return quote(name, safe=_SAFE)


def unescape(text: str) -> str:
    return unquote(text)


def frame_key(frame: str) -> str:
    """Key of the Group of TF frame ``frame``."""
    return FRAME_PREFIX + escape(frame)


def marker_key(ns: str, marker_id: int) -> str:
    """Key of the Group of marker ``(ns, marker_id)``."""
    return f"{MARKER_PREFIX}{escape(ns)}:{int(marker_id)}"


def marker_list_key(frame: str, ns: str, mtype: int) -> str:
    """Key of the MarkerList of type ``mtype`` markers of ``ns`` in ``frame``'s group:
    under its namespace's prefix (a panel hiding ``marker:<ns>`` hides its lists too),
    and never a marker's key (what follows the last ``:`` is not a number)."""
    return f"{MARKER_PREFIX}{escape(ns)}:list.{int(mtype)}.{escape(frame)}"


def robot_link_key(link: str) -> str:
    """Key of the Group holding URDF link ``link``'s visuals (a child of ``tf:<link>``)."""
    return ROBOT_PREFIX + escape(link)


def display_key(display: str, topic: str, slot: int) -> str:
    """Key of the Group of the message in ``slot`` of a topic display (``display`` is the
    display's own prefix word, ``path``, ``pose``, ...)."""
    return f"{display}:{escape(topic)}:{int(slot)}"


def map_key(topic: str) -> str:
    """Key of the Group of the map shown from OccupancyGrid topic ``topic``."""
    return MAP_PREFIX + escape(topic)


def tf_display_key(frame: str) -> str:
    """Key of the TF display's Group of frame ``frame`` (a child of ``tf:<frame>``)."""
    return TF_DISPLAY_PREFIX + escape(frame)


def owner_prefix(word: str, name: str | None = None) -> str:
    """The key prefix that names what one display draws, for a viewer's panel
    (vuer_ros/protocol/status.py: a key is the prefix's when it is the prefix or goes on
    with ``:`` or ``#``): ``word`` alone (``robot``), or ``word:<name>`` with ``name``
    escaped (``marker:<ns>``, ``path:<topic>``)."""
    return word if name is None else f"{word}:{escape(name)}"


def cloud_key(topic: str, n: int | None = None) -> str:
    """Key of a cloud of ``topic``: its only one (``n`` None) or its ``n``-th."""
    return CLOUD_PREFIX + escape(topic) + ("" if n is None else f":{int(n)}")


def part_key(key: str, part: str) -> str:
    """Key of a geometry node ``part`` inside the marker whose key is ``key``."""
    return f"{key}#{part}"


def frame_of_key(key: str) -> str | None:
    """The frame id of a ``tf:`` key, or None for any other key."""
    if not key.startswith(FRAME_PREFIX):
        return None
    return unescape(key[len(FRAME_PREFIX):])


def marker_of_key(key: str) -> tuple[str, int] | None:
    """``(ns, id)`` of a ``marker:`` key (parts included), or None for any other key."""
    if not key.startswith(MARKER_PREFIX):
        return None
    body = key[len(MARKER_PREFIX):].split("#", 1)[0]
    ns, _, ident = body.rpartition(":")
    try:
        return unescape(ns), int(ident)
    except ValueError:
        return None
