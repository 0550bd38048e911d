"""allpayer: an open engine for all-payer accountable care models."""

from allpayer.context import Context

__all__ = ["Context", "__version__"]
__version__ = "0.1.0"
