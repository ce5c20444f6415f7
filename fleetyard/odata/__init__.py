"""The OData engine: parse (here), resolve, compile. See DESIGN.md "The pipeline"."""

from __future__ import annotations

from fleetyard.errors import ODataSyntaxError
from fleetyard.odata import ast
from fleetyard.odata.parser import parse

__all__ = ["ODataSyntaxError", "ast", "parse"]
