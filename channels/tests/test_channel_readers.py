"""What the channels' fetchers read from HTTP before the body (a HEAD, a 304)."""

import pytest

from channels import services

from .factories import ChannelFeedFactory

pytestmark = pytest.mark.django_db


def _get(client, feed, **headers):
    response = client.get(services.feed_path(feed), **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


@pytest.mark.parametrize(("channel", "fmt"), [("google", "xml"), ("meta", "csv")])
@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_a_head_request_says_what_a_get_would_send(
    client, catalog, products, channel, fmt, encoding
):
    # RFC 9110 9.3.2 and 8.6: a HEAD carries the GET's header fields, and a Content-Length
    # only if it is the GET's: "0" tells a fetcher checking the file first that it is empty
    feed = ChannelFeedFactory(catalog=catalog, channel=channel, format=fmt)
    get, body = _get(client, feed, HTTP_ACCEPT_ENCODING=encoding)
    head = client.head(services.feed_path(feed), HTTP_ACCEPT_ENCODING=encoding)
    assert head.status_code == 200
    assert (b"".join(head.streaming_content) if head.streaming else head.content) == b""
    assert head.get("Content-Length", str(len(body))) == str(len(body))
    for name in ("Content-Type", "ETag", "Last-Modified", "Content-Disposition", "Vary"):
        assert head[name] == get[name], name
    assert head.get("Content-Encoding") == get.get("Content-Encoding")


def test_a_304_claims_no_empty_body_and_no_other_type(client, catalog, products):
    # RFC 9110 8.6: a 304 has no Content-Length unless it is the 200's; a cache updates its
    # stored response with the 304's fields (RFC 9111 4.3.4), so no Content-Type of its own
    feed = ChannelFeedFactory(catalog=catalog, channel="google", format="xml")
    get, _body = _get(client, feed)
    for method in (client.get, client.head):
        response = method(services.feed_path(feed), HTTP_IF_NONE_MATCH=get["ETag"])
        assert response.status_code == 304
        assert "Content-Length" not in response
        assert response.get("Content-Type", get["Content-Type"]) == get["Content-Type"]
        assert response["ETag"] == get["ETag"]
