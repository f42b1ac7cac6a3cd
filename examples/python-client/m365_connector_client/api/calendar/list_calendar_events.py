import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.calendar_event_list import CalendarEventList
from ...models.problem_400 import Problem400
from ...models.problem_401 import Problem401
from ...models.problem_403 import Problem403
from ...models.problem_404 import Problem404
from ...models.problem_409 import Problem409
from ...models.problem_500 import Problem500
from ...models.problem_503 import Problem503
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    start: datetime.datetime | Unset = UNSET,
    end: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_start: str | Unset = UNSET
    if not isinstance(start, Unset):
        json_start = start.isoformat()
    params["start"] = json_start

    json_end: str | Unset = UNSET
    if not isinstance(end, Unset):
        json_end = end.isoformat()
    params["end"] = json_end

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/connections/{id}/calendar-events".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    CalendarEventList
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | None
):
    if response.status_code == 200:
        response_200 = CalendarEventList.from_dict(response.json())

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
    CalendarEventList
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
    *,
    client: AuthenticatedClient,
    start: datetime.datetime | Unset = UNSET,
    end: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[
    CalendarEventList
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
]:
    """List synced calendar events in a window

     The synced instances overlapping `[start, end)`, ordered by start; each occurrence of a recurring
    series is its own item (`type` `occurrence` or `exception`, with `series_master_id`). Reads only the
    store (metadata, never bodies). Free/busy stays a live read (`getSchedule`).

    Args:
        id (UUID):
        start (datetime.datetime | Unset):
        end (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CalendarEventList | Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503]
    """

    kwargs = _get_kwargs(
        id=id,
        start=start,
        end=end,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
    start: datetime.datetime | Unset = UNSET,
    end: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> (
    CalendarEventList
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | None
):
    """List synced calendar events in a window

     The synced instances overlapping `[start, end)`, ordered by start; each occurrence of a recurring
    series is its own item (`type` `occurrence` or `exception`, with `series_master_id`). Reads only the
    store (metadata, never bodies). Free/busy stays a live read (`getSchedule`).

    Args:
        id (UUID):
        start (datetime.datetime | Unset):
        end (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CalendarEventList | Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503
    """

    return sync_detailed(
        id=id,
        client=client,
        start=start,
        end=end,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    start: datetime.datetime | Unset = UNSET,
    end: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[
    CalendarEventList
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
]:
    """List synced calendar events in a window

     The synced instances overlapping `[start, end)`, ordered by start; each occurrence of a recurring
    series is its own item (`type` `occurrence` or `exception`, with `series_master_id`). Reads only the
    store (metadata, never bodies). Free/busy stays a live read (`getSchedule`).

    Args:
        id (UUID):
        start (datetime.datetime | Unset):
        end (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CalendarEventList | Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503]
    """

    kwargs = _get_kwargs(
        id=id,
        start=start,
        end=end,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    start: datetime.datetime | Unset = UNSET,
    end: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> (
    CalendarEventList
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem500
    | Problem503
    | None
):
    """List synced calendar events in a window

     The synced instances overlapping `[start, end)`, ordered by start; each occurrence of a recurring
    series is its own item (`type` `occurrence` or `exception`, with `series_master_id`). Reads only the
    store (metadata, never bodies). Free/busy stays a live read (`getSchedule`).

    Args:
        id (UUID):
        start (datetime.datetime | Unset):
        end (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CalendarEventList | Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem500 | Problem503
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            start=start,
            end=end,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
