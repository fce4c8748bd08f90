"""Text from outside (an exercise name, a file name, an error naming a user's input) made
safe to show on a terminal or in a toast: no control characters."""

import re

# C0 and C1 control characters (ESC starts terminal escape sequences), DEL, and the
# bidirectional overrides that reorder what a terminal shows.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str) -> str:
    """`text` without control characters (line breaks and tabs included)."""
    return CONTROL_CHARACTERS.sub("", text)
