from enum import IntEnum


class Problem507Status(IntEnum):
    VALUE_507 = 507

    def __str__(self) -> str:
        return str(self.value)
