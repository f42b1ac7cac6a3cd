from enum import StrEnum


class Problem404Type(StrEnum):
    URNM365_CONNECTORPROBLEMNOT_FOUND = "urn:m365-connector:problem:not-found"

    def __str__(self) -> str:
        return str(self.value)
