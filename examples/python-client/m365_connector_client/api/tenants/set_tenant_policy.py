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
from ...models.problem_413 import Problem413
from ...models.problem_500 import Problem500
from ...models.problem_503 import Problem503
from ...models.tenant_policy import TenantPolicy
from ...models.tenant_policy_request import TenantPolicyRequest
from ...types import Response


def _get_kwargs(
    tenant: UUID,
    *,
    body: TenantPolicyRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/tenants/{tenant}/policy".format(
            tenant=quote(str(tenant), safe=""),
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
    | Problem413
    | Problem500
    | Problem503
    | TenantPolicy
    | None
):
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
    Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
    | TenantPolicy
]:
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
    body: TenantPolicyRequest,
) -> Response[
    Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
    | TenantPolicy
]:
    """Set a tenant's access policy

     `view_only`: no connection of the tenant can send. `off`: every connection of the tenant
    is disconnected (as `DELETE /connections/{id}`) and none admitted; `disconnected` counts
    them. Publishes `tenant.policy_changed` when the level changed. Safe to repeat.

    Args:
        tenant (UUID): A Microsoft Entra tenant id (GUID).
        body (TenantPolicyRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem413 | Problem500 | Problem503 | TenantPolicy]
    """

    kwargs = _get_kwargs(
        tenant=tenant,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    tenant: UUID,
    *,
    client: AuthenticatedClient,
    body: TenantPolicyRequest,
) -> (
    Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
    | TenantPolicy
    | None
):
    """Set a tenant's access policy

     `view_only`: no connection of the tenant can send. `off`: every connection of the tenant
    is disconnected (as `DELETE /connections/{id}`) and none admitted; `disconnected` counts
    them. Publishes `tenant.policy_changed` when the level changed. Safe to repeat.

    Args:
        tenant (UUID): A Microsoft Entra tenant id (GUID).
        body (TenantPolicyRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem413 | Problem500 | Problem503 | TenantPolicy
    """

    return sync_detailed(
        tenant=tenant,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    tenant: UUID,
    *,
    client: AuthenticatedClient,
    body: TenantPolicyRequest,
) -> Response[
    Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
    | TenantPolicy
]:
    """Set a tenant's access policy

     `view_only`: no connection of the tenant can send. `off`: every connection of the tenant
    is disconnected (as `DELETE /connections/{id}`) and none admitted; `disconnected` counts
    them. Publishes `tenant.policy_changed` when the level changed. Safe to repeat.

    Args:
        tenant (UUID): A Microsoft Entra tenant id (GUID).
        body (TenantPolicyRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem400 | Problem401 | Problem403 | Problem413 | Problem500 | Problem503 | TenantPolicy]
    """

    kwargs = _get_kwargs(
        tenant=tenant,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    tenant: UUID,
    *,
    client: AuthenticatedClient,
    body: TenantPolicyRequest,
) -> (
    Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
    | TenantPolicy
    | None
):
    """Set a tenant's access policy

     `view_only`: no connection of the tenant can send. `off`: every connection of the tenant
    is disconnected (as `DELETE /connections/{id}`) and none admitted; `disconnected` counts
    them. Publishes `tenant.policy_changed` when the level changed. Safe to repeat.

    Args:
        tenant (UUID): A Microsoft Entra tenant id (GUID).
        body (TenantPolicyRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem400 | Problem401 | Problem403 | Problem413 | Problem500 | Problem503 | TenantPolicy
    """

    return (
        await asyncio_detailed(
            tenant=tenant,
            client=client,
            body=body,
        )
    ).parsed
