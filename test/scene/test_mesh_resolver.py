"""MeshResolver: which mesh_resource URIs are served, from which roots, at which URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from vuer_ros.scene.mesh_resolver import MeshNotAllowed, MeshNotFound, MeshResolver, package_share


@pytest.fixture
def layout(tmp_path: Path):
    root = tmp_path / "meshes"
    (root / "sub dir").mkdir(parents=True)
    (root / "sub dir" / "arm link.stl").write_bytes(b"solid x")
    (root / ".hidden.stl").write_bytes(b"solid x")
    outside = tmp_path / "outside.stl"
    outside.write_bytes(b"solid x")
    (root / "escape.stl").symlink_to(outside)
    prefix = tmp_path / "prefix"
    share = prefix / "share"
    (share / "ament_index" / "resource_index" / "packages").mkdir(parents=True)
    (share / "ament_index" / "resource_index" / "packages" / "robot_description").write_text("")
    (share / "robot_description" / "meshes").mkdir(parents=True)
    (share / "robot_description" / "meshes" / "base.dae").write_bytes(b"<COLLADA/>")
    mounts: list[tuple[str, Path]] = []

    def mount(name: str, where: Path) -> str:
        mounts.append((name, where))
        return f"/files/{name}/"

    def share_of(pkg: str) -> Path:
        if pkg == "robot_description":
            return share / pkg
        raise MeshNotFound(f"package '{pkg}' is not in the ament index")

    resolver = MeshResolver(mount, [root], share_of=share_of, prefixes=lambda: [prefix])
    return resolver, mounts, root, share, outside


def test_package_uri_is_served_from_its_share_folder_mounted_once(layout):
    resolver, mounts, _, share, _ = layout
    url = resolver("package://robot_description/meshes/base.dae")
    assert url == "/files/pkg-robot_description/meshes/base.dae"
    assert resolver("package://robot_description/meshes/base.dae") == url
    assert mounts == [("pkg-robot_description", (share / "robot_description").resolve())]


def test_file_uri_inside_a_mesh_root_or_a_package_share(layout):
    resolver, _, root, share, _ = layout
    assert resolver(f"file://{root}/sub%20dir/arm%20link.stl") == "/files/root0/sub%20dir/arm%20link.stl"
    assert resolver(f"file://{share}/robot_description/meshes/base.dae") == \
        "/files/pkg-robot_description/meshes/base.dae"


def test_http_passes_through():
    resolver = MeshResolver(lambda n, r: "/x/")
    for uri in ("http://example.com/a.stl", "https://example.com/b.glb?x=1"):
        assert resolver(uri) == uri


@pytest.mark.parametrize("uri,error,text", [
    ("file:///etc/hostname.stl", MeshNotAllowed, "outside the allowed mesh roots"),
    ("file://{root}/escape.stl", MeshNotAllowed, "outside the allowed mesh roots"),
    ("file://{root}/../outside.stl", MeshNotAllowed, "outside the allowed mesh roots"),
    ("file://{root}/.hidden.stl", MeshNotAllowed, "hidden"),
    ("file://{root}/nope.stl", MeshNotFound, "does not exist"),
    ("file://otherhost/{root}/sub%20dir/arm%20link.stl", MeshNotAllowed, "local"),
    ("package://robot_description/../../../outside.stl", MeshNotAllowed, "leaves its root"),
    ("package://robot_description/meshes/none.dae", MeshNotFound, "does not exist"),
    ("package://not_a_package/meshes/base.dae", MeshNotFound, "not in the ament index"),
    ("package:///meshes/base.dae", MeshNotAllowed, "needs a package name"),
    ("ftp://example.com/a.stl", MeshNotAllowed, "unsupported scheme"),
    ("meshes/base.dae", MeshNotAllowed, "unsupported scheme"),
])
def test_refused(layout, uri, error, text):
    resolver, _, root, _, _ = layout
    with pytest.raises(error, match=text):
        resolver(uri.format(root=root))


def test_package_share_uses_the_ament_index():
    assert (package_share("sensor_msgs") / "package.xml").is_file()
    with pytest.raises(MeshNotFound, match="not in the ament index"):
        package_share("surely_no_such_package_here")
