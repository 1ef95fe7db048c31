"""KubeFlow's gateway, as far as a notebook sees it: a loopback port that passes a browser's
requests on to the notebook pod, each with the `kubeflow-userid` header Istio's gateway adds
once it has authenticated the user (any such header the browser sent is dropped first).

    python gateway.py 127.0.0.1:PORT 10.245.0.12:8888 user@example.com

Request heads are rewritten; bodies, answers and websocket frames (after an `Upgrade`) pass
as they are. It listens on loopback only and connects to the real node's pods only. It is a
stand-in for the header, not Istio: no TLS, no authentication, no AuthorizationPolicy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys

from forward import _pipe

HEADER = b"kubeflow-userid"
POD_CIDR = ipaddress.ip_network("10.245.0.0/24")  # node_net.POD_CIDR


async def _requests(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, user: bytes) -> None:
    """Browser -> pod, one request at a time (browsers do not pipeline HTTP/1.1)."""
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            first, *lines = head[:-4].split(b"\r\n")
            lines = [line for line in lines if not line.lower().startswith(HEADER + b":")]
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}
            if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
                raise ValueError("chunked request bodies are not passed on")  # browsers send lengths
            writer.write(b"\r\n".join([first, *lines, HEADER + b": " + user]) + b"\r\n\r\n")
            if length := int(fields.get(b"content-length", b"0")):
                writer.write(await reader.readexactly(length))
            await writer.drain()
            if b"upgrade" in fields.get(b"connection", b"").lower():
                await _pipe(reader, writer)  # a websocket: frames from here on
                return
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(listen: str, target: str, user: str) -> None:
    host, port = listen.rsplit(":", 1)
    to_host, to_port = target.rsplit(":", 1)
    if not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"gateway.py listens on loopback only, not {host}")
    if ipaddress.ip_address(to_host) not in POD_CIDR:
        raise SystemExit(f"gateway.py passes on to the real node's pods ({POD_CIDR}) only, not {to_host}")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(to_host, int(to_port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(_requests(reader, up_writer, user.encode()), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, host, int(port), reuse_address=True)
    print(f"gateway {listen} -> {target} as {user}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
