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
from ...models.problem_413 import Problem413
from ...models.problem_422 import Problem422
from ...models.problem_500 import Problem500
from ...models.problem_503 import Problem503
from ...models.reply_request import ReplyRequest
from ...models.send_status import SendStatus
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    message_id: str,
    *,
    body: ReplyRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/connections/{id}/messages/{message_id}/reply".format(
            id=quote(str(id), safe=""),
            message_id=quote(str(message_id), safe=""),
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
    | Problem413
    | Problem422
    | Problem500
    | Problem503
    | SendStatus
    | None
):
    if response.status_code == 202:
        response_202 = SendStatus.from_dict(response.json())

        return response_202

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

    if response.status_code == 413:
        response_413 = Problem413.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem422.from_dict(response.json())

        return response_422

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
    | Problem413
    | Problem422
    | Problem500
    | Problem503
    | SendStatus
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    message_id: str,
    *,
    client: AuthenticatedClient,
    body: ReplyRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem413
    | Problem422
    | Problem500
    | Problem503
    | SendStatus
]:
    """Reply (or reply all) in the message's conversation

     As `sendMessage`; the recipients come from the original unless given. Graph `createReply` /
    `createReplyAll`, then send.

    Args:
        id (UUID):
        message_id (str): A Microsoft Graph item id, 1-512 URL-safe characters.
        idempotency_key (str | Unset): 1-255 printable ASCII characters (spaces inside allowed),
            not only spaces.
        body (ReplyRequest): A reply; recipients are the original's unless given.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem413 | Problem422 | Problem500 | Problem503 | SendStatus]
    """

    kwargs = _get_kwargs(
        id=id,
        message_id=message_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    message_id: str,
    *,
    client: AuthenticatedClient,
    body: ReplyRequest,
    idempotency_key: str | Unset = UNSET,
) -> (
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem413
    | Problem422
    | Problem500
    | Problem503
    | SendStatus
    | None
):
    """Reply (or reply all) in the message's conversation

     As `sendMessage`; the recipients come from the original unless given. Graph `createReply` /
    `createReplyAll`, then send.

    Args:
        id (UUID):
        message_id (str): A Microsoft Graph item id, 1-512 URL-safe characters.
        idempotency_key (str | Unset): 1-255 printable ASCII characters (spaces inside allowed),
            not only spaces.
        body (ReplyRequest): A reply; recipients are the original's unless given.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem413 | Problem422 | Problem500 | Problem503 | SendStatus
    """

    return sync_detailed(
        id=id,
        message_id=message_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    message_id: str,
    *,
    client: AuthenticatedClient,
    body: ReplyRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem413
    | Problem422
    | Problem500
    | Problem503
    | SendStatus
]:
    """Reply (or reply all) in the message's conversation

     As `sendMessage`; the recipients come from the original unless given. Graph `createReply` /
    `createReplyAll`, then send.

    Args:
        id (UUID):
        message_id (str): A Microsoft Graph item id, 1-512 URL-safe characters.
        idempotency_key (str | Unset): 1-255 printable ASCII characters (spaces inside allowed),
            not only spaces.
        body (ReplyRequest): A reply; recipients are the original's unless given.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem413 | Problem422 | Problem500 | Problem503 | SendStatus]
    """

    kwargs = _get_kwargs(
        id=id,
        message_id=message_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    message_id: str,
    *,
    client: AuthenticatedClient,
    body: ReplyRequest,
    idempotency_key: str | Unset = UNSET,
) -> (
    Problem400
    | Problem401
    | Problem403
    | Problem404
    | Problem409
    | Problem413
    | Problem422
    | Problem500
    | Problem503
    | SendStatus
    | None
):
    """Reply (or reply all) in the message's conversation

     As `sendMessage`; the recipients come from the original unless given. Graph `createReply` /
    `createReplyAll`, then send.

    Args:
        id (UUID):
        message_id (str): A Microsoft Graph item id, 1-512 URL-safe characters.
        idempotency_key (str | Unset): 1-255 printable ASCII characters (spaces inside allowed),
            not only spaces.
        body (ReplyRequest): A reply; recipients are the original's unless given.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem404 | Problem409 | Problem413 | Problem422 | Problem500 | Problem503 | SendStatus
    """

    return (
        await asyncio_detailed(
            id=id,
            message_id=message_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
