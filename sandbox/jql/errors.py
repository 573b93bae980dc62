"""The one exception the JQL engine raises, carrying Jira's wording."""

from __future__ import annotations


class JqlError(ValueError):
    """A query Jira would answer with 400; `message` is the text Jira puts in `errorMessages`."""

    def __init__(self, message: str) -> None:
        """Keep `message` verbatim so the REST layer can pass it through unchanged."""
        super().__init__(message)
        self.message = message


def parse_error(detail: str, line: int, column: int) -> JqlError:
    """A syntax error in Jira's shape: `Error in the JQL Query: <detail> (line L, character C)`."""
    return JqlError(f"Error in the JQL Query: {detail} (line {line}, character {column})")
