from enum import StrEnum


class TenantAccess(StrEnum):
    OFF = "off"
    SEND_AND_VIEW = "send_and_view"
    VIEW_ONLY = "view_only"

    def __str__(self) -> str:
        return str(self.value)
