"""SIMfleet's gateway: the REST/JSON edge frontends build on (FastAPI, /v1)."""
