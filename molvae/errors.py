"""The one base of molvae's user-facing errors.

An error a user can cause (a bad argument, input file, model directory, objective or setting) is raised as
:class:`MolvaeError` or one of its subclasses (DataError, ModelError, TrainError, PriorError, ObjectiveError,
OptimizeError, UsageError). It is a ValueError, so API callers may catch either; the command line prints it
in one line and exits with status 2. Any other exception is a bug: the command line prints its traceback and
exits with status 1.
"""


class MolvaeError(ValueError):
    """A user-facing error: its message is one line that says what is wrong and, where it helps, what to do."""
