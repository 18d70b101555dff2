"""The exceptions of sb3-mario. A leaf module: it imports nothing, so every layer can use it."""


class ConfigError(ValueError):
    """A setting, file or argument that cannot be used.

    The message is one line that says what was wrong and what is valid; the command line prints it
    and exits with status 2.
    """
