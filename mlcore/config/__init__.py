"""Input files: TOML loaded into validated, typed settings (SPEC section 5).

>>> from mlcore.config import load_input, apply_overrides
>>> inp = load_input("run.toml")                      # doctest: +SKIP
>>> gmin = apply_overrides(inp.mlgmin, "mlgmin", {"steps": 100, "quench.tol": 1e-6})  # doctest: +SKIP

The keys, defaults and meaning of every section live in :mod:`mlcore.config.settings`;
``docs/input-files.md`` is generated from there.
"""
from mlcore.config.input_file import (
                                      TOP_LEVEL_TABLES,
                                      InputFile,
                                      apply_overrides,
                                      load_input,
                                      parse_input,
)
from mlcore.config.schema import build_settings, option, settings_to_dict
from mlcore.config.settings import (
                                      PROGRAM_SECTIONS,
                                      ConnectSettings,
                                      CvSettings,
                                      DGraphSettings,
                                      MLAnalyseSettings,
                                      MLGminSettings,
                                      MLOptimSettings,
                                      MLPathsampleSettings,
                                      NEBSettings,
                                      PushOffSettings,
                                      QuenchSettings,
                                      TSSearchSettings,
)

__all__ = [
                                      "PROGRAM_SECTIONS",
                                      "TOP_LEVEL_TABLES",
                                      "ConnectSettings",
                                      "CvSettings",
                                      "DGraphSettings",
                                      "InputFile",
                                      "MLAnalyseSettings",
                                      "MLGminSettings",
                                      "MLOptimSettings",
                                      "MLPathsampleSettings",
                                      "NEBSettings",
                                      "PushOffSettings",
                                      "QuenchSettings",
                                      "TSSearchSettings",
                                      "apply_overrides",
                                      "build_settings",
                                      "load_input",
                                      "option",
                                      "parse_input",
                                      "settings_to_dict",
]
