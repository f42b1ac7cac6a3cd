from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.notification_collection import NotificationCollection
from ...models.problem_400 import Problem400
from ...models.problem_413 import Problem413
from ...models.problem_503 import Problem503
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: NotificationCollection | Unset = UNSET,
    validation_token: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["validationToken"] = validation_token

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/webhooks/graph/lifecycle",
        "params": params,
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Problem400 | Problem413 | Problem503 | str | None:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 202:
        response_202 = cast(Any, None)
        return response_202

    if response.status_code == 400:
        response_400 = Problem400.from_dict(response.json())

        return response_400

    if response.status_code == 413:
        response_413 = Problem413.from_dict(response.json())

        return response_413

    if response.status_code == 503:
        response_503 = Problem503.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | Problem400 | Problem413 | Problem503 | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: NotificationCollection | Unset = UNSET,
    validation_token: str | Unset = UNSET,
) -> Response[Any | Problem400 | Problem413 | Problem503 | str]:
    """Graph lifecycle notifications (lifecycleNotificationUrl)

     The same handshake and checks; one job per (subscription, `reauthorizationRequired` |
    `subscriptionRemoved` | `missed`).

    Args:
        validation_token (str | Unset):
        body (NotificationCollection | Unset): Graph's collection (required without
            `validationToken`, ignored with it). Items without `subscriptionId`, `clientState`,
            `tenantId` and a `changeType` or known `lifecycleEvent` are skipped; the others must match
            their subscription's `clientState` and tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem400 | Problem413 | Problem503 | str]
    """

    kwargs = _get_kwargs(
        body=body,
        validation_token=validation_token,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: NotificationCollection | Unset = UNSET,
    validation_token: str | Unset = UNSET,
) -> Any | Problem400 | Problem413 | Problem503 | str | None:
    """Graph lifecycle notifications (lifecycleNotificationUrl)

     The same handshake and checks; one job per (subscription, `reauthorizationRequired` |
    `subscriptionRemoved` | `missed`).

    Args:
        validation_token (str | Unset):
        body (NotificationCollection | Unset): Graph's collection (required without
            `validationToken`, ignored with it). Items without `subscriptionId`, `clientState`,
            `tenantId` and a `changeType` or known `lifecycleEvent` are skipped; the others must match
            their subscription's `clientState` and tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem400 | Problem413 | Problem503 | str
    """

    return sync_detailed(
        client=client,
        body=body,
        validation_token=validation_token,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: NotificationCollection | Unset = UNSET,
    validation_token: str | Unset = UNSET,
) -> Response[Any | Problem400 | Problem413 | Problem503 | str]:
    """Graph lifecycle notifications (lifecycleNotificationUrl)

     The same handshake and checks; one job per (subscription, `reauthorizationRequired` |
    `subscriptionRemoved` | `missed`).

    Args:
        validation_token (str | Unset):
        body (NotificationCollection | Unset): Graph's collection (required without
            `validationToken`, ignored with it). Items without `subscriptionId`, `clientState`,
            `tenantId` and a `changeType` or known `lifecycleEvent` are skipped; the others must match
            their subscription's `clientState` and tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem400 | Problem413 | Problem503 | str]
    """

    kwargs = _get_kwargs(
        body=body,
        validation_token=validation_token,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: NotificationCollection | Unset = UNSET,
    validation_token: str | Unset = UNSET,
) -> Any | Problem400 | Problem413 | Problem503 | str | None:
    """Graph lifecycle notifications (lifecycleNotificationUrl)

     The same handshake and checks; one job per (subscription, `reauthorizationRequired` |
    `subscriptionRemoved` | `missed`).

    Args:
        validation_token (str | Unset):
        body (NotificationCollection | Unset): Graph's collection (required without
            `validationToken`, ignored with it). Items without `subscriptionId`, `clientState`,
            `tenantId` and a `changeType` or known `lifecycleEvent` are skipped; the others must match
            their subscription's `clientState` and tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem400 | Problem413 | Problem503 | str
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            validation_token=validation_token,
        )
    ).parsed
