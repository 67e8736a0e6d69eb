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
class _Recorded:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs


class _LaunchConfiguration:
    def __init__(self, name: str) -> None:
        self.name = name

    def perform(self, context: dict[str, str]) -> str:
        return context[self.name]


def _stub_modules() -> dict[str, types.ModuleType]:
    mods = {name: types.ModuleType(name) for name in (
        "launch", "launch.actions", "launch.substitutions", "launch_ros", "launch_ros.actions",
        "launch_ros.substitutions")}
    mods["launch"].LaunchDescription = lambda entities: list(entities)
    for name in ("DeclareLaunchArgument", "OpaqueFunction"):
        setattr(mods["launch.actions"], name, type(name, (_Recorded,), {}))
    mods["launch.substitutions"].LaunchConfiguration = _LaunchConfiguration
    mods["launch.substitutions"].PathJoinSubstitution = type("PathJoinSubstitution", (_Recorded,), {})
    mods["launch_ros.actions"].Node = type("Node", (_Recorded,), {})
    mods["launch_ros.substitutions"].FindPackageShare = type("FindPackageShare", (_Recorded,), {})
    return mods


@pytest.fixture
def launch_module(monkeypatch):
    for name, mod in _stub_modules().items():
        monkeypatch.setitem(sys.modules, name, mod)
    spec = importlib.util.spec_from_file_location("viewer_launch", LAUNCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nodes(launch_module, **args: str):
    entities = launch_module.generate_launch_description()
    declared = {e.args[0]: e for e in entities if type(e).__name__ == "DeclareLaunchArgument"}
    assert set(declared) == LAUNCH_ARGS
    context = {name: e.kwargs["default_value"] for name, e in declared.items()}
    context.update(args)
    functions = [e for e in entities if type(e).__name__ == "OpaqueFunction"]
    assert len(functions) == 1
    return functions[0].kwargs["function"](context), declared


def test_launch_defaults_load_the_package_config_and_override_only_sim_time(launch_module):
    nodes, declared = _nodes(launch_module, config="/share/vuer_ros/config/viewer.yaml")
    (node,) = nodes
    assert node.kwargs["package"] == "vuer_ros" and node.kwargs["executable"] == "viewer"
    assert node.kwargs["name"] == "vuer_viewer"
    assert node.kwargs["parameters"] == ["/share/vuer_ros/config/viewer.yaml",
                                         {"use_sim_time": False}]
    default_config = declared["config"].kwargs["default_value"]
    assert default_config.args[0][1:] == ["config", "viewer.yaml"]
    assert default_config.args[0][0].args == ("vuer_ros",)


def test_launch_arguments_override_the_config(launch_module):
    (node,), _ = _nodes(launch_module, config="my.yaml", port="0", headless="false",
                        use_sim_time="true")
    assert node.kwargs["parameters"] == ["my.yaml", {"use_sim_time": True, "port": 0,
                                                     "render.headless": False}]
    with pytest.raises(ValueError, match="headless"):
        _nodes(launch_module, headless="maybe")
