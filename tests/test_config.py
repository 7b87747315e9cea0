"""Input files: every key accepted, misspellings answered, types and ranges checked, overrides."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from mlcore.config import (
    PROGRAM_SECTIONS,
    InputFile,
    MLGminSettings,
    apply_overrides,
    load_input,
    parse_input,
)
from mlcore.config.docs import all_dotted_keys, render
from mlcore.config.schema import _split_optional, iter_keys
from mlcore.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def _leaf_specs():
    """(program, dotted key within the program, type, default, meta) for every key."""
    for program, cls in PROGRAM_SECTIONS.items():
        for key, tp, default, _doc, meta in iter_keys(cls):
            yield program, key, tp, default, meta


def _valid_other_value(tp, default, meta):
    """A valid value of the key that differs from its default."""
    base, _ = _split_optional(tp)
    lo, hi = meta.get("minimum"), meta.get("maximum")
    if meta.get("choices"):
        return next(c for c in meta["choices"] if c != default)
    if base is bool:
        return not default
    if base is str:
        return "serial" if meta.get("check") else "some-value.h5"
    if base is int:
        value = (default if default is not None else int(lo or 0)) + 1
        if hi is not None and value > hi:
            value = int(hi) - 1
        return value
    if base is float:
        if default is None:
            return (lo or 0.0) + 0.5
        value = default * 0.5 if default else 0.25
        if lo is not None and value < lo or (meta.get("strict_min") and value <= lo):
            value = default * 1.5
        if hi is not None and value > hi:
            value = (default + (lo or 0.0)) / 2
        return value
    raise AssertionError(tp)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _toml_for(program: str, key: str, value) -> str:
    *tables, leaf = key.split(".")
    header = ".".join([program, *tables])
    return f"[{header}]\n{leaf} = {_toml_value(value)}\n"


def _get(settings, dotted: str):
    for part in dotted.split("."):
        settings = getattr(settings, part)
    return settings


SPECS = list(_leaf_specs())
IDS = [f"{p}.{k}" for p, k, *_ in SPECS]


@pytest.mark.parametrize("program,key,tp,default,meta", SPECS, ids=IDS)
def test_every_key_is_accepted_with_a_non_default_value(program, key, tp, default, meta):
    value = _valid_other_value(tp, default, meta)
    assert value != default
    inp = parse_input(_toml_for(program, key, value), "run.toml")
    assert _get(getattr(inp, program), key) == value
    # every other section stays at its defaults
    for other, cls in PROGRAM_SECTIONS.items():
        if other != program:
            assert getattr(inp, other) == cls()


@pytest.mark.parametrize("program,key,tp,default,meta", SPECS, ids=IDS)
def test_misspelt_key_names_file_section_and_nearest_key(program, key, tp, default, meta):
    *tables, leaf = key.split(".")
    typo = leaf[:-1] + leaf[-1] * 2 if len(leaf) > 1 else leaf + "x"  # double the last letter
    text = _toml_for(program, ".".join([*tables, typo]), _valid_other_value(tp, default, meta))
    with pytest.raises(InputError) as err:
        parse_input(text, "run.toml")
    msg = str(err.value)
    section = ".".join([program, *tables])
    assert msg.startswith(f"run.toml: [{section}]: unknown key '{typo}'")
    assert f"did you mean '{leaf}'?" in msg


def test_misspelt_table_and_section_are_answered():
    with pytest.raises(InputError, match=r"top level: unknown key 'mlgmni' \(did you mean 'mlgmin'\?\)"):
        parse_input("[mlgmni]\nsteps = 3\n", "a.toml")
    with pytest.raises(InputError, match=r"\[mloptim\]: unknown key 'nebb' \(did you mean 'neb'\?\)"):
        parse_input("[mloptim.nebb]\nspring_k = 3.0\n", "a.toml")


@pytest.mark.parametrize("text,pattern", [
    ("[mlgmin]\nsteps = \"ten\"\n", r"^b\.toml: \[mlgmin\]: 'steps' must be an integer, got 'ten'$"),
    ("[mlgmin]\nsteps = 1.5\n", r"\[mlgmin\]: 'steps' must be an integer"),
    ("[mlgmin]\ntemperature = \"hot\"\n", r"\[mlgmin\]: 'temperature' must be a number"),
    ("[mlgmin]\nsteps = true\n", r"\[mlgmin\]: 'steps' must be an integer, got True"),
    ("[mloptim.neb]\nclimbing = 1\n", r"\[mloptim\.neb\]: 'climbing' must be true or false"),
    ("[mlgmin.quench]\nM = 2.5\n", r"\[mlgmin\.quench\]: 'M' must be an integer"),
    ("[mlgmin]\nquench = 5\n", r"\[mlgmin\]: 'quench' must be a table"),
    ("[mlanalyse.dgraph]\ncolour_by = 3\n", r"\[mlanalyse\.dgraph\]: 'colour_by' must be a string"),
    ("mlgmin = 3\n", r"'mlgmin' must be a table"),
])
def test_wrong_types_name_file_section_and_key(text, pattern):
    with pytest.raises(InputError, match=pattern):
        parse_input(text, "b.toml")


@pytest.mark.parametrize("text,pattern", [
    ("[mlgmin]\nsteps = -1\n", r"\[mlgmin\]: 'steps' = -1 must be >= 0"),
    ("[mlgmin]\nruns = 0\n", r"\[mlgmin\]: 'runs' = 0 must be >= 1"),
    ("[mlgmin]\ntarget_acceptance = 1.5\n", r"'target_acceptance' = 1.5 must be <= 1"),
    ("[mlgmin.quench]\ntol = 0.0\n", r"\[mlgmin\.quench\]: 'tol' = 0.0 must be > 0"),
    ("[mlgmin.quench]\nM = 0\n", r"'M' = 0 must be >= 1"),
    ("[mlgmin]\ntemperature = nan\n", r"'temperature' must be finite"),
    ("[mlpathsample]\nstrategy = \"untrp\"\n",
     r"'strategy' = 'untrp' is not one of .*\(did you mean 'untrap'\?\)"),
    ("[mlgmin]\nexecutor = \"processes:0\"\n",
     r"\[mlgmin\]: 'executor' = 'processes:0': the number of processes must be a positive"),
    ("[mlgmin]\nexecutor = \"threads\"\n", r"'executor' = 'threads'"),
    ("[mloptim.neb]\nmin_images = 9\nmax_images = 4\n", r"'min_images' = 9 exceeds 'max_images' = 4"),
    ("[mlanalyse.cv]\ntmin = 2.0\ntmax = 1.0\n", r"\[mlanalyse\.cv\]: 'tmin' = 2.0 must be below"),
])
def test_out_of_range_values_are_refused(text, pattern):
    with pytest.raises(InputError, match=pattern):
        parse_input(text, "c.toml")


@pytest.mark.parametrize("spec", ["serial", "processes", "processes:3", "dask",
                                  "dask:tcp://10.0.0.1:8786", "dask:/scratch/sched.json"])
def test_executor_specs_are_accepted(spec):
    assert parse_input(f'[mlpathsample]\nexecutor = "{spec}"\n').mlpathsample.executor == spec


def test_syntax_error_is_one_line_with_file_and_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[system]\nkind = \"cluster\"\n\n[mlgmin]\nsteps = \n")
    with pytest.raises(InputError) as err:
        load_input(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path.resolve()}:5: TOML syntax error:")


def test_load_input_full_file(tmp_path):
    text = """
[system]
kind = "cluster"
natoms = 3
gamma = 2.0

[mlgmin]
steps = 200
seed = 7
output = "results/lj3.h5"
quench = { tol = 1e-7, M = 6 }

[mloptim.neb]
image_density = 15.0

[mlanalyse.cv]
tmax = 0.5
"""
    path = tmp_path / "lj3.toml"
    path.write_text(text)
    inp = load_input(path)
    assert isinstance(inp, InputFile)
    assert inp.path == path.resolve() and inp.base_dir == tmp_path.resolve()
    assert inp.text == text
    assert inp.system == {"kind": "cluster", "natoms": 3, "gamma": 2.0}
    assert inp.sections == ("system", "mlgmin", "mloptim", "mlanalyse")
    assert (inp.mlgmin.steps, inp.mlgmin.seed) == (200, 7)
    assert inp.mlgmin.quench.tol == 1e-7 and inp.mlgmin.quench.M == 6
    assert inp.mlgmin.quench.max_iter == 10000            # default kept inside a sub-table
    assert inp.mloptim.neb.image_density == 15.0 and inp.mloptim.neb.spring_k == 1.0
    assert inp.mloptim.quench.M == 4                       # the other program's quench untouched
    assert inp.mlanalyse.cv.tmax == 0.5 and inp.mlanalyse.cv.npoints == 200
    assert inp.mlpathsample.strategy == "unconnected"
    assert inp.default_output() == tmp_path.resolve() / "results" / "lj3.h5"
    assert inp.resolve("data.npz") == tmp_path.resolve() / "data.npz"
    assert inp.as_dict()["mlgmin"]["quench"]["M"] == 6
    # settings are frozen
    with pytest.raises(dataclasses.FrozenInstanceError):
        inp.mlgmin.steps = 3


def test_default_output_is_input_name_with_h5(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[system]\nkind = \"regression\"\n")
    assert load_input(path).default_output() == tmp_path.resolve() / "run.h5"


def test_missing_file_and_system_without_kind(tmp_path):
    with pytest.raises(InputError, match="input file not found"):
        load_input(tmp_path / "nope.toml")
    with pytest.raises(InputError, match=r"\[system\] needs kind"):
        parse_input("[system]\nnatoms = 3\n", "d.toml")


def test_overrides_on_input_file_and_on_settings():
    inp = parse_input("[mlgmin]\nsteps = 10\nquench = { M = 6 }\n", "e.toml")
    new = apply_overrides(inp, "mlgmin", {"steps": 50, "runs": None, "seed": 3,
                                          "quench.tol": 1e-8, "step-size": "0.5"})
    assert isinstance(new, InputFile)
    assert (new.mlgmin.steps, new.mlgmin.runs, new.mlgmin.seed) == (50, 1, 3)
    assert new.mlgmin.quench.tol == 1e-8 and new.mlgmin.quench.M == 6
    assert new.mlgmin.step_size == 0.5
    assert inp.mlgmin.steps == 10                          # the original is unchanged
    gmin = apply_overrides(inp.mlgmin, "mlgmin", {"quench": {"M": 8}, "executor": "serial"})
    assert isinstance(gmin, MLGminSettings)
    assert gmin.quench.M == 8 and gmin.quench.tol == 1e-6 and gmin.executor == "serial"
    path = apply_overrides(inp, "mlpathsample", {"strategy": "random", "cycles": "7"})
    assert path.mlpathsample.strategy == "random" and path.mlpathsample.cycles == 7
    assert apply_overrides(inp, "mlanalyse", {"dgraph.levels": "30"}).mlanalyse.dgraph.levels == 30
    assert apply_overrides(inp, "mloptim", {"neb.climbing": "false"}).mloptim.neb.climbing is False


@pytest.mark.parametrize("overrides,pattern", [
    ({"setps": 3}, r"^command line: \[mlgmin\]: unknown key 'setps' \(did you mean 'steps'\?\)"),
    ({"steps": "many"}, r"command line: \[mlgmin\]: 'steps' must be an integer, got 'many'"),
    ({"steps": -4}, r"'steps' = -4 must be >= 0"),
    ({"quench.tool": 1e-3}, r"\[mlgmin\.quench\]: unknown key 'tool' \(did you mean 'tol'\?\)"),
    ({"steps.x": 1}, r"'steps' is not a table"),
    ({"executor": "gpu"}, r"'executor' = 'gpu'"),
])
def test_bad_overrides_are_named(overrides, pattern):
    inp = parse_input("", "f.toml")
    with pytest.raises(InputError, match=pattern):
        apply_overrides(inp, "mlgmin", overrides)


def test_overrides_of_unknown_program():
    with pytest.raises(InputError, match=r"did you mean 'mloptim'"):
        apply_overrides(parse_input(""), "mloptm", {"seed": 1})


def test_docs_list_every_key_and_are_up_to_date():
    doc = (ROOT / "docs" / "input-files.md").read_text()
    assert doc == render(), "regenerate: python -m mlcore.config.docs > docs/input-files.md"
    # every key appears in the table of its own section, with its default
    sections = re.split(r"^#{2,3} ", doc, flags=re.MULTILINE)
    by_title = {s.splitlines()[0].strip(): s for s in sections if s.strip()}
    keys = all_dotted_keys()
    assert len(keys) == len(SPECS) > 50
    for program, key, tp, default, meta in SPECS:
        *tables, leaf = key.split(".")
        title = "`[" + ".".join([program, *tables]) + "]`"
        assert re.search(rf"^\| `{re.escape(leaf)}` \|", by_title[title], flags=re.MULTILINE), (title, leaf)
    from mlcore.datasets.options import DATASET_OPTIONS

    for kind, cls in DATASET_OPTIONS.items():
        text = by_title[f'`kind = "{kind}"`']
        for f in dataclasses.fields(cls):
            assert f"| `{f.name}` |" in text, (kind, f.name)


@pytest.mark.parametrize("name", sorted(p.name for p in (
    Path(__file__).resolve().parents[1] / "configs").glob("*.toml")))
def test_every_shipped_input_file_is_valid(name):
    """The input files in configs/ parse with every key known (their landscapes are built
    by the tests and targets that use them)."""
    from mlcore.config import load_input

    inp = load_input(Path(__file__).resolve().parents[1] / "configs" / name)
    assert inp.system["kind"] in ("cluster", "nn", "regression", "pspin", "python")
