"""The display table (vuer_ros/displays.py): displays listed in a parameter file are
read with their options checked (a wrong key is named), defaults fill the rest, and
docs/displays.md shows the current table."""

from __future__ import annotations

from pathlib import Path

import pytest

from vuer_ros.config import ConfigError, viewer_params
from vuer_ros.displays import DISPLAY_TYPES, DisplayType, OptionSpec, display_configs, markdown_tables
from vuer_ros.view.kinds import AUTO, BY_DISPLAY, auto_subscription, subscriptions
from vuer_ros.view.options import ViewOptions

ROOT = Path(__file__).resolve().parents[1]


def test_a_parameter_file_lists_displays_as_an_rviz_config_does(tmp_path):
    path = tmp_path / "viewer.yaml"
    path.write_text("""
/**:
  ros__parameters:
    displays:
      auto: false
      debug:
        type: MarkerArray
        topic: /planner/debug
      hidden:
        type: Marker
        topic: /noise
        enabled: false
""")
    params, unknown = viewer_params(path)
    assert unknown == []
    options = ViewOptions.from_params(params)
    assert not options.auto_displays
    by_name = {d.name: d for d in options.displays}
    assert (by_name["debug"].type, by_name["debug"].topic, by_name["debug"].enabled) == (
        "MarkerArray", "/planner/debug", True)
    assert options.hidden_topics == {"/noise"}
    subs = {s.topic: s.kind.name for s in subscriptions(options)}
    assert subs["/planner/debug"] == "marker_array" and "/noise" not in subs
    # auto is off: a topic found is not shown; hidden topics never are
    assert auto_subscription(options, "/other", "visualization_msgs/msg/Marker") is None


def test_auto_shows_supported_types_with_defaults_and_not_hidden_topics():
    params, _ = viewer_params(None, {"displays.x.type": "Marker", "displays.x.topic": "/quiet",
                                     "displays.x.enabled": False})
    options = ViewOptions.from_params(params)
    sub = auto_subscription(options, "/found", "visualization_msgs/msg/MarkerArray")
    assert sub is not None and sub.kind.name == "marker_array"
    assert auto_subscription(options, "/quiet", "visualization_msgs/msg/Marker") is None
    assert auto_subscription(options, "/found", "std_msgs/msg/String") is None   # not auto


@pytest.mark.parametrize("params,key", [
    ({"displays.a.type": "Nope", "displays.a.topic": "/t"}, "displays.a.type"),
    ({"displays.a.type": "Marker"}, "displays.a.topic"),
    ({"displays.a.type": "Marker", "displays.a.topic": "/t", "displays.a.colour": 1}, "displays.a.colour"),
    ({"displays.a.type": "Marker", "displays.a.topic": "/t", "displays.a.enabled": "yes"}, "displays.a.enabled"),
    ({"displays.bad-name.type": "Marker"}, "displays.bad-name.type"),
])
def test_a_wrong_display_entry_names_its_key(params, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        display_configs(params)


def test_options_are_checked_against_their_spec():
    spec = OptionSpec("style", "Points", "how", choices=("Points", "Boxes"))
    assert spec.check("Boxes", "k") == "Boxes"
    with pytest.raises(ConfigError, match="k: 'Spheres' is not one of Points, Boxes"):
        spec.check("Spheres", "k")
    size = OptionSpec("size", 0.01, "m", range=(0.0, 10.0))
    assert size.check(1, "k") == 1.0
    with pytest.raises(ConfigError, match="outside"):
        size.check(11.0, "k")
    with pytest.raises(ConfigError, match="expected a number"):
        size.check(True, "k")
    colour = OptionSpec("color", [1.0, 0.0, 0.0], "rgb")
    with pytest.raises(ConfigError, match="a list of 3 numbers"):
        colour.check([1, 2], "k")


def test_every_display_type_has_a_kind_and_every_kind_a_display_type():
    for name, dtype in DISPLAY_TYPES.items():
        assert isinstance(dtype, DisplayType)
        if dtype.topic:
            assert name in BY_DISPLAY, f"display type {name} has no message kind"
            assert BY_DISPLAY[name].msgtype in dtype.msgtypes
    for kind in AUTO.values():
        assert kind.display in DISPLAY_TYPES


def test_the_displays_doc_shows_the_current_table():
    doc = (ROOT / "docs" / "displays.md").read_text()
    assert markdown_tables() in doc, ("docs/displays.md is out of date: run "
                                      "`python -m vuer_ros.displays --write docs/displays.md`")


def test_the_tf_display_is_there_unless_the_parameters_say_otherwise():
    def tf_displays(params):
        return [(d.name, d.type, d.enabled) for d in display_configs(params) if d.type == "TF"]
    assert tf_displays({}) == [("tf", "TF", True)]
    assert tf_displays({"displays.tf.enabled": False}) == [("tf", "TF", False)]
    (tf,) = display_configs({"displays.tf.show_names": True})   # its type may be left out
    assert tf.options["show_names"] is True and tf.options["marker_scale"] == 1.0
    # one listed under another name replaces it; a second enabled one is refused, named
    assert tf_displays({"displays.frames.type": "TF"}) == [("frames", "TF", True)]
    with pytest.raises(ConfigError, match="displays.frames, displays.tf: one TF display at most"):
        display_configs({"displays.frames.type": "TF", "displays.tf.show_axes": False})
    # the name taken by another display: no TF display
    assert tf_displays({"displays.tf.type": "Marker", "displays.tf.topic": "/m"}) == []
    with pytest.raises(ConfigError, match=r"displays.tf.filter_blacklist: '\[' is not a regular"):
        display_configs({"displays.tf.filter_blacklist": "["})
