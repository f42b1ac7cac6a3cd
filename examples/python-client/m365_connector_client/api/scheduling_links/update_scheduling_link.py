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
from ...models.problem_410 import Problem410
from ...models.problem_500 import Problem500
from ...models.problem_503 import Problem503
from ...models.scheduling_link import SchedulingLink
from ...models.scheduling_link_patch import SchedulingLinkPatch
from ...types import Response


def _get_kwargs(
    id: UUID,
    link_id: str,
    *,
    body: SchedulingLinkPatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/connections/{id}/scheduling-links/{link_id}".format(
            id=quote(str(id), safe=""),
            link_id=quote(str(link_id), safe=""),
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
    | Problem410
    | Problem500
    | Problem503
    | SchedulingLink
    | None
):
    if response.status_code == 200:
        response_200 = SchedulingLink.from_dict(response.json())

        return response_200

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

    if response.status_code == 410:
        response_410 = Problem410.from_dict(response.json())

        return response_410

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
    | Problem410
    | Problem500
    | Problem503
    | SchedulingLink
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    link_id: str,
    *,
    client: AuthenticatedClient,
    body: SchedulingLinkPatch,
) -> Response[
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem410
    | Problem500
    | Problem503
    | SchedulingLink
]:
    """Change an open link's wording, candidate, location or expiry

     The interviewers and the slot rules stay; a different panel is a new link. 410 `link-not-open` once
    booked, expired or cancelled.

    Args:
        id (UUID):
        link_id (str):
        body (SchedulingLinkPatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem410 | Problem500 | Problem503 | SchedulingLink]
    """

    kwargs = _get_kwargs(
        id=id,
        link_id=link_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    link_id: str,
    *,
    client: AuthenticatedClient,
    body: SchedulingLinkPatch,
) -> (
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem410
    | Problem500
    | Problem503
    | SchedulingLink
    | None
):
    """Change an open link's wording, candidate, location or expiry

     The interviewers and the slot rules stay; a different panel is a new link. 410 `link-not-open` once
    booked, expired or cancelled.

    Args:
        id (UUID):
        link_id (str):
        body (SchedulingLinkPatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem410 | Problem500 | Problem503 | SchedulingLink
    """

    return sync_detailed(
        id=id,
        link_id=link_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    link_id: str,
    *,
    client: AuthenticatedClient,
    body: SchedulingLinkPatch,
) -> Response[
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem410
    | Problem500
    | Problem503
    | SchedulingLink
]:
    """Change an open link's wording, candidate, location or expiry

     The interviewers and the slot rules stay; a different panel is a new link. 410 `link-not-open` once
    booked, expired or cancelled.

    Args:
        id (UUID):
        link_id (str):
        body (SchedulingLinkPatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem410 | Problem500 | Problem503 | SchedulingLink]
    """

    kwargs = _get_kwargs(
        id=id,
        link_id=link_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    link_id: str,
    *,
    client: AuthenticatedClient,
    body: SchedulingLinkPatch,
) -> (
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem410
    | Problem500
    | Problem503
    | SchedulingLink
    | None
):
    """Change an open link's wording, candidate, location or expiry

     The interviewers and the slot rules stay; a different panel is a new link. 410 `link-not-open` once
    booked, expired or cancelled.

    Args:
        id (UUID):
        link_id (str):
        body (SchedulingLinkPatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem410 | Problem500 | Problem503 | SchedulingLink
    """

    return (
        await asyncio_detailed(
            id=id,
            link_id=link_id,
            client=client,
            body=body,
        )
    ).parsed
