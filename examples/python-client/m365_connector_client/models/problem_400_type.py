from enum import StrEnum


class Problem400Type(StrEnum):
    URNM365_CONNECTORPROBLEMINVALID_REQUEST = (
        "urn:m365-connector:problem:invalid-request"
    )

    def __str__(self) -> str:
        return str(self.value)
