"""Routes that refuse a request body over a limit before anything reads it whole."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute


def body_limited_route(limit: Callable[[], int], refuse: Callable[[Request], Response],
                       error_key: str) -> type[APIRoute]:
    """A route class whose POST, PUT and PATCH bodies are refused over `limit()` bytes (read at
    each request, so a module's constant can be changed at run time): by the
    Content-Length, with `refuse(request)`, or, sent chunked without one, as soon as the bytes
    read pass the limit (HTTPException 413 with `error_key`).

    It wraps the handler FastAPI builds for every inclusion of the route, so the check runs
    before the body is read for the CSRF check, the form or the JSON.
    """

    class BodyLimitedRoute(APIRoute):
        def get_route_handler(self):
            handler = super().get_route_handler()

            async def limited(request: Request) -> Response:
                if request.method not in ("POST", "PUT", "PATCH"):
                    return await handler(request)
                most = limit()
                length = request.headers.get("content-length")
                try:
                    too_big = length is not None and int(length) > most
                except ValueError:
                    too_big = True
                if too_big:
                    return refuse(request)
                upstream, seen = request.receive, 0

                async def counted():
                    nonlocal seen
                    message = await upstream()
                    if message.get("type") == "http.request":
                        seen += len(message.get("body", b""))
                        if seen > most:
                            raise HTTPException(413, error_key)
                    return message

                return await handler(Request(request.scope, counted, getattr(request, "_send", None)))

            return limited

    return BodyLimitedRoute
