from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    state: str,
    admin_consent: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    scope: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["state"] = state

    params["admin_consent"] = admin_consent

    params["tenant"] = tenant

    params["scope"] = scope

    params["error"] = error

    params["error_description"] = error_description

    params["error_subcode"] = error_subcode

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/oauth/admin-consent/callback",
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
    admin_consent: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    scope: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
) -> Response[Any | str]:
    """Microsoft's redirect after admin consent (administrator's browser)

     Records tenant-wide consent for the tenant the state was made for, once Microsoft
    confirms the app is installed there; 302 to `return_url` with
    `admin_consent=granted|claimed&tenant=` or `error` + `tenant` + `next=admin_consent`.
    An unknown, expired or replayed state is a 400 page.

    Args:
        state (str):
        admin_consent (str | Unset):
        tenant (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        scope (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_description (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        error_subcode (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
    """

    kwargs = _get_kwargs(
        state=state,
        admin_consent=admin_consent,
        tenant=tenant,
        scope=scope,
        error=error,
        error_description=error_description,
        error_subcode=error_subcode,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    state: str,
    admin_consent: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    scope: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
) -> Any | str | None:
    """Microsoft's redirect after admin consent (administrator's browser)

     Records tenant-wide consent for the tenant the state was made for, once Microsoft
    confirms the app is installed there; 302 to `return_url` with
    `admin_consent=granted|claimed&tenant=` or `error` + `tenant` + `next=admin_consent`.
    An unknown, expired or replayed state is a 400 page.

    Args:
        state (str):
        admin_consent (str | Unset):
        tenant (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        scope (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_description (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        error_subcode (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | str
    """

    return sync_detailed(
        client=client,
        state=state,
        admin_consent=admin_consent,
        tenant=tenant,
        scope=scope,
        error=error,
        error_description=error_description,
        error_subcode=error_subcode,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    state: str,
    admin_consent: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    scope: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
) -> Response[Any | str]:
    """Microsoft's redirect after admin consent (administrator's browser)

     Records tenant-wide consent for the tenant the state was made for, once Microsoft
    confirms the app is installed there; 302 to `return_url` with
    `admin_consent=granted|claimed&tenant=` or `error` + `tenant` + `next=admin_consent`.
    An unknown, expired or replayed state is a 400 page.

    Args:
        state (str):
        admin_consent (str | Unset):
        tenant (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        scope (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_description (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        error_subcode (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
    """

    kwargs = _get_kwargs(
        state=state,
        admin_consent=admin_consent,
        tenant=tenant,
        scope=scope,
        error=error,
        error_description=error_description,
        error_subcode=error_subcode,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    state: str,
    admin_consent: str | Unset = UNSET,
    tenant: str | Unset = UNSET,
    scope: str | Unset = UNSET,
    error: str | Unset = UNSET,
    error_description: str | Unset = UNSET,
    error_subcode: str | Unset = UNSET,
) -> Any | str | None:
    """Microsoft's redirect after admin consent (administrator's browser)

     Records tenant-wide consent for the tenant the state was made for, once Microsoft
    confirms the app is installed there; 302 to `return_url` with
    `admin_consent=granted|claimed&tenant=` or `error` + `tenant` + `next=admin_consent`.
    An unknown, expired or replayed state is a 400 page.

    Args:
        state (str):
        admin_consent (str | Unset):
        tenant (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        scope (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error (str | Unset): A callback parameter as Microsoft sends it (at most 4,096 bytes).
        error_description (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).
        error_subcode (str | Unset): A callback parameter as Microsoft sends it (at most 4,096
            bytes).

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
            admin_consent=admin_consent,
            tenant=tenant,
            scope=scope,
            error=error,
            error_description=error_description,
            error_subcode=error_subcode,
        )
    ).parsed
