"""Stage the records of a JSON HTTP API as a Parquet snapshot, a page a row group.

``HttpToStagingOperator`` is the ``http`` side of a config recon
(``recon.definitions.http_source.HttpReader``: where the records are in an answer, how pages
follow). It only fetches: ``StagingOperator`` checks the required columns, writes the snapshot
atomically and returns the XCom summary. The requests are ``hooks.http.JsonApiHook``'s (an
``http`` connection; 429/5xx/timeouts retried, then transient; refused credentials or an
answer without its records fail without retry). Values are staged as text, as the Mongo
source stages them: the spec decides what is a number or a date.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context

from recon.definitions.http_source import page_link, page_records, record_columns
from recon_airflow.errors import BadInputError
from recon_airflow.hooks.http import JsonApiHook
from recon_airflow.operators.staging import Fetched, StagingOperator

if TYPE_CHECKING:
    import polars as pl


class HttpToStagingOperator(StagingOperator):
    """``GET`` the records of ``request`` from ``http_conn_id``, every page, as a snapshot.

    :param request: ``{"path": ..., "params": {...}}`` (templated; a config recon's ``plan``
        renders its dates).
    :param records: keys joined by dots to the list of records (None: the answer is the list).
    :param next_link: keys joined by dots to the next page's link (paging by link).
    :param page_param: a page number parameter, 1, 2, ... until an empty page (paging by page).
    :param max_pages: more pages than this fail the task (never a silently short snapshot).
    :param max_attempts: / ``backoff`` / ``timeout``: the hook's own retries per request.
    """

    template_fields: Sequence[str] = (*StagingOperator.template_fields, "http_conn_id", "request")

    def __init__(
        self,
        *,
        request: Mapping[str, Any],
        http_conn_id: str = "recon_http",
        records: str | None = None,
        next_link: str | None = None,
        page_param: str | None = None,
        max_pages: int = 1000,
        max_attempts: int = 5,
        backoff: float = 1.0,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.request = request
        self.http_conn_id = http_conn_id
        self.records = records
        self.next_link = next_link
        self.page_param = page_param
        self.max_pages = max_pages
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.timeout = timeout

    def failure_prefix(self) -> str:
        return str(self.source)

    @contextmanager
    def fetch(self, context: Context, workdir: Path) -> Iterator[Fetched]:
        hook = JsonApiHook(
            self.http_conn_id,
            max_attempts=self.max_attempts,
            backoff=self.backoff,
            timeout=self.timeout,
        )
        path = str(self.request["path"])
        with closing(hook):
            yield Fetched(frames=self._frames(hook, path), file=f"{self.http_conn_id}:{path}")

    def _frames(self, hook: JsonApiHook, path: str) -> Iterator[pl.DataFrame]:
        """A frame per page with records; the required columns, empty, when there are none."""
        import polars as pl

        empty = True
        for columns in self._pages(hook, path):
            yield pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String()))
            empty = False
        if empty:
            yield pl.DataFrame(schema=dict.fromkeys(self.required(), pl.String()))

    def _pages(self, hook: JsonApiHook, path: str) -> Iterator[dict[str, list[str | None]]]:
        """Each page's records as text columns (empty pages left out), page by page."""
        params = dict(self.request.get("params") or {})
        link, seen, rows = path, set(), 0
        for page in range(1, self.max_pages + 1):
            if self.page_param:
                query: dict[str, Any] | None = {**params, self.page_param: page}
            else:  # the first request has the params; a next link carries its own query
                query = params if page == 1 else None
            where = f"GET {link}" + (f" (page {page})" if page > 1 else "")
            answer = hook.get_json(link, params=query, exact=True)
            try:
                records = page_records(answer, self.records)
                columns = record_columns(records, first_row=rows + 1)
                following = page_link(answer, self.next_link) if self.next_link else None
            except ValueError as err:
                raise BadInputError(f"{_named(hook)}: {where}: {err}") from None
            if records:
                yield columns
                rows += len(records)
            if self.page_param:
                if not records:
                    return
                continue
            if following is None:
                return
            seen.add(link)
            link = hook.same_origin(following)
            if link in seen:
                raise BadInputError(f"{_named(hook)}: {where}: the next link {link!r} repeats")
        raise BadInputError(
            f"{_named(hook)}: GET {path}: more than {self.max_pages} pages; raise `max_pages` or "
            "narrow the request"
        )


def _named(hook: JsonApiHook) -> str:
    return f"{hook.unavailable_error.service} {hook.conn_id!r}"


__all__ = ["HttpToStagingOperator"]
