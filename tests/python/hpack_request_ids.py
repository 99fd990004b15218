"""Two gRPC calls on one HTTP/2 connection, read with the h2 package's HPACK decoder: prints each
answer's id headers (x-request-id, x-server-request-id, x-server-trace-id) and whether they came as
never-indexed literals (hpack's NeverIndexedHeaderTuple), which keeps values that are new on every
call out of both sides' HPACK tables.

Usage: hpack_request_ids.py <host:port>
"""
import socket
import sys

import h2.config
import h2.connection
import h2.events
from hpack import NeverIndexedHeaderTuple

IDS = ("x-request-id", "x-server-request-id", "x-server-trace-id")
# An empty grpc.health.v1.HealthCheckRequest in its gRPC frame: not compressed, 0 bytes.
EMPTY_MESSAGE = b"\x00\x00\x00\x00\x00"


def call(sock, conn, stream, authority, request_id):
    """Sends one Health.Check on `stream` and prints the id headers of its answer."""
    conn.send_headers(
        stream,
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/grpc.health.v1.Health/Check"),
            (":authority", authority),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("x-request-id", request_id),
        ],
    )
    conn.send_data(stream, EMPTY_MESSAGE, end_stream=True)
    sock.sendall(conn.data_to_send())
    while True:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("the server closed the connection")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                for header in event.headers:
                    if header[0] in IDS:
                        kind = "never-indexed" if isinstance(header, NeverIndexedHeaderTuple) else "indexable"
                        print(f"stream {stream} {header[0]} {header[1]} {kind}")
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                sock.sendall(conn.data_to_send())
                return
        sock.sendall(conn.data_to_send())


def main():
    authority = sys.argv[1]
    host, port = authority.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    for n, stream in enumerate((1, 3)):
        call(sock, conn, stream, authority, f"hpack-{n}")
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
