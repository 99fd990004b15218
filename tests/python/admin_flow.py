"""netplane's own controls as seen by the official yandexcloud SDK.

usage:
  admin_flow.py wait-manual <tls host:port> <ca.pem> <rest base URL>
      A network created under `--operations manual`: the SDK's own operation waiter sees it pending,
      the operation is completed by hand (`POST /_netplane/operations/{id}:complete`) between two of
      its polls, and the waiter returns the Network. Prints "waited: done <name>".
  admin_flow.py faults <host:port>
      Fault rules set by the caller: the first NetworkService.Create fails at once with
      RESOURCE_EXHAUSTED; a Create named "late" is accepted and its operation ends in error.
"""
import sys
import time
import urllib.request

import grpc
import yandexcloud
from yandex.cloud.operation import operation_service_pb2 as osvc
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub
from yandex.cloud.vpc.v1 import network_pb2
from yandex.cloud.vpc.v1 import network_service_pb2 as nsvc
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub

FOLDER = "b1gadminfolder00000"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def wait_manual(endpoint, ca, rest):
    with open(ca, "rb") as f:
        sdk = yandexcloud.SDK(iam_token="dev", endpoint=endpoint, root_certificates=f.read())
    op = sdk.client(NetworkServiceStub).Create(nsvc.CreateNetworkRequest(folder_id=FOLDER, name="stepped-by-hand"))
    check(not op.done, "a manual operation is pending when created")
    waiter = sdk.waiter(op.id, timeout=60)
    polls = 0
    for _ in waiter:
        polls += 1
        if polls == 1:
            # The waiter has seen it pending; now a hand completes it.
            request = urllib.request.Request(f"{rest}/_netplane/operations/{op.id}:complete", data=b"", method="POST")
            with urllib.request.urlopen(request) as answer:
                check(answer.status == 200, f"complete answered {answer.status}")
    check(polls >= 1, "the waiter never saw the operation pending")
    result = sdk.wait_operation_and_get_result(op, response_type=network_pb2.Network, meta_type=nsvc.CreateNetworkMetadata, timeout=60)
    print(f"waited: done {result.response.name}")


def faults(endpoint):
    channel = grpc.insecure_channel(endpoint)
    networks, ops = NetworkServiceStub(channel), OperationServiceStub(channel)
    try:
        networks.Create(nsvc.CreateNetworkRequest(folder_id=FOLDER, name="first"), timeout=10)
        raise AssertionError("the scripted error did not come")
    except grpc.RpcError as e:
        print(f"sdk saw: {e.code().name} {e.details()}")
    op = networks.Create(nsvc.CreateNetworkRequest(folder_id=FOLDER, name="late"), timeout=10)
    deadline = time.monotonic() + 10
    while not op.done:
        check(time.monotonic() < deadline, "operation not done in time")
        time.sleep(0.01)
        op = ops.Get(osvc.GetOperationRequest(operation_id=op.id))
    check(op.WhichOneof("result") == "error", f"the operation succeeded: {op}")
    print(f"operation error: {op.error.message}")


if __name__ == "__main__":
    if sys.argv[1] == "wait-manual":
        wait_manual(*sys.argv[2:5])
    elif sys.argv[1] == "faults":
        faults(sys.argv[2])
    else:
        raise SystemExit(__doc__)
