from enum import StrEnum


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    DELETING = "deleting"
    REAUTH_REQUIRED = "reauth_required"
    UNSUPPORTED_MAILBOX = "unsupported_mailbox"

    def __str__(self) -> str:
        return str(self.value)
