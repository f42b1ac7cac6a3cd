from enum import StrEnum


class Problem503Type(StrEnum):
    URNM365_CONNECTORPROBLEMUNAVAILABLE = "urn:m365-connector:problem:unavailable"

    def __str__(self) -> str:
        return str(self.value)
