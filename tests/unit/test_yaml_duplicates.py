"""A key repeated in one YAML mapping is an error naming both lines, in every YAML recon reads
(issue 12, item 4): PyYAML alone keeps the last one and silently drops the first's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from recon.cli import main
from recon.errors import SpecError
from recon.pipeline_config.aum import AumConfig
from recon.pipeline_config.base import load_pipeline_config
from recon.spec import parse_spec
from recon.yaml_file import DuplicateKeyError, load_yaml

TWICE = """\
name: s
keys: [id]
compare:
  amount: {abs_tol: 0.01}
normalize:
  id: [strip]
compare:
  status: {case: insensitive}
"""


def test_a_spec_with_compare_twice_is_refused_with_both_lines() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(TWICE, source="s.yaml")
    message = str(caught.value)
    assert message.startswith("s.yaml: line 7: not valid YAML: duplicate key `compare`")
    assert "(first at line 3)" in message


def test_a_repeated_nested_key_is_refused_too() -> None:
    text = "name: s\nkeys: [id]\ncompare:\n  amount: {abs_tol: 0.01}\n  amount: {abs_tol: 5}\n"
    with pytest.raises(SpecError, match=r"line 5: .*duplicate key `amount` \(first at line 4\)"):
        parse_spec(text, source="s.yaml")


def test_flow_mappings_and_merge_keys_are_checked_as_written() -> None:
    with pytest.raises(DuplicateKeyError, match="duplicate key `a`"):
        load_yaml("x: {a: 1, a: 2}\n")
    # a merge key (<<) supplies defaults that the mapping's own keys override: not a repeat
    data, _ = load_yaml("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  a: 3\n")
    assert data["x"] == {"a": 3, "b": 2}
    # equal keys in different mappings are fine
    data, _ = load_yaml("l: {id: 1}\nr: {id: 2}\n")
    assert data == {"l": {"id": 1}, "r": {"id": 2}}


def test_recon_validate_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "twice.yaml"
    spec.write_text(TWICE)
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "duplicate key `compare` (first at line 3)" in err and "line 7" in err


def test_a_pipeline_config_with_a_repeated_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "aum_recon.yaml"
    config.write_text("recon: aum_recon\nreports: {s3_bucket: b}\nrecon: other\nregistrars: {}\n")
    with pytest.raises(
        SpecError, match=r"line 3: not valid YAML: duplicate key `recon` \(first at line 1\)"
    ):
        load_pipeline_config(AumConfig, "aum_recon", config)


def test_a_recon_definition_with_a_repeated_key_is_refused(tmp_path: Path) -> None:
    from recon.definitions import ReconConfigError, load_recon_definition

    path = tmp_path / "orders_twice.yaml"
    path.write_text(
        "schedule: '@daily'\nschedule: '@hourly'\nleft: {label: a}\nright: {label: b}\n"
        "spec: {keys: [id]}\nalerts: {email: [ops@example.test]}\n"
    )
    with pytest.raises(ReconConfigError) as caught:
        load_recon_definition(path)
    message = str(caught.value)
    assert "line 2: not valid YAML: duplicate key `schedule` (first at line 1)" in message
