"""needskit: needs analysis and place-based commissioning for local strategic partnerships."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("needskit")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
