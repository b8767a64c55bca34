class InvalidInput(ValueError):
    """A request the domain refuses; `field` names the input at fault, for forms and API errors."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(LookupError):
    pass
