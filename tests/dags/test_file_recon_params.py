"""file_recon's trigger form and its request model say the same thing (the API sends the model)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from airflow.sdk.exceptions import ParamValidationError

from recon_airflow.file_jobs import FileReconRequest, job_id_of, parse_request

GOOD = {
    "left": "s3://recon-staging/in/bank.csv",
    "right": "sftp://recon_sftp/in/ledger.csv",
    "unique_fields": ["order_id"],
}


def test_params_are_the_request_fields(dagbag: Any) -> None:
    params = dagbag.get_dag("file_recon").params
    assert set(params.keys()) == set(FileReconRequest.model_fields)
    for name, field in FileReconRequest.model_fields.items():
        if not field.is_required():
            default = field.get_default(call_default_factory=True)
            assert params[name] == default, name


def with_conf(dagbag: Any, conf: dict[str, Any]) -> dict[str, Any]:
    """The form's values for ``conf``, validated as a trigger validates them."""
    params = copy.deepcopy(dagbag.get_dag("file_recon").params)
    for name, value in conf.items():
        params[name] = value
    return params.validate()


def test_what_the_api_sends_passes_the_form(dagbag: Any) -> None:
    sent = parse_request(
        {**GOOD, "email": "a@example.test", "business_date": "2026-11-21", "job_id": "j1"}
    ).model_dump(mode="json")
    assert with_conf(dagbag, sent)["business_date"] == "2026-11-21"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"left": "ftp://host/x.csv"}, "unknown scheme 'ftp'"),
        ({"right": "s3://bucket-only"}, "needs a bucket and key"),
        ({"unique_fields": []}, "unique_fields"),
        ({"email": "not-an-address"}, "is not an e-mail address"),
        ({"report_formats": ["pdf"]}, "report_formats.0"),
        ({"tolerances": {"amount": -1}}, "greater than or equal to 0"),
        ({"job_id": "../etc"}, "job_id"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
    ids=["scheme", "s3-key", "no-keys", "email", "format", "tolerance", "job-id", "unknown"],
)
def test_bad_requests_say_what_is_wrong(change: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_request({**GOOD, **change})
    assert words in str(caught.value)


def test_the_form_refuses_what_the_model_refuses(dagbag: Any) -> None:
    with pytest.raises(ParamValidationError, match="report_formats"):
        with_conf(dagbag, {**GOOD, "report_formats": ["pdf"]})
    with pytest.raises(ParamValidationError, match="email"):
        with_conf(dagbag, {**GOOD, "email": "nobody"})


def test_job_ids_made_from_run_ids_are_path_safe() -> None:
    request = parse_request(GOOD)
    made = job_id_of(request, "manual__2026-11-21T17:30:41.592047+00:00")
    assert made == "manual__2026-11-21T17-30-41.592047-00-00"
    assert job_id_of(parse_request({**GOOD, "job_id": "mine"}), "x") == "mine"
