"""Who may use the upload API: Airflow's own users, tokens and permissions.

Authentication is Airflow's :func:`~airflow.api_fastapi.core_api.security.get_user` (a JWT from
``POST /auth/token`` as ``Authorization: Bearer``, or the UI's session cookie), with one change
for this API: a missing, invalid or expired token is 401 with ``WWW-Authenticate: Bearer``
(Airflow answers an invalid token with 403, which clients read as "logged in, not allowed").
Authorisation is Airflow's
:func:`~airflow.api_fastapi.core_api.security.requires_access_dag` on the ``file_recon`` DAG's
runs: creating a job needs the right to trigger it (POST), reading jobs the right to read its
runs (GET). A valid user without that right gets 403.
"""

from __future__ import annotations

from typing import Annotated, Final

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import (
    bearer_scheme,
    get_user,
    oauth2_scheme,
    requires_access_dag,
)
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from recon_airflow.file_jobs import DAG_ID

CHALLENGE: Final = {"WWW-Authenticate": "Bearer"}
_HOW: Final = "get a token from POST /auth/token and send it as `Authorization: Bearer <token>`"
_WHY: Final = {  # what Airflow's get_user says -> what this API says
    "Not authenticated": "not authenticated",
    "Token Expired": "the token has expired",
    "Invalid JWT token": "the token is not valid",
}


async def authenticated_user(
    request: Request,
    oauth_token: Annotated[str | None, Depends(oauth2_scheme)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> BaseUser:
    """The Airflow user of the request's token or cookie; 401 when there is none valid."""
    try:
        return await get_user(request, oauth_token, bearer)
    except HTTPException as exc:
        if exc.status_code not in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN):
            raise
        why = _WHY.get(str(exc.detail), str(exc.detail))
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail=f"{why}: {_HOW}", headers=CHALLENGE
        ) from None


AuthenticatedUser = Annotated[BaseUser, Depends(authenticated_user)]
_may_trigger = requires_access_dag("POST", DagAccessEntity.RUN, param_dag_id=DAG_ID)
_may_read = requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=DAG_ID)


def may_create_jobs(request: Request, user: AuthenticatedUser) -> BaseUser:
    """The user, if allowed to trigger ``file_recon`` (403 otherwise)."""
    _may_trigger(request, user)
    return user


def may_read_jobs(request: Request, user: AuthenticatedUser) -> BaseUser:
    """The user, if allowed to read ``file_recon``'s runs (403 otherwise)."""
    _may_read(request, user)
    return user


JobCreator = Annotated[BaseUser, Depends(may_create_jobs)]
JobReader = Annotated[BaseUser, Depends(may_read_jobs)]

__all__ = ["AuthenticatedUser", "JobCreator", "JobReader", "authenticated_user"]
