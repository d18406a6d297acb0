"""netbend: network bending for trained generative models."""
from netbend.errors import NetbendError

__version__ = "0.1.0"
__all__ = ["NetbendError", "__version__"]
