from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_400 import Problem400
from ...models.problem_401 import Problem401
from ...models.problem_403 import Problem403
from ...models.problem_404 import Problem404
from ...models.problem_409 import Problem409
from ...models.problem_500 import Problem500
from ...models.problem_503 import Problem503
from ...models.scheduling_link_created import SchedulingLinkCreated
from ...models.scheduling_link_request import SchedulingLinkRequest
from ...types import Response


def _get_kwargs(
    id: UUID,
    *,
    body: SchedulingLinkRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/connections/{id}/scheduling-links".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | SchedulingLinkCreated
    | None
):
    if response.status_code == 201:
        response_201 = SchedulingLinkCreated.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem400.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem401.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem403.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem404.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem409.from_dict(response.json())

        return response_409

    if response.status_code == 500:
        response_500 = Problem500.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem503.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | SchedulingLinkCreated
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: SchedulingLinkRequest,
) -> Response[
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | SchedulingLinkCreated
]:
    """Create a scheduling link a candidate books through

     The organiser is this connection (the recruiter). The page the `url` opens shows the
    times when every `required` interviewer and `pick` members of each pool are free (their
    working hours in their own zones, buffers, tentative as busy), in the candidate's time
    zone; booking re-checks the time against Graph and creates the event on the organiser's
    calendar with the interviewers and the candidate as attendees (and a Teams link when
    `online_meeting`). The `url` carries the link's only credential and is answered once.

    Args:
        id (UUID):
        body (SchedulingLinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503 | SchedulingLinkCreated]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: SchedulingLinkRequest,
) -> (
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | SchedulingLinkCreated
    | None
):
    """Create a scheduling link a candidate books through

     The organiser is this connection (the recruiter). The page the `url` opens shows the
    times when every `required` interviewer and `pick` members of each pool are free (their
    working hours in their own zones, buffers, tentative as busy), in the candidate's time
    zone; booking re-checks the time against Graph and creates the event on the organiser's
    calendar with the interviewers and the candidate as attendees (and a Teams link when
    `online_meeting`). The `url` carries the link's only credential and is answered once.

    Args:
        id (UUID):
        body (SchedulingLinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503 | SchedulingLinkCreated
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: SchedulingLinkRequest,
) -> Response[
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | SchedulingLinkCreated
]:
    """Create a scheduling link a candidate books through

     The organiser is this connection (the recruiter). The page the `url` opens shows the
    times when every `required` interviewer and `pick` members of each pool are free (their
    working hours in their own zones, buffers, tentative as busy), in the candidate's time
    zone; booking re-checks the time against Graph and creates the event on the organiser's
    calendar with the interviewers and the candidate as attendees (and a Teams link when
    `online_meeting`). The `url` carries the link's only credential and is answered once.

    Args:
        id (UUID):
        body (SchedulingLinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503 | SchedulingLinkCreated]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    body: SchedulingLinkRequest,
) -> (
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | SchedulingLinkCreated
    | None
):
    """Create a scheduling link a candidate books through

     The organiser is this connection (the recruiter). The page the `url` opens shows the
    times when every `required` interviewer and `pick` members of each pool are free (their
    working hours in their own zones, buffers, tentative as busy), in the candidate's time
    zone; booking re-checks the time against Graph and creates the event on the organiser's
    calendar with the interviewers and the candidate as attendees (and a Teams link when
    `online_meeting`). The `url` carries the link's only credential and is answered once.

    Args:
        id (UUID):
        body (SchedulingLinkRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503 | SchedulingLinkCreated
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
