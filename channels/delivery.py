"""The public side of a channel feed: what Google, Meta and TikTok fetch on their schedule.

No login: the secret token in the URL names the feed (a wrong or rotated token is a 404),
optionally HTTP Basic credentials on top. Rate-limited per feed, conditional (ETag and
Last-Modified, 304), gzip when asked, streamed with constant memory, and every answer goes
to the feed's fetch log."""

from __future__ import annotations

import base64
import binascii
import time
import zlib
from collections.abc import Iterator

from django.conf import settings
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    StreamingHttpResponse,
)
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from catalog_health.rate_limits import window_take

from . import selectors, services
from .models import ChannelFeed

CONTENT_TYPES = {
    "xml": "application/xml; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
DEFAULT_RATE = (30, 600)  # requests per window (seconds), per feed


def _rate_ok(feed: ChannelFeed, *, bucket: str = "") -> tuple[bool, int]:
    """Fixed windows counted in the shared cache, so every web process counts against the
    same limit; a cache that cannot be reached lets the fetch through (a channel's schedule
    is not the cache's hostage). bucket names a count of its own beside the feed's (same
    limit)."""
    limit, window = getattr(settings, "CHANNEL_FEED_RATE_LIMIT", DEFAULT_RATE)
    key = f"channels:rate:{feed.pk}{':' + bucket if bucket else ''}"
    return window_take(key, limit=limit, window=window)


def _basic_credentials(request) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def _wants_gzip(request) -> bool:
    for part in request.META.get("HTTP_ACCEPT_ENCODING", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match against our ETag, weakly (RFC 9110 13.1.2): either encoding's tag."""
    base = etag.removesuffix('-gz"').strip('"')
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/")
        if tag == "*" or tag.strip('"').removesuffix("-gz") == base:
            return True
    return False


def _not_modified(request, etag: str, last_modified: float) -> bool:
    inm = request.META.get("HTTP_IF_NONE_MATCH")
    if inm is not None:  # takes precedence over If-Modified-Since
        return _etag_matches(inm, etag)
    ims = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    # RFC 9110 13.1.3: a date later than our current time is invalid, so ignored (it would
    # otherwise hold every change back until that date)
    return ims is not None and ims <= time.time() and int(last_modified) <= ims


def _gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    z = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip container
    for chunk in chunks:
        out = z.compress(chunk)
        if out:
            yield out
    yield z.flush()


def _logged(
    feed: ChannelFeed,
    body: Iterator[bytes],
    *,
    user_agent: str,
    gzip: bool,
    counter: list[int],
    invalid: list[int],
) -> Iterator[bytes]:
    sent, status = 0, 500  # 500 unless the feed ends or the client goes away
    try:
        for chunk in body:
            sent += len(chunk)
            yield chunk
        status = 200
    except GeneratorExit:  # the server closed the response: the client went away mid-feed
        status = 499
        raise
    finally:
        # Close the body first: its database cursor (and the read transaction it lives in)
        # must end before the log row is written outside it.
        body.close()
        services.feed_record_fetch(
            feed=feed,
            status=status,
            nbytes=sent,
            user_agent=user_agent,
            gzip=gzip,
            products=counter[0] if status == 200 else None,
            invalid_values=invalid[0] if status == 200 else None,
        )


def _too_many(retry_after: int) -> HttpResponse:
    response = HttpResponse("Too many requests for this feed.\n", status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _unauthorized(feed: ChannelFeed, user_agent: str, *, logged: bool = True) -> HttpResponse:
    if logged:
        services.feed_record_fetch(feed=feed, status=401, user_agent=user_agent)
    response = HttpResponse("This feed needs its user name and password.\n", status=401)
    response["WWW-Authenticate"] = 'Basic realm="Channel feed", charset="UTF-8"'
    return response


def _moved(request, feed: ChannelFeed, user_agent: str) -> HttpResponse:
    """The URL a channel was given before the feed's channel or format changed: a permanent
    redirect to the current one, counted and logged like a fetch (the log shows the seller
    which channel still uses the old URL)."""
    ok, retry_after = _rate_ok(feed)
    if not ok:
        return _too_many(retry_after)
    services.feed_record_fetch(feed=feed, status=301, user_agent=user_agent)
    return HttpResponsePermanentRedirect(request.build_absolute_uri(services.feed_path(feed)))


def _without_body(status: int, *, content_type: str | None = None) -> StreamingHttpResponse:
    """A HEAD's or a 304's answer. Streamed, so no Content-Length is added: the length of
    its empty body ("0") is not the feed's, and RFC 9110 (8.6) forbids sending any other
    than the 200's, which only writing the whole feed would tell. A 304 has no Content-Type
    of its own: a cache takes the 304's fields into the response it keeps (RFC 9111
    4.3.4)."""
    response = StreamingHttpResponse(iter(()), status=status, content_type=content_type)
    if content_type is None:
        del response["Content-Type"]
    return response


@require_safe
def feed_out(request, token: str, filename: str):
    feed = selectors.feed_by_token(token=token)
    if feed is None or (filename != feed.filename and filename not in feed.former_filenames):
        raise Http404("No such feed.")
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if filename != feed.filename:
        return _moved(request, feed, user_agent)
    creds = _basic_credentials(request) if feed.has_basic_auth else None
    if feed.has_basic_auth and creds is None:
        # No credentials: a 401 that costs no password hash, so it does not spend the feed's
        # requests (anyone with the URL could lock the channel out). Its own bucket bounds
        # the fetch-log rows a flood of them writes; over it the challenge is still sent,
        # unlogged, as a client that sends its password only when challenged needs it.
        ok, _retry_after = _rate_ok(feed, bucket="no-credentials")
        return _unauthorized(feed, user_agent, logged=ok)
    ok, retry_after = _rate_ok(feed)  # before the password's deliberately slow hash
    if not ok:
        return _too_many(retry_after)
    if creds is not None and not services.feed_check_basic_auth(
        feed, username=creds[0], password=creds[1]
    ):
        return _unauthorized(feed, user_agent)
    version = selectors.feed_version(feed)
    gzip = _wants_gzip(request)
    etag = version.etag[:-1] + '-gz"' if gzip else version.etag
    last_modified = version.last_modified.timestamp()
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified),
        "Vary": "Accept-Encoding",
        "Cache-Control": "private, no-cache",
        "X-Robots-Tag": "noindex",
    }
    if _not_modified(request, etag, last_modified):
        services.feed_record_fetch(feed=feed, status=304, user_agent=user_agent, gzip=gzip)
        response = _without_body(304)
        for k, v in headers.items():
            response[k] = v
        return response
    if request.method == "HEAD":
        services.feed_record_fetch(feed=feed, status=200, user_agent=user_agent, gzip=gzip)
        response = _without_body(200, content_type=CONTENT_TYPES[feed.format])
    else:
        counter, invalid = [0], [0]
        body = services.feed_body(
            feed, link=request.build_absolute_uri(request.path), counter=counter, invalid=invalid
        )
        if gzip:
            body = _gzipped(body)
        response = StreamingHttpResponse(
            _logged(feed, body, user_agent=user_agent, gzip=gzip, counter=counter, invalid=invalid),
            content_type=CONTENT_TYPES[feed.format],
        )
    for k, v in headers.items():
        response[k] = v
    if gzip:
        response["Content-Encoding"] = "gzip"
    response["Content-Disposition"] = f'inline; filename="{feed.filename}"'
    return response
