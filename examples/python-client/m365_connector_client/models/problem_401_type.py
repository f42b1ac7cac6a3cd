from enum import StrEnum


class Problem401Type(StrEnum):
    URNM365_CONNECTORPROBLEMUNAUTHORIZED = "urn:m365-connector:problem:unauthorized"

    def __str__(self) -> str:
        return str(self.value)
