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
from ...models.problem_500 import Problem500
from ...models.tenant_policy import TenantPolicy
from ...types import Response


def _get_kwargs(
    tenant: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/tenants/{tenant}/policy".format(
            tenant=quote(str(tenant), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy | None:
    if response.status_code == 200:
        response_200 = TenantPolicy.from_dict(response.json())

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

    if response.status_code == 500:
        response_500 = Problem500.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    tenant: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy]:
    """A tenant's access policy

     A tenant nobody set is `send_and_view` with `updated_at` null.

    Args:
        tenant (UUID): A Microsoft Entra tenant id (GUID).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy]
    """

    kwargs = _get_kwargs(
        tenant=tenant,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    tenant: UUID,
    *,
    client: AuthenticatedClient,
) -> Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy | None:
    """A tenant's access policy

     A tenant nobody set is `send_and_view` with `updated_at` null.

    Args:
        tenant (UUID): A Microsoft Entra tenant id (GUID).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy
    """

    return sync_detailed(
        tenant=tenant,
        client=client,
    ).parsed


async def asyncio_detailed(
    tenant: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy]:
    """A tenant's access policy

     A tenant nobody set is `send_and_view` with `updated_at` null.

    Args:
        tenant (UUID): A Microsoft Entra tenant id (GUID).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy]
    """

    kwargs = _get_kwargs(
        tenant=tenant,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    tenant: UUID,
    *,
    client: AuthenticatedClient,
) -> Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy | None:
    """A tenant's access policy

     A tenant nobody set is `send_and_view` with `updated_at` null.

    Args:
        tenant (UUID): A Microsoft Entra tenant id (GUID).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem500 | TenantPolicy
    """

    return (
        await asyncio_detailed(
            tenant=tenant,
            client=client,
        )
    ).parsed
