"""docs/input-files.md documents every [system] key of every kind, with true defaults."""
import importlib
from pathlib import Path

import pytest

from mlcore.config.docs import SYSTEM_KEYS, render
from mlcore.systems import SYSTEM_KINDS, build_system

ROOT = Path(__file__).resolve().parents[1]


def test_every_accepted_system_key_is_documented_and_no_other():
    assert set(SYSTEM_KEYS) == set(SYSTEM_KINDS)
    for kind, target in SYSTEM_KINDS.items():
        module = importlib.import_module(target.split(":")[0])
        assert {row[0] for row in SYSTEM_KEYS[kind]} == set(module._ALLOWED_KEYS), kind
    doc = (ROOT / "docs" / "input-files.md").read_text()
    assert doc == render(), "regenerate: python -m mlcore.config.docs > docs/input-files.md"
    for kind, rows in SYSTEM_KEYS.items():
        section = doc.split(f'### `[system]` `kind = "{kind}"`')[1].split("###")[0]
        for key, *_ in rows:
            assert f"| `{key}` |" in section, (kind, key)


@pytest.mark.parametrize("table", [{"kind": "cluster", "natoms": 3},
                                   {"kind": "regression"}, {"kind": "pspin", "n": 4}])
def test_documented_defaults_are_the_built_ones(table):
    system = build_system(table)
    config = system.config()
    for key, _tp, default, _ in SYSTEM_KEYS[table["kind"]]:
        if default.startswith("`") and key in config:
            text = default.strip("`")
            value = config[key]
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            assert shown == text, (key, value, default)
    assert system.distance_tol == float(dict((r[0], r[2]) for r in SYSTEM_KEYS[table["kind"]])
                                        ["distance_tol"].strip("`"))
