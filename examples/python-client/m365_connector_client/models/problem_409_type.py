from enum import StrEnum


class Problem409Type(StrEnum):
    URNM365_CONNECTORPROBLEMCONNECTION_NOT_ACTIVE = (
        "urn:m365-connector:problem:connection-not-active"
    )
    URNM365_CONNECTORPROBLEMMAILBOX_CONNECTED_ELSEWHERE = (
        "urn:m365-connector:problem:mailbox-connected-elsewhere"
    )
    URNM365_CONNECTORPROBLEMREQUEST_IN_PROGRESS = (
        "urn:m365-connector:problem:request-in-progress"
    )
    URNM365_CONNECTORPROBLEMSLOT_TAKEN = "urn:m365-connector:problem:slot-taken"
    URNM365_CONNECTORPROBLEMUNSUPPORTED_MAILBOX = (
        "urn:m365-connector:problem:unsupported-mailbox"
    )

    def __str__(self) -> str:
        return str(self.value)
