"""resources"""

from needskit.resources.core import *  # noqa: F401,F403
from needskit.resources.core import __all__  # noqa: F401
