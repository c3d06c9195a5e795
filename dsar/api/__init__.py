"""HTTP API (FastAPI): the mail webhook and health check now; the staff console grows here."""
