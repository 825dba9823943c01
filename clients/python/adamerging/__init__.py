"""A Python client for AdaMerging as a service: `Client` for every operation of the API, and the `adamerging` CLI."""
__version__ = "0.3.0"

from ._models import *  # noqa: E402,F403 (the API's schemas)
from .client import Client  # noqa: E402
from .problems import ApiProblem, MergeFailed, ProblemItem  # noqa: E402

__all__ = ["Client", "ApiProblem", "MergeFailed", "ProblemItem", "__version__"]
