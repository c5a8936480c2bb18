"""The chat window: ``python app.py`` (or ``qa serve``) → http://127.0.0.1:7860.

Host and port follow GRADIO_SERVER_NAME and GRADIO_SERVER_PORT; QA_APP_AUTH=user:password asks for a login.
The page is in qa/web.py; it calls the same qa.ask_stream that Python users call. This is ``qa serve``,
so a wrong setting is one line on stderr, not a traceback.
"""

import sys

import qa  # noqa: F401  (sets the offline environment: HF_HUB_OFFLINE, GRADIO_ANALYTICS_ENABLED, …)
from qa.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve"]))
