from enum import StrEnum


class Problem422Type(StrEnum):
    URNM365_CONNECTORPROBLEMIDEMPOTENCY_KEY_REUSED = (
        "urn:m365-connector:problem:idempotency-key-reused"
    )

    def __str__(self) -> str:
        return str(self.value)
