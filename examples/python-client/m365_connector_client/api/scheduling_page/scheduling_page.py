from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...types import UNSET, Response, Unset


def _get_kwargs(
    token: str,
    *,
    tz: str | Unset = UNSET,
    slot: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["tz"] = tz

    params["slot"] = slot

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/s/{token}".format(
            token=quote(str(token), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> str | None:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 400:
        response_400 = response.text
        return response_400

    if response.status_code == 404:
        response_404 = response.text
        return response_404

    if response.status_code == 410:
        response_410 = response.text
        return response_410

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
) -> Response[str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    tz: str | Unset = UNSET,
    slot: str | Unset = UNSET,
) -> Response[str]:
    """The booking page (candidate's browser)

     The free times grouped by day in the candidate's zone (`tz`, an IANA name; the page's script fills
    it from the browser), the organiser's zone beside them; with `slot` (`YYYYMMDDTHHMMZ`), the form
    asking for name and email. 404 page for an unknown token; 410 page for a booked, expired or
    cancelled link.

    Args:
        token (str):
        tz (str | Unset):
        slot (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[str]
    """

    kwargs = _get_kwargs(
        token=token,
        tz=tz,
        slot=slot,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    tz: str | Unset = UNSET,
    slot: str | Unset = UNSET,
) -> str | None:
    """The booking page (candidate's browser)

     The free times grouped by day in the candidate's zone (`tz`, an IANA name; the page's script fills
    it from the browser), the organiser's zone beside them; with `slot` (`YYYYMMDDTHHMMZ`), the form
    asking for name and email. 404 page for an unknown token; 410 page for a booked, expired or
    cancelled link.

    Args:
        token (str):
        tz (str | Unset):
        slot (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        str
    """

    return sync_detailed(
        token=token,
        client=client,
        tz=tz,
        slot=slot,
    ).parsed


async def asyncio_detailed(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    tz: str | Unset = UNSET,
    slot: str | Unset = UNSET,
) -> Response[str]:
    """The booking page (candidate's browser)

     The free times grouped by day in the candidate's zone (`tz`, an IANA name; the page's script fills
    it from the browser), the organiser's zone beside them; with `slot` (`YYYYMMDDTHHMMZ`), the form
    asking for name and email. 404 page for an unknown token; 410 page for a booked, expired or
    cancelled link.

    Args:
        token (str):
        tz (str | Unset):
        slot (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[str]
    """

    kwargs = _get_kwargs(
        token=token,
        tz=tz,
        slot=slot,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    tz: str | Unset = UNSET,
    slot: str | Unset = UNSET,
) -> str | None:
    """The booking page (candidate's browser)

     The free times grouped by day in the candidate's zone (`tz`, an IANA name; the page's script fills
    it from the browser), the organiser's zone beside them; with `slot` (`YYYYMMDDTHHMMZ`), the form
    asking for name and email. 404 page for an unknown token; 410 page for a booked, expired or
    cancelled link.

    Args:
        token (str):
        tz (str | Unset):
        slot (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        str
    """

    return (
        await asyncio_detailed(
            token=token,
            client=client,
            tz=tz,
            slot=slot,
        )
    ).parsed
