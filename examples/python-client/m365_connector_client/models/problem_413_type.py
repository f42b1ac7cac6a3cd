from enum import StrEnum


class Problem413Type(StrEnum):
    URNM365_CONNECTORPROBLEMMESSAGE_TOO_LARGE = (
        "urn:m365-connector:problem:message-too-large"
    )
    URNM365_CONNECTORPROBLEMTOO_LARGE = "urn:m365-connector:problem:too-large"

    def __str__(self) -> str:
        return str(self.value)
