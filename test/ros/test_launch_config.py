"""launch/viewer.launch.py, config/viewer.yaml and docs/parameters.md agree with
the parameters the node declares (vuer_ros/ros/params.py).

launch and launch_ros cannot be installed here, so the launch file is checked
twice without them: statically (ast) and by running its
``generate_launch_description`` against small stand-ins of the launch API that
record what it builds. Whether the node accepts the YAML is checked with the
real node in test_node_lifecycle.py (``--params-file config/viewer.yaml``).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml

from vuer_ros.params import BY_NAME, PARAMS, markdown_table

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch" / "viewer.launch.py"
CONFIG = REPO / "config" / "viewer.yaml"
DOC = REPO / "docs" / "parameters.md"
LAUNCH_ARGS = {"config", "port", "headless", "use_sim_time", "rviz"}


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_params() -> dict[str, Any]:
    data = yaml.safe_load(CONFIG.read_text())
    (node_key, body), = data.items()
    assert node_key in ("/**", "vuer_viewer", "/vuer_viewer")
    return flatten(body["ros__parameters"])


def test_yaml_keys_are_exactly_the_declared_parameters():
    params = config_params()
    assert set(params) == set(BY_NAME), (
        f"only in yaml: {sorted(set(params) - set(BY_NAME))}; "
        f"only declared: {sorted(set(BY_NAME) - set(params))}")


def test_yaml_values_have_the_declared_types_and_defaults():
    for name, value in config_params().items():
        spec = BY_NAME[name]
        assert type(value) is type(spec.default), (name, value, spec.default)
        if isinstance(value, list):
            assert all(isinstance(v, type(spec.default[0]) if spec.default else str)
                       for v in value), (name, value)
        assert value == spec.default, f"{name}: yaml has {value!r}, the node's default is " \
                                      f"{spec.default!r}"
        if spec.range is not None:
            assert spec.range[0] <= value <= spec.range[1], (name, value, spec.range)


def test_every_parameter_has_a_description_and_ranges_where_numeric():
    for spec in PARAMS:
        assert len(spec.description) > 20, spec.name
        if spec.type_name in ("int", "double") and spec.name != "port":
            assert spec.range is not None, f"{spec.name} has no range"
    required = {"host", "port", "fixed_frame", "marker_topics", "marker_array_topics",
                "render.rate", "render.width", "render.height", "render.fov",
                "render.camera_frame", "render.eye", "render.target", "render.headless",
                "render.depth", "render.jpeg_quality", "mesh_roots"}
    assert required <= set(BY_NAME)


def test_parameter_doc_is_current():
    assert markdown_table() in (REPO / "README.md").read_text(), (
        "README.md's parameter table is out of date: paste `python -m vuer_ros.params`")
    assert markdown_table() in DOC.read_text(), (
        "docs/parameters.md is out of date: run "
        "`python -m vuer_ros.params --write docs/parameters.md`")


# -- the launch file, statically -------------------------------------------------------------------
def test_launch_file_declares_its_arguments_and_loads_the_config():
    tree = ast.parse(LAUNCH.read_text())
    declared = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DeclareLaunchArgument":
            declared.add(node.args[0].value)
            kw = {k.arg for k in node.keywords}
            assert {"default_value", "description"} <= kw, ast.dump(node)
    assert declared == LAUNCH_ARGS
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert {"vuer_ros", "viewer", "viewer.yaml", "config"} <= strings
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in funcs


# -- the launch file, run against stand-ins of launch / launch_ros -----------------------------------
# The launch file's own checks (ament_index_python, yaml) are real; its packages live in a
# throwaway ament prefix laid out as colcon installs them.
class _Recorded:
    created: list["_Recorded"] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs
        _Recorded.created.append(self)


class _Performed(_Recorded):
    def perform(self, context: dict[str, Any]) -> str:
        raise NotImplementedError


class _LaunchConfiguration:
    def __init__(self, name: str) -> None:
        self.name = name

    def perform(self, context: dict[str, Any]) -> str:
        value = context[self.name]
        return value if isinstance(value, str) else value.perform(context)


class _FindPackageShare(_Performed):
    def perform(self, context: dict[str, Any]) -> str:
        from ament_index_python.packages import get_package_share_directory
        return get_package_share_directory(self.args[0])


class _PathJoinSubstitution(_Performed):
    def perform(self, context: dict[str, Any]) -> str:
        parts = self.args[0]
        return os.path.join(*(p if isinstance(p, str) else p.perform(context) for p in parts))


def _stub_modules() -> dict[str, types.ModuleType]:
    mods = {name: types.ModuleType(name) for name in (
        "launch", "launch.actions", "launch.substitutions", "launch_ros", "launch_ros.actions",
        "launch_ros.substitutions")}
    mods["launch"].LaunchDescription = lambda entities: list(entities)
    for name in ("DeclareLaunchArgument", "OpaqueFunction"):
        setattr(mods["launch.actions"], name, type(name, (_Recorded,), {}))
    mods["launch.substitutions"].LaunchConfiguration = _LaunchConfiguration
    mods["launch.substitutions"].PathJoinSubstitution = _PathJoinSubstitution
    mods["launch_ros.actions"].Node = type("Node", (_Recorded,), {})
    mods["launch_ros.substitutions"].FindPackageShare = _FindPackageShare
    return mods


def install_package(prefix: Path, package: str, executables: tuple[str, ...] = (),
                    share: dict[str, Path] | None = None) -> Path:
    """``package`` in the ament prefix ``prefix``: its marker, lib/<package>/<executables>
    (executable scripts) and share/<package>/<name> copies of ``share``'s files."""
    index = prefix / "share" / "ament_index" / "resource_index" / "packages"
    index.mkdir(parents=True, exist_ok=True)
    (index / package).write_text("")
    for name in executables:
        exe = prefix / "lib" / package / name
        exe.parent.mkdir(parents=True, exist_ok=True)
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    for name, source in (share or {}).items():
        target = prefix / "share" / package / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    return prefix


VUER_ROS_SHARE = {"config/viewer.yaml": CONFIG,
                  "config/compare.rviz": REPO / "config" / "compare.rviz"}


@pytest.fixture
def prefix(tmp_path, monkeypatch) -> Path:
    """An ament prefix holding vuer_ros (its viewer, config/), alone on AMENT_PREFIX_PATH."""
    root = install_package(tmp_path / "install", "vuer_ros", ("viewer",), VUER_ROS_SHARE)
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(root))
    return root


@pytest.fixture
def launch_module(monkeypatch, prefix):
    for name, mod in _stub_modules().items():
        monkeypatch.setitem(sys.modules, name, mod)
    spec = importlib.util.spec_from_file_location("viewer_launch", LAUNCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nodes(launch_module, **args: str):
    """Run the launch description's OpaqueFunction as launch would, with ``args`` given
    as name:=value on the command line; returns (the actions it produced, the declared
    arguments)."""
    entities = launch_module.generate_launch_description()
    declared = {e.args[0]: e for e in entities if type(e).__name__ == "DeclareLaunchArgument"}
    assert set(declared) == LAUNCH_ARGS
    context = {name: e.kwargs["default_value"] for name, e in declared.items()}
    context.update(args)
    functions = [e for e in entities if type(e).__name__ == "OpaqueFunction"]
    assert len(functions) == 1
    return functions[0].kwargs["function"](context), declared


def _refused(launch_module, **args: str) -> str:
    """The launch file's error for ``args``; no Node action may have been made before it."""
    _Recorded.created.clear()
    with pytest.raises(launch_module.ViewerLaunchError) as e:
        _nodes(launch_module, **args)
    made = [r.kwargs.get("executable") for r in _Recorded.created if type(r).__name__ == "Node"]
    assert not made, f"Node actions made before the error: {made}"
    message = str(e.value)
    assert message.startswith("viewer.launch.py: ") and "\n" not in message, message
    return message


def test_launch_defaults_load_the_package_config_and_override_only_sim_time(launch_module, prefix):
    nodes, declared = _nodes(launch_module)
    (node,) = nodes
    assert node.kwargs["package"] == "vuer_ros" and node.kwargs["executable"] == "viewer"
    assert node.kwargs["name"] == "vuer_viewer"
    installed = str(prefix / "share" / "vuer_ros" / "config" / "viewer.yaml")
    assert node.kwargs["parameters"] == [installed, {"use_sim_time": False}]
    default_config = declared["config"].kwargs["default_value"]
    assert default_config.args[0][1:] == ["config", "viewer.yaml"]
    assert default_config.args[0][0].args == ("vuer_ros",)


def test_launch_arguments_override_the_config(launch_module, tmp_path):
    mine = tmp_path / "my.yaml"
    mine.write_text(CONFIG.read_text())
    (node,), _ = _nodes(launch_module, config=str(mine), port="0", headless="false",
                        use_sim_time="true")
    assert node.kwargs["parameters"] == [str(mine), {"use_sim_time": True, "port": 0,
                                                     "render.headless": False}]
    (node,), _ = _nodes(launch_module, port=" 65535 ", headless="True", use_sim_time="off")
    assert node.kwargs["parameters"][1] == {"use_sim_time": False, "port": 65535,
                                            "render.headless": True}


@pytest.mark.parametrize("port", ["abc", "-1", "65536", "80.0", "0x50", "²"])
def test_a_bad_port_is_named_with_what_it_takes(launch_module, port):
    message = _refused(launch_module, port=port)
    assert f"port:={port!r}" in message and "0..65535 (0 = any free port)" in message


@pytest.mark.parametrize("name", ["headless", "use_sim_time", "rviz"])
def test_a_bad_boolean_is_named_with_what_it_takes(launch_module, name):
    message = _refused(launch_module, **{name: "maybe"})
    assert f"{name}:='maybe' is not a boolean" in message
    assert f"{name}:=true or {name}:=false" in message


def test_a_missing_config_is_refused(launch_module, tmp_path):
    missing = tmp_path / "nowhere" / "viewer.yaml"
    message = _refused(launch_module, config=str(missing))
    assert f"config:={missing}: no such file" in message
    assert "leave config unset" in message


@pytest.mark.parametrize("text, says", [
    ("port: [1,\n", "cannot be read as YAML"),
    ("port: 8012\n", "is not a ROS parameters file"),
    ("", "is not a ROS parameters file"),
    ("vuer_viewer:\n  port: 8012\n", "is not a ROS parameters file"),
])
def test_a_config_that_is_no_parameters_file_is_refused(launch_module, tmp_path, text, says):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    message = _refused(launch_module, config=str(bad))
    assert f"config:={bad}" in message and says in message


def test_a_missing_viewer_executable_is_named(launch_module, prefix):
    (prefix / "lib" / "vuer_ros" / "viewer").unlink()
    message = _refused(launch_module)
    assert str(prefix / "lib" / "vuer_ros" / "viewer") in message
    assert "colcon build --packages-select vuer_ros" in message


def test_the_package_missing_from_the_ament_path_is_named(launch_module, monkeypatch, tmp_path):
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(tmp_path / "empty"))
    message = _refused(launch_module, config=str(CONFIG))
    assert "the package 'vuer_ros', which is not installed" in message
