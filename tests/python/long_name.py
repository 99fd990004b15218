"""A CreateNetwork whose name is 5,000 characters long, sent with the official yandexcloud SDK's
stubs (grpc-core): the refusal must arrive as INVALID_ARGUMENT, not as grpc-core's own
RESOURCE_EXHAUSTED for trailers over its metadata limit.

Usage: long_name.py <host:port>
"""
import sys

import grpc
from yandex.cloud.vpc.v1 import network_service_pb2 as nsvc
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    networks = NetworkServiceStub(channel)
    try:
        networks.Create(nsvc.CreateNetworkRequest(folder_id="b1glongname000000000", name="N" * 5000), timeout=10)
    except grpc.RpcError as e:
        print(f"long name: {e.code().name}: {len(e.details() or '')} characters of message")
        return 0
    print("long name: accepted")
    return 1


if __name__ == "__main__":
    sys.exit(main())
