"""The entry point a `celery worker` process loads (``-A app.worker.celery_main:app``),
started by ``interview-lab worker``. Settings come from the environment: this module is
an edge, like the CLI, and nothing else imports it."""

from app.config import get_settings
from app.worker.celery_app import make_celery

app = make_celery(get_settings())
