"""launch/viewer.launch.py rviz:=true starts rviz2 with config/compare.rviz beside the
node, and refuses, before producing any action, when rviz2 or the file is missing (run
against the stand-ins of launch/launch_ros in test_launch_config.py)."""

from test_launch_config import _nodes, _refused, install_package, launch_module, prefix  # noqa: F401


def test_rviz_is_off_by_default(launch_module):  # noqa: F811
    nodes, declared = _nodes(launch_module)
    assert [n.kwargs["executable"] for n in nodes] == ["viewer"]
    assert declared["rviz"].kwargs["default_value"] == "false"


def test_rviz_true_starts_rviz2_with_the_compare_config(launch_module, prefix):  # noqa: F811
    install_package(prefix, "rviz2", ("rviz2",))
    nodes, _ = _nodes(launch_module, rviz="true", use_sim_time="true")
    viewer, rviz = nodes
    assert viewer.kwargs["executable"] == "viewer"
    assert (rviz.kwargs["package"], rviz.kwargs["executable"]) == ("rviz2", "rviz2")
    assert rviz.kwargs["arguments"] == ["-d", str(prefix / "share" / "vuer_ros" / "config" /
                                                  "compare.rviz")]
    assert rviz.kwargs["parameters"] == [{"use_sim_time": True}]


def test_rviz_true_without_rviz2_fails_before_any_node(launch_module):  # noqa: F811
    message = _refused(launch_module, rviz="true")
    assert "rviz:=true needs the package 'rviz2', which is not installed" in message
    assert "apt install ros-$ROS_DISTRO-rviz2" in message and "rviz:=false" in message


def test_rviz2_without_its_executable_is_named(launch_module, prefix):  # noqa: F811
    install_package(prefix, "rviz2")
    message = _refused(launch_module, rviz="true")
    assert str(prefix / "lib" / "rviz2" / "rviz2") in message


def test_a_missing_compare_config_is_named(launch_module, prefix):  # noqa: F811
    install_package(prefix, "rviz2", ("rviz2",))
    (prefix / "share" / "vuer_ros" / "config" / "compare.rviz").unlink()
    message = _refused(launch_module, rviz="true")
    assert "compare.rviz, which is missing" in message


def test_a_bad_rviz_value_is_refused(launch_module):  # noqa: F811
    assert "rviz:='perhaps' is not a boolean" in _refused(launch_module, rviz="perhaps")
