"""Questions about German news articles, answered with cited passages.

>>> from qa import ingest
>>> ingest().summary()
'5 added, 0 updated, 0 removed, 0 unchanged; 35 chunks in the index'
"""

import os

# Offline always, and no progress bars on every model load: set before anything imports huggingface_hub,
# transformers, chromadb or gradio (they read these once, at import).
for _name, _value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
                      "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                      "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(_name, _value)

from qa.answer import Answer, Citation  # noqa: E402
from qa.api import article, ask, ask_stream, ingest, list_articles, remove  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.conversation import Conversation  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.stream import StreamingAnswer  # noqa: E402

__all__ = ["ask", "ask_stream", "ingest", "remove", "list_articles", "article", "Conversation", "Answer",
           "Citation", "StreamingAnswer", "Settings", "QAError"]
