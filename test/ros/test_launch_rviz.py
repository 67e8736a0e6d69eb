"""launch/viewer.launch.py rviz:=true starts rviz2 with config/compare.rviz beside the
node (run against the stand-ins of launch/launch_ros in test_launch_config.py)."""

import pytest
from test_launch_config import _nodes, launch_module  # noqa: F401  (the fixture)


def test_rviz_is_off_by_default(launch_module):  # noqa: F811
    nodes, declared = _nodes(launch_module, config="c.yaml")
    assert [n.kwargs["executable"] for n in nodes] == ["viewer"]
    assert declared["rviz"].kwargs["default_value"] == "false"


def test_rviz_true_starts_rviz2_with_the_compare_config(launch_module):  # noqa: F811
    nodes, _ = _nodes(launch_module, config="c.yaml", rviz="true", use_sim_time="true")
    viewer, rviz = nodes
    assert viewer.kwargs["executable"] == "viewer"
    assert (rviz.kwargs["package"], rviz.kwargs["executable"]) == ("rviz2", "rviz2")
    flag, path = rviz.kwargs["arguments"]
    assert flag == "-d"
    assert path.args[0][0].args == ("vuer_ros",) and path.args[0][1:] == ["config", "compare.rviz"]
    assert rviz.kwargs["parameters"] == [{"use_sim_time": True}]
    with pytest.raises(ValueError, match="rviz"):
        _nodes(launch_module, config="c.yaml", rviz="perhaps")
