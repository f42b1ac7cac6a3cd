from enum import StrEnum


class Problem500Type(StrEnum):
    URNM365_CONNECTORPROBLEMINTERNAL = "urn:m365-connector:problem:internal"

    def __str__(self) -> str:
        return str(self.value)
