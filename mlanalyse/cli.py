"""Command-line shell of ``mlanalyse``: parse, call the analysis functions; no algorithms here."""
import sys

import click

from mlcore.cli_support import run_main, version_option


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@version_option("mlanalyse")
def cli():
    """Disconnectivity graphs, heat capacity, network statistics and reports.

    Every command reads the HDF5 file only (a run may still be writing it).
    Add --debug to any command to see a traceback instead of a one-line error.
    """


_INPUT_HELP = ("Input file whose [mlanalyse] section sets the defaults (default: the input "
               "stored with the file's first run, else the documented defaults).")


def _section(file, input_file, overrides):
    """The ``[mlanalyse]`` settings of ``file``: from ``--input``, else the stored input
    file, else the defaults; command-line ``overrides`` (None: not given) on top."""
    from mlcore.config import apply_overrides
    from mlcore.database import DatabaseReader
    from mlcore.session import program_settings

    settings, _ = program_settings("mlanalyse", DatabaseReader(file), file, input_file)
    return apply_overrides(settings, "mlanalyse", overrides)


def _echo_json(obj):
    import json

    click.echo(json.dumps(obj, indent=2, allow_nan=True))


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def summary(file, as_json):
    """Counts, the global minimum and the system definition of a file."""
    from mlanalyse.summary import summary as make_summary

    info = make_summary(file)
    if as_json:
        _echo_json(info)
        return
    for key, value in info.items():
        click.echo(f"{key}: {value}")


@cli.group(name="list")
def list_():
    """CSV listings on stdout (1-based ids)."""


@list_.command(name="minima")
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
def list_minima(file):
    """One row per minimum: id,energy,..."""
    from mlanalyse.listing import write_minima_csv

    write_minima_csv(file, sys.stdout)


@list_.command(name="ts")
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
def list_ts(file):
    """One row per transition state: id,energy,min1,min2,..."""
    from mlanalyse.listing import write_ts_csv

    write_ts_csv(file, sys.stdout)


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=str,
              help="Figure: .png, .svg or .pdf.")
@click.option("--levels", type=click.IntRange(2, 10000),
              help="Number of energy thresholds of the superbasin analysis (default: "
                   "[mlanalyse.dgraph] levels, 20).")
@click.option("--emax", type=float, help="Top energy of the graph (default: highest TS).")
@click.option("--lowest", type=click.IntRange(1, None), help="Only the lowest K minima.")
@click.option("--colour-by", "colour_by", help="Colour branches by this per-minimum quantity "
              "(a column of /minima, e.g. energy, log_product; for networks also "
              "misclassification, misclassification_train).")
@click.option("--component", type=click.Choice(["global", "all"]), default="global",
              show_default=True, help="The global minimum's connected component, or all.")
@click.option("--input", "input_file", type=click.Path(dir_okay=False), help=_INPUT_HELP)
def dgraph(file, output, levels, emax, lowest, colour_by, component, input_file):
    """Disconnectivity graph of the minima and transition states."""
    from mlanalyse.disconnectivity import run_dgraph

    _check_figure_suffix(output)
    d = _section(file, input_file, {"dgraph.levels": levels, "dgraph.emax": emax,
                                    "dgraph.lowest": lowest,
                                    "dgraph.colour_by": colour_by}).dgraph
    _prepare(output, "-o")
    info = run_dgraph(file, output, levels=d.levels, emax=d.emax, lowest=d.lowest,
                      colour_by=d.colour_by, component=component)
    click.echo(f"disconnectivity graph of {info.get('n_drawn', '?')} minima written to {output}")
    for note in info.get("notes", []):
        click.echo(f"note: {note}")


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--tmin", type=click.FloatRange(0, None, min_open=True),
              help="Lowest temperature (energy units, k_B = 1; default: [mlanalyse.cv] tmin).")
@click.option("--tmax", type=click.FloatRange(0, None, min_open=True),
              help="Highest temperature (default: [mlanalyse.cv] tmax).")
@click.option("--npoints", type=click.IntRange(2, None),
              help="Number of temperatures (default: [mlanalyse.cv] npoints).")
@click.option("--lowest", multiple=True, type=click.IntRange(1, None),
              help="Partial sum over the lowest K minima (repeat for several curves).")
@click.option("-o", "--output", type=str,
              help="Output .csv (columns T, Cv, ...) or a figure (.png/.svg/.pdf).")
@click.option("--input", "input_file", type=click.Path(dir_okay=False), help=_INPUT_HELP)
@click.option("--include-degenerate", is_flag=True,
              help="Sum the degenerate minima too (zero curvatures beyond the symmetries); by "
                   "default they are left out and their count is printed.")
def cv(file, tmin, tmax, npoints, lowest, output, input_file, include_degenerate):
    """Heat-capacity analogue from the harmonic superposition approximation."""
    from mlanalyse.heat_capacity import run_cv
    from mlcore.errors import InputError

    if tmin is not None and tmax is not None and tmax <= tmin:
        raise InputError(f"--tmax {tmax} must be above --tmin {tmin}")
    c = _section(file, input_file, {"cv.tmin": tmin, "cv.tmax": tmax,
                                    "cv.npoints": npoints}).cv
    tmin, tmax, npoints = c.tmin, c.tmax, c.npoints
    if not lowest and c.lowest is not None:
        lowest = (c.lowest,)
    if output is not None:
        _prepare(output, "-o")
    ks = [None, *lowest]
    temps, curves = run_cv(file, tmin, tmax, npoints=npoints, lowest=ks, out_path=output,
                           include_degenerate=include_degenerate)
    if not include_degenerate:
        from mlanalyse.heat_capacity import degenerate_minima
        from mlcore.database import DatabaseReader

        left_out = int(degenerate_minima(DatabaseReader(file)).sum())
        if left_out:
            click.echo(f"mlanalyse cv: {left_out} degenerate minima left out (the harmonic "
                       "approximation fails along their flat directions; "
                       "--include-degenerate sums them)", err=True)
    if output is None:
        header = "T,Cv" + "".join(f",Cv_lowest_{k}" for k in lowest)
        click.echo(header)
        for i, t in enumerate(temps):
            click.echo(",".join([repr(float(t))] + [repr(float(curves[k][i])) for k in ks]))
    else:
        click.echo(f"heat capacity written to {output}")


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option("-o", "--output", type=str,
              help="Drawing of the network (.png/.svg/.pdf).")
@click.option("--random-graphs", default=10, show_default=True, type=click.IntRange(0, None),
              help="Random graphs with the same numbers of nodes and edges to compare with.")
@click.option("--seed", default=0, show_default=True, type=int)
def network(file, as_json, output, random_graphs, seed):
    """Statistics of the network of minima joined by transition states."""
    import numpy as np

    from mlanalyse.network import draw_network, minima_graph, network_statistics
    from mlcore.database import DatabaseReader

    graph = minima_graph(DatabaseReader(file))
    stats = network_statistics(graph, n_random=random_graphs, rng=np.random.default_rng(seed))
    if output:
        _check_figure_suffix(output)
        _prepare(output, "-o")
        draw_network(graph, output)
    if as_json:
        _echo_json(stats)
    else:
        for key, value in stats.items():
            click.echo(f"{key}: {value}")


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=str,
              help="Figure: .png, .svg or .pdf.")
@click.option("--count", default=4, show_default=True, type=click.IntRange(0, 50),
              help="Local-minimum fits drawn besides the global minimum's.")
@click.option("--json", "as_json", is_flag=True, help="Parameters of the fits as JSON on stdout.")
def fits(file, output, count, as_json):
    """Regression landscapes: the data with the global- and local-minimum fits."""
    from mlanalyse.fits import plot_regression_fits

    _check_figure_suffix(output)
    _prepare(output, "-o")
    info = plot_regression_fits(file, output, count)
    if as_json:
        _echo_json(info)
    else:
        gm = info["global_minimum"]
        click.echo(f"fits written to {output}; global minimum {gm['id']}: cost {gm['energy']:.6g}, "
                   f"q = {', '.join(f'{v:.5g}' for v in gm['params'])}")


@cli.command()
@click.argument("files", metavar="FILE.h5...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("--label", "labels", multiple=True,
              help="Name of each file in the table and figure, once per file, in order "
                   "(default: the file names).")
@click.option("-o", "--output", type=str,
              help="Table: .csv or .json (default: CSV on stdout).")
@click.option("--plot", type=str,
              help="Bar chart of the lowest energies: .png, .svg or .pdf.")
def compare(files, labels, output, plot):
    """Several files side by side: minima, transition states, lowest minimum."""
    import sys

    from mlanalyse.compare import compare as run_compare
    from mlanalyse.compare import plot_lowest, write_csv, write_table

    if plot:
        _check_figure_suffix(plot)
        _prepare(plot, "--plot")
    if output:
        _prepare(output, "-o")
    rows = run_compare(files, list(labels) if labels else None)
    if output:
        write_table(rows, output)
        click.echo(f"table of {len(rows)} file(s) written to {output}")
    else:
        write_csv(rows, sys.stdout)
    if plot:
        plot_lowest(rows, plot)
        click.echo(f"figure written to {plot}")


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def auc(file, as_json):
    """Classifying networks: test-set ROC AUC (mean over classes) of every minimum."""
    from mlanalyse.classification import file_auc

    res = file_auc(file)
    if as_json:
        _echo_json(res)
        return
    click.echo("id,energy,auc")
    for i, e, a in zip(res["ids"], res["energies"], res["auc"]):
        click.echo(f"{i},{e!r},{a!r}")


@cli.command()
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--temperature", "temperatures", multiple=True, required=True,
              type=click.FloatRange(0, None, min_open=True),
              help="Fictitious temperature (energy units); repeat for several.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def ensemble(file, temperatures, as_json):
    """Classifying networks: predictions of the Boltzmann-weighted ensemble of minima
    (harmonic superposition) against the global minimum alone, on the test set."""
    from mlanalyse.classification import ensemble_prediction

    rows = ensemble_prediction(file, temperatures)
    if as_json:
        _echo_json(rows)
        return
    click.echo("temperature,effective_minima,ensemble_error,ensemble_auc,"
               "global_minimum_error,global_minimum_auc")
    for r in rows:
        click.echo(f"{r['temperature']!r},{r['effective_minima']:.4g},{r['ensemble_error']!r},"
                   f"{r['ensemble_auc']!r},{r['global_minimum_error']!r},"
                   f"{r['global_minimum_auc']!r}")


@cli.command(name="auc-scan")
@click.argument("template", metavar="INPUT.toml", type=click.Path(dir_okay=False))
@click.option("--s", "s_text", default="1:80", show_default=True,
              help="Steps from convergence: FIRST:LAST[:STEP] or a list like 1,5,10.")
@click.option("-o", "--output", "out_dir", required=True, type=str,
              help="Directory of the per-s files, auc.csv and auc.png.")
@click.option("--steps", type=click.IntRange(1, None), help="Basin-hopping steps per run.")
@click.option("--runs", type=click.IntRange(1, None), help="Basin-hopping runs per s.")
@click.option("--executor", metavar="SPEC", help="serial, processes[:N], dask[:ADDRESS].")
def auc_scan_command(template, s_text, out_dir, steps, runs, executor):
    """Triatomic networks on (r12, r13) s steps before convergence: AUC of the global and
    of the best local minimum against s (resumes an interrupted scan)."""
    from pathlib import Path

    from mlanalyse.auc_scan import auc_scan, parse_s_values, plot_scan, write_scan_csv
    from mlcore.progress import terminal_progress

    _prepare(out_dir, "-o", directory=True)
    values = parse_s_values(s_text)
    line = terminal_progress(lambda s, row: f"mlanalyse auc-scan: s = {s} "
                             f"({values.index(s) + 1}/{len(values)})  AUC global minimum "
                             f"{row['auc_global_minimum']:.4f}")
    try:
        rows = auc_scan(template, values, out_dir, steps=steps, runs=runs, executor=executor,
                        progress=line)
    finally:
        if line is not None:
            line.close()
    write_scan_csv(rows, Path(out_dir) / "auc.csv")
    plot_scan(rows, Path(out_dir) / "auc.png")
    click.echo(f"AUC for {len(rows)} values of s in {out_dir}/auc.csv and auc.png")


@cli.command(name="pspin")
@click.option("--n", "sizes", default="25,50,100,200", show_default=True,
              help="System sizes N, comma-separated.")
@click.option("--starts", default=300, show_default=True, type=click.IntRange(1, None),
              help="Random starts quenched per N.")
@click.option("--p", "p", default=3, show_default=True, type=click.IntRange(3, None))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, None),
              help="Seed of the couplings (and, with N, of the starts).")
@click.option("-o", "--output", "out_dir", required=True, type=str,
              help="Directory of minima.csv, energies.csv, theory.json, complexity.png.")
def pspin_command(sizes, starts, p, seed, out_dir):
    """Spherical p-spin: energies of minima from random starts for growing N, with the
    complexity of the theory (index 0, 1, 2, 50) and its zero crossings."""
    from mlanalyse.pspin_study import study, write_study
    from mlcore.errors import InputError
    from mlcore.progress import terminal_progress

    _prepare(out_dir, "-o", directory=True)
    try:
        ns = [int(v) for v in sizes.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--n {sizes!r}: give sizes like 25,50,100") from None
    line = terminal_progress(lambda r: f"mlanalyse pspin: N = {r['n']} done, "
                             f"{r['n_minima']} minima, mean {r['mean']:.4f} per spin")
    try:
        result = study(ns, starts, p, seed, progress=line)
    finally:
        if line is not None:
            line.close()
    write_study(result, out_dir)
    for r in result["rows"]:
        click.echo(f"N = {r['n']}: {r['n_minima']} minima of {r['n_starts']} starts, energy per "
                   f"spin {r['mean']:.4f} +- {r['std']:.4f}, lowest {r['lowest']:.4f}")
    zeros = ", ".join(f"E_{k} = {v:.4f}" for k, v in result["theory"]["zeros"].items())
    click.echo(f"theory: threshold {result['theory']['threshold']:.4f}; {zeros}")


@cli.command(name="misclassification")
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", required=True, type=str,
              help="Directory of the tables and figures.")
@click.option("--lowest", default=100, show_default=True, type=click.IntRange(2, None),
              help="Use the lowest K minima.")
def misclassification_command(file, out_dir, lowest):
    """Classifying networks: test inputs misclassified per minimum, the misclassification
    distance between minima as a clustered heat map, and its joint density with the
    aligned parameter distance."""
    import numpy as np

    from mlanalyse.misclassification import analyse, write_outputs

    _prepare(out_dir, "-o", directory=True)
    res = analyse(file, lowest)
    names = write_outputs(res, out_dir)
    f = np.asarray(res["fraction"])
    click.echo(f"{len(res['ids'])} minima: fraction of the {res['n_test']} test inputs "
               f"misclassified {f.min():.4f} to {f.max():.4f} (global minimum "
               f"{f[0]:.4f}); written to {out_dir}/: {' '.join(names)}")


@cli.command(name="basins")
@click.argument("file", metavar="FILE.h5", type=click.Path(dir_okay=False))
@click.option("--box", "half_width", type=float,
              help="Sampling domain |x_i| <= L (default: the landscape's own domain of "
                   "random starts, where it has one).")
@click.option("--lowest", default=10, show_default=True, type=click.IntRange(1, None),
              help="Basin volumes of the lowest K minima.")
@click.option("--samples", default=400, show_default=True, type=click.IntRange(8, None),
              help="Random-walk samples per spring constant.")
@click.option("--springs", default=12, show_default=True, type=click.IntRange(2, 100),
              help="Spring constants of the ladder.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, None))
@click.option("--direct", "n_direct", default=0, show_default=True,
              type=click.IntRange(0, None),
              help="Also quench this many uniform random starts in the box: a plain Monte "
                   "Carlo check of each volume fraction (for basins that are not too small).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option("--include-degenerate", is_flag=True,
              help="Also degenerate minima (valleys); by default they are left out and their "
                   "count is printed.")
def basins(file, half_width, lowest, samples, springs, seed, n_direct, as_json,
           include_degenerate):
    """Basin volumes by thermodynamic integration (confined random walks, MBAR); the number
    of minima and the Boltzmann- and Gibbs-like entropies."""
    from mlanalyse.basin_volumes import file_basin_volumes
    from mlcore.progress import terminal_progress

    line = terminal_progress(lambda done, total: f"mlanalyse basins: {done}/{total} minima")
    try:
        res = file_basin_volumes(file, half_width, samples, lowest, springs, seed,
                                 progress=line, n_direct=n_direct,
                                 include_degenerate=include_degenerate)
    finally:
        if line is not None:
            line.close()
    if res["n_degenerate_left_out"]:
        click.echo(f"mlanalyse basins: {res['n_degenerate_left_out']} degenerate minima left "
                   "out (--include-degenerate keeps them)", err=True)
    if as_json:
        _echo_json(res)
        return
    extra = n_direct > 0
    click.echo("id,energy,log_volume,log_volume_error,n_quenches"
               + (",volume_fraction,direct_fraction,direct_fraction_error" if extra else ""))
    for r in res["minima"]:
        click.echo(f"{r['id']},{r['energy']!r},{r['log_volume']!r},{r['log_volume_error']!r},"
                   f"{r['n_quenches']}" + (f",{r['volume_fraction']!r},{r['direct_fraction']!r},"
                                           f"{r['direct_fraction_error']!r}" if extra else ""))
    click.echo(f"box log volume {res['log_box_volume']:.4f}; basins cover "
               f"{res['fraction_of_box_covered']:.3f} of it; number of minima "
               f"{res['number_of_minima']:.4g}; S_B {res['boltzmann_entropy']:.4f}, "
               f"S_G {res['gibbs_entropy']:.4f}")


def _prepare(path, what, directory=False):
    """Create the missing parent folders of an output path, or refuse it (exit 2)."""
    from mlcore.outputs import prepare_output

    return prepare_output(path, what=what, directory=directory)


def _check_figure_suffix(path):
    from pathlib import Path

    from mlcore.errors import InputError

    if Path(path).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError(f"-o {path}: the figure must end in .png, .svg or .pdf")


def main(argv=None):
    """Entry point of the ``mlanalyse`` console script."""
    run_main(cli, "mlanalyse", argv)


if __name__ == "__main__":
    main()
