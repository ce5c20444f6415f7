"""The HTTP stage: the Starlette application in front of the engine.

`create_app` builds it (`app.py`); the OData route (`odata_routes.py`), the caller seam the
accounts work fills (`callers.py`) and the one place errors become answers (`errors.py`).
"""

from fleetyard.api.app import AppSettings, create_app

__all__ = ["AppSettings", "create_app"]
