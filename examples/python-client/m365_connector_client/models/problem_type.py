from enum import StrEnum


class ProblemType(StrEnum):
    URNM365_CONNECTORPROBLEMCLAIM_FORBIDDEN = (
        "urn:m365-connector:problem:claim-forbidden"
    )
    URNM365_CONNECTORPROBLEMCONNECTION_NOT_ACTIVE = (
        "urn:m365-connector:problem:connection-not-active"
    )
    URNM365_CONNECTORPROBLEMIDEMPOTENCY_KEY_REUSED = (
        "urn:m365-connector:problem:idempotency-key-reused"
    )
    URNM365_CONNECTORPROBLEMINTERNAL = "urn:m365-connector:problem:internal"
    URNM365_CONNECTORPROBLEMINVALID_REQUEST = (
        "urn:m365-connector:problem:invalid-request"
    )
    URNM365_CONNECTORPROBLEMLINK_NOT_OPEN = "urn:m365-connector:problem:link-not-open"
    URNM365_CONNECTORPROBLEMMAILBOX_CONNECTED_ELSEWHERE = (
        "urn:m365-connector:problem:mailbox-connected-elsewhere"
    )
    URNM365_CONNECTORPROBLEMMAILBOX_FULL = "urn:m365-connector:problem:mailbox-full"
    URNM365_CONNECTORPROBLEMMESSAGE_TOO_LARGE = (
        "urn:m365-connector:problem:message-too-large"
    )
    URNM365_CONNECTORPROBLEMMETHOD_NOT_ALLOWED = (
        "urn:m365-connector:problem:method-not-allowed"
    )
    URNM365_CONNECTORPROBLEMMISSING_SCOPE = "urn:m365-connector:problem:missing-scope"
    URNM365_CONNECTORPROBLEMNOT_FOUND = "urn:m365-connector:problem:not-found"
    URNM365_CONNECTORPROBLEMPERMISSION_MISSING = (
        "urn:m365-connector:problem:permission-missing"
    )
    URNM365_CONNECTORPROBLEMRATE_LIMITED = "urn:m365-connector:problem:rate-limited"
    URNM365_CONNECTORPROBLEMREQUEST_IN_PROGRESS = (
        "urn:m365-connector:problem:request-in-progress"
    )
    URNM365_CONNECTORPROBLEMRESULT_UNUSABLE = (
        "urn:m365-connector:problem:result-unusable"
    )
    URNM365_CONNECTORPROBLEMSENDING_BLOCKED = (
        "urn:m365-connector:problem:sending-blocked"
    )
    URNM365_CONNECTORPROBLEMSLOT_TAKEN = "urn:m365-connector:problem:slot-taken"
    URNM365_CONNECTORPROBLEMTENANT_POLICY = "urn:m365-connector:problem:tenant-policy"
    URNM365_CONNECTORPROBLEMTOO_LARGE = "urn:m365-connector:problem:too-large"
    URNM365_CONNECTORPROBLEMUNAUTHORIZED = "urn:m365-connector:problem:unauthorized"
    URNM365_CONNECTORPROBLEMUNAVAILABLE = "urn:m365-connector:problem:unavailable"
    URNM365_CONNECTORPROBLEMUNSUPPORTED_MAILBOX = (
        "urn:m365-connector:problem:unsupported-mailbox"
    )
    URNM365_CONNECTORPROBLEMUSER_NOT_ALLOWED = (
        "urn:m365-connector:problem:user-not-allowed"
    )

    def __str__(self) -> str:
        return str(self.value)
