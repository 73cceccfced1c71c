"""``mltrail import tensorboard LOGDIR``: TensorBoard log folders as runs."""

from __future__ import annotations

from typing import Any

import click

from mltrail.cli._import import import_and_report, import_command

__all__ = ["import_tensorboard"]


@click.command("tensorboard")
@click.argument("logdir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--experiment-name",
    default=None,
    metavar="NAME",
    help="The experiment the runs go to; default: LOGDIR's folder name.",
)
@import_command
def import_tensorboard(logdir: str, experiment_name: str | None, **values: Any) -> None:
    """Import the TensorBoard log folder LOGDIR into --tracking-uri as one experiment.

    Every folder under LOGDIR holding event files (events.out.tfevents.*) becomes a run named
    by its path relative to LOGDIR; its scalars become the run's metrics (every point, steps
    and wall times kept), the hyperparameters of the HParams plugin its params. Images,
    histograms, text and graphs are not imported. Repeating the command imports only the run
    folders whose event files changed. Reading needs the tensorboard package (no TensorFlow):
    pip install 'mltrail[tensorboard]'.
    """
    # A log folder has no experiment ids of its own to keep: the experiment takes a free id.
    from mltrail.importers._tensorboard import TensorBoardSource  # when the import runs

    values = {**values, "new_experiment_ids": True}
    import_and_report(lambda: TensorBoardSource(logdir, experiment_name), values)
