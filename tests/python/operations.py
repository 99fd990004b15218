"""What the flows share: waiting on an operation as the Go SDK v2 under Terraform does (metadata
type checked on the first and the final answer, the response type when done) and expecting a
refusal."""
import time

import grpc
from yandex.cloud.operation import operation_service_pb2 as osvc


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def wait(ops, op, metadata_type, response_type, timeout=10.0):
    check(op.metadata.Is(metadata_type.DESCRIPTOR), f"first metadata is {op.metadata.type_url}")
    meta = metadata_type()
    op.metadata.Unpack(meta)
    deadline = time.monotonic() + timeout
    while not op.done:
        check(time.monotonic() < deadline, f"operation {op.id} not done in time")
        time.sleep(0.01)
        op = ops.Get(osvc.GetOperationRequest(operation_id=op.id))
    check(op.metadata.Is(metadata_type.DESCRIPTOR), f"final metadata is {op.metadata.type_url}")
    check(op.WhichOneof("result") == "response", f"operation {op.id} failed: {op.error}")
    check(op.response.Is(response_type.DESCRIPTOR), f"response is {op.response.type_url}")
    response = response_type()
    op.response.Unpack(response)
    return meta, response


def refused(call, code, *contains):
    try:
        call()
    except grpc.RpcError as e:
        check(e.code() == code, f"{e.code()} {e.details()}")
        for text in contains:
            check(text in e.details(), f"{text!r} not in {e.details()!r}")
        return
    raise AssertionError("the call was not refused")
