"""Every answer under rapids-kf/ is the Error JSON (issue 10, case 6): unknown paths, methods a
route does not have, and request bodies tornado cannot read, not Jupyter's HTML 404 or an
empty 400."""

from __future__ import annotations

import asyncio
import json

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest


def assert_error(response, status: int, code: str) -> dict:
    assert response.code == status, (response.code, response.body[:300])
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    error = json.loads(response.body)["error"]
    assert error["code"] == code and error["message"], error
    return error


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "rapids-kf/nope"),
        ("GET", "rapids-kf/"),
        ("GET", "rapids-kf"),
        ("GET", "rapids-kf/clusters/"),
        ("GET", "rapids-kf/clusters/some-name/logs/more"),
        ("GET", "rapids-kf/clusters/some-name/nope"),
        ("POST", "rapids-kf/clusters/some-name/scale"),
        ("DELETE", "rapids-kf/environment/x"),
    ],
)
async def test_unknown_paths_are_a_404_error(raw_get, jp_base_url, method, path):
    body = b"{}" if method == "POST" else None
    response = await raw_get(jp_base_url + path, method=method, body=body)
    error = assert_error(response, 404, "not_found")
    assert "no such route" in error["message"]


async def test_unknown_paths_still_need_authentication(jp_fetch, jp_http_port, jp_base_url):
    await jp_fetch("rapids-kf", "environment")  # starts the server
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}rapids-kf/nope"
    response = await AsyncHTTPClient(force_instance=True).fetch(url, raise_error=False)
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize(
    "method,path,allowed",
    [
        ("PUT", "rapids-kf/clusters", "GET, POST"),
        ("DELETE", "rapids-kf/environment", "GET"),
        ("POST", "rapids-kf/clusters/some-name/snippet", "GET"),
        ("PUT", "rapids-kf/clusters/some-name", "GET, PATCH, DELETE"),
    ],
)
async def test_a_method_a_route_lacks_is_a_405_error_that_says_what_is_allowed(jp_fetch, method, path, allowed):
    body = b"{}" if method in ("POST", "PUT") else None
    response = await jp_fetch(*path.split("/"), method=method, body=body, raise_error=False)
    error = assert_error(response, 405, "invalid")
    assert response.headers["Allow"] == allowed
    assert allowed in error["message"]


async def raw_request(port: int, head: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Sends bytes exactly as given (no client would send them) and reads the whole answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)  # the server closes the connection
    finally:
        writer.close()
    header_text, _, payload = data.partition(b"\r\n\r\n")
    lines = header_text.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, payload


@pytest.mark.parametrize(
    "framing,body",
    [
        ("Transfer-Encoding: chunked\n", b"zz\r\n{}\r\n0\r\n\r\n"),  # not a hexadecimal size
        ("Transfer-Encoding: chunked\n", b"2\r\n{}XX0\r\n\r\n"),  # chunk not ended by CRLF
        ("Content-Length: two\n", b"{}"),
    ],
    ids=["chunk-size", "chunk-end", "content-length"],
)
async def test_a_body_tornado_cannot_read_is_a_400_error(jp_fetch, jp_http_port, jp_base_url, jp_auth_header, framing, body):
    await jp_fetch("rapids-kf", "environment")  # starts the server
    auth = "".join(f"{k}: {v}\n" for k, v in jp_auth_header.items())
    head = (
        f"POST {jp_base_url}rapids-kf/clusters HTTP/1.1\nHost: 127.0.0.1:{jp_http_port}\n{auth}"
        f"Content-Type: application/json\n{framing}\n"
    )
    status, headers, payload = await raw_request(jp_http_port, head, body)
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(payload[: int(headers["Content-Length"])])["error"]
    assert error["code"] == "invalid" and "could not be read" in error["message"]
    clusters = json.loads((await jp_fetch("rapids-kf", "clusters")).body)["clusters"]
    assert clusters == [], "nothing was created"

    # The rest of the Jupyter server keeps tornado's own answer; only our routes changed.
    status, _, _ = await raw_request(jp_http_port, head.replace("rapids-kf/clusters", "api/contents"), body)
    assert status == 400
