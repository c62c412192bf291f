"""`recon` command line: compare two files under a spec, or validate a spec or recon definition."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from recon.errors import ReconError
from recon.readers.tables import ReadOptions
from recon.readers.xlsx_guard import MAX_BYTES, MAX_CELLS
from recon.result import STATUSES

EXIT_OK = 0
EXIT_BAD_INPUT = 2
REPORT_CHOICES = ("html", "csv", "xlsx", "json")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, like every other bad input
        self.exit(EXIT_BAD_INPUT, f"recon: error: {message} (see `recon --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="recon", description="Reconcile two tables and report every break.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    compare = commands.add_parser("compare", help="reconcile two files under a spec")
    compare.add_argument("--spec", required=True, type=Path, help="recon spec (YAML)")
    compare.add_argument(
        "--left", required=True, type=Path, help="CSV, Parquet, XLSX, DBF or a bank statement"
    )
    compare.add_argument(
        "--right", required=True, type=Path, help="CSV, Parquet, XLSX, DBF or a bank statement"
    )
    compare.add_argument("--out", required=True, type=Path, help="output folder")
    compare.add_argument(
        "--reports",
        default=None,
        help="comma-separated report formats (html,csv,xlsx,json) or `none` [default: all]",
    )
    for side in ("", "left-", "right-"):
        which = f" of the {side[:-1]} file" if side else " of both files"
        compare.add_argument(f"--{side}encoding", help=f"text encoding{which} (CSV, DBF)")
        compare.add_argument(f"--{side}delimiter", help=f"CSV delimiter{which} [sniffed]")
    compare.add_argument("--left-sheet", help="XLSX sheet of the left file [first]")
    compare.add_argument("--right-sheet", help="XLSX sheet of the right file [first]")
    compare.add_argument("--allow-empty", action="store_true", help="accept inputs with no rows")
    compare.add_argument(
        "--max-xlsx-cells",
        type=int,
        default=MAX_CELLS,
        help=f"refuse an XLSX sheet spanning more cells [{MAX_CELLS:,}]",
    )
    compare.add_argument(
        "--max-xlsx-bytes",
        type=int,
        default=MAX_BYTES,
        help=f"refuse an XLSX whose sheets unzip to more bytes [{MAX_BYTES:,}]",
    )
    compare.add_argument("--quiet", action="store_true", help="print only the output folder")
    validate = commands.add_parser(
        "validate",
        help="check a spec or a recon definition (config/recons/*.yaml); report every mistake",
    )
    validate.add_argument("spec", type=Path, metavar="FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(signal, "SIGXFSZ"):  # past a file-size limit: an error to report, not a kill
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        if args.command == "validate":
            return _validate(args)
        return _compare(args)
    except ReconError as exc:
        print(f"recon: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `recon compare ... | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:  # a read-only or full disk, a file-size limit: the earlier outputs stay
        print(f"recon: error: {os_error_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT


def os_error_line(exc: OSError) -> str:
    """One line for an operating-system error: the path, the cause, and that nothing changed."""
    where = exc.filename or "the output folder"
    cause = exc.strerror or type(exc).__name__
    return _one_line(
        f"{where}: {cause} (errno {exc.errno}); the earlier outputs are left as they were"
    )


def _validate(args: argparse.Namespace) -> int:
    from recon.definitions import is_recon_definition, load_recon_definition
    from recon.spec.loader import load_any_spec
    from recon.spec.passes import PassSpec

    if is_recon_definition(args.spec):  # the same loader, and words, as the DAG generator's
        recon = load_recon_definition(args.spec)
        sides = " vs ".join(f"{s.label} ({s.kind})" for s in recon.sides().values())
        print(
            f"{args.spec}: ok (recon {recon.dag_id}: {sides}, schedule `{recon.schedule}` "
            f"{recon.timezone}; spec {recon.spec.name}: {len(recon.spec.keys)} key(s), "
            f"{len(recon.spec.compare)} field(s))"
        )
        return EXIT_OK
    spec = load_any_spec(args.spec)
    if isinstance(spec, PassSpec):
        kinds = ", ".join(f"{p.name} ({p.kind})" for p in spec.passes)
        print(f"{args.spec}: ok ({spec.name}: {len(spec.fields)} field(s), passes {kinds})")
        return EXIT_OK
    print(f"{args.spec}: ok ({spec.name}: {len(spec.keys)} key(s), {len(spec.compare)} field(s))")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from recon.engine.reconcile import compare_files
    from recon.reports import REPORT_FORMATS
    from recon.spec.loader import load_any_spec
    from recon.spec.passes import PassSpec

    spec = load_any_spec(args.spec)
    if isinstance(spec, PassSpec):
        return _compare_passes(args, spec)
    reports = _report_formats(args.reports or ",".join(REPORT_CHOICES), REPORT_FORMATS)
    result = compare_files(
        spec,
        args.left,
        args.right,
        args.out,
        left_options=_options(args, "left"),
        right_options=_options(args, "right"),
        reports=reports,
    )
    if args.quiet:
        print(args.out)
    else:
        print(format_summary(result.summary))
        from recon.reports import REPORT_FILES

        print(f"\nresults: {args.out / 'results.parquet'}")
        print(f"summary: {args.out / 'summary.json'}")
        for fmt in reports:
            print(f"{fmt + ':':9}{args.out / REPORT_FILES[fmt]}")
    return EXIT_OK


def _compare_passes(args: argparse.Namespace, spec: Any) -> int:
    from recon.passes.output import MATCHES_FILE, compare_pass_files
    from recon.reports import REPORT_FILES, REPORT_FORMATS

    reports = _report_formats(args.reports or ",".join(REPORT_CHOICES), REPORT_FORMATS)
    result = compare_pass_files(
        spec,
        args.left,
        args.right,
        args.out,
        left_options=_options(args, "left"),
        right_options=_options(args, "right"),
        reports=reports,
    )
    if args.quiet:
        print(args.out)
        return EXIT_OK
    print(format_pass_summary(result.summary))
    print(f"\nresults: {args.out / 'results.parquet'}")
    print(f"matches: {args.out / MATCHES_FILE}")
    print(f"summary: {args.out / 'summary.json'}")
    for fmt in reports:
        print(f"{fmt + ':':9}{args.out / REPORT_FILES[fmt]}")
    return EXIT_OK


def format_pass_summary(summary: dict[str, Any]) -> str:
    """A plain-text table of a passes run: statuses per side, then each pass's figures."""
    labels = summary["labels"]
    counts = summary["counts"]
    lines = [f"{summary['recon']}: {labels['left']} vs {labels['right']} (passes)"]
    width = max(len(s) for s in summary["statuses"])
    lines.append(f"  {'':<{width}}  {labels['left']:>10}  {labels['right']:>10}")
    for status in summary["statuses"]:
        left, right = counts["left"][status], counts["right"][status]
        lines.append(f"  {status:<{width}}  {left:>10,}  {right:>10,}")
    for item in summary["passes"]:
        rate = item["auto_match_rate"]
        shown = f"{rate:.2%}" if rate is not None else "-"
        lines.append(
            f"  pass {item['name']} ({item['kind']}): {item['matches']:,} matches, "
            f"{item['confirmed']:,} confirmed, {item['suggested']:,} suggested, "
            f"auto-match rate {shown}"
        )
    ok = "ok" if summary["row_conservation"]["ok"] else "FAILED"
    lines.append(f"  row check {ok}")
    return "\n".join(lines)


def _report_formats(value: str, known: Sequence[str]) -> list[str]:
    if value.strip().lower() == "none":
        return []
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in known]
    if unknown:
        raise ReconError(
            f"unknown report format(s) {unknown}: choose from {', '.join(known)} or none"
        )
    return formats


def _options(args: argparse.Namespace, side: str) -> ReadOptions:
    return ReadOptions(
        encoding=getattr(args, f"{side}_encoding") or args.encoding,
        delimiter=_delimiter(getattr(args, f"{side}_delimiter") or args.delimiter),
        sheet=getattr(args, f"{side}_sheet"),
        allow_empty=args.allow_empty,
        encoding_option=f"--{side}-encoding",
        max_xlsx_cells=args.max_xlsx_cells,
        max_xlsx_bytes=args.max_xlsx_bytes,
    )


def _delimiter(value: str | None) -> str | None:
    return {"\\t": "\t", "tab": "\t"}.get(value, value) if value else None


def format_summary(summary: dict[str, Any]) -> str:
    """A plain-text table of one result, as the CLI and the demo print it."""
    labels = summary["labels"]
    names = {
        "left_only": f"{labels['left']} only",
        "right_only": f"{labels['right']} only",
    }
    rows = [(names.get(s, s), f"{summary['counts'][s]:,}") for s in STATUSES]
    lines = [f"{summary['recon']}: {labels['left']} vs {labels['right']}"]
    inputs = summary["inputs"]
    lines.append(
        f"  input rows   {labels['left']} {inputs['left']['rows']:,}, "
        f"{labels['right']} {inputs['right']['rows']:,}"
    )
    width = max(len(name) for name, _ in rows)
    lines += [f"  {name:<{width}}  {count:>12}" for name, count in rows]
    lines.append(f"  {'match rate':<{width}}  {summary['match_rate']:>12.2%}")
    if summary.get("match_rate_by_amount") is not None:
        lines.append(f"  {'by amount':<{width}}  {summary['match_rate_by_amount']:>12.2%}")
        lines.append(f"  {'discrepancy':<{width}}  {summary['discrepancy_amount']:>12,.2f}")
    verdict = "within threshold" if summary["threshold_passed"] else "ABOVE threshold"
    lines.append(f"  {'risk':<{width}}  {summary['risk_level']:>12}  ({verdict})")
    ok = "ok" if summary["row_conservation"]["ok"] else "FAILED"
    lines.append(f"  {'row check':<{width}}  {ok:>12}")
    if odd := summary.get("data_quality", {}).get("keys_with_control_characters"):
        lines.append(f"  data quality: {odd:,} keys hold control characters (NUL, tab, newline)")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
