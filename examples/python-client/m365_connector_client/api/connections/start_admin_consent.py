from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.admin_consent_request import AdminConsentRequest
from ...models.admin_consent_started import AdminConsentStarted
from ...models.problem_400 import Problem400
from ...models.problem_401 import Problem401
from ...models.problem_403 import Problem403
from ...models.problem_413 import Problem413
from ...models.problem_500 import Problem500
from ...models.problem_503 import Problem503
from ...types import Response


def _get_kwargs(
    *,
    body: AdminConsentRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/admin-consents",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    AdminConsentStarted
    | Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
    | None
):
    if response.status_code == 201:
        response_201 = AdminConsentStarted.from_dict(response.json())

        return response_201

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
    AdminConsentStarted
    | Problem400
    | Problem401
    | Problem403
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
    body: AdminConsentRequest,
) -> Response[
    AdminConsentStarted
    | Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
]:
    """Start tenant-wide admin consent

     `tenant` is the tenant id or any domain verified in the tenant (`contoso.com`,
    `contoso.onmicrosoft.com`), resolved to `tenant_id`. Send the tenant administrator to
    `consent_url`; the browser lands on `return_url` with `admin_consent=granted|claimed&tenant=`
    or `error` + `tenant` + `next=admin_consent`.

    Args:
        body (AdminConsentRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AdminConsentStarted | Problem400 | Problem401 | Problem403 | Problem413 | Problem500 | Problem503]
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
    body: AdminConsentRequest,
) -> (
    AdminConsentStarted
    | Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
    | None
):
    """Start tenant-wide admin consent

     `tenant` is the tenant id or any domain verified in the tenant (`contoso.com`,
    `contoso.onmicrosoft.com`), resolved to `tenant_id`. Send the tenant administrator to
    `consent_url`; the browser lands on `return_url` with `admin_consent=granted|claimed&tenant=`
    or `error` + `tenant` + `next=admin_consent`.

    Args:
        body (AdminConsentRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AdminConsentStarted | Problem400 | Problem401 | Problem403 | Problem413 | Problem500 | Problem503
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: AdminConsentRequest,
) -> Response[
    AdminConsentStarted
    | Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
]:
    """Start tenant-wide admin consent

     `tenant` is the tenant id or any domain verified in the tenant (`contoso.com`,
    `contoso.onmicrosoft.com`), resolved to `tenant_id`. Send the tenant administrator to
    `consent_url`; the browser lands on `return_url` with `admin_consent=granted|claimed&tenant=`
    or `error` + `tenant` + `next=admin_consent`.

    Args:
        body (AdminConsentRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AdminConsentStarted | Problem400 | Problem401 | Problem403 | Problem413 | Problem500 | Problem503]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: AdminConsentRequest,
) -> (
    AdminConsentStarted
    | Problem400
    | Problem401
    | Problem403
    | Problem413
    | Problem500
    | Problem503
    | None
):
    """Start tenant-wide admin consent

     `tenant` is the tenant id or any domain verified in the tenant (`contoso.com`,
    `contoso.onmicrosoft.com`), resolved to `tenant_id`. Send the tenant administrator to
    `consent_url`; the browser lands on `return_url` with `admin_consent=granted|claimed&tenant=`
    or `error` + `tenant` + `next=admin_consent`.

    Args:
        body (AdminConsentRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AdminConsentStarted | Problem400 | Problem401 | Problem403 | Problem413 | Problem500 | Problem503
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
