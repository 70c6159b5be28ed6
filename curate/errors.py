"""User-facing errors. The CLI turns any CurateError into `Error: ...` and exit code 1."""


class CurateError(Exception):
    """A problem the user can fix; the message says how."""


class InputError(CurateError):
    """An input file or directory is missing, unreadable or malformed."""


class ConfigError(CurateError):
    """A flag, preset or config value is invalid."""


class BackendError(CurateError):
    """A training/eval backend or remote API failed."""
