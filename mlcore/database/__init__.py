"""The shared HDF5 stationary-point file: one crash-safe writer, any number of readers.

Layout and crash-safety design: ``docs/hdf5-format.md``.

>>> from mlcore.database import Database, DatabaseReader          # doctest: +SKIP
>>> with Database.create("lj.h5", system.config(), {}, ndim=system.ndim,
...                      identity=system) as db:
...     run = db.begin_run("mlgmin", sys.argv, input_text, seed)
...     min_id, is_new = db.add_minimum(energy, coords, step=12)
...     db.commit()
>>> DatabaseReader("lj.h5").minima().energy

Modules: :mod:`~mlcore.database.writer` (the writer), :mod:`~mlcore.database.reader`,
:mod:`~mlcore.database.h5layout` (HDF5 layout), :mod:`~mlcore.database.journal`,
:mod:`~mlcore.database.lock`, :mod:`~mlcore.database.index` (energy-ordered lookup),
:mod:`~mlcore.database.tables` (column definitions), :mod:`~mlcore.database.atomic`
(outputs that appear atomically).
"""
from mlcore.database.atomic import atomic_output, atomic_path
from mlcore.database.h5layout import FORMAT_NAME, FORMAT_VERSION
from mlcore.database.lock import StaleLockWarning
from mlcore.database.reader import DatabaseReader
from mlcore.database.tables import OUTCOME_CODES
from mlcore.database.view import TableView
from mlcore.database.writer import Database, JournalRecoveryWarning

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "OUTCOME_CODES", "Database", "DatabaseReader",
           "JournalRecoveryWarning", "StaleLockWarning", "TableView", "atomic_output",
           "atomic_path"]
