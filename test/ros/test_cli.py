"""The vuer-ros command's help, without starting ROS."""

from __future__ import annotations

import pytest

from vuer_ros import cli
from vuer_ros.params import PARAMS


def run(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    return e.value.code, capsys.readouterr().out


def test_help_lists_the_commands(capsys):
    code, out = run(["--help"], capsys)
    assert code == 0 and "viewer" in out and "demo" in out


def test_no_command_prints_help_and_fails(capsys):
    code, out = run([], capsys)
    assert code == 2 and "usage: vuer-ros" in out


def test_viewer_help_lists_every_parameter(capsys):
    code, out = run(["viewer", "--help"], capsys)
    assert code == 0
    for p in PARAMS:
        assert p.name in out


def test_demo_help_has_duration(capsys):
    code, out = run(["demo", "--help"], capsys)
    assert code == 0 and "--duration" in out
