"""`genomenode serve --workers N`: the shared socket the worker processes accept from."""

from __future__ import annotations

import asyncio
import socket

from genomenode.cli.main import _listening_socket


def test_serve_workers__accepted_connections_get_tcp_nodelay() -> None:
    # GIVEN the socket `serve --workers N` hands its workers (uvicorn's own made one with proto 0,
    # so asyncio left Nagle on and each keep-alive answer waited ~40 ms for a delayed ACK)
    listening = _listening_socket("127.0.0.1", 0)
    assert listening.proto == socket.IPPROTO_TCP
    port = listening.getsockname()[1]
    seen: list[int] = []

    async def main() -> None:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    # THEN asyncio turned Nagle off on the connection it accepted
    assert seen and seen[0] != 0
