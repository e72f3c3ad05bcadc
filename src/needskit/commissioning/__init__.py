"""commissioning"""

from needskit.commissioning.core import *  # noqa: F401,F403
from needskit.commissioning.core import __all__  # noqa: F401
