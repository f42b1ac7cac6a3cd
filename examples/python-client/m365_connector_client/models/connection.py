from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.capability import Capability
from ..models.connection_status import ConnectionStatus

T = TypeVar("T", bound="Connection")


@_attrs_define
class Connection:
    """A connected mailbox, as the app sees it (no token material).

    Attributes:
        id (UUID):
        user_id (str): The client app's own id for its user; 1-128 printable ASCII characters without spaces or `#`.
        tenant_id (str): Microsoft Entra tenant id.
        email (str):
        display_name (str):
        status (ConnectionStatus): `deleting`: `DELETE` was accepted and the purge job is removing what the connection
            owns; it then disappears (404).
        capabilities (list[Capability]): What the connection may do now (granted scopes, less what the tenant's access
            policy withholds).
        scopes (list[str]): The permissions Microsoft granted.
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        last_error (None | str): Why the connection is not active, when it is not.
    """

    id: UUID
    user_id: str
    tenant_id: str
    email: str
    display_name: str
    status: ConnectionStatus
    capabilities: list[Capability]
    scopes: list[str]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    last_error: None | str

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        user_id = self.user_id

        tenant_id = self.tenant_id

        email = self.email

        display_name = self.display_name

        status = self.status.value

        capabilities = []
        for capabilities_item_data in self.capabilities:
            capabilities_item = capabilities_item_data.value
            capabilities.append(capabilities_item)

        scopes = self.scopes

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        last_error: None | str
        last_error = self.last_error

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "user_id": user_id,
                "tenant_id": tenant_id,
                "email": email,
                "display_name": display_name,
                "status": status,
                "capabilities": capabilities,
                "scopes": scopes,
                "created_at": created_at,
                "updated_at": updated_at,
                "last_error": last_error,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        user_id = d.pop("user_id")

        tenant_id = d.pop("tenant_id")

        email = d.pop("email")

        display_name = d.pop("display_name")

        status = ConnectionStatus(d.pop("status"))

        capabilities = []
        _capabilities = d.pop("capabilities")
        for capabilities_item_data in _capabilities:
            capabilities_item = Capability(capabilities_item_data)

            capabilities.append(capabilities_item)

        scopes = cast(list[str], d.pop("scopes"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("last_error"))

        connection = cls(
            id=id,
            user_id=user_id,
            tenant_id=tenant_id,
            email=email,
            display_name=display_name,
            status=status,
            capabilities=capabilities,
            scopes=scopes,
            created_at=created_at,
            updated_at=updated_at,
            last_error=last_error,
        )

        return connection
