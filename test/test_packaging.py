"""Packaging: package.xml is a valid format-3 ament_python manifest, and the
package builds with colcon (as in a ROS workspace) against the venv's ROS."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_package_xml_is_format3_ament_python():
    from catkin_pkg.package import parse_package

    pkg = parse_package(str(REPO / "package.xml"))
    pkg.validate()
    assert pkg.package_format == 3
    assert pkg.name == "vuer_ros"
    assert pkg.version == "0.1.0"
    assert [lic for lic in pkg.licenses] == ["Apache-2.0"]
    assert pkg.get_build_type() == "ament_python"
    exec_deps = {d.name for d in pkg.exec_depends}
    assert {"rclpy", "sensor_msgs", "visualization_msgs", "tf2_msgs",
            "geometry_msgs", "ament_index_python"} <= exec_deps
    # setup.py and package.xml agree on the version
    assert "version='%s'" % pkg.version in (REPO / "setup.py").read_text()


@pytest.mark.timeout(180)
def test_colcon_build_installs_ros_layout(tmp_path):
    colcon = Path(sys.prefix) / "bin" / "colcon"
    assert colcon.exists(), "colcon is not installed in the venv (%s)" % colcon
    env = dict(os.environ)
    ament = env.get("AMENT_PREFIX_PATH", "")
    if sys.prefix not in ament.split(os.pathsep):
        env["AMENT_PREFIX_PATH"] = sys.prefix + (os.pathsep + ament if ament else "")
    env["COLCON_HOME"] = str(tmp_path / "colcon_home")  # ignore any user defaults
    env["COLCON_LOG_LEVEL"] = "warning"
    build, install = tmp_path / "build", tmp_path / "install"
    cmd = [str(colcon), "--log-base", str(tmp_path / "log"), "build",
           "--base-paths", str(REPO),
           "--build-base", str(build), "--install-base", str(install)]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=170)
    assert r.returncode == 0, "colcon build failed:\n%s\n%s" % (r.stdout[-4000:], r.stderr[-4000:])

    # only this package: colcon does not crawl below a package (tools/tf2_msgs)
    assert sorted(p.name for p in build.iterdir() if p.is_dir()) == ["vuer_ros"]
    pkg = install / "vuer_ros"
    # console_scripts in lib/<pkg>/ (setup.cfg), where `ros2 run vuer_ros viewer` looks
    for script in ("viewer", "vuer-ros"):
        path = pkg / "lib" / "vuer_ros" / script
        assert path.is_file(), "missing %s; lib/ has %s" % (
            path, sorted(p.name for p in (pkg / "lib").rglob("*"))[:50])
        assert os.access(path, os.X_OK)
    assert (pkg / "share" / "vuer_ros" / "package.xml").is_file()
    assert (pkg / "share" / "ament_index" / "resource_index" / "packages" / "vuer_ros").is_file()
    site = pkg / "lib" / ("python%d.%d" % sys.version_info[:2]) / "site-packages"
    assert (site / "vuer_ros" / "__init__.py").is_file()
    assert not (site / "test").exists(), "tests must not be installed as a package"
    # the built browser bundle (when present) ships inside the package, nested files included
    client = REPO / "vuer_ros" / "client_build"
    if client.is_dir():
        for f in (p for p in client.rglob("*") if p.is_file()):
            assert (site / "vuer_ros" / "client_build" / f.relative_to(client)).is_file(), f
