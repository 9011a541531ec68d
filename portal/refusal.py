"""The one shape of a domain step refused: a code that names why (for the views' messages) and
an optional detail. Each domain keeps its own subclass, so an `except` names what it expects."""


class Refusal(Exception):
    """A step that is not allowed as asked; `code` names why, `detail` says more (or "")."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
