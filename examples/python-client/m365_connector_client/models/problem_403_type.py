from enum import StrEnum


class Problem403Type(StrEnum):
    URNM365_CONNECTORPROBLEMCLAIM_FORBIDDEN = (
        "urn:m365-connector:problem:claim-forbidden"
    )
    URNM365_CONNECTORPROBLEMMISSING_SCOPE = "urn:m365-connector:problem:missing-scope"
    URNM365_CONNECTORPROBLEMPERMISSION_MISSING = (
        "urn:m365-connector:problem:permission-missing"
    )
    URNM365_CONNECTORPROBLEMSENDING_BLOCKED = (
        "urn:m365-connector:problem:sending-blocked"
    )
    URNM365_CONNECTORPROBLEMTENANT_POLICY = "urn:m365-connector:problem:tenant-policy"
    URNM365_CONNECTORPROBLEMUSER_NOT_ALLOWED = (
        "urn:m365-connector:problem:user-not-allowed"
    )

    def __str__(self) -> str:
        return str(self.value)
