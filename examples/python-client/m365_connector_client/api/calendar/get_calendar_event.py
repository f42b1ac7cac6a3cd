from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.calendar_event import CalendarEvent
from ...models.problem_400 import Problem400
from ...models.problem_401 import Problem401
from ...models.problem_403 import Problem403
from ...models.problem_404 import Problem404
from ...models.problem_500 import Problem500
from ...models.problem_503 import Problem503
from ...types import Response


def _get_kwargs(
    id: UUID,
    event_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/connections/{id}/calendar-events/{event_id}".format(
            id=quote(str(id), safe=""),
            event_id=quote(str(event_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    CalendarEvent
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem500
    | Problem503
    | None
):
    if response.status_code == 200:
        response_200 = CalendarEvent.from_dict(response.json())

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
    CalendarEvent
    | Problem400
    | Problem401
    | Problem403
    | Problem404
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
    event_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[
    CalendarEvent
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem500
    | Problem503
]:
    """Get one synced calendar event

     From the store; a deleted instance is returned with `deleted` true.

    Args:
        id (UUID):
        event_id (str): A Microsoft Graph item id, 1-512 URL-safe characters.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CalendarEvent | Problem400 | Problem401 | Problem403 | Problem404 | Problem500 | Problem503]
    """

    kwargs = _get_kwargs(
        id=id,
        event_id=event_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    event_id: str,
    *,
    client: AuthenticatedClient,
) -> (
    CalendarEvent
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem500
    | Problem503
    | None
):
    """Get one synced calendar event

     From the store; a deleted instance is returned with `deleted` true.

    Args:
        id (UUID):
        event_id (str): A Microsoft Graph item id, 1-512 URL-safe characters.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CalendarEvent | Problem400 | Problem401 | Problem403 | Problem404 | Problem500 | Problem503
    """

    return sync_detailed(
        id=id,
        event_id=event_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    event_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[
    CalendarEvent
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem500
    | Problem503
]:
    """Get one synced calendar event

     From the store; a deleted instance is returned with `deleted` true.

    Args:
        id (UUID):
        event_id (str): A Microsoft Graph item id, 1-512 URL-safe characters.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CalendarEvent | Problem400 | Problem401 | Problem403 | Problem404 | Problem500 | Problem503]
    """

    kwargs = _get_kwargs(
        id=id,
        event_id=event_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    event_id: str,
    *,
    client: AuthenticatedClient,
) -> (
    CalendarEvent
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem500
    | Problem503
    | None
):
    """Get one synced calendar event

     From the store; a deleted instance is returned with `deleted` true.

    Args:
        id (UUID):
        event_id (str): A Microsoft Graph item id, 1-512 URL-safe characters.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CalendarEvent | Problem400 | Problem401 | Problem403 | Problem404 | Problem500 | Problem503
    """

    return (
        await asyncio_detailed(
            id=id,
            event_id=event_id,
            client=client,
        )
    ).parsed
