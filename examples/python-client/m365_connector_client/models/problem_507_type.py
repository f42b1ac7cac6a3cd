from enum import StrEnum


class Problem507Type(StrEnum):
    URNM365_CONNECTORPROBLEMMAILBOX_FULL = "urn:m365-connector:problem:mailbox-full"

    def __str__(self) -> str:
        return str(self.value)
