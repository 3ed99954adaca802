"""Security headers on every answer: a content security policy, no framing, no sniffing, HSTS over HTTPS, and no
caching of anything but static files (pages and API answers carry visitors' data)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts only from our own files (no inline scripts or event handlers: templates use data-confirm and static/*.js);
# inline styles are still allowed, for the pages' small <style> blocks.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "media-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
COMMON = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
          (b"referrer-policy", b"same-origin"))
DYNAMIC = ((b"content-security-policy", CSP.encode()), (b"cache-control", b"no-store"))
HSTS = ((b"strict-transport-security", b"max-age=31536000"),)
# what the hot API routes add to their answers (web/hot.py): a constant tuple, nothing worked out per request
API_HEADERS = COMMON + DYNAMIC
# for a response that must say so itself (the middleware adds it only where a response sets no Cache-Control)
NO_STORE = {"Cache-Control": "no-store"}


class SecurityHeaders:
    """ASGI middleware: adds the headers above to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp, *, https: bool, static_prefix: str = "/static/"):
        self.app = app
        self.static_prefix = static_prefix
        self.pages = COMMON + DYNAMIC + (HSTS if https else ())
        self.static = COMMON + (HSTS if https else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.static if scope["path"].startswith(self.static_prefix) else self.pages

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in extra if header[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)
