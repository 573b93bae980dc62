"""The one exception the JQL engine raises, carrying Jira's wording."""

from __future__ import annotations


class JqlError(ValueError):
    """A query Jira would answer with 400; `messages` are the texts Jira puts in `errorMessages`.

    Jira validates every clause and answers all their errors at once, so one JqlError may carry
    several messages (`message` is the first).
    """

    def __init__(self, message: str, *more: str) -> None:
        """Keep the messages verbatim so the REST layer can pass them through unchanged."""
        super().__init__(message)
        self.message = message
        self.messages: tuple[str, ...] = (message, *more)

    @classmethod
    def of(cls, errors: list[JqlError]) -> JqlError:
        """One error carrying every message of `errors`, each once, in order."""
        messages = list(dict.fromkeys(m for error in errors for m in error.messages))
        return cls(messages[0], *messages[1:])


def parse_error(detail: str, line: int, column: int) -> JqlError:
    """A syntax error in Jira's shape: `Error in the JQL Query: <detail> (line L, character C)`."""
    return JqlError(f"Error in the JQL Query: {detail} (line {line}, character {column})")
