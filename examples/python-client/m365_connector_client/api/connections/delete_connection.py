from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.connection import Connection
from ...models.problem_400 import Problem400
from ...models.problem_401 import Problem401
from ...models.problem_403 import Problem403
from ...models.problem_404 import Problem404
from ...models.problem_500 import Problem500
from ...types import Response


def _get_kwargs(
    id: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/connections/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    Any
    | Connection
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem500
    | None
):
    if response.status_code == 202:
        response_202 = Connection.from_dict(response.json())

        return response_202

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
    Any | Connection | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
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
) -> Response[
    Any | Connection | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
]:
    """Disconnect a mailbox

     Marks the connection `deleting` (nothing of it syncs or sends from then on) and queues its
    purge, which removes its Graph subscriptions, staged uploads, tokens, cursors and synced
    messages, then the connection, and publishes `connection.deleted`. Until then `GET` shows
    `status: deleting`; afterwards it is a 404. Idempotent: deleting again while it is being
    deleted is a 202 again (and queues the purge again); deleting what is gone, or an unknown
    id, is a 204 (for a key limited to some app users, an id that is not theirs is a 404).

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Connection | Problem400 | Problem401 | Problem403 | Problem404 | Problem500]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
) -> (
    Any
    | Connection
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem500
    | None
):
    """Disconnect a mailbox

     Marks the connection `deleting` (nothing of it syncs or sends from then on) and queues its
    purge, which removes its Graph subscriptions, staged uploads, tokens, cursors and synced
    messages, then the connection, and publishes `connection.deleted`. Until then `GET` shows
    `status: deleting`; afterwards it is a 404. Idempotent: deleting again while it is being
    deleted is a 202 again (and queues the purge again); deleting what is gone, or an unknown
    id, is a 204 (for a key limited to some app users, an id that is not theirs is a 404).

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Connection | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[
    Any | Connection | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
]:
    """Disconnect a mailbox

     Marks the connection `deleting` (nothing of it syncs or sends from then on) and queues its
    purge, which removes its Graph subscriptions, staged uploads, tokens, cursors and synced
    messages, then the connection, and publishes `connection.deleted`. Until then `GET` shows
    `status: deleting`; afterwards it is a 404. Idempotent: deleting again while it is being
    deleted is a 202 again (and queues the purge again); deleting what is gone, or an unknown
    id, is a 204 (for a key limited to some app users, an id that is not theirs is a 404).

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Connection | Problem400 | Problem401 | Problem403 | Problem404 | Problem500]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
) -> (
    Any
    | Connection
    | Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem500
    | None
):
    """Disconnect a mailbox

     Marks the connection `deleting` (nothing of it syncs or sends from then on) and queues its
    purge, which removes its Graph subscriptions, staged uploads, tokens, cursors and synced
    messages, then the connection, and publishes `connection.deleted`. Until then `GET` shows
    `status: deleting`; afterwards it is a 404. Idempotent: deleting again while it is being
    deleted is a 202 again (and queues the purge again); deleting what is gone, or an unknown
    id, is a 204 (for a key limited to some app users, an id that is not theirs is a 404).

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Connection | Problem400 | Problem401 | Problem403 | Problem404 | Problem500
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
