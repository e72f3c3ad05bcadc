"""disclosure"""

from needskit.disclosure.core import *  # noqa: F401,F403
from needskit.disclosure.core import __all__  # noqa: F401
