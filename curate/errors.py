"""User-facing errors, and the one for bugs.

The CLI turns a CurateError into `Error: ...` and exit code 1 (a ConfigError: exit code 2, a
usage mistake); an InternalError, or any other exception, is reported as a bug in curate.
"""


class CurateError(Exception):
    """A problem the user can fix; the message says how."""


class InputError(CurateError):
    """An input file or directory is missing, unreadable or malformed."""


class UndecodableError(InputError):
    """A file no encoding curate tries can read. `problem` is what is wrong without the
    command line's advice (`--encoding`), so a page can give its own."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message, problem)  # both in args: the error pickles (Ray workers)
        self.problem = problem

    def __str__(self) -> str:
        return self.args[0]


class StageError(InputError):
    """A stage's files are incomplete, changed, or from two runs: rerun the stage."""


class ConfigError(CurateError):
    """A flag, preset or config value is invalid."""


class BackendError(CurateError):
    """A training/eval backend or remote API failed."""


class InternalError(Exception):
    """A broken invariant: a bug in curate, not something the user can fix (never `assert`)."""
