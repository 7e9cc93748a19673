"""The hand-written client for ruleiq-data, sync and asyncio: channels set up as the
service expects, typed errors, page iterators, safe retries, aware timestamps.

    from ruleiq.data import client
    from ruleiq.data.v1 import user_pb2, user_pb2_grpc

    users = user_pb2_grpc.UserServiceStub(client.channel("ruleiq-data:50051", token=TOKEN))
    user = client.create(users.CreateUser, user_pb2.CreateUserRequest(user=...))
    for u in client.items(users.ListUsers, user_pb2.ListUsersRequest(page_size=500)): ...
    for event in client.watch(changes.WatchChanges, filter='resource_type = "User"'): ...
"""

from .channel import Defaults, Keepalive, Tls, aio_channel, channel, service_config
from .errors import (
    Aborted,
    AlreadyExists,
    DataError,
    DeadlineExceeded,
    EtagMismatch,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    from_rpc_error,
)
from .pages import aitems, apages, items, pages
from .retry import (
    Backoff,
    Retry,
    acreate,
    aread_modify_write,
    create,
    read_modify_write,
    with_request_id,
)
from .times import from_datetime, timestamp_of, to_datetime
from .watch import AsyncWatch, Watch, awatch, watch

__all__ = [
    "Aborted",
    "AlreadyExists",
    "AsyncWatch",
    "Backoff",
    "DataError",
    "DeadlineExceeded",
    "Defaults",
    "EtagMismatch",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "Keepalive",
    "NotFound",
    "PermissionDenied",
    "Retry",
    "Tls",
    "Unauthenticated",
    "Unavailable",
    "Watch",
    "acreate",
    "aio_channel",
    "aitems",
    "apages",
    "aread_modify_write",
    "awatch",
    "channel",
    "create",
    "from_datetime",
    "from_rpc_error",
    "items",
    "pages",
    "read_modify_write",
    "service_config",
    "timestamp_of",
    "to_datetime",
    "watch",
    "with_request_id",
]
