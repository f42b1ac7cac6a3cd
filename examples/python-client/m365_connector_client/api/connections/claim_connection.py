from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.claim_request import ClaimRequest
from ...models.claimed import Claimed
from ...models.problem_400 import Problem400
from ...models.problem_401 import Problem401
from ...models.problem_403 import Problem403
from ...models.problem_409 import Problem409
from ...models.problem_410 import Problem410
from ...models.problem_413 import Problem413
from ...models.problem_500 import Problem500
from ...models.problem_503 import Problem503
from ...types import Response


def _get_kwargs(
    *,
    body: ClaimRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/connections/claims",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    Claimed
    | Problem400
    | Problem401
    | Problem403
    | Problem409
    | Problem410
    | Problem413
    | Problem500
    | Problem503
    | None
):
    if response.status_code == 200:
        response_200 = Claimed.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = Problem409.from_dict(response.json())

        return response_409

    if response.status_code == 410:
        response_410 = Problem410.from_dict(response.json())

        return response_410

    if response.status_code == 413:
        response_413 = Problem413.from_dict(response.json())

        return response_413

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
    Claimed
    | Problem400
    | Problem401
    | Problem403
    | Problem409
    | Problem410
    | Problem413
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
    *,
    client: AuthenticatedClient,
    body: ClaimRequest,
) -> Response[
    Claimed
    | Problem400
    | Problem401
    | Problem403
    | Problem409
    | Problem410
    | Problem413
    | Problem500
    | Problem503
]:
    """Claim a finished sign-in for the logged-in app user

     Call it server-side from the return page, with the `user_id` of the session that
    received the request. Only the app user who started the sign-in gets the mailbox: any
    other `user_id` is refused (403 `claim-forbidden`) and the result discarded. Publishes
    `connection.connected` (and `connection.transferred` when the mailbox moved between app
    users). A 503 wrote nothing: retry the same claim.

    Args:
        body (ClaimRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Claimed | Problem400 | Problem401 | Problem403 | Problem409 | Problem410 | Problem413 | Problem500 | Problem503]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ClaimRequest,
) -> (
    Claimed
    | Problem400
    | Problem401
    | Problem403
    | Problem409
    | Problem410
    | Problem413
    | Problem500
    | Problem503
    | None
):
    """Claim a finished sign-in for the logged-in app user

     Call it server-side from the return page, with the `user_id` of the session that
    received the request. Only the app user who started the sign-in gets the mailbox: any
    other `user_id` is refused (403 `claim-forbidden`) and the result discarded. Publishes
    `connection.connected` (and `connection.transferred` when the mailbox moved between app
    users). A 503 wrote nothing: retry the same claim.

    Args:
        body (ClaimRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Claimed | Problem400 | Problem401 | Problem403 | Problem409 | Problem410 | Problem413 | Problem500 | Problem503
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ClaimRequest,
) -> Response[
    Claimed
    | Problem400
    | Problem401
    | Problem403
    | Problem409
    | Problem410
    | Problem413
    | Problem500
    | Problem503
]:
    """Claim a finished sign-in for the logged-in app user

     Call it server-side from the return page, with the `user_id` of the session that
    received the request. Only the app user who started the sign-in gets the mailbox: any
    other `user_id` is refused (403 `claim-forbidden`) and the result discarded. Publishes
    `connection.connected` (and `connection.transferred` when the mailbox moved between app
    users). A 503 wrote nothing: retry the same claim.

    Args:
        body (ClaimRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Claimed | Problem400 | Problem401 | Problem403 | Problem409 | Problem410 | Problem413 | Problem500 | Problem503]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ClaimRequest,
) -> (
    Claimed
    | Problem400
    | Problem401
    | Problem403
    | Problem409
    | Problem410
    | Problem413
    | Problem500
    | Problem503
    | None
):
    """Claim a finished sign-in for the logged-in app user

     Call it server-side from the return page, with the `user_id` of the session that
    received the request. Only the app user who started the sign-in gets the mailbox: any
    other `user_id` is refused (403 `claim-forbidden`) and the result discarded. Publishes
    `connection.connected` (and `connection.transferred` when the mailbox moved between app
    users). A 503 wrote nothing: retry the same claim.

    Args:
        body (ClaimRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Claimed | Problem400 | Problem401 | Problem403 | Problem409 | Problem410 | Problem413 | Problem500 | Problem503
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
