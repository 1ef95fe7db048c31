"""A TCP forwarder from the real node's IP to the API server on loopback.

    python forward.py 10.245.0.1:PORT 127.0.0.1:PORT

The API server listens on 127.0.0.1 only. Pods reach it as the `kubernetes` Service
(10.96.0.1:443): kube-proxy sends that to the Service's endpoint, the node IP on the
pods' bridge, where this process listens and passes the bytes on to loopback. TLS is end
to end (the API server's certificate carries 10.96.0.1 and kubernetes.default.svc...).
It listens on the bridge's address only and connects to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(listen: str, target: str) -> None:
    host, port = listen.rsplit(":", 1)
    to_host, to_port = target.rsplit(":", 1)
    if not to_host.startswith("127."):
        raise SystemExit(f"forward.py passes on to loopback only, not {to_host}")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(to_host, int(to_port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, host, int(port), reuse_address=True)
    print(f"forwarding {listen} -> {target}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
