"""The dashboard: HTML pages for people, served by the API's own process (DESIGN.md
"web/"). `routes.WebRoutes` holds the routes; `api/app.py` binds it to the engine and the
authenticator when the app starts. `reads` is shared with the operator CLI, which sends
the same OData requests over HTTP (so this package imports nothing heavy on its own)."""
