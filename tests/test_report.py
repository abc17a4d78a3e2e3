"""JSON output without the json module: the same text as ``json.dumps(…, ensure_ascii=False)``."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from ayjnt_hooks.report import dumps


@pytest.mark.parametrize("value", [
    pytest.param({}, id="empty-object"),
    pytest.param([], id="empty-list"),
    pytest.param({"ok": True, "clean": False, "upstream": None, "ahead": 0, "behind": 12},
                 id="status-shape"),
    pytest.param({"porcelain": [" M a.txt", "?? \"b\\tc\"", "R  x -> y"]}, id="lines"),
    pytest.param({"é": "ü\u2028\x00\x1f\x7f\"\\/", "日本": ["\U0001f600"]}, id="non-ascii"),
    pytest.param({"s": "\ud800 lone"}, id="lone-surrogate"),
    pytest.param({"n": [-1, 2**70, True, [[], {}], {"a": {"b": None}}]}, id="nested"),
    pytest.param({"f": 1.5}, id="float-falls-back"),
    pytest.param({1: "int key"}, id="int-key-falls-back"),
    pytest.param(("tuple",), id="tuple-falls-back"),
])
def test_dumps_as_json_module(value: Any) -> None:
    assert dumps(value) == json.dumps(value, ensure_ascii=False)


def test_status_json_runs_without_importing_json(tmp_path: object) -> None:
    code = ("import sys; from ayjnt_hooks.cli import main; main(['status', '--json']); "
            "sys.stderr.write(str('json' in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(tmp_path))
    assert proc.stderr == "False"
