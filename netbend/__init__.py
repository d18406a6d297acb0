"""netbend: network bending for trained generative models.

The short path::

    from netbend import bend, load_model, load_plan, resolve_plan
"""
from netbend.errors import NetbendError
from netbend.bending import bend, resolve_plan
from netbend.layers import ModuleModel, list_layers
from netbend.models import load_model
from netbend.plan import Plan, load_plan
from netbend.transforms import Param, register_transform

__version__ = "0.1.0"
__all__ = ["NetbendError", "Param", "Plan", "ModuleModel", "bend", "list_layers", "load_model",
           "load_plan", "register_transform", "resolve_plan", "__version__"]
