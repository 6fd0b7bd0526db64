"""URLs of the vendored front-end files under ``static/vendor/`` (see its README.md and
``scripts/vendor.sh``, which pins the versions). Templates reach them as
``{{ assets.HTMX_JS }}``; nothing is loaded from a CDN.

Each folder is ``<npm name>-<version>/`` and keeps the file's path inside the package.
When a version is bumped, update the paths here; ``tests/web/test_assets.py`` checks
that every one of them exists."""

from __future__ import annotations

from typing import Final

STATIC_URL: Final = "/static"
VENDOR_URL: Final = f"{STATIC_URL}/vendor"

# htmx 2.0.x (0BSD).
HTMX_JS: Final = f"{VENDOR_URL}/htmx.org-2.0.11/dist/htmx.min.js"

# Chart.js 4 (MIT): UMD build, defines the global ``Chart``; it has no stylesheet.
CHART_JS: Final = f"{VENDOR_URL}/chart.js-4.6.1/dist/chart.umd.js"

# Swagger UI (Apache-2.0), for the /docs page served by ``app.web.docs``.
SWAGGER_JS: Final = f"{VENDOR_URL}/swagger-ui-dist-5.35.0/swagger-ui-bundle.js"
SWAGGER_CSS: Final = f"{VENDOR_URL}/swagger-ui-dist-5.35.0/swagger-ui.css"
SWAGGER_FAVICON: Final = f"{VENDOR_URL}/swagger-ui-dist-5.35.0/favicon-32x32.png"

# Every vendored URL above, for checks.
ALL: Final[tuple[str, ...]] = (HTMX_JS, CHART_JS, SWAGGER_JS, SWAGGER_CSS, SWAGGER_FAVICON)
