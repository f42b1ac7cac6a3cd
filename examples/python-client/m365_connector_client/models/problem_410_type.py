from enum import StrEnum


class Problem410Type(StrEnum):
    URNM365_CONNECTORPROBLEMLINK_NOT_OPEN = "urn:m365-connector:problem:link-not-open"
    URNM365_CONNECTORPROBLEMRESULT_UNUSABLE = (
        "urn:m365-connector:problem:result-unusable"
    )

    def __str__(self) -> str:
        return str(self.value)
