import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.list_messages_folder import ListMessagesFolder
from ...models.message_list import MessageList
from ...models.problem_400 import Problem400
from ...models.problem_401 import Problem401
from ...models.problem_403 import Problem403
from ...models.problem_404 import Problem404
from ...models.problem_500 import Problem500
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    folder: ListMessagesFolder | Unset = UNSET,
    with_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_folder: str | Unset = UNSET
    if not isinstance(folder, Unset):
        json_folder = folder.value

    params["folder"] = json_folder

    params["with"] = with_

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/connections/{id}/messages".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500 | None
):
    if response.status_code == 200:
        response_200 = MessageList.from_dict(response.json())

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

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
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
    folder: ListMessagesFolder | Unset = UNSET,
    with_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[
    MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
]:
    """List synced messages

     Newest first by received time. Reads only the store, so it also works while the connection needs
    reconnecting.

    Args:
        id (UUID):
        folder (ListMessagesFolder | Unset):
        with_ (str | Unset): `local@domain.tld`, at most 254 characters (compared case-
            insensitively).
        since (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500]
    """

    kwargs = _get_kwargs(
        id=id,
        folder=folder,
        with_=with_,
        since=since,
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
    folder: ListMessagesFolder | Unset = UNSET,
    with_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> (
    MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500 | None
):
    """List synced messages

     Newest first by received time. Reads only the store, so it also works while the connection needs
    reconnecting.

    Args:
        id (UUID):
        folder (ListMessagesFolder | Unset):
        with_ (str | Unset): `local@domain.tld`, at most 254 characters (compared case-
            insensitively).
        since (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
    """

    return sync_detailed(
        id=id,
        client=client,
        folder=folder,
        with_=with_,
        since=since,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    folder: ListMessagesFolder | Unset = UNSET,
    with_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[
    MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
]:
    """List synced messages

     Newest first by received time. Reads only the store, so it also works while the connection needs
    reconnecting.

    Args:
        id (UUID):
        folder (ListMessagesFolder | Unset):
        with_ (str | Unset): `local@domain.tld`, at most 254 characters (compared case-
            insensitively).
        since (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500]
    """

    kwargs = _get_kwargs(
        id=id,
        folder=folder,
        with_=with_,
        since=since,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    folder: ListMessagesFolder | Unset = UNSET,
    with_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> (
    MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500 | None
):
    """List synced messages

     Newest first by received time. Reads only the store, so it also works while the connection needs
    reconnecting.

    Args:
        id (UUID):
        folder (ListMessagesFolder | Unset):
        with_ (str | Unset): `local@domain.tld`, at most 254 characters (compared case-
            insensitively).
        since (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MessageList | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            folder=folder,
            with_=with_,
            since=since,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
