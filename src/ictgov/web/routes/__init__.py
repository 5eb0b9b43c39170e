"""Every router of the web application, mounted in one place.

Each entry names a module with a ``router`` (an ``APIRouter``), or ``"module:attr"``, or is
a router object. ``create_app`` includes them in this order, so a path claimed twice goes
to the first one. A service adds one line here for its router.

A module that does not exist yet is skipped with a warning (a service listed before its
code lands); any other import error stops the app, so a broken router is never hidden.
"""

from __future__ import annotations

import importlib
import logging

from fastapi import APIRouter

log = logging.getLogger("ictgov.web")

ROUTERS: list[str | APIRouter] = [
    "ictgov.web.routes.ops",
    "ictgov.web.routes.stats",
    "ictgov.web.routes.tipline",
    "ictgov.web.routes.tipline_public",
    "ictgov.web.routes.auth",
    "ictgov.web.routes.admin",
    "ictgov.web.routes.jobs",
    "ictgov.web.routes.tipline_staff",
    "ictgov.web.routes.antispam",
    "ictgov.web.routes.antispam_jobs",
    "ictgov.web.routes.dx",
    "ictgov.web.routes.press",
    "ictgov.web.routes.smedx",
]


def load(entries: list[str | APIRouter] | None = None) -> list[APIRouter]:
    """The routers of ROUTERS, imported."""
    routers = []
    for entry in ROUTERS if entries is None else entries:
        if isinstance(entry, APIRouter):
            routers.append(entry)
            continue
        module_name, _, attr = entry.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            log.warning("router module %s does not exist; skipped", module_name)
            continue
        router = getattr(module, attr or "router")
        if not isinstance(router, APIRouter):
            raise TypeError(f"{entry}: expected an APIRouter, got {type(router).__name__}")
        routers.append(router)
    return routers
