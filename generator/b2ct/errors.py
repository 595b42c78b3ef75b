"""Errors a site admin can cause. The CLI prints them without a traceback and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: bad site.yaml, missing tool, unreachable endpoint.

    `lines` holds one line per problem, each already naming the file and field (or the missing thing).
    """

    exit_code = 2

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)
