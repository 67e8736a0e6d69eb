"""VuerClients: the sessions whose browser runs the Vuer client, and what they are sent.

A session is a Vuer client when its INIT says so (``protocol/vuer_client.py``:
``is_vuer_client``); it is then sent one SET in the Vuer client's form, and every
scene event after it in that form. Our own clients' path does not change: the
shared scene is encoded once for them, and nothing here runs while no Vuer client
is connected. For Vuer clients each event is translated and encoded once for all
of them, and the SET snapshot once per scene version.

The Text font (a ``data:`` URL, so the Vuer client needs no network and no second
server path for it) comes from the client bundle: ``client_build/fonts/vuer-text.woff``,
copied there by web/build.mjs.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..protocol import Set, encode
from ..protocol.vuer_client import VuerClientForm, is_vuer_client
from .session import VuerSession
from .shared_scene import SharedScene

logger = logging.getLogger(__name__)

TEXT_FONT = Path(__file__).resolve().parents[1] / "client_build" / "fonts" / "vuer-text.woff"


def text_font_url(path: Path = TEXT_FONT) -> str | None:
    """The Vuer client's Text font as a data: URL; None (logged) when the bundle lacks it."""
    try:
        data = path.read_bytes()
    except OSError as e:
        logger.warning("no font for Text in Vuer clients (%s: %s); they will fetch theirs from a CDN. "
                       "Build the client bundle (bash scripts/setup.sh)", path, e.strerror)
        return None
    return "data:font/woff;base64," + base64.b64encode(data).decode("ascii")


class VuerClients:
    def __init__(self, scene: SharedScene) -> None:
        self.scene = scene
        self.sessions: set[str] = set()  # ids of the sessions that are Vuer clients
        self._form: VuerClientForm | None = None
        self._snapshot: tuple[int, bytes] | None = None

    @property
    def form(self) -> VuerClientForm:
        if self._form is None:  # the font is read when the first Vuer client connects
            self._form = VuerClientForm(text_font_url())
        return self._form

    def is_vuer(self, session: VuerSession) -> bool:
        return session.id in self.sessions

    def on_init(self, session: VuerSession) -> None:
        """A session's INIT arrived: a Vuer client gets the scene again, in its form."""
        if session.id in self.sessions or not is_vuer_client(session.info):
            return
        self.sessions.add(session.id)
        logger.info("session %s runs the Vuer client (%s %s): sending it the scene in its form",
                    session.label, session.info.get("pkg"), session.info.get("pkgVersion"))
        session.outbox.request_resync()

    def forget(self, session: VuerSession) -> None:
        self.sessions.discard(session.id)

    def event_message(self, wire: Mapping[str, Any]) -> bytes:
        """A scene event (already applied to the shared scene) for the Vuer clients."""
        return encode(self.form.event(wire, self.scene.tree))

    def snapshot_message(self) -> bytes:
        """One SET of the current scene in the Vuer client's form, once per scene version."""
        if self._snapshot is None or self._snapshot[0] != self.scene.version:
            self._snapshot = (self.scene.version, encode(Set(self.form.node(self.scene.tree.snapshot()))))
        return self._snapshot[1]


__all__ = ["VuerClients", "text_font_url"]
