"""``kind = "teacher"``: inputs of another data set labelled by a teacher network (SPEC 6.5).

The source data set (``source``, a data table of any other kind) is split as it comes: a
teacher network (``hidden`` tanh nodes, softmax outputs, cross-entropy with L2 coefficient
``lam``) is trained on the source's training part (the lowest of ``n_quenches`` L-BFGS
minimisations from random weights drawn with ``seed``); its outputs on the source's *test*
inputs, the other half of the data, become the targets.  Those labelled inputs are split at
random (``seed``) into the student's training and test sets.

With ``outputs = "raw"`` (the default) a student network with the teacher's architecture
(or a larger one) and the squared-error loss without L2 can reproduce the targets exactly,
so the global minimum of its cost is known to be zero; smaller students cannot.  (Softmax
targets, ``outputs = "probabilities"``, are not outputs of any network of this form, so
no student reaches zero on them.)  The targets are real-valued vectors with one
entry per class (``outputs = "raw"``: the teacher's output layer; ``"probabilities"``: its
softmax), so students need ``loss = "mse"``.

Stored with the data set: the inputs and targets, the teacher's weights
(``teacher_weights``), which source test inputs went where (``source_index_train``,
``source_index_test``), and in ``info`` the teacher's training cost and training error.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mlcore.config.schema import settings_to_dict
from mlcore.datasets.base import Dataset, assemble
from mlcore.datasets.options import TeacherOptions
from mlcore.errors import InputError

#: L-BFGS settings of the teacher's training (those of the triatomic network configs)
TEACHER_QUENCH = {"tol": 1e-6, "M": 10, "max_step": 0.5, "max_iter": 20000}


def train_teacher(x, labels, n_classes: int, opts: TeacherOptions):
    """The teacher network and its weights: the lowest of ``opts.n_quenches`` quenches.

    Returns
    -------
    system : mlcore.systems.nn.NNSystem
        The teacher's landscape (training cost on ``x``, ``labels``).
    weights : ndarray
    cost : float
    """
    from mlcore.optimize import minimize
    from mlcore.systems.nn import NNSystem

    system = NNSystem(x, labels, n_hidden=opts.hidden, lam=opts.lam, activation="tanh",
                      loss="xent", n_out=n_classes)
    rng = np.random.default_rng(opts.seed)
    best = None
    for _ in range(opts.n_quenches):
        res = minimize(system, system.random_coords(rng), **TEACHER_QUENCH)
        if res.success and (best is None or res.energy < best.energy):
            best = res
    if best is None:
        raise InputError(f"teacher data set: none of the {opts.n_quenches} trainings of the "
                         "teacher converged (raise n_quenches)")
    return system, np.array(best.coords), float(best.energy)


def load_teacher_dataset(opts: TeacherOptions, source, base_dir: Path, where: str) -> Dataset:
    """Build the teacher data set (see the module docstring)."""
    from mlcore.datasets import load_dataset

    if not isinstance(source, dict) or "kind" not in source:
        raise InputError(f"{where}: needs a source table with a kind, e.g. source = "
                         "{ kind = \"triatomic\", n_train = 500, n_test = 1000 }")
    if source.get("kind") == "teacher":
        raise InputError(f"{where}: the source of a teacher data set cannot be a teacher")
    src = load_dataset(source, base_dir, where=f"{where} source")
    n_labelled = src.n_test
    n_train = opts.n_train if opts.n_train is not None else n_labelled // 2
    n_test = opts.n_test if opts.n_test is not None else n_labelled - n_train
    if n_train < 1 or n_train + n_test > n_labelled:
        raise InputError(f"{where}: n_train = {n_train} and n_test = {n_test} need "
                         f"{n_train + n_test} inputs, the source's test part (the inputs the "
                         f"teacher labels) has {n_labelled}")
    teacher, weights, cost = train_teacher(src.x_train, src.y_train, src.n_classes, opts)
    outputs = teacher.predictions(weights, src.x_test)
    if opts.outputs == "probabilities":
        outputs = teacher.probabilities(weights, src.x_test)
    order = np.random.default_rng([opts.seed, 1]).permutation(n_labelled)
    i_train, i_test = np.sort(order[:n_train]), np.sort(order[n_train:n_train + n_test])
    config = {"kind": "teacher", "source": dict(src.config),
              **{k: v for k, v in settings_to_dict(opts).items()
                 if k not in ("n_train", "n_test")},
              "n_train": int(n_train), "n_test": int(n_test)}
    info = {"teacher_cost": cost,
            "teacher_train_error": float(np.mean(teacher.misclassified(weights))),
            "source": src.name}
    extra = {"teacher_weights": weights, "source_index_train": i_train.astype(np.int64),
             "source_index_test": i_test.astype(np.int64)}
    return assemble(src.x_test[i_train], outputs[i_train], src.x_test[i_test],
                    outputs[i_test], n_classes=src.n_classes,
                    name=f"teacher ({opts.hidden} hidden) on {src.name} {n_train}/{n_test}",
                    config=config, extra_arrays=extra, info=info, targets=True)
