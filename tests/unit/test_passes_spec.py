"""Passes specs load like keyed ones: every mistake at once, with its path, line and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from recon.cli import EXIT_BAD_INPUT, main
from recon.errors import SpecError
from recon.spec import ReconSpec
from recon.spec.loader import parse_any_spec
from recon.spec.passes import PassSpec

GOOD = """\
name: cash
ids: {left: entry_id, right: line_id}
fields:
  amount: {type: number}
  ref: {left: reference, right: description}
passes:
  - {name: exact, kind: keyed, keys: [ref]}
"""
BAD = """\
name: cash
ids: {left: entry_id, right: line_id}
fields:
  amount: {type: number}
  ref: {left: reference, right: description, tpye: string}
passes:
  - name: exact
    kind: keyed
    keys: [ref]
  - name: fuzzy
    kind: rule
    amount: {field: amount, abs_tol: 0.01, rel_tl: 0}
"""


def test_a_spec_with_passes_is_a_pass_spec() -> None:
    assert isinstance(parse_any_spec(GOOD), PassSpec)
    keyed = "name: k\nkeys: [id]\n"
    assert isinstance(parse_any_spec(keyed), ReconSpec)


def test_every_mistake_located_with_its_line_and_a_hint() -> None:
    with pytest.raises(SpecError) as info:
        parse_any_spec(BAD, source="cash.yaml")
    problems = [str(p) for p in info.value.problems]
    assert problems == [
        "cash.yaml: fields.ref.tpye, line 5: unknown setting `tpye` (did you mean `type`?)",
        "cash.yaml: passes.1.amount.rel_tl, line 12: unknown setting `rel_tl` "
        "(did you mean `rel_tol`?)",
    ]


def test_cross_checks_located() -> None:
    text = GOOD + "  - {name: r, kind: rule, date: {field: when}}\n"
    with pytest.raises(SpecError) as info:
        parse_any_spec(text, source="s.yaml")
    (problem,) = info.value.problems
    assert problem.line == 8
    assert "field `when` is not declared" in str(problem)


def test_unknown_kind_hinted() -> None:
    with pytest.raises(SpecError, match=r"unknown pass kind `rul` \(did you mean `rule`\?\)"):
        parse_any_spec(GOOD + "  - {name: r, kind: rul}\n")


def test_validate_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    assert main(["validate", str(tmp_path / "bad.yaml")]) == EXIT_BAD_INPUT
    assert "line 12: unknown setting `rel_tl`" in capsys.readouterr().err
