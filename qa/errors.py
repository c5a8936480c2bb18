"""The exceptions the package raises on purpose; the CLI and the app show their message as one line."""


class QAError(Exception):
    """Base class: the message is a sentence a user can act on."""


class ConfigError(QAError):
    """A setting has a wrong value; the message names the variable."""


class ArticleError(QAError):
    """An article file or folder cannot be read."""


class ModelError(QAError):
    """A model cannot be found or loaded offline."""


class QuestionError(QAError):
    """A question cannot be answered as asked (empty, too long, ...)."""


class SyncRefused(QAError):
    """A sync would remove what it should not (everything skipped, most of the index); nothing was written."""


class EmptyIndex(QAError):
    """The configured index holds no articles yet; the message says how to add them."""
