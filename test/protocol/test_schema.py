"""The wire schema (vuer_ros/protocol/schema.py) is the one definition of the
element tags: the generated client module and docs table are current, the
browser client builds exactly its tags (read from the real client modules, run
in node), and the Python element classes send what it says."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import vuer_ros.schemas
from vuer_ros.protocol import decode, elements, encode, schema, schema_gen
from vuer_ros.protocol.schema import BY_TAG, ELEMENTS, ElementSpec

WEB = Path(__file__).resolve().parents[2] / "web"
TAGS = [e.tag for e in ELEMENTS]
ALIASES = {alias: e.tag for e in ELEMENTS for alias in e.aliases}
REGENERATE = "run `python -m vuer_ros.protocol.schema_gen --write`"


# --- generated files are current -------------------------------------------------
def test_the_generated_client_module_is_current():
    assert schema_gen.JS_PATH.read_text() == schema_gen.js_module(), f"{schema_gen.JS_PATH} is stale: {REGENERATE}"


def test_the_docs_table_is_current():
    page = schema_gen.DOCS_PATH.read_text()
    assert page.count(schema_gen.DOCS_BEGIN) == 1 and page.count(schema_gen.DOCS_END) == 1
    assert schema_gen.with_docs_table(page) == page, f"{schema_gen.DOCS_PATH} is stale: {REGENERATE}"
    for e in ELEMENTS:
        assert f"\n| {e.tag}" in page


def test_check_command_agrees():
    done = subprocess.run([sys.executable, "-m", "vuer_ros.protocol.schema_gen", "--check"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_stale_docs_table_is_replaced_and_the_rest_kept():
    page = (f"# head\n\n{schema_gen.DOCS_BEGIN}\n| old | table |\n{schema_gen.DOCS_END}\n\nmiddle\n\n"
            f"{schema_gen.STATUS_BEGIN}\n| old |\n{schema_gen.STATUS_END}\n\ntail\n")
    assert schema_gen.with_docs_table(page) == ("# head\n\n" + schema_gen.docs_table() + "\nmiddle\n\n"
                                                + schema_gen.status_tables() + "\ntail\n")
    with pytest.raises(ValueError, match="markers"):
        schema_gen.with_docs_table("# a page without the table\n")


# --- the client, as node runs its modules ------------------------------------------
# Bundled by the client's own esbuild (the font import needs its JSON loader), then
# imported: the tag map is read as the client builds it, not parsed out of the source.
PROBE = """
import * as esbuild from 'esbuild';
const contents = `
  import { BUILDERS, ELEMENTS } from './elements/index.js';
  import * as generated from './schema.generated.js';
  const scaleIsTransform = Object.fromEntries(Object.entries(BUILDERS).map(([t, B]) => [t, B.scaleIsTransform]));
  console.log(JSON.stringify({ builders: Object.keys(BUILDERS), elements: Object.keys(ELEMENTS),
    scaleIsTransform, generated, frozen: Object.isFrozen(generated.DEFAULTS.Box.args) }));`;
const out = await esbuild.build({
  stdin: { contents, resolveDir: 'src', loader: 'js' }, bundle: true, write: false, format: 'esm',
  platform: 'neutral', mainFields: ['module', 'main'], loader: { '.json': 'json' }, logLevel: 'error',
});
await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));
"""


@pytest.fixture(scope="module")
def client() -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is not installed: run scripts/setup.sh"
    assert (WEB / "node_modules" / "esbuild").is_dir(), "web/node_modules missing: run scripts/setup.sh"
    done = subprocess.run([node, "--input-type=module", "-e", PROBE], cwd=WEB, check=False, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_client_builds_exactly_the_schema_tags(client):
    builders = set(client["builders"])
    assert not builders - set(TAGS), f"the client builds tags the schema lacks: {sorted(builders - set(TAGS))}"
    assert not set(TAGS) - builders, f"schema tags the client does not build: {sorted(set(TAGS) - builders)}"


def test_the_client_draws_the_schema_tags_and_aliases_only(client):
    assert sorted(client["elements"]) == sorted([*TAGS, *ALIASES])
    assert "Frame" not in client["elements"]


def test_the_generated_module_holds_the_schema(client):
    generated = client["generated"]
    assert generated["TAGS"] == TAGS
    assert generated["ALIASES"] == ALIASES
    assert generated["CHILD_LISTS"] == list(schema.CHILD_LISTS)
    assert generated["DEFAULT_KEYS"] == {e.tag: e.default_key for e in ELEMENTS if e.default_key}
    for e in ELEMENTS:
        assert generated["DEFAULTS"][e.tag] == e.defaults(), e.tag
        assert generated["PACKED"].get(e.tag, {}) == {n: d.name for n, d in e.packed().items()}, e.tag
    assert client["frozen"], "the generated defaults are shared by every builder: they must be frozen"


def test_scale_is_a_transform_unless_the_schema_gives_it_a_meaning(client):
    for e in ELEMENTS:
        own_scale = any(p.name == "scale" for p in e.props)
        assert client["scaleIsTransform"][e.tag] is (not own_scale), e.tag


# --- the schema itself ----------------------------------------------------------------
NUMBER = (int, float)


def _is_vector(value: Any, n: int | None = None) -> bool:
    return isinstance(value, list) and (n is None or len(value) == n) and all(
        isinstance(v, NUMBER) and not isinstance(v, bool) for v in value)


DEFAULT_CHECKS = {
    "number": lambda v: isinstance(v, NUMBER) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "color": lambda v: isinstance(v, str) and v.startswith("#") and len(v) == 7,
    "[x, y, z]": lambda v: _is_vector(v, 3),
    "number or [x, y, z]": lambda v: _is_vector(v, 3) or DEFAULT_CHECKS["number"](v),
    "number[]": _is_vector,
    "material": lambda v: isinstance(v, dict) and isinstance(v.get("color"), str),
    "string[]": lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v),
    "part[]": lambda v: isinstance(v, list) and all(isinstance(p, dict) for p in v),
}


@pytest.mark.parametrize("element", ELEMENTS, ids=TAGS)
def test_each_prop_is_declared_once_with_a_default_of_its_type(element: ElementSpec):
    names = [p.name for p in element.props]
    assert len(names) == len(set(names)), names
    for p in element.props:
        if p.dtype is not None:
            assert p.dtype in (schema.F64, schema.F32, schema.I32, schema.U32, schema.U8) and p.default is None, p.name
            assert p.type == f"{np.dtype(p.dtype).name} bin"
        elif p.default is not None:
            assert DEFAULT_CHECKS[p.type](p.default), f"{element.tag}.{p.name}: {p.default!r} is no {p.type}"
        else:
            assert p.type in DEFAULT_CHECKS or p.type == "nodes", p.type


def test_tags_and_aliases_are_unique():
    names = [*TAGS, *ALIASES]
    assert len(names) == len(set(names))
    assert ALIASES == {"VuerGroup": "Group"}


def test_defaults_are_copies():
    BY_TAG["Box"].defaults()["args"].append(99)
    assert BY_TAG["Box"].defaults()["args"] == [1, 1, 1, 1, 1, 1]


# --- the Python element classes follow it ---------------------------------------------
@pytest.mark.parametrize("element", ELEMENTS, ids=TAGS)
def test_each_tag_has_its_element_class(element: ElementSpec):
    cls = getattr(elements, element.tag)
    assert cls.tag == element.tag and cls.default_key == element.default_key
    assert getattr(vuer_ros.schemas, element.tag) is cls
    assert element.tag in vuer_ros.schemas.__all__
    if element.tag != "Scene":  # its class keeps a docstring about its Python arguments
        assert cls.__doc__ == element.doc


def test_no_element_class_without_a_schema_tag():
    classes = {obj.tag for obj in vars(elements).values()
               if isinstance(obj, type) and issubclass(obj, elements.Element) and obj is not elements.Element}
    assert classes == set(TAGS)
    assert elements.ALL_TAGS == tuple(sorted(TAGS))
    assert "PointLight" in elements.ALL_TAGS


@pytest.mark.parametrize("element", [e for e in ELEMENTS if e.tag != "Scene"], ids=lambda e: e.tag)
def test_defaults_go_out_as_the_schema_writes_them(element: ElementSpec):
    cls = getattr(elements, element.tag)
    node = decode(encode(cls(key="k", **element.defaults()).to_wire()))
    assert node == {"tag": element.tag, "key": "k", **element.defaults()}


def test_the_scene_goes_out_with_its_schema_key_and_up():
    scene = BY_TAG["Scene"]
    node = elements.Scene().to_wire()
    assert node["key"] == scene.default_key and node["up"] == scene.defaults()["up"]
    assert [name for name in schema.CHILD_LISTS if name in node] == list(schema.CHILD_LISTS)


PACKED = [(e, name, dtype) for e in ELEMENTS for name, dtype in e.packed().items()]


@pytest.mark.parametrize("element,name,dtype", PACKED, ids=[f"{e.tag}.{n}" for e, n, _ in PACKED])
def test_packed_props_travel_as_their_schema_dtype(element: ElementSpec, name: str, dtype: np.dtype[Any]):
    assert elements.PACKED_PROPS[name] == dtype
    if dtype.kind == "f":
        given = np.linspace(-1e3, 1e3, 12).reshape(4, 3)          # float64 in
        expected = given.astype(dtype)
    elif dtype == np.uint8:
        given = np.linspace(0.0, 1.0, 12).reshape(4, 3)           # 0-1 colours in
        expected = np.clip(given * 255.0 + 0.5, 0, 255).astype("u1")
    else:
        given = np.arange(12, dtype=np.int64).reshape(4, 3)
        expected = given.astype(dtype)
    cls = getattr(elements, element.tag)
    for wire in (cls(key="k", **{name: given}).to_wire()[name],
                 elements.to_wire_node({"tag": element.tag, "key": "k", name: given})[name]):
        assert isinstance(wire, bytes)
        np.testing.assert_array_equal(np.frombuffer(wire, dtype=dtype), expected.ravel())


def test_a_prop_name_means_one_dtype_across_tags():
    assert elements.PACKED_PROPS == schema.packed_dtypes()
    assert set(elements.PACKED_PROPS) == {name for _, name, _ in PACKED}
