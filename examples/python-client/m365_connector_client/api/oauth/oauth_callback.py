from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    state: str,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
    session_state: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["state"] = state

    params["code"] = code

    params["error"] = error

    params["error_description"] = error_description

    params["error_subcode"] = error_subcode

    params["session_state"] = session_state

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/oauth/callback",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | str | None:
    if response.status_code == 302:
        response_302 = cast(Any, None)
        return response_302

    if response.status_code == 400:
        response_400 = response.text
        return response_400

    if response.status_code == 414:
        response_414 = cast(Any, None)
        return response_414

    if response.status_code == 500:
        response_500 = response.text
        return response_500

    if response.status_code == 503:
        response_503 = response.text
        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    state: str,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
    session_state: str | Unset = UNSET,
) -> Response[Any | str]:
    """Microsoft's redirect after sign-in (user's browser)

     Consumes the state together with the browser's cookie, redeems the code and ends in a
    302 to the app's `return_url` with `result` (to claim) or `error`, `error_description`,
    `next`, `retryable` (and `error_subcode`). A request that cannot be tied to a pending
    sign-in in this browser (no, unknown, expired or replayed state; no cookie) is a 400
    page: there is nowhere trustworthy to redirect to.

    Args:
        state (str):
        code (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_description (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        error_subcode (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        session_state (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
    """

    kwargs = _get_kwargs(
        state=state,
        code=code,
        error=error,
        error_description=error_description,
        error_subcode=error_subcode,
        session_state=session_state,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    state: str,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
    session_state: str | Unset = UNSET,
) -> Any | str | None:
    """Microsoft's redirect after sign-in (user's browser)

     Consumes the state together with the browser's cookie, redeems the code and ends in a
    302 to the app's `return_url` with `result` (to claim) or `error`, `error_description`,
    `next`, `retryable` (and `error_subcode`). A request that cannot be tied to a pending
    sign-in in this browser (no, unknown, expired or replayed state; no cookie) is a 400
    page: there is nowhere trustworthy to redirect to.

    Args:
        state (str):
        code (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_description (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        error_subcode (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        session_state (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | str
    """

    return sync_detailed(
        client=client,
        state=state,
        code=code,
        error=error,
        error_description=error_description,
        error_subcode=error_subcode,
        session_state=session_state,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    state: str,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
    session_state: str | Unset = UNSET,
) -> Response[Any | str]:
    """Microsoft's redirect after sign-in (user's browser)

     Consumes the state together with the browser's cookie, redeems the code and ends in a
    302 to the app's `return_url` with `result` (to claim) or `error`, `error_description`,
    `next`, `retryable` (and `error_subcode`). A request that cannot be tied to a pending
    sign-in in this browser (no, unknown, expired or replayed state; no cookie) is a 400
    page: there is nowhere trustworthy to redirect to.

    Args:
        state (str):
        code (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_description (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        error_subcode (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        session_state (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
    """

    kwargs = _get_kwargs(
        state=state,
        code=code,
        error=error,
        error_description=error_description,
        error_subcode=error_subcode,
        session_state=session_state,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    state: str,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
    session_state: str | Unset = UNSET,
) -> Any | str | None:
    """Microsoft's redirect after sign-in (user's browser)

     Consumes the state together with the browser's cookie, redeems the code and ends in a
    302 to the app's `return_url` with `result` (to claim) or `error`, `error_description`,
    `next`, `retryable` (and `error_subcode`). A request that cannot be tied to a pending
    sign-in in this browser (no, unknown, expired or replayed state; no cookie) is a 400
    page: there is nowhere trustworthy to redirect to.

    Args:
        state (str):
        code (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_description (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        error_subcode (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        session_state (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | str
    """

    return (
        await asyncio_detailed(
            client=client,
            state=state,
            code=code,
            error=error,
            error_description=error_description,
            error_subcode=error_subcode,
            session_state=session_state,
        )
    ).parsed
