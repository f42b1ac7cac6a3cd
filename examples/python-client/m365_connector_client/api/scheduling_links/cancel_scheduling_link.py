from http import HTTPStatus
from typing import Any, cast
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
from ...types import Response


def _get_kwargs(
    id: UUID,
    link_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/connections/{id}/scheduling-links/{link_id}".format(
            id=quote(str(id), safe=""),
            link_id=quote(str(link_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    Any
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | None
):
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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
    Any
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
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
) -> Response[
    Any
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
]:
    """Cancel a link (and its interview, if booked)

     An open link is cancelled; a booked one's interview is cancelled for everyone (Graph `cancel`) and
    `scheduling_link.cancelled` is published. Repeating it, or cancelling an expired link, is also a
    204.

    Args:
        id (UUID):
        link_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503]
    """

    kwargs = _get_kwargs(
        id=id,
        link_id=link_id,
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
) -> (
    Any
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | None
):
    """Cancel a link (and its interview, if booked)

     An open link is cancelled; a booked one's interview is cancelled for everyone (Graph `cancel`) and
    `scheduling_link.cancelled` is published. Repeating it, or cancelling an expired link, is also a
    204.

    Args:
        id (UUID):
        link_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503
    """

    return sync_detailed(
        id=id,
        link_id=link_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    link_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[
    Any
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
]:
    """Cancel a link (and its interview, if booked)

     An open link is cancelled; a booked one's interview is cancelled for everyone (Graph `cancel`) and
    `scheduling_link.cancelled` is published. Repeating it, or cancelling an expired link, is also a
    204.

    Args:
        id (UUID):
        link_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503]
    """

    kwargs = _get_kwargs(
        id=id,
        link_id=link_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    link_id: str,
    *,
    client: AuthenticatedClient,
) -> (
    Any
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | None
):
    """Cancel a link (and its interview, if booked)

     An open link is cancelled; a booked one's interview is cancelled for everyone (Graph `cancel`) and
    `scheduling_link.cancelled` is published. Repeating it, or cancelling an expired link, is also a
    204.

    Args:
        id (UUID):
        link_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503
    """

    return (
        await asyncio_detailed(
            id=id,
            link_id=link_id,
            client=client,
        )
    ).parsed
