"""The one exception type users see: a message that says what went wrong and what to do."""


class PadlintError(Exception):
    """A user-facing error: bad target, bad input size, a model that cannot run.

    ``str(err)`` is one line that names the file or model and what to do. When
    :func:`padlint.analyze` analysed nothing, ``err.report`` is the report whose
    ``errors`` say why (else None).
    """

    report = None
