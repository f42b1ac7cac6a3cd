from enum import StrEnum


class ManageFormAction(StrEnum):
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"

    def __str__(self) -> str:
        return str(self.value)
