"""The web shell: FastAPI app, sessions and login, CSRF, permissions per route, i18n, pages.

``create_app`` is in ``ictgov.web.app``; what a route can depend on is in ``ictgov.web.deps``.
"""
