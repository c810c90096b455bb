"""A file never redirects credentials.

A saved conversation names the server it talked to. Taking that URL from the file would
let a ``talk.json`` from a shared repository send the user's key (``OPENAI_API_KEY``…) to
any server. So a restored conversation uses the server configured *now* — an argument,
:func:`nbchat.configure`, the environment — and the saved one only when it is that same
server, or when the user passes it as ``base_url=``. When they differ, the chat says so.
"""

from __future__ import annotations

from ..errors import redact_userinfo
from ..providers._urls import normalise_base_url

__all__ = ["server_notice"]


def server_notice(source: str, saved: str | None, configured: str | None) -> str | None:
    """What to tell the user when the file's server ``saved`` is not ``configured``
    (``None`` when they are the same, or the file names none)."""
    if not saved or _same(saved, configured):
        return None
    using = redact_userinfo(configured) if configured else "no server (an offline model)"
    shown = redact_userinfo(saved)
    return (
        f"{source or 'The file'} was saved with the server {shown}; this chat uses the "
        f"configured {using} instead. To use the saved server (your key goes to it), pass "
        f"base_url={shown!r}."
    )


def _same(saved: str, configured: str | None) -> bool:
    if configured is None:
        return False
    # The file keeps no user:password (transcript._json._public_url); compare without it.
    mine = redact_userinfo(normalise_base_url(configured, check=False), mask="")
    return _key(mine) == _key(redact_userinfo(normalise_base_url(saved, check=False), mask=""))


def _key(url: str) -> str:
    return url.rstrip("/").lower()
