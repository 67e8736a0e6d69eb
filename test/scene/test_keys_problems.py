"""Element keys (safe for any string) and ProblemLog (once per cause)."""

import logging

from vuer_ros.scene import ProblemLog, frame_key, marker_key, part_key
from vuer_ros.scene.keys import frame_of_key, marker_list_key, marker_of_key, owner_prefix


def test_keys_escape_any_string_and_invert():
    odd = ["base_link", "robot1/base", "a:b", "with space", "100%", "x#y", "ünï", "\n\t", ""]
    keys = [frame_key(f) for f in odd]
    assert keys[:3] == ["tf:base_link", "tf:robot1/base", "tf:a%3Ab"]
    assert len(set(keys)) == len(odd)
    assert all(k.isascii() and k.isprintable() and " " not in k for k in keys)
    assert [frame_of_key(k) for k in keys] == odd
    assert marker_key("arm", 3) == "marker:arm:3"
    assert marker_key("", -1) == "marker::-1"
    assert marker_of_key(marker_key("a:b#c", 7)) == ("a:b#c", 7)
    assert marker_of_key(part_key(marker_key("ns", 2), "shaft.0")) == ("ns", 2)
    assert frame_of_key("marker:x:1") is None and marker_of_key("tf:x") is None
    # a MarkerList is under its namespace's prefix, and not a marker
    assert marker_list_key("base_link", "7", 1).startswith(owner_prefix("marker", "7") + ":")
    assert marker_of_key(marker_list_key("9", "7", 1)) is None


def test_problem_log_logs_each_cause_once_until_resolved(caplog):
    log = ProblemLog()
    with caplog.at_level(logging.WARNING, logger="vuer_ros.scene"):
        assert log.report(("marker", "a", 1), "colors", "bad colors") is True
        assert log.report(("marker", "a", 1), "colors", "bad colors") is False
        assert log.report(("marker", "a", 1), "nan", "a nan") is True
        log.resolve(("marker", "a", 1), keep=["nan"])
        assert log.report(("marker", "a", 1), "colors", "bad colors again") is True
        assert log.report(("marker", "a", 1), "nan", "a nan") is False
    assert [r.getMessage() for r in caplog.records] == ["bad colors", "a nan", "bad colors again"]
    assert [p.kind for p in log.active(("marker", "a", 1))] == ["colors", "nan"]
    assert log.active(("marker", "a", 1))[1].count == 2
    log.resolve(("marker", "a", 1))
    assert len(log) == 0 and not log.has(("marker", "a", 1))
