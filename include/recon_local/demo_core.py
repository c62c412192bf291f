"""`make demo`: generate a sample pair, reconcile it as `recon compare` would, show every output.

The demo is a list of steps (``STEPS``); each reads and fills one ``Demo`` and returns the lines
it prints. Later parts of the product (the Airflow DAG runs) add their own steps to the list.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from recon.engine.reconcile import ReconResult
from recon.result import RESULTS_FILE, SUMMARY_FILE
from worlds.pairs import SamplePair

DEFAULT_ROWS = 5000
DEFAULT_SEED = 7


@dataclass
class Demo:
    """What the steps share: where the demo writes, and what earlier steps produced."""

    out: Path
    rows: int = DEFAULT_ROWS
    seed: int = DEFAULT_SEED
    pair: SamplePair | None = None
    result: ReconResult | None = None
    outputs: dict[str, Path] = field(default_factory=dict)  # name -> file, in print order

    @property
    def data_dir(self) -> Path:
        return self.out / "data"

    @property
    def results_dir(self) -> Path:
        return self.out / "results"

    def sample(self) -> SamplePair:
        if self.pair is None:
            raise RuntimeError("the sample step must run before this one")
        return self.pair


@dataclass(frozen=True)
class DemoStep:
    title: str
    run: Callable[[Demo], Sequence[str]]


def generate_sample(demo: Demo) -> list[str]:
    from worlds.pairs import generate_payments_pair

    demo.pair = pair = generate_payments_pair(demo.data_dir, rows=demo.rows, seed=demo.seed)
    planted = sum(n for status, n in pair.counts.items() if status != "matched")
    return [
        f"{demo.rows:,} payments, {planted:,} planted breaks (seed {demo.seed})",
        f"processor  {pair.left}",
        f"ledger     {pair.right}",
        f"spec       {pair.spec}",
        f"truth      {pair.truth}",
    ]


def reconcile_sample(demo: Demo) -> list[str]:
    from recon.cli import format_summary
    from recon.engine.reconcile import compare_files
    from recon.reports import REPORT_FILES
    from recon.spec import load_spec

    pair = demo.sample()
    demo.result = compare_files(load_spec(pair.spec), pair.left, pair.right, demo.results_dir)
    demo.outputs = {
        "results": demo.results_dir / RESULTS_FILE,
        "summary": demo.results_dir / SUMMARY_FILE,
        **{fmt: demo.results_dir / name for fmt, name in REPORT_FILES.items()},
    }
    planted = demo.result.summary["counts"] == dict(pair.counts)
    verdict = "as planted (truth.csv)" if planted else "NOT as planted: see truth.csv"
    return [*format_summary(demo.result.summary).splitlines(), f"  statuses: {verdict}"]


def show_outputs(demo: Demo) -> list[str]:
    pair = demo.sample()
    width = max(len(name) for name in demo.outputs) + 1
    lines = []
    for name, path in demo.outputs.items():
        lines.append(f"{name + ':':<{width}} {path}")
        if path.suffix == ".html":  # one click from a terminal
            lines.append(f"{'':<{width}} {path.as_uri()}")
    command = [
        _venv_command("recon"),
        "compare",
        "--spec",
        str(pair.spec),
        "--left",
        str(pair.left),
        "--right",
        str(pair.right),
        "--out",
        str(demo.results_dir),
    ]
    breaks = (
        f"import polars as pl; print(pl.read_parquet({json.dumps(str(demo.outputs['results']))})"
        f'.filter(pl.col("status") != "matched").head())'
    )
    return [
        *lines,
        "",
        "reproduce:",
        f"  {shlex.join(command)}",
        "query the breaks:",
        f"  {_venv_command('python')} -c {shlex.quote(breaks)}",
    ]


def _venv_command(name: str) -> str:
    """The command as this environment has it, relative to the working folder when inside it."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        return name
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


STEPS: list[DemoStep] = [
    DemoStep("sample data", generate_sample),
    DemoStep("reconcile (recon compare)", reconcile_sample),
    DemoStep("outputs", show_outputs),
]


def run_demo(demo: Demo, steps: Sequence[DemoStep] = STEPS) -> int:
    for number, step in enumerate(steps, start=1):
        print(f"\n== {number}. {step.title}" if number > 1 else f"== {number}. {step.title}")
        for line in step.run(demo):
            print(f"   {line}" if line else "")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recon_local.demo_core", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="payments to generate")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    return run_demo(Demo(out=args.out.resolve(), rows=args.rows, seed=args.seed))


if __name__ == "__main__":
    sys.exit(main())
